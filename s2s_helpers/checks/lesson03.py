"""Checks for lesson 03 (attention): additive scores, masked softmax, context, one step.

The inputs are small fixed arrays (batch 2, src_len 5, units 4, attention_units
3: every axis has its own size, so an answer along the wrong axis has a shape
of its own). The judges recompute Bahdanau attention in numpy:

    score(s, h_j) = v_a^T tanh(W_a s + U_a h_j)
    weights = softmax over src_len, padding masked before the softmax
    context = sum_j weights_j h_j

Taught in: lessons/03_attention.ipynb
"""

from __future__ import annotations

import numpy as np

from s2s_helpers.checks import framework
from s2s_helpers.checks.framework import exercise, fail

BATCH, SRC_LEN, UNITS, ATTENTION_UNITS = 2, 5, 4, 3


def _inputs(seed: int = 31) -> dict[str, np.ndarray]:
    """Query, values (0 at padding, like the encoder's), mask and weight matrices."""
    rng = np.random.default_rng(seed)
    mask = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], bool)  # (batch, src_len)
    values = rng.normal(size=(BATCH, SRC_LEN, UNITS)).round(2) * mask[..., None]
    arrays = {
        "query": rng.normal(size=(BATCH, UNITS)).round(2),  # (batch, units)
        "values": values,  # (batch, src_len, units)
        "mask": mask,
        "W_a": rng.normal(size=(UNITS, ATTENTION_UNITS)).round(2),
        "U_a": rng.normal(size=(UNITS, ATTENTION_UNITS)).round(2),
        "v_a": rng.normal(size=(ATTENTION_UNITS, 1)).round(2),
        "U_a_changed": rng.normal(size=(UNITS, ATTENTION_UNITS)).round(2),
    }
    arrays["keys"] = values @ arrays["U_a"]  # (batch, src_len, attention_units)
    return {
        k: v if v.dtype == bool else v.astype(np.float32) for k, v in arrays.items()
    }


INPUTS = _inputs()


def _f64(name: str) -> np.ndarray:
    return INPUTS[name].astype(np.float64)


def _softmax(x, axis=-1):
    x = x - x.max(axis=axis, keepdims=True)
    e = np.exp(x)
    return e / e.sum(axis=axis, keepdims=True)


def reference_scores(query, keys, W_a, v_a):
    """``v_a^T tanh(W_a s + U_a h_j)``: `(batch, src_len)`."""
    return (np.tanh((query @ W_a)[:, None, :] + keys) @ v_a)[..., 0]


def reference_masked_softmax(scores, mask, axis=-1):
    return _softmax(np.where(mask, scores, -1e9), axis=axis)


def reference_context(weights, values):
    return np.einsum("bs,bsu->bu", weights, values)


# --- Exercise 3.1: additive_scores -------------------------------------------------


def _tf(name: str):
    import tensorflow as tf

    return tf.constant(INPUTS[name])


def _probe_scores(additive_scores) -> dict:
    return {
        "scores": additive_scores(_tf("query"), _tf("keys"), _tf("W_a"), _tf("v_a"))
    }


def _judge_scores(observation: dict) -> str:
    name = "additive_scores(query, keys, W_a, v_a)"
    scores = framework.expect_array(name, observation["scores"])
    query, keys, W_a, v_a = (_f64(k) for k in ("query", "keys", "W_a", "v_a"))
    if scores.shape == (BATCH, SRC_LEN, 1):
        fail(
            f"`{name}` kept the last axis of size 1 that `@ v_a` leaves: drop it "
            "(`[..., 0]` or `squeeze(-1)`).",
            f"({BATCH}, {SRC_LEN}) (batch, src_len)",
            scores.shape,
        )
    if scores.shape == (BATCH, SRC_LEN, ATTENTION_UNITS):
        fail(
            f"`{name}` returned one number per attention unit: multiply by v_a to "
            "get one score per source position.",
            f"({BATCH}, {SRC_LEN}) (batch, src_len)",
            scores.shape,
        )
    framework.expect_shape(name, scores, (BATCH, SRC_LEN), "batch, src_len")
    framework.expect_dtype(name, scores, "f")
    projected = (query @ W_a)[:, None, :]  # (batch, 1, attention_units)
    expected = reference_scores(query, keys, W_a, v_a)
    framework.expect_close(
        name,
        scores,
        expected,
        known_mistakes={
            "the tanh is missing: the score is v_a^T tanh(W_a s + U_a h_j).": (
                (projected + keys) @ v_a
            )[..., 0],
            "applies the tanh after v_a: it goes inside, around W_a s + U_a h_j.": (
                np.tanh((projected + keys) @ v_a)[..., 0]
            ),
            "sums over attention_units instead of multiplying by v_a.": np.tanh(
                projected + keys
            ).sum(-1),
            "multiplies the projected query and the keys: additive attention adds "
            "them (W_a s + U_a h_j).": (np.tanh(projected * keys) @ v_a)[..., 0],
            "returns softmax weights, not scores: the softmax (with the mask) is "
            "Exercise 3.2.": _softmax(expected),
        },
    )
    return (
        "one score per source position, (batch, src_len), equal to "
        "v_a^T tanh(W_a s + U_a h_j)."
    )


check_additive_scores = exercise(
    "3.1",
    "additive_scores",
    arguments=("additive_scores",),
    probe=_probe_scores,
    judge=_judge_scores,
    hints=(
        "`projected = (query @ W_a)[:, None, :]` has shape (batch, 1, "
        "attention_units) and broadcasts over src_len; "
        "`tf.tanh(projected + keys) @ v_a` is (batch, src_len, 1); drop the "
        "last axis.",
    ),
)


# --- Exercise 3.2: masked_softmax ---------------------------------------------------

SOFTMAX_SCORES = np.array(
    [[2.0, -1.0, 0.5, 3.0, 1.0], [0.2, 1.5, -0.3, 0.0, 2.2], [1.0, 4.0, 0.0, 0.0, 0.0]],
    np.float32,
)  # (batch=3, src_len=5); row 0 puts its largest score on padding
SOFTMAX_MASK = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1], [1, 1, 0, 0, 0]], bool)


def _probe_softmax(masked_softmax) -> dict:
    import tensorflow as tf

    weights = masked_softmax(tf.constant(SOFTMAX_SCORES), tf.constant(SOFTMAX_MASK))
    return {"weights": weights}


def _judge_softmax(observation: dict) -> str:
    name = "masked_softmax(scores, mask)"
    weights = framework.expect_shape(
        name, observation["weights"], SOFTMAX_SCORES.shape, "batch, src_len"
    )
    framework.expect_dtype(name, weights, "f")
    scores, mask = SOFTMAX_SCORES.astype(np.float64), SOFTMAX_MASK
    expected = reference_masked_softmax(scores, mask)
    plain = _softmax(scores)
    leak = float(np.max(np.abs(weights[~mask])))
    if 1e-6 < leak < 0.05 and np.allclose(weights.sum(axis=-1), 1.0, atol=1e-4):
        fail(
            f"`{name}`: padding still gets a little weight (up to {leak:.2g}): the "
            "value put at padded scores is not negative enough. Use -1e9.",
            expected=0.0,
            received=leak,
        )
    framework.expect_close(
        name,
        weights,
        expected,
        known_mistakes={
            "the softmax runs over the batch axis (axis 0): use axis=-1 (src_len).": (
                reference_masked_softmax(scores, mask, axis=0)
            ),
            "the softmax runs over the batch axis and ignores the mask: use axis=-1 "
            "and mask before the softmax.": _softmax(scores, axis=0),
            "the mask is applied after the softmax (weights * mask) without "
            "renormalising: the rows no longer sum to 1. Mask the *scores* before the "
            "softmax.": plain * mask,
            "the mask is inverted: padding got all the weight. The mask is True for "
            "real tokens.": reference_masked_softmax(scores, ~mask),
            "the mask is ignored: padding gets weight (seed bug 2). Put a very "
            "negative number at padded scores before the softmax.": plain,
            "multiplies the scores by the mask: a score of 0 is not 'no weight' "
            "(exp(0) = 1). Replace padded scores with a very negative number "
            "instead.": _softmax(scores * mask),
        },
        atol=1e-5,
    )
    if np.max(np.abs(weights[~mask])) > 1e-6:
        fail(
            f"`{name}`: padding should get (practically) zero weight.",
            0.0,
            float(np.max(weights[~mask])),
        )
    return "rows sum to 1 over src_len, padding gets exactly 0 weight, values match."


check_masked_softmax = exercise(
    "3.2",
    "masked_softmax",
    arguments=("masked_softmax",),
    probe=_probe_softmax,
    judge=_judge_softmax,
    hints=(
        "Before the softmax, replace the padded scores by a very negative number: "
        "`tf.where(mask, scores, -1e9)`; then `tf.nn.softmax(..., axis=-1)`.",
    ),
)


# --- Exercise 3.3: context_vector --------------------------------------------------


def _context_weights() -> np.ndarray:
    scores = reference_scores(*(_f64(k) for k in ("query", "keys", "W_a", "v_a")))
    return reference_masked_softmax(scores, INPUTS["mask"]).astype(np.float32)


def _probe_context(context_vector) -> dict:
    import tensorflow as tf

    return {"context": context_vector(tf.constant(_context_weights()), _tf("values"))}


def _judge_context(observation: dict) -> str:
    name = "context_vector(weights, values)"
    context = framework.expect_array(name, observation["context"])
    weights, values = _context_weights().astype(np.float64), _f64("values")
    if context.shape == (BATCH, SRC_LEN):
        fail(
            f"`{name}` summed over the units axis: sum the weighted values over "
            "src_len (axis 1).",
            f"({BATCH}, {UNITS}) (batch, units)",
            context.shape,
        )
    if context.shape == (SRC_LEN, UNITS):
        fail(
            f"`{name}` summed over the batch axis: sum over src_len (axis 1).",
            f"({BATCH}, {UNITS}) (batch, units)",
            context.shape,
        )
    if context.shape == (BATCH, SRC_LEN, UNITS):
        fail(
            f"`{name}` weighted the values but did not add them up: sum over "
            "src_len (axis 1).",
            f"({BATCH}, {UNITS}) (batch, units)",
            context.shape,
        )
    framework.expect_shape(name, context, (BATCH, UNITS), "batch, units")
    framework.expect_close(
        name,
        context,
        reference_context(weights, values),
        known_mistakes={
            "averages the weighted values (divides by src_len): the weights already "
            "sum to 1, so just add them up.": reference_context(weights, values)
            / SRC_LEN,
            "ignores the weights (a plain sum of the values).": values.sum(axis=1),
            "ignores the weights (a plain mean of the values).": values.mean(axis=1),
        },
    )
    return "the weighted sum of the values over src_len, (batch, units)."


check_context_vector = exercise(
    "3.3",
    "context_vector",
    arguments=("context_vector",),
    probe=_probe_context,
    judge=_judge_context,
    hints=(
        "`weights[:, :, None] * values` is (batch, src_len, units); sum it over "
        "axis 1. Or in one go: `tf.einsum('bs,bsu->bu', weights, values)`.",
    ),
)


# --- Exercise 3.4: one attention step with the layer's sublayers --------------------


def _probe_attend(attend) -> dict:
    import tensorflow as tf

    from s2s_helpers import attention

    layer = attention.BahdanauAttention(ATTENTION_UNITS)
    query, values, mask = _tf("query"), _tf("values"), tf.constant(INPUTS["mask"])
    layer(query, values, mask=mask)  # builds the three Dense layers
    layer.query_layer.kernel.assign(INPUTS["W_a"])
    layer.key_layer.kernel.assign(INPUTS["U_a"])
    layer.energy_layer.kernel.assign(INPUTS["v_a"])
    keys = layer.precompute_keys(values)  # once per source batch, by the caller
    # Changed afterwards: keys recomputed inside `attend` would differ from `keys`.
    layer.key_layer.kernel.assign(INPUTS["U_a_changed"])
    result = attend(layer, query, values, keys, mask)
    if isinstance(result, (tuple, list)) and len(result) == 2:
        return {"kind": "pair", "context": result[0], "weights": result[1]}
    return {"kind": type(result).__name__}


def _judge_attend(observation: dict) -> str:
    name = "attend(attention_layer, query, values, keys, mask)"
    if observation["kind"] != "pair":
        fail(
            f"`{name}` should return (context, weights).",
            "a tuple of 2",
            observation["kind"],
        )
    context = framework.expect_array("context", observation["context"])
    weights = framework.expect_array("weights", observation["weights"])
    if context.shape == (BATCH, SRC_LEN) and weights.shape == (BATCH, UNITS):
        fail(
            f"`{name}` returned (weights, context): return the context first.",
            "(context (batch, units), weights (batch, src_len))",
            f"shapes {context.shape}, {weights.shape}",
        )
    query, values, keys, W_a, v_a = (
        _f64(k) for k in ("query", "values", "keys", "W_a", "v_a")
    )
    mask = INPUTS["mask"]
    if context.shape == (BATCH, ATTENTION_UNITS):
        fail(
            f"`{name}`: the context is a weighted sum of the *keys*: sum the "
            "values (the encoder outputs) instead.",
            f"({BATCH}, {UNITS}) (batch, units)",
            context.shape,
        )
    framework.expect_shape("context", context, (BATCH, UNITS), "batch, units")
    framework.expect_shape("weights", weights, (BATCH, SRC_LEN), "batch, src_len")
    scores = reference_scores(query, keys, W_a, v_a)
    expected = reference_masked_softmax(scores, mask)
    recomputed = values @ _f64("U_a_changed")
    framework.expect_close(
        "weights",
        weights,
        expected,
        known_mistakes={
            "the keys were computed again from the values: use the `keys` argument. "
            "They do not depend on the decoder step, so they are computed once per "
            "source batch (recomputing them at every step is seed bug 6).": (
                reference_masked_softmax(
                    reference_scores(query, recomputed, W_a, v_a), mask
                )
            ),
            "the mask is not used: padding gets weight (seed bug 2).": _softmax(scores),
            "the mask is applied after the softmax without renormalising.": (
                _softmax(scores) * mask
            ),
        },
    )
    framework.expect_close(
        "context",
        context,
        reference_context(expected, values),
        known_mistakes={
            "ignores the weights (a plain sum of the values).": values.sum(axis=1),
        },
    )
    return (
        "context (batch, units) and weights (batch, src_len) match the layer's "
        "W_a, U_a, v_a, with the given keys and the mask."
    )


check_attend = exercise(
    "3.4",
    "attend",
    arguments=("attend",),
    probe=_probe_attend,
    judge=_judge_attend,
    hints=(
        "`projected = attention_layer.query_layer(query)[:, None, :]`; "
        "`energy = attention_layer.energy_layer(tf.tanh(projected + keys))`; "
        "`scores = energy[..., 0]`; "
        "then your masked_softmax and context_vector. Use `keys` as given.",
    ),
)
