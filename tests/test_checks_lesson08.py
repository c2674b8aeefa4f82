"""The checks of lesson 08 accept the reference, spot a stub and name known mistakes."""

import collections
import random

import numpy as np
import pytest
from checktools import failure_message as _failure
from checktools import passing_message as _verdict
from checktools import stub as _stub

from s2s_helpers.checks import framework
from s2s_helpers.data import UNK_ID


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


@pytest.mark.parametrize(
    "wrong, expected",
    [
        (
            lambda ps, m, f, s: _split(ps, f, s, lambda p: len(p.src.split()) <= m),
            "*target* is longer",
        ),
        (
            lambda ps, m, f, s: _split(ps, f, s, lambda p: len(p.tgt.split()) <= m),
            "*source* is longer",
        ),
        (
            lambda ps, m, f, s: _split(ps, f, s, lambda p: _words(p) < m),
            "exactly max_words",
        ),
        (
            lambda ps, m, f, s: _split(ps, f, s, lambda p: _words(p) <= m, by="verse"),
            "leaks",
        ),
        (
            lambda ps, m, f, s: _split(
                ps, f, random.random(), lambda p: _words(p) <= m
            ),
            "different split for the same seed",
        ),
        (lambda ps, m, f, s: reference_split(ps, m, f, 0), "ignores `seed`"),
        (lambda ps, m, f, s: reference_split(ps, m, 0.6, s), "test_fraction"),
        (lambda ps, m, f, s: reference_split(ps, m, f, s)[0], "two lists"),
    ],
)
def test_split_mistakes(wrong, expected):
    assert expected in _failure("8.1", wrong)


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


@pytest.mark.parametrize(
    "wrong, expected",
    [
        (_types, "*distinct* words"),
        (_per_sentence, "averages the rate of each sentence"),
        (_raw, "raw text"),
        (lambda texts, vocab: 100 * reference_oov_rate(texts, vocab), "percentage"),
        (
            lambda texts, vocab: sum(
                i == UNK_ID for t in texts for i in vocab.encode(vocab.tokenize(t))
            ),
            "number of unknown tokens",
        ),
    ],
)
def test_oov_mistakes(wrong, expected):
    assert expected in _failure("8.2", wrong)


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


@pytest.mark.parametrize(
    "wrong, expected",
    [
        (_unclipped, "is not clipped"),
        (_sets, "distinct n-grams"),
        (_recall, "recall"),
        (_off_by_one, "misses the last n-gram"),
        (lambda h, r, n: reference_precision(h, r, n)[0], "two numbers"),
    ],
)
def test_precision_mistakes(wrong, expected):
    assert expected in _failure("8.3", wrong)


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
