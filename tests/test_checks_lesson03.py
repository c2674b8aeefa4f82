"""Lesson 03's checks: the reference passes, the stub is not attempted, every wrong
answer below is diagnosed as itself (a property or a named mistake, never another
one), and correct but unusually written answers pass (also after a JSON round trip).
"""

import numpy as np
import pytest
import tensorflow as tf
from checktools import (
    assert_diagnosed,
    assert_passes_unusual,
    assert_round_trip,
    outcome,
    stub,
)

from s2s_helpers import attention, checks
from s2s_helpers.checks import lesson03

# --- Exercise 3.1: additive_scores -------------------------------------------------------


def additive_scores(query, keys, W_a, v_a):
    projected = tf.matmul(query, W_a)[:, None, :]  # (batch, 1, attention_units)
    return (tf.tanh(projected + keys) @ v_a)[..., 0]


def scores_numpy(query, keys, W_a, v_a):
    query, keys, W_a, v_a = (np.asarray(x) for x in (query, keys, W_a, v_a))
    return np.einsum("bsa,a->bs", np.tanh((query @ W_a)[:, None] + keys), v_a[:, 0])


def scores_loop(query, keys, W_a, v_a):
    """One source position at a time, then stacked along src_len."""
    columns = [
        tf.squeeze(tf.tanh(query @ W_a + keys[:, j]) @ v_a, -1)
        for j in range(keys.shape[1])
    ]
    return tf.stack(columns, axis=1)


def projected(q, W):
    return tf.matmul(q, W)[:, None, :]


SCORE_MISTAKES = {
    "no tanh": (
        lambda q, k, W, v: ((projected(q, W) + k) @ v)[..., 0],
        "tanh is missing",
    ),
    "tanh outside": (
        lambda q, k, W, v: tf.tanh((projected(q, W) + k) @ v)[..., 0],
        "after v_a",
    ),
    "no v_a": (
        lambda q, k, W, v: tf.reduce_sum(tf.tanh(projected(q, W) + k), -1),
        "instead of multiplying by v_a",
    ),
    "multiplied": (
        lambda q, k, W, v: (tf.tanh(projected(q, W) * k) @ v)[..., 0],
        "adds them",
    ),
    "softmax": (
        lambda q, k, W, v: tf.nn.softmax(additive_scores(q, k, W, v)),
        "softmax weights",
    ),
    "kept axis": (lambda q, k, W, v: tf.tanh(projected(q, W) + k) @ v, "last axis"),
    "no energy": (
        lambda q, k, W, v: tf.tanh(projected(q, W) + k),
        "per attention unit",
    ),
    "no new axis": (
        lambda q, k, W, v: (tf.tanh(q @ W + k) @ v)[..., 0],
        "do not broadcast",
    ),
    # not in the catalogue: found by the properties
    "ignores the query": (
        lambda q, k, W, v: (tf.tanh(k) @ v)[..., 0],
        "stays the same when `query` changes",
    ),
    "sigmoid for tanh": (
        lambda q, k, W, v: (tf.sigmoid(projected(q, W) + k) @ v)[..., 0],
        "does not negate the scores",
    ),
    "scaled like dot-product attention": (
        lambda q, k, W, v: additive_scores(q, k, W, v) / np.sqrt(3.0),
        "constant factor 0.5774",
    ),
    "relu for tanh": (
        lambda q, k, W, v: (tf.nn.relu(projected(q, W) + k) @ v)[..., 0],
        "larger in size than sum(|v_a|)",
    ),
    "tanh inside and outside": (
        lambda q, k, W, v: tf.tanh(tf.tanh(projected(q, W) + k) @ v)[..., 0],
        "doubling v_a does not double",
    ),
    "scores transposed": (
        lambda q, k, W, v: tf.transpose(additive_scores(q, k, W, v)),
        "batch is 5, expected 2",
    ),
}


def test_scores_reference_passes(capsys):
    assert outcome("3.1", additive_scores)[0] == "passed"
    checks.check_additive_scores(additive_scores)
    assert "passed" in capsys.readouterr().out


@pytest.mark.parametrize(
    "function", [scores_numpy, scores_loop, tf.function(additive_scores)]
)
def test_scores_unusual_answers_pass(function):
    assert_passes_unusual("3.1", function)


def test_scores_agree_with_the_layer():
    """The exercise computes what BahdanauAttention computes before its softmax."""
    inputs = lesson03.INPUTS
    layer = attention.BahdanauAttention(lesson03.ATTENTION_UNITS)
    layer(inputs["query"], inputs["values"], mask=inputs["mask"])
    layer.query_layer.kernel.assign(inputs["W_a"])
    layer.key_layer.kernel.assign(inputs["U_a"])
    layer.energy_layer.kernel.assign(inputs["v_a"])
    _, weights = layer(inputs["query"], inputs["values"], mask=inputs["mask"])
    scores = additive_scores(
        inputs["query"], inputs["keys"], inputs["W_a"], inputs["v_a"]
    )
    expected = lesson03.reference_masked_softmax(np.asarray(scores), inputs["mask"])
    np.testing.assert_allclose(weights, expected, atol=1e-6)


def test_scores_stub_is_not_attempted():
    assert outcome("3.1", stub)[0] == "not_attempted"


@pytest.mark.parametrize("name", sorted(SCORE_MISTAKES))
def test_scores_mistakes_are_diagnosed(name):
    assert_diagnosed("3.1", SCORE_MISTAKES, name)


def test_scores_round_trip():
    assert_round_trip("3.1", additive_scores)


# --- Exercise 3.2: masked_softmax ---------------------------------------------------------


def masked_softmax(scores, mask):
    return tf.nn.softmax(tf.where(mask, scores, -1e9), axis=-1)


def renormalised(scores, mask):
    weights = tf.nn.softmax(scores, axis=-1) * tf.cast(mask, scores.dtype)
    return weights / tf.reduce_sum(weights, axis=-1, keepdims=True)


def additive_mask(scores, mask):
    return tf.nn.softmax(scores + (1.0 - tf.cast(mask, scores.dtype)) * -1e9)


def softmax_rows_numpy(scores, mask):
    """A Python loop over rows, numpy inside, only the real tokens exponentiated."""
    scores, mask = np.asarray(scores), np.asarray(mask)
    weights = np.zeros_like(scores)
    for row in range(scores.shape[0]):
        real = scores[row][mask[row]]
        e = np.exp(real - real.max())
        weights[row][mask[row]] = e / e.sum()
    return weights


SOFTMAX_MISTAKES = {
    "batch axis": (
        lambda s, m: tf.nn.softmax(tf.where(m, s, -1e9), axis=0),
        "over the batch axis (axis 0)",
    ),
    "batch axis, no mask": (lambda s, m: tf.nn.softmax(s, axis=0), "ignores the mask"),
    "after softmax": (
        lambda s, m: tf.nn.softmax(s) * tf.cast(m, s.dtype),
        "after the softmax",
    ),
    "inverted": (lambda s, m: masked_softmax(s, tf.logical_not(m)), "inverted"),
    "no mask": (lambda s, m: tf.nn.softmax(s), "seed bug 2"),
    "multiplied scores": (
        lambda s, m: tf.nn.softmax(s * tf.cast(m, s.dtype)),
        "padded scores were set to 0",
    ),
    "weak mask": (
        lambda s, m: tf.nn.softmax(tf.where(m, s, -5.0)),
        "not negative enough",
    ),
    "transposed": (lambda s, m: tf.transpose(masked_softmax(s, m)), "wrong shape"),
    # not in the catalogue: found by the properties
    "not normalised": (
        lambda s, m: tf.exp(tf.where(m, s, -1e9)),
        "do not sum to 1 over src_len",
    ),
    "linear normalisation": (
        lambda s, m: (
            (s * tf.cast(m, s.dtype))
            / tf.reduce_sum(s * tf.cast(m, s.dtype), -1, keepdims=True)
        ),
        "negative weights",
    ),
    "log of the weights": (
        lambda s, m: tf.math.log(masked_softmax(s, m)),
        "contains NaN or inf",
    ),
    "temperature 2": (
        lambda s, m: masked_softmax(s / 2.0, m),
        "not proportional to exp(score)",
    ),
    "sigmoid": (
        lambda s, m: tf.sigmoid(tf.where(m, s, -1e9)),
        "do not sum to 1 over src_len",
    ),
    "the first row's mask for every row": (
        lambda s, m: masked_softmax(s, m[:1]),
        "gives padded source positions weight",
    ),
    "softmax of the real scores divided by the length": (
        lambda s, m: (
            masked_softmax(s, m)
            * tf.reduce_sum(tf.cast(m, s.dtype), -1, keepdims=True)
            / 5.0
        ),
        "do not sum to 1 over src_len",
    ),
}


def test_softmax_reference_passes():
    assert outcome("3.2", masked_softmax)[0] == "passed"
    assert outcome("3.2", attention.masked_softmax)[0] == "passed"


@pytest.mark.parametrize(
    "function",
    [renormalised, additive_mask, softmax_rows_numpy, tf.function(masked_softmax)],
)
def test_softmax_unusual_answers_pass(function):
    assert_passes_unusual("3.2", function)


def test_softmax_stub_is_not_attempted():
    assert outcome("3.2", stub)[0] == "not_attempted"


@pytest.mark.parametrize("name", sorted(SOFTMAX_MISTAKES))
def test_softmax_mistakes_are_diagnosed(name):
    assert_diagnosed("3.2", SOFTMAX_MISTAKES, name)


def test_softmax_round_trip():
    assert_round_trip("3.2", masked_softmax)
    assert_round_trip("3.2", SOFTMAX_MISTAKES["after softmax"][0])


# --- Exercise 3.3: context_vector -----------------------------------------------------------


def context_vector(weights, values):
    return tf.reduce_sum(weights[:, :, None] * values, axis=1)


def context_loop(weights, values):
    """A Python loop over source positions, in numpy."""
    weights, values = np.asarray(weights), np.asarray(values)
    total = np.zeros((values.shape[0], values.shape[2]), values.dtype)
    for j in range(values.shape[1]):
        total += weights[:, j : j + 1] * values[:, j]
    return total


CONTEXT_MISTAKES = {
    "units axis": (
        lambda w, v: tf.reduce_sum(w[:, :, None] * v, axis=-1),
        "units axis",
    ),
    "batch axis": (lambda w, v: tf.reduce_sum(w[:, :, None] * v, axis=0), "batch axis"),
    "no sum": (lambda w, v: w[:, :, None] * v, "did not add them up"),
    "mean": (
        lambda w, v: tf.reduce_mean(w[:, :, None] * v, axis=1),
        "divides by src_len",
    ),
    "plain sum": (lambda w, v: tf.reduce_sum(v, axis=1), "plain sum"),
    "plain mean": (lambda w, v: tf.reduce_mean(v, axis=1), "plain mean"),
    # not in the catalogue: found by the properties
    "max instead of sum": (
        lambda w, v: tf.reduce_max(w[:, :, None] * v, axis=1),
        "that position's value",
    ),
    "weights normalised again": (
        lambda w, v: context_vector(tf.nn.softmax(w, axis=-1), v),
        "that position's value",
    ),
    "matmul without a batch axis": (lambda w, v: tf.matmul(w, v), "It has 3 axes"),
    "kept the src_len axis": (
        lambda w, v: tf.matmul(w[:, None, :], v),
        "axis of size 1 where src_len was",
    ),
    "no units axis on the weights": (
        lambda w, v: tf.reduce_sum(w * v, axis=1),
        "do not broadcast",
    ),
    "returns the weights": (lambda w, v: w, "units is 5, expected 4"),
}


def test_context_reference_passes():
    assert outcome("3.3", context_vector)[0] == "passed"


@pytest.mark.parametrize(
    "function",
    [
        lambda w, v: tf.einsum("bs,bsu->bu", w, v),
        lambda w, v: tf.matmul(w[:, None, :], v)[:, 0, :],
        context_loop,
    ],
    ids=["einsum", "matmul", "numpy loop"],
)
def test_context_unusual_answers_pass(function):
    assert_passes_unusual("3.3", function)


def test_context_stub_is_not_attempted():
    assert outcome("3.3", stub)[0] == "not_attempted"


@pytest.mark.parametrize("name", sorted(CONTEXT_MISTAKES))
def test_context_mistakes_are_diagnosed(name):
    assert_diagnosed("3.3", CONTEXT_MISTAKES, name)


def test_context_round_trip():
    assert_round_trip("3.3", context_vector)


# --- Exercise 3.4: attend --------------------------------------------------------------------


def attend(attention_layer, query, values, keys, mask):
    projected = attention_layer.query_layer(query)[:, None, :]
    scores = attention_layer.energy_layer(tf.tanh(projected + keys))[..., 0]
    weights = masked_softmax(scores, mask)
    return context_vector(weights, values), weights


def attend_with_kernels(attention_layer, query, values, keys, mask):
    """numpy with the sublayers' kernels (the layers have no bias)."""
    W_a = attention_layer.query_layer.kernel.numpy()
    v_a = attention_layer.energy_layer.kernel.numpy()
    weights = softmax_rows_numpy(scores_numpy(query, keys, W_a, v_a), np.asarray(mask))
    return context_loop(weights, values), weights


def attend_variant(keys_from=None, softmax=masked_softmax, context_of="values"):
    def wrong(layer, query, values, keys, mask):
        if keys_from == "recompute":
            keys = layer.precompute_keys(values)
        q = layer.query_layer(query)[:, None, :]
        weights = softmax(layer.energy_layer(tf.tanh(q + keys))[..., 0], mask)
        summed = {"values": values, "keys": keys}[context_of]
        return context_vector(weights, summed), weights

    return wrong


def context_from_unmasked(layer, query, values, keys, mask):
    q = layer.query_layer(query)[:, None, :]
    scores = layer.energy_layer(tf.tanh(q + keys))[..., 0]
    return context_vector(tf.nn.softmax(scores), values), masked_softmax(scores, mask)


def attend_without_new_axis(layer, query, values, keys, mask):
    scores = layer.energy_layer(tf.tanh(layer.query_layer(query) + keys))[..., 0]
    weights = masked_softmax(scores, mask)
    return context_vector(weights, values), weights


ATTEND_MISTAKES = {
    "recomputed keys": (attend_variant(keys_from="recompute"), "seed bug 6"),
    "no mask": (attend_variant(softmax=lambda s, m: tf.nn.softmax(s)), "seed bug 2"),
    "mask after": (
        attend_variant(softmax=lambda s, m: tf.nn.softmax(s) * tf.cast(m, s.dtype)),
        "after the softmax",
    ),
    "context of keys": (
        attend_variant(context_of="keys"),
        "weighted sum of the *keys*",
    ),
    "the projected query as the context": (
        lambda layer, q, v, k, m: (layer.query_layer(q), attend(layer, q, v, k, m)[1]),
        "(batch, attention_units), not units.",
    ),
    "swapped": (lambda *args: attend(*args)[::-1], "returned (weights, context)"),
    "only context": (
        lambda *args: attend(*args)[0],
        "should return (context, weights)",
    ),
    # not in the catalogue: found by the properties
    "ignores the query": (
        lambda layer, q, v, k, m: attend_variant()(layer, 0 * q, v, k, m),
        "stays the same when the query changes",
    ),
    "context from unmasked weights": (
        context_from_unmasked,
        "not the weighted sum of `values` with the weights",
    ),
    "softmax over the batch": (
        attend_variant(softmax=lambda s, m: tf.nn.softmax(tf.where(m, s, -1e9), 0)),
        "do not sum to 1 over src_len",
    ),
    "inverted mask": (
        attend_variant(softmax=lambda s, m: masked_softmax(s, tf.logical_not(m))),
        "all the weight on padding",
    ),
    "no src_len axis on the query": (
        attend_without_new_axis,
        "do not broadcast",
    ),
}


def test_attend_reference_passes():
    assert outcome("3.4", attend)[0] == "passed"


@pytest.mark.parametrize(
    "function",
    [
        # the library layer itself, called with the keys it is given
        lambda layer, q, v, k, m: layer(q, v, keys=k, mask=m),
        attend_with_kernels,
    ],
    ids=["the layer", "numpy with the kernels"],
)
def test_attend_unusual_answers_pass(function):
    assert_passes_unusual("3.4", function)


def test_attend_stub_is_not_attempted():
    assert outcome("3.4", stub)[0] == "not_attempted"


@pytest.mark.parametrize("name", sorted(ATTEND_MISTAKES))
def test_attend_mistakes_are_diagnosed(name):
    assert_diagnosed("3.4", ATTEND_MISTAKES, name)


def test_attend_round_trip():
    assert_round_trip("3.4", attend)
    assert_round_trip("3.4", ATTEND_MISTAKES["recomputed keys"][0])


# --- every exercise of the lesson ------------------------------------------------------------


@pytest.mark.parametrize("exercise_id", ["3.1", "3.2", "3.3", "3.4"])
def test_hints_come_in_at_least_two_levels(exercise_id):
    exercise = checks.get(exercise_id)
    assert len(exercise.hints) >= 2
    assert len(set(exercise.hints)) == len(exercise.hints)


@pytest.mark.parametrize("exercise_id", ["3.1", "3.2", "3.3", "3.4"])
def test_every_axis_of_the_inputs_has_its_own_size(exercise_id):
    sizes = list(checks.get(exercise_id).axes.values())
    assert len(set(sizes)) == len(sizes)


def test_the_two_seeds_vary_every_entry_and_the_padding():
    for name, value in lesson03.INPUTS.items():
        other = lesson03.OTHER_INPUTS[name]
        if name == "mask":
            assert (value != other).any() and value.all(axis=1).any()
        elif name not in {"values", "keys"}:
            assert np.all(value != other), name
