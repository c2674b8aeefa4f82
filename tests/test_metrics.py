import pytest

from s2s_helpers import metrics


def test_exact_match_and_token_accuracy_by_hand():
    assert metrics.exact_match(["2020-01-02", "x"], ["2020-01-02", "y"]) == 0.5
    assert metrics.token_accuracy(
        [["a", "b"], ["c"]], [["a", "x", "z"], ["c"]]
    ) == pytest.approx(2 / 4)


def test_bleu_and_chrf_end_points():
    refs = ["the cat sat on the mat today", "a dog barked loudly at night"]
    assert metrics.corpus_bleu(refs, refs) == pytest.approx(100.0)
    assert metrics.corpus_chrf(refs, refs) == pytest.approx(100.0)
    assert metrics.corpus_bleu(["zzz qqq", "vvv www"], refs) < 1.0
    partial = metrics.corpus_bleu(
        ["the cat sat on the mat", "a dog barked at night"], refs
    )
    assert 0 < partial < 100


def test_error_rates_by_hand():
    assert metrics.character_error_rate(["abcx"], ["abcd"]) == pytest.approx(0.25)
    assert metrics.word_error_rate(
        ["set a timer now"], ["set the timer now"]
    ) == pytest.approx(0.25)
    assert metrics.word_error_rate(["one two"], ["one two"]) == 0.0


def test_mismatched_or_empty_inputs():
    with pytest.raises(ValueError, match="one reference per prediction"):
        metrics.exact_match(["a"], ["a", "b"])
    with pytest.raises(ValueError, match="empty list"):
        metrics.corpus_bleu([], [])
