"""The checks of lesson 09 accept the reference and unusual correct answers, spot
a stub, and diagnose every wrong answer below by what it gets wrong."""

import collections
import itertools

import numpy as np
import pytest
import tensorflow as tf
from checktools import assert_diagnosed, assert_passes_unusual
from checktools import passing_message as _verdict
from checktools import stub as _stub

from s2s_helpers.checks import framework


@pytest.mark.parametrize("exercise_id", ["9.1", "9.2"])
def test_stub_is_not_attempted(exercise_id):
    observation = framework.observe(exercise_id, _stub)
    assert framework.outcome(exercise_id, observation)[0] == "not_attempted"


@pytest.mark.parametrize("exercise_id", ["9.1", "9.2"])
def test_hints_come_in_levels(exercise_id):
    hints = framework.get(exercise_id).hints
    assert len(hints) >= 2 and len(set(hints)) == len(hints)


# --- 9.1 -------------------------------------------------------------------------


def reference_pairs(conversations):
    return [pair for lines in conversations for pair in itertools.pairwise(lines)]


def test_pairs_reference_passes():
    assert "passed" in _verdict("9.1", reference_pairs)


def _as_generator(conversations):
    for lines in conversations:
        yield from zip(lines, lines[1:])


def _with_indices(conversations):
    pairs = []
    for lines in conversations:
        for i, line in enumerate(lines):
            if i > 0:
                pairs.append([lines[i - 1], line])
    return pairs


@pytest.mark.parametrize(
    "function",
    [
        _as_generator,
        _with_indices,
        lambda cs: [np.array(pair) for pair in reference_pairs(cs)],
        lambda cs: list(itertools.chain.from_iterable(map(reference_pairs, [[c] for c in cs]))),
    ],
)  # fmt: skip
def test_pairs_unusual_correct_answers_pass(function):
    assert_passes_unusual("9.1", function)


def _steps_of_two(conversations):
    return [(c[i], c[i + 1]) for c in conversations for i in range(0, len(c) - 1, 2)]


def _flattened(conversations):
    return list(itertools.pairwise([line for c in conversations for line in c]))


def _one_line_gets_none(conversations):
    pairs = []
    for lines in conversations:
        pairs += reference_pairs([lines]) if len(lines) > 1 else [(lines[0], None)]
    return pairs


def _no_return(conversations):
    pairs = reference_pairs(conversations)  # noqa: F841


PAIRS_MISTAKES = {
    # the named catalogue
    "steps of two": (_steps_of_two, "every other pair"),
    "flattened": (_flattened, "last line of one conversation"),
    "swapped": (lambda cs: [(b, a) for a, b in reference_pairs(cs)], "swapped"),
    "last pair missed": (
        lambda cs: [(c[i], c[i + 1]) for c in cs for i in range(len(c) - 2)],
        "misses the last pair",
    ),
    "None for one line": (_one_line_gets_none, "missing side"),
    "prompts only": (
        lambda cs: [a for a, _ in reference_pairs(cs)],
        "should return (prompt, response) pairs",
    ),
    # not in the catalogue: diagnosed by what a correct answer must do
    "repeats dropped": (
        lambda cs: list(dict.fromkeys(reference_pairs(cs))),
        "once; it occurs 2 times",
    ),
    "first pair only": (
        lambda cs: [(c[0], c[1]) for c in cs if len(c) > 1],
        "1 of the 4 pairs of conversation 0",
    ),
    "last conversation skipped": (
        lambda cs: reference_pairs(cs[:-1]),
        "0 of the 2 pairs of conversation 2",
    ),
    "a dict": (lambda cs: dict(reference_pairs(cs)), "returned a dict"),
    "lowercased": (
        lambda cs: [(a.lower(), b.lower()) for a, b in reference_pairs(cs)],
        "is not one of the lines",
    ),
    "reverse order": (lambda cs: reference_pairs(cs)[::-1], "reverse order"),
    "sorted": (lambda cs: sorted(reference_pairs(cs)), "in another order"),
    "wraps around": (
        lambda cs: [(c[i], c[(i + 1) % len(c)]) for c in cs for i in range(len(c))],
        "not two consecutive lines",
    ),
    "no return": (_no_return, "returned None"),
    "None after the last line": (
        lambda cs: [(c[i], c[i + 1] if i + 1 < len(c) else None)
                    for c in cs for i in range(len(c))],
        "missing side: ('Great.', None).",
    ),
}  # fmt: skip


@pytest.mark.parametrize("label", sorted(PAIRS_MISTAKES))
def test_pairs_mistakes_are_diagnosed(label):
    assert_diagnosed("9.1", PAIRS_MISTAKES, label)


# --- 9.2 -------------------------------------------------------------------------


def _grams(response, n, stop=0):
    tokens = response.split()
    return [tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1 - stop)]


def reference_distinct(responses, n):
    grams = [g for r in responses for g in _grams(r, n)]
    return len(set(grams)) / len(grams) if grams else 0.0


def test_distinct_reference_passes():
    assert "passed" in _verdict("9.2", reference_distinct)


def _with_counter(responses, n):
    counts = collections.Counter()
    for response in responses:
        words = response.split()
        counts.update(" ".join(g) for g in zip(*(words[i:] for i in range(n))))
    total = sum(counts.values())
    return len(counts) / total if total else 0.0


def _with_numpy(responses, n):
    grams = [" ".join(g) for r in responses for g in _grams(r, n)]
    return np.float32(np.unique(grams).size / max(len(grams), 1))


@tf.function
def _as_tf_function(counts):
    return counts[0] / tf.maximum(counts[1], 1.0)


def _through_tensorflow(responses, n):
    grams = [g for r in responses for g in _grams(r, n)]
    return _as_tf_function(tf.constant([len(set(grams)), len(grams)], tf.float32))


@pytest.mark.parametrize("function", [_with_counter, _with_numpy, _through_tensorflow])
def test_distinct_unusual_correct_answers_pass(function):
    assert_passes_unusual("9.2", function)


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


def _integer_division(responses, n):
    grams = [g for r in responses for g in _grams(r, n)]
    return len(set(grams)) // len(grams) if grams else 0


def _split_on_one_space(responses, n):
    grams = []
    for response in responses:
        tokens = response.split(" ")
        grams += [tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1)]
    return len(set(grams)) / len(grams) if grams else 0.0


def _distinct_count(responses, n):
    return float(len({g for r in responses for g in _grams(r, n)}))


def _one_per_response(responses, n):
    return [reference_distinct([r], n) for r in responses]


def _always_words(responses, n):
    return reference_distinct(responses, 1)


DISTINCT_MISTAKES = {
    # the named catalogue
    "per response": (_per_response, "averages distinct-n of each response"),
    "joined": (_joined, "n-grams cross"),
    "by responses": (_by_responses, "number of responses"),
    "distinct responses": (
        lambda responses, n: len(set(responses)) / len(responses),
        "distinct responses",
    ),
    "last n-gram missed": (_off_by_one, "misses the last n-gram"),
    "no guard": (_no_guard, "distinct-n is then 0.0"),
    # not in the catalogue: diagnosed by what a correct answer must do
    "integer division": (_integer_division, "whole numbers only (rounded down)"),
    "split on one space": (_split_on_one_space, "runs of spaces"),
    "distinct count": (_distinct_count, "outside [0, 1]"),
    "repeated share": (lambda rs, n: 1 - reference_distinct(rs, n), "halves"),
    "one per response": (_one_per_response, "returned 4 numbers"),
    "ignores n": (_always_words, "for n = 1, 2 and 3"),
}


@pytest.mark.parametrize("label", sorted(DISTINCT_MISTAKES))
def test_distinct_mistakes_are_diagnosed(label):
    assert_diagnosed("9.2", DISTINCT_MISTAKES, label)


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
