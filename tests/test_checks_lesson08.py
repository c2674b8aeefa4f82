"""The checks of lesson 08 accept the reference and unusual correct answers, spot a
stub, and diagnose every wrong answer as itself."""

import collections
import random

import numpy as np
import pytest
from checktools import assert_diagnosed, assert_passes_unusual
from checktools import passing_message as _verdict
from checktools import stub as _stub

from s2s_helpers.checks import framework
from s2s_helpers.data import UNK_ID


@pytest.mark.parametrize("exercise_id", ["8.1", "8.2", "8.3"])
def test_every_exercise_has_hint_levels(exercise_id):
    assert len(framework.get(exercise_id).hints) >= 2


@pytest.mark.parametrize("exercise_id", ["8.1", "8.2", "8.3"])
def test_stub_is_not_attempted(exercise_id):
    observation = framework.observe(exercise_id, _stub)
    assert framework.outcome(exercise_id, observation)[0] == "not_attempted"


# --- 8.1 -------------------------------------------------------------------------


def _words(pair):
    return max(len(pair.src.split()), len(pair.tgt.split()))


def _split(pairs, test_fraction, seed, keep=None, by="chapter"):
    kept = [p for p in pairs if (keep or (lambda p: True))(p)]
    if by == "verse":
        shuffled = kept[:]
        random.Random(seed).shuffle(shuffled)
        cut = round(test_fraction * len(shuffled))
        return shuffled[cut:], shuffled[:cut]
    chapters = sorted({(p.book, p.chapter) for p in kept})
    random.Random(seed).shuffle(chapters)
    test_chapters = set(chapters[: round(test_fraction * len(chapters))])
    train = [p for p in kept if (p.book, p.chapter) not in test_chapters]
    test = [p for p in kept if (p.book, p.chapter) in test_chapters]
    return train, test


def reference_split(pairs, max_words, test_fraction, seed):
    return _split(pairs, test_fraction, seed, lambda p: _words(p) <= max_words)


def test_split_reference_passes():
    assert "passed" in _verdict("8.1", reference_split)


def test_split_library_passes():
    from s2s_helpers import corpora

    def library(pairs, max_words, test_fraction, seed):
        kept = [p for p in pairs if _words(p) <= max_words]
        train, val, test = corpora.split_by_chapter(kept, test_fraction, 0.0, seed)
        return train + val, test

    assert "passed" in _verdict("8.1", library)


def global_random_split(pairs, max_words, test_fraction, seed):
    random.seed(seed)
    kept = [p for p in pairs if _words(p) <= max_words]
    chapters = sorted({(p.book, p.chapter) for p in kept})
    random.shuffle(chapters)
    held = chapters[: round(test_fraction * len(chapters))]
    return [p for p in kept if (p.book, p.chapter) not in held], [
        p for p in kept if (p.book, p.chapter) in held
    ]


def numpy_permutation_split(pairs, max_words, test_fraction, seed):
    kept = [
        p for p in pairs if max(map(len, (p.src.split(), p.tgt.split()))) <= max_words
    ]
    chapters = sorted({(p.book, p.chapter) for p in kept})
    order = np.random.default_rng(seed).permutation(len(chapters))
    held = {chapters[i] for i in order[: int(round(test_fraction * len(chapters)))]}
    test = [p for p in kept if (p.book, p.chapter) in held]
    return [p for p in kept if p not in test], test


@pytest.mark.parametrize("function", [global_random_split, numpy_permutation_split])
def test_split_unusual_correct_answers_pass(function):
    assert_passes_unusual("8.1", function)


def _by_book(pairs, max_words, test_fraction, seed):
    kept = [p for p in pairs if _words(p) <= max_words]
    books = sorted({p.book for p in kept})
    held = random.Random(seed).choice(books)
    return [p for p in kept if p.book != held], [p for p in kept if p.book == held]


SPLIT_MISTAKES = {
    "source only": (
        lambda ps, m, f, s: _split(ps, f, s, lambda p: len(p.src.split()) <= m),
        "*target* is longer",
    ),
    "target only": (
        lambda ps, m, f, s: _split(ps, f, s, lambda p: len(p.tgt.split()) <= m),
        "*source* is longer",
    ),
    "strict": (
        lambda ps, m, f, s: _split(ps, f, s, lambda p: _words(p) < m),
        "exactly max_words",
    ),
    "by verse": (
        lambda ps, m, f, s: _split(ps, f, s, lambda p: _words(p) <= m, by="verse"),
        "leaks",
    ),
    "unseeded": (
        lambda ps, m, f, s: _split(ps, f, random.random(), lambda p: _words(p) <= m),
        "different split for the same seed",
    ),
    "seed ignored": (
        lambda ps, m, f, s: reference_split(ps, m, f, 0),
        "ignores `seed`",
    ),
    "fraction 0.6": (
        lambda ps, m, f, s: reference_split(ps, m, 0.6, s),
        "test_fraction=0.25",
    ),
    "one list": (lambda ps, m, f, s: reference_split(ps, m, f, s)[0], "two lists"),
    # not in the catalogue of docs/EXERCISES.md before this version:
    "max_words ignored": (
        lambda ps, m, f, s: reference_split(ps, 6, f, s),
        "side longer than max_words=4",
    ),
    "test_fraction ignored": (
        lambda ps, m, f, s: reference_split(ps, m, 0.25, s),
        "test_fraction=0.5",
    ),
    "characters": (
        lambda ps, m, f, s: _split(
            ps, f, s, lambda p: max(len(p.src), len(p.tgt)) <= m
        ),
        "pairs whose sides both have at most",
    ),
    "by book": (_by_book, "test_fraction=0.25"),
}


@pytest.mark.parametrize("name", sorted(SPLIT_MISTAKES))
def test_split_mistakes_are_diagnosed(name):
    assert_diagnosed("8.1", SPLIT_MISTAKES, name)


# --- 8.2 -------------------------------------------------------------------------


def reference_oov_rate(texts, vocab):
    ids = [i for text in texts for i in vocab.encode(vocab.tokenize(text))]
    return float(np.mean(np.array(ids) == UNK_ID))


def test_oov_reference_passes():
    assert "passed" in _verdict("8.2", reference_oov_rate)


def _types(texts, vocab):
    tokens = {t for text in texts for t in vocab.tokenize(text)}
    return sum(vocab.encode([t])[0] == UNK_ID for t in tokens) / len(tokens)


def _per_sentence(texts, vocab):
    return float(np.mean([reference_oov_rate([text], vocab) for text in texts]))


def _raw(texts, vocab):
    words = [w for text in texts for w in text.split()]
    return float(np.mean([vocab.encode([w])[0] == UNK_ID for w in words]))


def numpy_oov_rate(texts, vocab):
    ids = np.concatenate([np.asarray(vocab.encode(vocab.tokenize(t))) for t in texts])
    return np.mean(ids == UNK_ID)


def tensor_oov_rate(texts, vocab):
    import tensorflow as tf

    ids = tf.ragged.constant([vocab.encode(vocab.tokenize(t)) for t in texts])
    unknown = tf.cast(tf.equal(ids.flat_values, UNK_ID), tf.float32)
    return tf.reduce_mean(unknown)


@pytest.mark.parametrize("function", [numpy_oov_rate, tensor_oov_rate])
def test_oov_unusual_correct_answers_pass(function):
    assert_passes_unusual("8.2", function)


OOV_MISTAKES = {
    "types": (_types, "*distinct* words"),
    "per text": (_per_sentence, "averages the rate of each text"),
    "raw": (_raw, "raw text"),
    "percentage": (lambda t, v: 100 * reference_oov_rate(t, v), "percentage"),
    "count": (
        lambda texts, vocab: sum(
            i == UNK_ID for t in texts for i in vocab.encode(vocab.tokenize(t))
        ),
        "number of unknown tokens",
    ),
    # not in the catalogue of docs/EXERCISES.md before this version:
    "known share": (
        lambda texts, vocab: 1 - reference_oov_rate(texts, vocab),
        "every token is in the vocabulary",
    ),
    "padding id": (
        lambda texts, vocab: float(
            np.mean([i == 0 for t in texts for i in vocab.encode(vocab.tokenize(t))])
        ),
        "none of whose tokens",
    ),
    "per-text list": (
        lambda texts, vocab: [reference_oov_rate([t], vocab) for t in texts],
        "one number",
    ),
    "by number of texts": (
        lambda texts, vocab: (
            sum(i == UNK_ID for t in texts for i in vocab.encode(vocab.tokenize(t)))
            / len(texts)
        ),
        "not a fraction between 0 and 1",
    ),
}


@pytest.mark.parametrize("name", sorted(OOV_MISTAKES))
def test_oov_mistakes_are_diagnosed(name):
    assert_diagnosed("8.2", OOV_MISTAKES, name)


# --- 8.3 -------------------------------------------------------------------------


def _grams(tokens, n, stop=0):
    return collections.Counter(
        tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1 - stop)
    )


def reference_precision(hypothesis, reference, n):
    hyp, ref = _grams(hypothesis, n), _grams(reference, n)
    return sum((hyp & ref).values()), sum(hyp.values())


def test_precision_reference_passes():
    assert "passed" in _verdict("8.3", reference_precision)


def _unclipped(hypothesis, reference, n):
    hyp, ref = _grams(hypothesis, n), _grams(reference, n)
    return sum(c for g, c in hyp.items() if g in ref), sum(hyp.values())


def _sets(hypothesis, reference, n):
    hyp, ref = set(_grams(hypothesis, n)), set(_grams(reference, n))
    return len(hyp & ref), len(hyp)


def _recall(hypothesis, reference, n):
    hyp, ref = _grams(hypothesis, n), _grams(reference, n)
    return sum((hyp & ref).values()), sum(ref.values())


def _off_by_one(hypothesis, reference, n):
    hyp, ref = _grams(hypothesis, n, 1), _grams(reference, n, 1)
    return sum((hyp & ref).values()), sum(hyp.values())


def loop_precision(hypothesis, reference, n):
    """Clipping by removing each matched n-gram from a list of the reference's."""
    pool = [tuple(reference[i : i + n]) for i in range(len(reference) - n + 1)]
    grams = [tuple(hypothesis[i : i + n]) for i in range(len(hypothesis) - n + 1)]
    matches = 0
    for gram in grams:
        if gram in pool:
            pool.remove(gram)
            matches += 1
    return matches, len(grams)


def zip_precision(hypothesis, reference, n):
    """n-grams with zip, counts as numpy ints."""
    hyp = collections.Counter(zip(*(hypothesis[i:] for i in range(n))))
    ref = collections.Counter(zip(*(reference[i:] for i in range(n))))
    matches = sum(min(c, ref[g]) for g, c in hyp.items())
    return np.int64(matches), np.int64(sum(hyp.values()))


@pytest.mark.parametrize("function", [loop_precision, zip_precision])
def test_precision_unusual_correct_answers_pass(function):
    assert_passes_unusual("8.3", function)


def _ignores_n(hypothesis, reference, n):
    hyp, ref = _grams(hypothesis, n), _grams(reference, n)
    return sum((hyp & ref).values()), len(hypothesis)


def _against_itself(hypothesis, reference, n):
    hyp = _grams(hypothesis, n)
    return sum((hyp & hyp).values()), sum(hyp.values())


def _position_wise(hypothesis, reference, n):
    hyp = [tuple(hypothesis[i : i + n]) for i in range(len(hypothesis) - n + 1)]
    ref = [tuple(reference[i : i + n]) for i in range(len(reference) - n + 1)]
    return sum(h == r for h, r in zip(hyp, ref)), len(hyp)


PRECISION_MISTAKES = {
    "unclipped": (_unclipped, "is not clipped"),
    "sets": (_sets, "distinct n-grams"),
    "recall": (_recall, "recall"),
    "off by one": (_off_by_one, "misses the last n-gram"),
    "one number": (lambda h, r, n: reference_precision(h, r, n)[0], "two numbers"),
    # not in the catalogue of docs/EXERCISES.md before this version:
    "ignores n": (_ignores_n, "total should be the number of n-grams"),
    "against itself": (_against_itself, "shares no word"),
    "position-wise": (_position_wise, "in any order"),
    "ratio": (
        lambda h, r, n: (
            reference_precision(h, r, n)[0] / max(reference_precision(h, r, n)[1], 1)
        ),
        "two numbers",
    ),
}


@pytest.mark.parametrize("name", sorted(PRECISION_MISTAKES))
def test_precision_mistakes_are_diagnosed(name):
    assert_diagnosed("8.3", PRECISION_MISTAKES, name)


def test_detokenize_undoes_normalize_spacing_without_changing_bleu():
    from s2s_helpers import data, metrics

    text = data.normalize("¿Dijo Dios: Sea la luz? (Sí), y fué.")
    assert metrics.detokenize(text) == "¿ dijo dios: sea la luz? (si), y fue."
    hypothesis = data.normalize("Y dijo Dios: Sea luz.")
    assert metrics.corpus_bleu([hypothesis], [text]) == pytest.approx(
        metrics.corpus_bleu(
            [metrics.detokenize(hypothesis)], [metrics.detokenize(text)]
        )
    )
