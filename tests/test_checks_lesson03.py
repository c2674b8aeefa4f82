"""Lesson 03's checks: the reference passes, the stub is not attempted, and each
known mistake fails with its own message (also after a JSON round trip)."""

import numpy as np
import pytest
import tensorflow as tf
from checktools import assert_round_trip, outcome, stub

from s2s_helpers import attention, checks
from s2s_helpers.checks import lesson03

# --- Exercise 3.1: additive_scores -------------------------------------------------------


def additive_scores(query, keys, W_a, v_a):
    projected = tf.matmul(query, W_a)[:, None, :]  # (batch, 1, attention_units)
    return (tf.tanh(projected + keys) @ v_a)[..., 0]


def scores_numpy(query, keys, W_a, v_a):
    query, keys, W_a, v_a = (np.asarray(x) for x in (query, keys, W_a, v_a))
    return np.einsum("bsa,a->bs", np.tanh((query @ W_a)[:, None] + keys), v_a[:, 0])


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
    "no new axis": (lambda q, k, W, v: (tf.tanh(q @ W + k) @ v)[..., 0], "raised"),
}


def test_scores_reference_passes(capsys):
    assert outcome("3.1", additive_scores)[0] == "passed"
    assert outcome("3.1", scores_numpy)[0] == "passed"
    checks.check_additive_scores(additive_scores)
    assert "passed" in capsys.readouterr().out


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
def test_scores_known_mistakes_are_named(name):
    function, expected_text = SCORE_MISTAKES[name]
    status, message = outcome("3.1", function)
    assert status in {"failed", "error"}
    assert expected_text in message


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


SOFTMAX_MISTAKES = {
    "batch axis": (
        lambda s, m: tf.nn.softmax(tf.where(m, s, -1e9), axis=0),
        "over the batch axis",
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
        "multiplies the scores",
    ),
    "weak mask": (
        lambda s, m: tf.nn.softmax(tf.where(m, s, -5.0)),
        "not negative enough",
    ),
    "transposed": (lambda s, m: tf.transpose(masked_softmax(s, m)), "wrong shape"),
}


def test_softmax_reference_passes():
    assert outcome("3.2", masked_softmax)[0] == "passed"
    assert outcome("3.2", renormalised)[0] == "passed"
    assert outcome("3.2", additive_mask)[0] == "passed"
    assert outcome("3.2", attention.masked_softmax)[0] == "passed"


def test_softmax_stub_is_not_attempted():
    assert outcome("3.2", stub)[0] == "not_attempted"


@pytest.mark.parametrize("name", sorted(SOFTMAX_MISTAKES))
def test_softmax_known_mistakes_are_named(name):
    function, expected_text = SOFTMAX_MISTAKES[name]
    status, message = outcome("3.2", function)
    assert status == "failed"
    assert expected_text in message


def test_softmax_round_trip():
    assert_round_trip("3.2", masked_softmax)
    assert_round_trip("3.2", SOFTMAX_MISTAKES["after softmax"][0])


# --- Exercise 3.3: context_vector -----------------------------------------------------------


def context_vector(weights, values):
    return tf.reduce_sum(weights[:, :, None] * values, axis=1)


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
}


def test_context_reference_passes():
    assert outcome("3.3", context_vector)[0] == "passed"
    einsum = lambda w, v: tf.einsum("bs,bsu->bu", w, v)  # noqa: E731
    assert outcome("3.3", einsum)[0] == "passed"


def test_context_stub_is_not_attempted():
    assert outcome("3.3", stub)[0] == "not_attempted"


@pytest.mark.parametrize("name", sorted(CONTEXT_MISTAKES))
def test_context_known_mistakes_are_named(name):
    function, expected_text = CONTEXT_MISTAKES[name]
    status, message = outcome("3.3", function)
    assert status == "failed"
    assert expected_text in message


def test_context_round_trip():
    assert_round_trip("3.3", context_vector)


# --- Exercise 3.4: attend --------------------------------------------------------------------


def attend(attention_layer, query, values, keys, mask):
    projected = attention_layer.query_layer(query)[:, None, :]
    scores = attention_layer.energy_layer(tf.tanh(projected + keys))[..., 0]
    weights = masked_softmax(scores, mask)
    return context_vector(weights, values), weights


def attend_variant(keys_from=None, softmax=masked_softmax, context_of="values"):
    def wrong(layer, query, values, keys, mask):
        if keys_from == "recompute":
            keys = layer.precompute_keys(values)
        q = layer.query_layer(query)[:, None, :]
        weights = softmax(layer.energy_layer(tf.tanh(q + keys))[..., 0], mask)
        summed = {"values": values, "keys": keys}[context_of]
        return context_vector(weights, summed), weights

    return wrong


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
    "swapped": (lambda *args: attend(*args)[::-1], "returned (weights, context)"),
    "only context": (
        lambda *args: attend(*args)[0],
        "should return (context, weights)",
    ),
}


def test_attend_reference_passes():
    assert outcome("3.4", attend)[0] == "passed"
    # the library layer itself, called with the keys it is given
    layer_call = lambda layer, q, v, k, m: layer(q, v, keys=k, mask=m)  # noqa: E731
    assert outcome("3.4", layer_call)[0] == "passed"


def test_attend_stub_is_not_attempted():
    assert outcome("3.4", stub)[0] == "not_attempted"


@pytest.mark.parametrize("name", sorted(ATTEND_MISTAKES))
def test_attend_known_mistakes_are_named(name):
    function, expected_text = ATTEND_MISTAKES[name]
    status, message = outcome("3.4", function)
    assert status == "failed"
    assert expected_text in message


def test_attend_round_trip():
    assert_round_trip("3.4", attend)
    assert_round_trip("3.4", ATTEND_MISTAKES["recomputed keys"][0])
