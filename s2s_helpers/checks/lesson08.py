"""Checks for lesson 08 (translation): a leak-free split, OOV rate, clipped precision.

* 8.1 ``split_without_leakage(pairs, max_words, test_fraction, seed)``: keep the
  pairs whose *both* sides are short enough, then hold out whole chapters.
* 8.2 ``oov_rate(texts, vocab)``: the share of tokens that become ``[UNK]``.
* 8.3 ``clipped_precision(hypothesis, reference, n)``: BLEU's modified n-gram
  precision as (matches, total), compared with sacrebleu's own counts.

Each judge first checks properties any correct answer has (8.1: every kept
pair short enough on both sides, no chapter in both splits, about
``test_fraction`` of the chapters held out, the seed used; 8.2: one number,
0 for fully covered texts, 1 for fully unknown ones; 8.3: the hypothesis's
n-gram count as total, every n-gram of an identical or reordered hypothesis
matched, none of a disjoint one). A known mistake is named only when it gives
exactly the learner's answers on every probe. The probes vary every argument
(two ``max_words``, two ``test_fraction``, three seeds) so that an ignored
argument shows.

Taught in: lessons/08_translation.ipynb
"""

from __future__ import annotations

import collections

import numpy as np

from s2s_helpers.checks.framework import CheckFailed, exercise, fail, to_numpy
from s2s_helpers.data import UNK_ID

# --- Exercise 8.1: split_without_leakage -------------------------------------

SPLIT_MAX_WORDS, SPLIT_TEST_FRACTION = 6, 0.25
# (max_words, test_fraction, seed): the same seed twice, then other values of each
SPLIT_CALLS = ((6, 0.25, 0), (6, 0.25, 0), (6, 0.25, 1), (4, 0.5, 2))
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


def _probe_split(split_without_leakage) -> dict:
    calls = []
    for max_words, test_fraction, seed in SPLIT_CALLS:
        result = split_without_leakage(probe_pairs(), max_words, test_fraction, seed)
        if not isinstance(result, (tuple, list)) or len(result) != 2:
            return {"returned": type(result).__name__, "calls": []}
        train, test = result
        calls.append({"train": [_key(p) for p in train],
                      "test": [_key(p) for p in test]})  # fmt: skip
    return {"returned": "pair", "calls": calls}


SPLIT_NAME = "split_without_leakage(pairs, max_words, test_fraction, seed)"
FILTER_HINTS = (
    "Which pairs does the exercise keep? Look at both sides.",
    "A pair is kept when max(words of src, words of tgt) <= max_words, with "
    "words counted by `text.split()`.",
)
CHAPTER_HINTS = (
    "What is the unit you hold out: a verse or a chapter?",
    "Shuffle the distinct (book, chapter) keys with random.Random(seed) and send "
    "every pair to the split of its chapter.",
)


def _judge_split(observation: dict) -> str:
    if observation["returned"] != "pair":
        fail(f"`{SPLIT_NAME}` should return two lists, (train, test).",
             "a tuple (train, test)", observation["returned"])  # fmt: skip
    pairs = {tuple(_key(p)): p for p in probe_pairs()}
    for call, (max_words, test_fraction, _) in zip(observation["calls"], SPLIT_CALLS):
        train = [tuple(k) for k in call["train"]]
        test = [tuple(k) for k in call["test"]]
        _expect_known_pairs(train + test, pairs)
        _expect_filtered(set(train + test), pairs, max_words)
        _expect_whole_chapters(train, test, test_fraction)
    first, again, other, last = observation["calls"]
    if again != first:
        fail(f"`{SPLIT_NAME}` gave a different split for the same seed (0, twice).",
             hints=("Where does the randomness of your shuffle come from?",
                    "Shuffle with random.Random(seed), not the global random "
                    "module without a seed."))  # fmt: skip
    if other == first:
        fail(f"`{SPLIT_NAME}` ignores `seed`: seed 1 gave the same split as seed 0.",
             hints=("Does `seed` change anything in your function?",
                    "Shuffle the chapters with random.Random(seed)."))  # fmt: skip
    chapters = len({tuple(k[:2]) for k in first["train"] + first["test"]})
    return (
        f"the pairs with both sides <= max_words kept (max_words = 6 and 4), about "
        f"test_fraction of the {chapters} chapters held out whole (0.25 and 0.5), "
        "the same seed gives the same split, another seed another."
    )


def _expect_known_pairs(kept: list, pairs: dict) -> None:
    unknown = [k for k in kept if k not in pairs]
    if unknown:
        fail(f"`{SPLIT_NAME}` returned pairs that were not in the input.", None,
             unknown[:3])  # fmt: skip
    if len(set(kept)) != len(kept):
        fail(f"`{SPLIT_NAME}` returned a pair twice (in both splits, or twice in one).")


def _expect_filtered(kept: set, pairs: dict, max_words: int) -> None:
    """Fail unless exactly the pairs with both sides <= max_words words are kept."""

    def words(key):
        return len(pairs[key].src.split()), len(pairs[key].tgt.split())

    wanted = {k for k in pairs if max(words(k)) <= max_words}
    long_tgt = sorted(k for k in kept - wanted if words(k)[0] <= max_words)
    long_src = sorted(k for k in kept - wanted if words(k)[1] <= max_words)
    exactly = sorted(k for k in wanted - kept if max(words(k)) == max_words)
    if long_tgt and not long_src:
        fail(f"`{SPLIT_NAME}` kept pairs whose *target* is longer than max_words="
             f"{max_words}, e.g. {long_tgt[0]} with {words(long_tgt[0])} (src, tgt) "
             "words.", hints=FILTER_HINTS)  # fmt: skip
    if long_src and not long_tgt:
        fail(f"`{SPLIT_NAME}` kept pairs whose *source* is longer than max_words="
             f"{max_words}, e.g. {long_src[0]} with {words(long_src[0])} (src, tgt) "
             "words.", hints=FILTER_HINTS)  # fmt: skip
    if exactly and kept == wanted - set(exactly):
        fail(f"`{SPLIT_NAME}` dropped the pairs with exactly max_words={max_words} "
             f"words, e.g. {exactly[0]}.", hints=("Is max_words itself allowed?",))  # fmt: skip
    too_long = sorted(kept - wanted)
    if too_long:
        fail(f"`{SPLIT_NAME}` kept {len(too_long)} pairs with a side longer than "
             f"max_words={max_words} words, e.g. {too_long[0]} with "
             f"{words(too_long[0])} (src, tgt) words.", hints=FILTER_HINTS)  # fmt: skip
    missing = sorted(wanted - kept)
    if missing:
        fail(f"`{SPLIT_NAME}` dropped {len(missing)} pairs whose sides both have at "
             f"most max_words={max_words} words, e.g. {missing[0]} with "
             f"{words(missing[0])} (src, tgt) words.", hints=FILTER_HINTS)  # fmt: skip


def _expect_whole_chapters(train: list, test: list, test_fraction: float) -> None:
    train_chapters = {k[:2] for k in train}
    test_chapters = {k[:2] for k in test}
    shared = sorted(train_chapters & test_chapters)
    if shared:
        fail(f"`{SPLIT_NAME}` leaks: chapter {shared[0][0]} {shared[0][1]} has verses "
             f"in both train and test ({len(shared)} chapters shared).",
             hints=CHAPTER_HINTS)  # fmt: skip
    chapters = len(train_chapters | test_chapters)
    wanted = round(test_fraction * chapters)
    if not test or not train or abs(len(test_chapters) - wanted) > 1:
        fail(f"`{SPLIT_NAME}` should hold out about test_fraction={test_fraction} of "
             "the *chapters*.", f"about {wanted} of {chapters} chapters in test",
             f"{len(test_chapters)} chapters ({len(test)} pairs)",
             hints=("How many chapters go to test?",
                    "round(test_fraction * number of chapters) of them."))  # fmt: skip


check_split_without_leakage = exercise(
    "8.1",
    "split_without_leakage",
    arguments=("split_without_leakage",),
    probe=_probe_split,
    judge=_judge_split,
    hints=(
        "Two steps: a length filter on both sides, then a split of whole chapters.",
        "Keep a pair when both its sides have at most max_words words; then shuffle "
        "the distinct (book, chapter) keys with random.Random(seed), hold out "
        "round(test_fraction * number of chapters) of them, and send each pair to "
        "the split of its chapter.",
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
    ["Y la luz.", "Dios: la tierra, el luz."],  # every token known: 0
    ["Jehová habló", "principio crió cielos"],  # no token known: 1
)
OOV_HINTS = (
    "Which tokens does the vocabulary turn into [UNK], and out of how many?",
    "Tokenize each text with vocab.tokenize, encode with vocab.encode, and "
    "divide the number of ids equal to data.UNK_ID by the number of ids, over "
    "all texts together.",
)


def probe_vocabulary():
    """The small word vocabulary the check uses (10 tokens, plus the specials)."""
    from s2s_helpers import data

    return data.Vocabulary(list(OOV_TOKENS), level="word")


def _oov_variants(texts, vocab) -> tuple[float, dict[str, float]]:
    tokenized = [vocab.tokenize(text) for text in texts]
    unknown = [[i == UNK_ID for i in vocab.encode(tokens)] for tokens in tokenized]
    flat = [u for row in unknown for u in row]
    types = {t for row in tokenized for t in row}
    unknown_types = {t for t in types if vocab.encode([t])[0] == UNK_ID}
    raw = [w for text in texts for w in text.split()]
    reference = float(np.mean(flat))
    return reference, {
        "is the share of unknown *distinct* words (types), not of all tokens.": len(
            unknown_types
        )
        / len(types),
        "averages the rate of each text instead of pooling the tokens of all "
        "texts.": float(np.mean([np.mean(row) for row in unknown])),
        "splits the raw text on spaces: 'Dios:' and 'luz.' are not in the "
        "vocabulary.": float(np.mean([vocab.encode([w])[0] == UNK_ID for w in raw])),
        "returns a percentage; the rate is a fraction between 0 and 1.": 100
        * reference,
        "returns the number of unknown tokens, not their share.": float(sum(flat)),
    }


def _probe_oov(oov_rate) -> dict:
    vocab = probe_vocabulary()
    return {"results": [to_numpy(oov_rate(list(texts), vocab)).astype(np.float64)
                        for texts in OOV_TEXTS]}  # fmt: skip


def _judge_oov(observation: dict) -> str:
    vocab = probe_vocabulary()
    results = observation["results"]
    for texts, value in zip(OOV_TEXTS, results):
        if np.size(value) != 1:
            fail(f"`oov_rate` should return one number for all the texts together; "
                 f"for {len(texts)} texts it returned shape {np.shape(value)}.",
                 "one number", np.round(value, 3).tolist(), hints=OOV_HINTS)  # fmt: skip
    values = [float(np.reshape(value, ())) for value in results]
    variants = [_oov_variants(texts, vocab) for texts in OOV_TEXTS]
    for message in variants[0][1]:
        wrong = [v[message] for _, v in variants]
        right = [reference for reference, _ in variants]
        if np.allclose(values, wrong) and not np.allclose(wrong, right):
            raise CheckFailed(f"`oov_rate`: {message}", OOV_HINTS)
    _expect_oov_properties(values)
    for texts, value, (reference, _) in zip(OOV_TEXTS, values, variants):
        if not np.isclose(value, reference):
            fail(f"`oov_rate` differs from the reference on {texts}.",
                 round(reference, 4), round(value, 4))  # fmt: skip
    return "the share of [UNK] tokens after vocab.tokenize, pooled over all texts."


def _expect_oov_properties(values: list[float]) -> None:
    outside = [v for v in values if not 0.0 <= v <= 1.0]
    if outside:
        fail("`oov_rate` is not a fraction between 0 and 1.", "0 <= rate <= 1",
             outside[0], hints=OOV_HINTS)  # fmt: skip
    if not np.isclose(values[2], 0.0):
        fail(f"`oov_rate` gives {values[2]:.3g} for texts whose every token is in the "
             f"vocabulary: {OOV_TEXTS[2]}.", 0.0, values[2], hints=OOV_HINTS)  # fmt: skip
    if not np.isclose(values[3], 1.0):
        fail(f"`oov_rate` gives {values[3]:.3g} for texts none of whose tokens is in "
             f"the vocabulary: {OOV_TEXTS[3]}.", 1.0, values[3], hints=OOV_HINTS)  # fmt: skip


check_oov_rate = exercise(
    "8.2",
    "oov_rate",
    arguments=("oov_rate",),
    probe=_probe_oov,
    judge=_judge_oov,
    hints=(
        *OOV_HINTS,
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
    ("y dijo dios sea la luz y fue la luz", "y dijo dios : sea la luz : y fue la luz", 2),
    ("y dijo dios sea la luz y fue la luz", "y dijo dios : sea la luz : y fue la luz", 3),
    ("la luz", "y fue la luz", 3),  # shorter than n: (0, 0)
    ("mat the on cat the", "the cat on the mat", 1),  # reordered: every unigram
    ("sea la luz y fue", "sea la luz y fue", 2),  # identical: every bigram
    ("a b c d", "e f g h i", 2),  # disjoint: no match
)  # fmt: skip
PRECISION_HINTS = (
    "Precision asks: of the hypothesis's n-grams, how many are found in the "
    "reference, each at most as often as the reference has it?",
    "Count the n-grams of both with collections.Counter; matches is the sum of "
    "the minimum counts, total the number of n-grams of the hypothesis.",
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
        "is not clipped: a hypothesis n-gram matches more times than the reference "
        "has it.": (sum(c for g, c in hyp_counts.items() if g in ref_counts),
                    sum(hyp_counts.values())),
        "counts distinct n-grams (sets); BLEU counts every occurrence.": (
            len(set(hyp_counts) & set(ref_counts)), len(hyp_counts)),
        "divides by the reference's n-grams (that is recall); precision divides "
        "by the hypothesis's n-grams.": (clipped, sum(ref_counts.values())),
        "misses the last n-gram of each sentence.": (
            sum((short_hyp & short_ref).values()), sum(short_hyp.values())),
    }  # fmt: skip


def _reference_precision(hypothesis, reference, n) -> tuple[int, int]:
    """Matches and total n-grams of order n, as counted by sacrebleu itself."""
    import sacrebleu

    score = sacrebleu.corpus_bleu([hypothesis], [[reference]], tokenize="none")
    return int(score.counts[n - 1]), int(score.totals[n - 1])


def _probe_precision(clipped_precision) -> dict:
    results = []
    for hypothesis, reference, n in PRECISION_CASES:
        value = clipped_precision(hypothesis.split(), reference.split(), n)
        results.append([float(to_numpy(v)) for v in value]
                       if isinstance(value, (tuple, list)) else repr(value))  # fmt: skip
    return {"results": results}


PRECISION_NAME = "clipped_precision(hypothesis, reference, n)"


def _judge_precision(observation: dict) -> str:
    values = observation["results"]
    for (hypothesis, reference, n), value in zip(PRECISION_CASES, values):
        if not isinstance(value, list) or len(value) != 2:
            fail(f"`{PRECISION_NAME}` should return two numbers (matches, total) for "
                 f"hypothesis {hypothesis!r}, reference {reference!r}, n={n}.",
                 "(matches, total)", value)  # fmt: skip
    got = [tuple(int(v) if float(v).is_integer() else v for v in value)
           for value in values]  # fmt: skip
    expected = [_reference_precision(*case) for case in PRECISION_CASES]
    if got == expected:
        return (
            "(matches, total) equal to sacrebleu's counts for n = 1, 2, 3, clipping "
            "included, and (0, 0) when the hypothesis is shorter than n."
        )
    mistakes = [_precision_mistakes(*case) for case in PRECISION_CASES]
    for message in mistakes[0]:
        wrong = [m[message] for m in mistakes]
        if wrong == got and wrong != expected:
            raise CheckFailed(f"`{PRECISION_NAME}` {message}", PRECISION_HINTS)
    for case, value in zip(PRECISION_CASES, got):
        _expect_precision_properties(case, value)
    index = next(i for i, (a, b) in enumerate(zip(got, expected)) if a != b)
    hypothesis, reference, n = PRECISION_CASES[index]
    fail(f"`{PRECISION_NAME}` differs from the reference for hypothesis "
         f"{hypothesis!r}, reference {reference!r}, n={n}.", expected[index],
         got[index])  # fmt: skip


def _expect_precision_properties(case, value) -> None:
    """Fail on the first property of (matches, total) that ``value`` lacks."""
    hypothesis, reference, n = case
    matches, total = value
    where = f"for hypothesis {hypothesis!r}, reference {reference!r}, n={n}"
    count = max(len(hypothesis.split()) - n + 1, 0)
    if total != count:
        fail(f"`{PRECISION_NAME}`: total should be the number of n-grams of the "
             f"hypothesis, len(hypothesis) - n + 1 (or 0), {where}.", count, total,
             hints=PRECISION_HINTS)  # fmt: skip
    if not 0 <= matches <= total:
        fail(f"`{PRECISION_NAME}`: matches should be between 0 and total {where}.",
             f"0..{total}", matches, hints=PRECISION_HINTS)  # fmt: skip
    same_words = sorted(hypothesis.split()) == sorted(reference.split())
    if hypothesis == reference or (same_words and n == 1):
        if matches != total:
            fail(f"`{PRECISION_NAME}`: every n-gram of this hypothesis is in the "
                 f"reference (the same words, in any order, for n=1), {where}.",
                 (total, total), value, hints=PRECISION_HINTS)  # fmt: skip
    if not set(hypothesis.split()) & set(reference.split()) and matches != 0:
        fail(f"`{PRECISION_NAME}`: the hypothesis shares no word with the reference, "
             f"so no n-gram matches, {where}.", (0, total), value,
             hints=PRECISION_HINTS)  # fmt: skip


check_clipped_precision = exercise(
    "8.3",
    "clipped_precision",
    arguments=("clipped_precision",),
    probe=_probe_precision,
    judge=_judge_precision,
    hints=(
        *PRECISION_HINTS,
        "grams = lambda t: Counter(tuple(t[i:i + n]) for i in range(len(t) - n + 1)); "
        "matches = sum((grams(hyp) & grams(ref)).values()) (& keeps the minimum "
        "count: that is the clipping); total = sum(grams(hyp).values()).",
    ),
)
