"""Checks for lesson 08 (translation): a leak-free split, OOV rate, clipped precision.

* 8.1 ``split_without_leakage(pairs, max_words, test_fraction, seed)``: keep the
  pairs whose *both* sides are short enough, then hold out whole chapters.
* 8.2 ``oov_rate(texts, vocab)``: the share of tokens that become ``[UNK]``.
* 8.3 ``clipped_precision(hypothesis, reference, n)``: BLEU's modified n-gram
  precision as (matches, total), compared with sacrebleu's own counts.

The probes use small made-up corpora so that every known mistake gives an
answer of its own.

Taught in: lessons/08_translation.ipynb
"""

from __future__ import annotations

import collections

import numpy as np

from s2s_helpers.checks import framework
from s2s_helpers.checks.framework import CheckFailed, exercise, fail

# --- Exercise 8.1: split_without_leakage -------------------------------------

SPLIT_MAX_WORDS, SPLIT_TEST_FRACTION = 6, 0.25
BOOKS = ("Genesis", "Ruth", "Mark")


def probe_pairs():
    """3 books x 8 chapters x 6 verses of made-up text with varied word counts."""
    from s2s_helpers.corpora import BiblePair

    pairs = []
    for b, book in enumerate(BOOKS):
        for chapter in range(1, 9):
            for verse in range(1, 7):
                src_words = (verse * 3 + chapter + b) % 8 + 1  # 1..8
                tgt_words = (verse * 5 + chapter * 2 + b) % 8 + 1
                src = " ".join(f"w{i}" for i in range(src_words))
                tgt = " ".join(f"p{i}" for i in range(tgt_words))
                pairs.append(BiblePair(src, tgt, book, chapter, verse))
    return pairs


def _key(pair) -> list:
    return [pair.book, int(pair.chapter), int(pair.verse)]


def _record(result) -> dict:
    train, test = result
    return {"train": [_key(p) for p in train], "test": [_key(p) for p in test]}


def _probe_split(split_without_leakage) -> dict:
    calls = []
    for seed in (0, 0, 1):
        result = split_without_leakage(
            probe_pairs(), SPLIT_MAX_WORDS, SPLIT_TEST_FRACTION, seed
        )
        if not isinstance(result, (tuple, list)) or len(result) != 2:
            return {"returned": type(result).__name__, "calls": []}
        calls.append(_record(result))
    return {"returned": "pair", "calls": calls}


def _judge_split(observation: dict) -> str:
    name = "split_without_leakage(pairs, max_words, test_fraction, seed)"
    if observation["returned"] != "pair":
        fail(f"`{name}` should return two lists, (train, test).",
             "a tuple (train, test)", observation["returned"])  # fmt: skip
    pairs = {tuple(_key(p)): p for p in probe_pairs()}

    def words(key):
        return len(pairs[key].src.split()), len(pairs[key].tgt.split())

    wanted = {k for k in pairs if max(words(k)) <= SPLIT_MAX_WORDS}
    first = observation["calls"][0]
    train = [tuple(k) for k in first["train"]]
    test = [tuple(k) for k in first["test"]]
    kept = train + test
    unknown = [k for k in kept if k not in pairs]
    if unknown:
        fail(f"`{name}` returned pairs that were not in the input.", None, unknown[:3])
    if len(set(kept)) != len(kept):
        fail(f"`{name}` returned a pair twice (in both splits, or twice in one).")
    kept = set(kept)
    too_long_tgt = [k for k in kept - wanted if words(k)[0] <= SPLIT_MAX_WORDS]
    too_long_src = [k for k in kept - wanted if words(k)[1] <= SPLIT_MAX_WORDS]
    exactly = [k for k in wanted - kept if max(words(k)) == SPLIT_MAX_WORDS]
    if too_long_tgt and not too_long_src:
        raise CheckFailed(f"`{name}` kept pairs whose *target* is longer than "
                          f"max_words={SPLIT_MAX_WORDS}, e.g. {too_long_tgt[0]}: "
                          "filter on both sides, max(src words, tgt words).")  # fmt: skip
    if too_long_src and not too_long_tgt:
        raise CheckFailed(f"`{name}` kept pairs whose *source* is longer than "
                          f"max_words={SPLIT_MAX_WORDS}, e.g. {too_long_src[0]}: "
                          "filter on both sides, max(src words, tgt words).")  # fmt: skip
    if exactly and kept == wanted - set(exactly):
        raise CheckFailed(f"`{name}` dropped the pairs with exactly max_words="
                          f"{SPLIT_MAX_WORDS} words, e.g. {exactly[0]}: keep "
                          "`<= max_words`, not `< max_words`.")  # fmt: skip
    if kept != wanted:
        fail(f"`{name}` kept the wrong pairs (count words with .split()).",
             f"{len(wanted)} pairs with both sides <= {SPLIT_MAX_WORDS} words",
             f"{len(kept)} pairs, {len(kept - wanted)} too long, "
             f"{len(wanted - kept)} short ones missing")  # fmt: skip
    train_chapters = {k[:2] for k in train}
    test_chapters = {k[:2] for k in test}
    shared = sorted(train_chapters & test_chapters)
    if shared:
        raise CheckFailed(f"`{name}` leaks: chapter {shared[0][0]} {shared[0][1]} "
                          f"has verses in both train and test ({len(shared)} chapters "
                          "shared). Shuffle and split whole (book, chapter) groups, "
                          "not verses.")  # fmt: skip
    all_chapters = len(train_chapters | test_chapters)
    fraction = len(test_chapters) / all_chapters
    if not test or not train or abs(fraction - SPLIT_TEST_FRACTION) > 0.1:
        fail(f"`{name}` should hold out about test_fraction={SPLIT_TEST_FRACTION} "
             "of the *chapters*.", f"about {round(SPLIT_TEST_FRACTION * all_chapters)}"
             f" of {all_chapters} chapters in test",
             f"{len(test_chapters)} chapters ({len(test)} pairs)")  # fmt: skip
    second, other_seed = observation["calls"][1], observation["calls"][2]
    if second != first:
        raise CheckFailed(f"`{name}` gave a different split for the same seed: use "
                          "random.Random(seed).shuffle(chapters), not the global "
                          "random module.")  # fmt: skip
    if other_seed == first:
        raise CheckFailed(
            f"`{name}` ignores `seed`: seed 1 gave the same split as "
            "seed 0. Shuffle the chapters with random.Random(seed)."
        )
    return (
        f"{len(wanted)} pairs kept (both sides <= {SPLIT_MAX_WORDS} words), "
        f"{len(test_chapters)} of {all_chapters} chapters held out whole, "
        "the same seed gives the same split."
    )


check_split_without_leakage = exercise(
    "8.1",
    "split_without_leakage",
    arguments=("split_without_leakage",),
    probe=_probe_split,
    judge=_judge_split,
    hints=(
        "First keep pairs with max(len(p.src.split()), len(p.tgt.split())) <= "
        "max_words. Then chapters = sorted({(p.book, p.chapter) for p in kept}), "
        "random.Random(seed).shuffle(chapters), take round(test_fraction * "
        "len(chapters)) of them as the test chapters, and send every pair to "
        "the split of its chapter.",
    ),
)


# --- Exercise 8.2: oov_rate ----------------------------------------------------

OOV_TOKENS = ["y", "la", "de", "dios", "luz", "el", "tierra", ".", ",", ":"]
OOV_TEXTS = (
    ["Y dijo Dios: Sea la luz.", "Y fué la luz, y la tierra.", "Jehová habló."],
    ["EN el principio crió Dios los cielos y la tierra."],
)


def probe_vocabulary():
    """The small word vocabulary the check uses (10 tokens, plus the specials)."""
    from s2s_helpers import data

    return data.Vocabulary(list(OOV_TOKENS), level="word")


def _oov_variants(texts, vocab) -> tuple[float, dict[str, float]]:
    from s2s_helpers.data import UNK_ID

    tokenized = [vocab.tokenize(text) for text in texts]
    unknown = [[i == UNK_ID for i in vocab.encode(tokens)] for tokens in tokenized]
    flat = [u for row in unknown for u in row]
    tokens = [t for row in tokenized for t in row]
    types = set(tokens)
    unknown_types = {t for t in types if vocab.encode([t])[0] == UNK_ID}
    raw = [w for text in texts for w in text.split()]
    reference = float(np.mean(flat))
    return reference, {
        "is the share of unknown *distinct* words (types); count every token.": len(
            unknown_types
        )
        / len(types),
        "averages the rate of each sentence; pool the tokens of all texts.": float(
            np.mean([np.mean(row) for row in unknown])
        ),
        "splits the raw text on spaces: 'Dios:' and 'luz.' are not in the "
        "vocabulary. Tokenize with vocab.tokenize(text).": float(
            np.mean([vocab.encode([w])[0] == UNK_ID for w in raw])
        ),
        "returns a percentage; return a fraction between 0 and 1.": 100 * reference,
        "returns the number of unknown tokens; divide by the number of tokens.": float(
            sum(flat)
        ),
    }


def _probe_oov(oov_rate) -> dict:
    vocab = probe_vocabulary()
    return {"results": [float(framework.to_numpy(oov_rate(list(texts), vocab)))
                        for texts in OOV_TEXTS]}  # fmt: skip


def _judge_oov(observation: dict) -> str:
    vocab = probe_vocabulary()
    for texts, value in zip(OOV_TEXTS, observation["results"]):
        reference, mistakes = _oov_variants(texts, vocab)
        mistakes = {m: np.array(v) for m, v in mistakes.items()
                    if not np.isclose(v, reference)}  # fmt: skip
        framework.expect_close(f"oov_rate on {texts}", np.array(value),
                               np.array(reference), known_mistakes=mistakes)  # fmt: skip
    return "the share of [UNK] tokens after vocab.tokenize, pooled over all texts."


check_oov_rate = exercise(
    "8.2",
    "oov_rate",
    arguments=("oov_rate",),
    probe=_probe_oov,
    judge=_judge_oov,
    hints=(
        "tokens = vocab.tokenize(text) normalises and splits off punctuation; "
        "ids = vocab.encode(tokens) maps unknown tokens to data.UNK_ID (1). "
        "Count the ids equal to UNK_ID over all texts and divide by the total "
        "number of tokens.",
    ),
)


# --- Exercise 8.3: clipped_precision --------------------------------------------

PRECISION_CASES = (
    ("the the the the the the the", "the cat on the mat", 1),
    ("the cat the cat is on the mat", "the cat is on the mat", 2),
    (
        "y dijo dios sea la luz y fue la luz",
        "y dijo dios : sea la luz : y fue la luz",
        2,
    ),
    (
        "y dijo dios sea la luz y fue la luz",
        "y dijo dios : sea la luz : y fue la luz",
        3,
    ),
    ("la luz", "y fue la luz", 3),
)


def _ngrams(tokens, n, stop=0):
    return [tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1 - stop)]


def _precision_mistakes(hypothesis, reference, n) -> dict[str, tuple[int, int]]:
    hyp, ref = hypothesis.split(), reference.split()
    hyp_counts = collections.Counter(_ngrams(hyp, n))
    ref_counts = collections.Counter(_ngrams(ref, n))
    short_hyp = collections.Counter(_ngrams(hyp, n, stop=1))
    short_ref = collections.Counter(_ngrams(ref, n, stop=1))
    clipped = sum((hyp_counts & ref_counts).values())
    return {
        "is not clipped: a hypothesis n-gram may match at most as many times as "
        "it appears in the reference (min of the two counts).": (
            sum(c for g, c in hyp_counts.items() if g in ref_counts),
            sum(hyp_counts.values()),
        ),
        "counts distinct n-grams (sets); BLEU counts every occurrence, with "
        "Counter and clipping.": (
            len(set(hyp_counts) & set(ref_counts)),
            len(hyp_counts),
        ),
        "divides by the reference's n-grams (that is recall); precision divides "
        "by the hypothesis's n-grams.": (clipped, sum(ref_counts.values())),
        "misses the last n-gram: range(len(tokens) - n + 1) gives every start.": (
            sum((short_hyp & short_ref).values()),
            sum(short_hyp.values()),
        ),
    }


def _reference_precision(hypothesis, reference, n) -> tuple[int, int]:
    """Matches and total n-grams of order n, as counted by sacrebleu itself."""
    import sacrebleu

    score = sacrebleu.corpus_bleu([hypothesis], [[reference]], tokenize="none")
    return int(score.counts[n - 1]), int(score.totals[n - 1])


def _probe_precision(clipped_precision) -> dict:
    results = []
    for hypothesis, reference, n in PRECISION_CASES:
        value = clipped_precision(hypothesis.split(), reference.split(), n)
        results.append([float(framework.to_numpy(v)) for v in value]
                       if isinstance(value, (tuple, list)) else repr(value))  # fmt: skip
    return {"results": results}


def _judge_precision(observation: dict) -> str:
    name = "clipped_precision(hypothesis, reference, n)"
    for (hypothesis, reference, n), value in zip(
        PRECISION_CASES, observation["results"]
    ):
        case = f"for hypothesis {hypothesis!r}, reference {reference!r}, n={n}"
        if not isinstance(value, list) or len(value) != 2:
            fail(f"`{name}` should return two numbers (matches, total) {case}.",
                 "(matches, total)", value)  # fmt: skip
        expected = _reference_precision(hypothesis, reference, n)
        if tuple(value) == expected:
            continue
        for message, wrong in _precision_mistakes(hypothesis, reference, n).items():
            if wrong != expected and tuple(value) == wrong:
                raise CheckFailed(
                    f"`{name}` {case}: {message}\n"
                    f"    expected: {expected}\n    received: {tuple(value)}"
                )
        fail(f"`{name}` is wrong {case}.", expected, tuple(value))
    return (
        "(matches, total) equal to sacrebleu's counts for n = 1, 2, 3, clipping "
        "included, and (0, 0) when the hypothesis is shorter than n."
    )


check_clipped_precision = exercise(
    "8.3",
    "clipped_precision",
    arguments=("clipped_precision",),
    probe=_probe_precision,
    judge=_judge_precision,
    hints=(
        "grams = lambda t: Counter(tuple(t[i:i + n]) for i in range(len(t) - n + 1)); "
        "matches = sum((grams(hyp) & grams(ref)).values()) (& keeps the minimum "
        "count: that is the clipping); total = sum(grams(hyp).values()).",
    ),
)
