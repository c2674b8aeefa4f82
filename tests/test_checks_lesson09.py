"""The checks of lesson 09 accept the reference, spot a stub and name known mistakes."""

import itertools

import numpy as np
import pytest
from checktools import failure_message as _failure
from checktools import passing_message as _verdict
from checktools import stub as _stub

from s2s_helpers.checks import framework


@pytest.mark.parametrize("exercise_id", ["9.1", "9.2"])
def test_stub_is_not_attempted(exercise_id):
    observation = framework.observe(exercise_id, _stub)
    assert framework.outcome(exercise_id, observation)[0] == "not_attempted"


# --- 9.1 -------------------------------------------------------------------------


def reference_pairs(conversations):
    return [pair for lines in conversations for pair in itertools.pairwise(lines)]


def test_pairs_reference_passes():
    assert "passed" in _verdict("9.1", reference_pairs)


def _steps_of_two(conversations):
    return [(c[i], c[i + 1]) for c in conversations for i in range(0, len(c) - 1, 2)]


def _flattened(conversations):
    return list(itertools.pairwise([line for c in conversations for line in c]))


def _one_line_gets_none(conversations):
    pairs = []
    for lines in conversations:
        pairs += reference_pairs([lines]) if len(lines) > 1 else [(lines[0], None)]
    return pairs


@pytest.mark.parametrize(
    "wrong, expected",
    [
        (_steps_of_two, "step by 1"),
        (_flattened, "last line of one conversation"),
        (lambda cs: [(b, a) for a, b in reference_pairs(cs)], "swapped"),
        (
            lambda cs: [(c[i], c[i + 1]) for c in cs for i in range(len(c) - 2)],
            "misses the last pair",
        ),
        (_one_line_gets_none, "missing side"),
        (lambda cs: [a for a, _ in reference_pairs(cs)], "(prompt, response) pairs"),
    ],
)
def test_pairs_mistakes(wrong, expected):
    assert expected in _failure("9.1", wrong)


# --- 9.2 -------------------------------------------------------------------------


def _grams(response, n, stop=0):
    tokens = response.split()
    return [tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1 - stop)]


def reference_distinct(responses, n):
    grams = [g for r in responses for g in _grams(r, n)]
    return len(set(grams)) / len(grams) if grams else 0.0


def test_distinct_reference_passes():
    assert "passed" in _verdict("9.2", reference_distinct)


def _per_response(responses, n):
    rates = [
        len(set(_grams(r, n))) / len(_grams(r, n)) for r in responses if _grams(r, n)
    ]
    return float(np.mean(rates)) if rates else 0.0


def _joined(responses, n):
    return reference_distinct([" ".join(responses)], n)


def _by_responses(responses, n):
    return len({g for r in responses for g in _grams(r, n)}) / len(responses)


def _off_by_one(responses, n):
    grams = [g for r in responses for g in _grams(r, n, stop=1)]
    return len(set(grams)) / len(grams) if grams else 0.0


def _no_guard(responses, n):
    grams = [g for r in responses for g in _grams(r, n)]
    return np.float64(len(set(grams))) / np.float64(len(grams)) if grams else np.nan


@pytest.mark.parametrize(
    "wrong, expected",
    [
        (_per_response, "averages distinct-n of each response"),
        (_joined, "n-grams cross"),
        (_by_responses, "number of responses"),
        (
            lambda responses, n: len(set(responses)) / len(responses),
            "distinct responses",
        ),
        (_off_by_one, "misses the last n-gram"),
        (_no_guard, "return 0.0"),
    ],
)
def test_distinct_mistakes(wrong, expected):
    assert expected in _failure("9.2", wrong)


def test_library_distinct_n_passes_the_check():
    from s2s_helpers import metrics

    assert "passed" in _verdict("9.2", metrics.distinct_n)
    with pytest.raises(ValueError, match="n must be"):
        metrics.distinct_n(["a b"], 0)


def test_load_conversations_gives_lists_of_lines():
    from s2s_helpers import corpora

    pytest.importorskip("chatterbot_corpus")
    conversations = corpora.load_conversations(["greetings"])
    assert conversations and all(isinstance(lines, list) for lines in conversations)
    assert all(line and isinstance(line, str) for c in conversations for line in c)
    pairs = reference_pairs(conversations)
    assert pairs == corpora.load_dialogue_pairs(["greetings"])
