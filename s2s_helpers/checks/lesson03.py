"""Checks for lesson 03 (attention): additive scores, masked softmax, context, one step.

Every judge goes from cheap to specific: the shape (which axis is wrong), the
dtype; a catalogued mistake, named only when its exact output is recognised;
then the properties every correct answer has (rows of weights that sum to 1,
no weight on padding, weights that do not move when only padded scores move,
scores that depend on the query, ...), each reported as what was observed;
last, the reference. The judges recompute Bahdanau attention in numpy:

    score(s, h_j) = v_a^T tanh(W_a s + U_a h_j)
    weights = softmax over src_len, padding masked before the softmax
    context = sum_j weights_j h_j

The inputs have sizes that no two axes share (batch 2, src_len 5, units 4,
attention_units 3), two seeds varying every entry, and padding in some rows
only. The property helpers below are lesson 04's too (its decoder attends).
TensorFlow is imported inside the probes, so importing the checks does not
load it.

Taught in: lessons/03_attention.ipynb
"""

from __future__ import annotations

import numpy as np

from s2s_helpers.checks.expect import (
    close,
    expect_changes,
    expect_finite,
    expect_not_rescaled,
    name_known_mistake,
)
from s2s_helpers.checks.framework import (
    Mistake,
    exercise,
    expect_array,
    expect_close,
    expect_dtype,
    expect_shape,
    fail,
    preview,
    softmax,
)

BATCH, SRC_LEN, UNITS, ATTENTION_UNITS = 2, 5, 4, 3
AXES = {"batch": BATCH, "src_len": SRC_LEN, "units": UNITS}


def _inputs(seed: int, mask: list) -> dict[str, np.ndarray]:
    """Query, values (0 at padding, like the encoder's), mask and weight matrices."""
    rng = np.random.default_rng(seed)
    mask = np.array(mask, bool)  # (batch, src_len)
    values = rng.normal(size=(BATCH, SRC_LEN, UNITS)).round(2) * mask[..., None]
    arrays = {
        "query": rng.normal(size=(BATCH, UNITS)).round(2),  # (batch, units)
        "values": values,  # (batch, src_len, units)
        "mask": mask,
        "W_a": rng.normal(size=(UNITS, ATTENTION_UNITS)).round(2),
        "U_a": rng.normal(size=(UNITS, ATTENTION_UNITS)).round(2),
        "v_a": rng.normal(size=(ATTENTION_UNITS, 1)).round(2),
        "U_a_changed": rng.normal(size=(UNITS, ATTENTION_UNITS)).round(2),
        "query_changed": rng.normal(size=(BATCH, UNITS)).round(2),
    }
    arrays["keys"] = values @ arrays["U_a"]  # (batch, src_len, attention_units)
    return {
        k: v if v.dtype == bool else v.astype(np.float32) for k, v in arrays.items()
    }


INPUTS = _inputs(31, [[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]])
OTHER_INPUTS = _inputs(32, [[1, 1, 1, 1, 1], [1, 1, 0, 0, 0]])  # every entry varied


def reference_scores(query, keys, W_a, v_a):
    """``v_a^T tanh(W_a s + U_a h_j)``: `(batch, src_len)`."""
    query, keys, W_a, v_a = (np.asarray(x, np.float64) for x in (query, keys, W_a, v_a))
    return (np.tanh((query @ W_a)[:, None, :] + keys) @ v_a)[..., 0]


def reference_masked_softmax(scores, mask, axis=-1):
    return softmax(np.where(mask, scores, -1e9), axis=axis)


def reference_context(weights, values):
    return np.einsum("bs,bsu->bu", weights, values)


# --- property helpers (lessons 03 and 04) ------------------------------------------


def expect_attention_weights(name: str, weights: np.ndarray, mask: np.ndarray) -> None:
    """Properties of attention weights: finite, >= 0, rows sum to 1, on real tokens.

    Args:
        weights: `(batch, src_len)` or `(batch, tgt_len, src_len)`.
        mask: bool, broadcastable to ``weights``, True for real source tokens.
    """
    _expect_distributions(name, weights)
    _expect_on_real_tokens(name, weights, np.broadcast_to(mask, weights.shape))


def _expect_distributions(name: str, weights: np.ndarray) -> None:
    """Every row of ``weights`` is a probability distribution over src_len."""
    expect_finite(name, weights)
    if np.min(weights) < -1e-6:
        fail(
            f"`{name}` has negative weights: attention weights are probabilities.",
            ">= 0",
            f"down to {np.min(weights):.3g}",
        )
    sums = weights.sum(axis=-1)
    if not np.allclose(sums, 1.0, atol=1e-4):
        fail(f"the rows of `{name}` do not sum to 1 over src_len.", 1.0, preview(sums))


def _expect_on_real_tokens(name: str, weights: np.ndarray, real: np.ndarray) -> None:
    """No weight on padding, some on every real token (``real``: the mask)."""
    rows_with_padding = (~real).any(axis=-1)
    on_real = np.where(real, weights, 0.0).sum(axis=-1)
    if np.any(rows_with_padding & (on_real < 1e-6)):
        fail(
            f"`{name}` puts all the weight on padding and none on real tokens in "
            "the rows that have padding (the mask is True for real tokens).",
            hints=(
                "Which positions does your mask keep? It should be True at real "
                "tokens (ids != 0) and False at padding.",
            ),
        )
    leak = float(np.max(np.where(real, 0.0, weights), initial=0.0))
    if leak > 1e-6:
        fail(
            f"`{name}` gives padded source positions weight.",
            "0.0 on every padded position",
            f"up to {leak:.3g}",
            hints=(
                "Padding must get exactly zero weight: the softmax must not see "
                "the padded scores at all.",
            ),
        )
    starved = int(np.sum(real & (weights <= 0.0)))
    if starved:
        fail(
            f"`{name}` gives zero weight to real source tokens (mask True) at "
            f"{starved} position(s): a softmax gives every real token some weight.",
            hints=("Which positions does your mask keep? Exactly the real tokens?",),
        )


# --- Exercise 3.1: additive_scores -------------------------------------------------

SCORE_NAME = "additive_scores(query, keys, W_a, v_a)"


def _score_cases() -> dict[str, tuple]:
    """(query, keys, W_a, v_a) per case: base, another seed, and one change each."""
    q, k, W, v = (INPUTS[n] for n in ("query", "keys", "W_a", "v_a"))
    other = tuple(OTHER_INPUTS[n] for n in ("query", "keys", "W_a", "v_a"))
    return {
        "base": (q, k, W, v),
        "other": other,
        "negated": (-q, -k, W, v),
        "v_doubled": (q, k, W, 2 * v),
        "query_changed": (INPUTS["query_changed"], k, W, v),
    }


def _probe_scores(additive_scores) -> dict:
    import tensorflow as tf

    return {
        case: additive_scores(*(tf.constant(x) for x in arrays))
        for case, arrays in _score_cases().items()
    }


def _scores_shape(scores: np.ndarray) -> np.ndarray:
    expected = f"({BATCH}, {SRC_LEN}) (batch, src_len)"
    if scores.shape == (BATCH, SRC_LEN, 1):
        fail(
            f"`{SCORE_NAME}` still has the last axis of size 1 that `@ v_a` leaves, "
            "(batch, src_len, 1).",
            expected,
            scores.shape,
            hints=("A score per position is one number: drop the axis of size 1.",),
        )
    if scores.shape == (BATCH, SRC_LEN, ATTENTION_UNITS):
        fail(
            f"`{SCORE_NAME}` has one number per attention unit, (batch, src_len, "
            "attention_units), not one score per source position.",
            expected,
            scores.shape,
            hints=("What turns attention_units numbers into one? v_a.",),
        )
    scores = expect_shape(SCORE_NAME, scores, (BATCH, SRC_LEN), "batch, src_len")
    return expect_dtype(SCORE_NAME, scores, "f")


def _score_mistakes(query, keys, W_a, v_a) -> dict:
    projected = (query.astype(np.float64) @ W_a)[:, None, :]
    tanh_inside = "The tanh goes around W_a s + U_a h_j, before v_a."
    return {
        "the tanh is missing: the score is v_a^T tanh(W_a s + U_a h_j).": Mistake(
            ((projected + keys) @ v_a)[..., 0], (tanh_inside,)
        ),
        "applies the tanh after v_a: it goes inside, around W_a s + U_a h_j.": Mistake(
            np.tanh((projected + keys) @ v_a)[..., 0], (tanh_inside,)
        ),
        "sums over attention_units instead of multiplying by v_a.": Mistake(
            np.tanh(projected + keys).sum(-1),
            ("v_a weighs each attention unit: a matrix product, not a plain sum.",),
        ),
        "multiplies the projected query and the keys: additive attention adds "
        "them (W_a s + U_a h_j).": Mistake(
            (np.tanh(projected * keys) @ v_a)[..., 0],
            ("Additive attention: W_a s + U_a h_j, a sum inside the tanh.",),
        ),
        "returns softmax weights, not scores: the softmax (with the mask) is "
        "Exercise 3.2.": softmax(reference_scores(query, keys, W_a, v_a)),
    }


def _score_properties(runs: dict, v_a: np.ndarray) -> None:
    base = runs["base"]
    expect_changes(
        SCORE_NAME,
        base,
        runs["query_changed"],
        "`query` changes",
        "every score depends on the decoder state through W_a s.",
    )
    expect_changes(
        SCORE_NAME, base, runs["v_doubled"], "`v_a` changes", "v_a weighs the units."
    )
    bound = float(np.abs(v_a).sum())
    if np.max(np.abs(base)) > bound + 1e-4:
        fail(
            f"`{SCORE_NAME}` has scores larger in size than sum(|v_a|) = {bound:.3g}, "
            "the most v_a^T tanh(...) can reach (tanh is between -1 and 1).",
            f"|score| <= {bound:.3g}",
            f"up to {np.max(np.abs(base)):.3g}",
        )
    if not close(runs["v_doubled"], 2 * base):
        fail(f"`{SCORE_NAME}`: doubling v_a does not double the scores.")
    if not close(runs["negated"], -base):
        fail(
            f"`{SCORE_NAME}`: negating both query and keys does not negate the "
            "scores; v_a^T tanh(W_a s + U_a h_j) changes sign with them (tanh is odd)."
        )


def _judge_scores(observation: dict) -> str:
    scores = _scores_shape(expect_array(SCORE_NAME, observation["base"]))
    cases = _score_cases()
    expected = reference_scores(*cases["base"])
    name_known_mistake(SCORE_NAME, scores, expected, _score_mistakes(*cases["base"]))
    expect_finite(SCORE_NAME, scores)
    runs = {case: np.asarray(observation[case], np.float64) for case in cases}
    _score_properties(runs, cases["base"][3])
    expect_not_rescaled(SCORE_NAME, scores, expected)
    for case in ("base", "other"):
        expect_close(SCORE_NAME, runs[case], reference_scores(*cases[case]))
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
        "Write the formula with shapes: W_a s is (batch, attention_units) and "
        "U_a h_j, the keys, is (batch, src_len, attention_units). How do you add "
        "them so that every source position gets the same projected query?",
        "Give the projected query a src_len axis of size 1 so that it broadcasts "
        "over the keys; tanh of the sum, times v_a, is (batch, src_len, 1).",
        "`projected = (query @ W_a)[:, None, :]` has shape (batch, 1, "
        "attention_units) and broadcasts over src_len; "
        "`tf.tanh(projected + keys) @ v_a` is (batch, src_len, 1); drop the "
        "last axis.",
    ),
    axes={**AXES, "attention_units": ATTENTION_UNITS},
)


# --- Exercise 3.2: masked_softmax ---------------------------------------------------

SOFTMAX_NAME = "masked_softmax(scores, mask)"
SOFTMAX_SCORES = np.array(
    [[2.0, -1.0, 0.5, 3.0, 1.0], [0.2, 1.5, -0.3, 0.0, 2.2], [1.0, 4.0, 0.0, 0.0, 0.0]],
    np.float32,
)  # (batch=3, src_len=5); row 0 puts its largest score on padding
SOFTMAX_MASK = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1], [1, 1, 0, 0, 0]], bool)
_other = np.random.default_rng(33).normal(size=(3, 5)).round(2)


def _softmax_cases() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """(scores, mask) per case: base, padded scores moved, rows shifted, another."""
    scores, mask = SOFTMAX_SCORES, SOFTMAX_MASK
    return {
        "base": (scores, mask),
        "padding_changed": (np.where(mask, scores, 9.0).astype(np.float32), mask),
        "shifted": (scores + np.float32([[3.0], [-2.0], [10.0]]), mask),
        "other": (
            _other.astype(np.float32),
            np.array([[1, 1, 1, 1, 1], [1, 1, 1, 1, 0], [1, 0, 0, 0, 0]], bool),
        ),
    }


def _probe_softmax(masked_softmax) -> dict:
    import tensorflow as tf

    return {
        case: masked_softmax(tf.constant(scores), tf.constant(mask))
        for case, (scores, mask) in _softmax_cases().items()
    }


def _softmax_mistakes(scores: np.ndarray, mask: np.ndarray) -> dict:
    plain = softmax(scores)
    before = "Mask the *scores*, before the softmax, so that the rows still sum to 1."
    return {
        "the softmax runs over the batch axis (axis 0), not over src_len.": Mistake(
            reference_masked_softmax(scores, mask, axis=0),
            ("Which axis holds the source positions of one sentence?",),
        ),
        "the softmax runs over the batch axis and ignores the mask.": softmax(
            scores, axis=0
        ),
        "the mask is applied after the softmax (weights * mask) without "
        "renormalising: the rows no longer sum to 1.": Mistake(plain * mask, (before,)),
        "the mask is inverted: padding got all the weight (the mask is True for "
        "real tokens).": reference_masked_softmax(scores, ~mask),
        "the mask is ignored: padding gets weight (seed bug 2).": Mistake(
            plain,
            (
                "Where does the mask enter? Padded scores must not count in the softmax.",
            ),
        ),
        "the padded scores were set to 0 before the softmax (as multiplying the "
        "scores by the mask does): exp(0) = 1, so padding still gets weight.": Mistake(
            softmax(scores * mask),
            ("A score of 0 is not 'no weight'. Which score gives exp(score) = 0?",),
        ),
    }


def _softmax_leak(runs: dict, mask: np.ndarray) -> None:
    """Name a padded score not negative enough only when the weights prove it:
    every padded position gets a little weight, whatever its score was."""
    weights = runs["base"]
    leak = float(np.max(np.abs(weights[~mask])))
    if (
        1e-6 < leak < 0.05
        and np.min(weights[~mask]) > 0
        and np.allclose(weights.sum(axis=-1), 1.0, atol=1e-4)
        and close(weights, runs["padding_changed"], atol=1e-6)
    ):
        fail(
            f"`{SOFTMAX_NAME}`: padding still gets a little weight (up to {leak:.2g}), "
            "whatever its score: the value put at padded scores is not negative "
            "enough.",
            expected=0.0,
            received=f"{leak:.2g}",
            hints=(
                "exp of a moderately negative score is small but not 0. How "
                "negative must a padded score be for its weight to be exactly 0?",
            ),
        )


def _softmax_properties(runs: dict, cases: dict) -> None:
    _softmax_leak(runs, cases["base"][1])
    for case in ("base", "other"):
        expect_attention_weights(SOFTMAX_NAME, runs[case], cases[case][1])
    base = runs["base"]
    if not close(base, runs["padding_changed"], atol=1e-6):
        fail(
            f"`{SOFTMAX_NAME}` changes when only the scores at padded positions "
            "change: padding must not take part in the softmax."
        )
    if not close(base, runs["shifted"]):
        fail(
            f"`{SOFTMAX_NAME}` changes when the same number is added to every score "
            "of a row; a softmax does not (exp(s + c) is exp(s) times exp(c))."
        )
    scores, mask = cases["base"]
    logs = np.log(np.where(mask, np.maximum(base, 1e-30), 1.0))
    gaps = logs - scores  # constant over a row's real tokens for a softmax
    if not close(np.where(mask, gaps - gaps[:, :1], 0.0), 0 * gaps, atol=1e-3):
        fail(
            f"`{SOFTMAX_NAME}`: over the real tokens, the weights are not "
            "proportional to exp(score): w_i / w_j should be exp(s_i - s_j)."
        )


def _judge_softmax(observation: dict) -> str:
    weights = expect_shape(
        SOFTMAX_NAME, observation["base"], SOFTMAX_SCORES.shape, "batch, src_len"
    )
    expect_dtype(SOFTMAX_NAME, weights, "f")
    cases = _softmax_cases()
    scores, mask = (np.asarray(x, np.float64) for x in cases["base"])
    mask = mask.astype(bool)
    expected = reference_masked_softmax(scores, mask)
    mistakes = _softmax_mistakes(scores, mask)
    name_known_mistake(SOFTMAX_NAME, weights, expected, mistakes, atol=1e-5)
    runs = {case: np.asarray(observation[case], np.float64) for case in cases}
    _softmax_properties(runs, cases)
    for case in ("base", "other"):
        reference = reference_masked_softmax(*cases[case])
        expect_close(SOFTMAX_NAME, runs[case], reference, atol=1e-5)
    return "rows sum to 1 over src_len, padding gets exactly 0 weight, values match."


check_masked_softmax = exercise(
    "3.2",
    "masked_softmax",
    arguments=("masked_softmax",),
    probe=_probe_softmax,
    judge=_judge_softmax,
    hints=(
        "The softmax turns each row of scores into weights; padding must get "
        "exactly 0. What must a padded score be for exp(score) to be 0?",
        "Replace the padded scores by a very negative number (-1e9) *before* the "
        "softmax, then take the softmax over src_len, the last axis.",
        "Before the softmax, replace the padded scores by a very negative number: "
        "`tf.where(mask, scores, -1e9)`; then `tf.nn.softmax(..., axis=-1)`.",
    ),
    axes={"batch": 3, "src_len": 5},
)


# --- Exercise 3.3: context_vector --------------------------------------------------

CONTEXT_NAME = "context_vector(weights, values)"
ONE_HOT_AT = np.array([2, 0])  # the position of each row's only weight


def _context_cases() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """(weights, values) per case: the lesson's, one-hot weights, another seed."""
    cases = {}
    for case, inputs in (("base", INPUTS), ("other", OTHER_INPUTS)):
        scores = reference_scores(*(inputs[k] for k in ("query", "keys", "W_a", "v_a")))
        weights = reference_masked_softmax(scores, inputs["mask"])
        cases[case] = (weights.astype(np.float32), inputs["values"])
    one_hot = np.eye(SRC_LEN, dtype=np.float32)[ONE_HOT_AT]  # (batch, src_len)
    cases["one_hot"] = (one_hot, INPUTS["values"])
    return cases


def _probe_context(context_vector) -> dict:
    import tensorflow as tf

    return {
        case: context_vector(tf.constant(weights), tf.constant(values))
        for case, (weights, values) in _context_cases().items()
    }


def _context_shape(context: np.ndarray, weights, values) -> np.ndarray:
    """Name a wrong shape by what it holds when its values prove it."""
    expected = f"({BATCH}, {UNITS}) (batch, units)"
    weighted = weights[:, :, None] * values  # (batch, src_len, units)
    for shape, what, proof in [
        ((BATCH, SRC_LEN), "summed over the units axis, not over src_len", -1),
        ((SRC_LEN, UNITS), "summed over the batch axis, not over src_len", 0),
        ((BATCH, SRC_LEN, UNITS), "weighted the values but did not add them up", None),
    ]:
        if context.shape == shape:
            made = weighted if proof is None else weighted.sum(axis=proof)
            if close(context, made):
                fail(f"`{CONTEXT_NAME}` {what}.", expected, context.shape)
    if context.shape == (BATCH, 1, UNITS):
        fail(
            f"`{CONTEXT_NAME}` has an axis of size 1 where src_len was, "
            "(batch, 1, units).",
            expected,
            context.shape,
        )
    return expect_shape(CONTEXT_NAME, context, (BATCH, UNITS), "batch, units")


def _judge_context(observation: dict) -> str:
    cases = _context_cases()
    weights, values = (np.asarray(x, np.float64) for x in cases["base"])
    context = expect_array(CONTEXT_NAME, observation["base"])
    context = _context_shape(context, weights, values)
    expected = reference_context(weights, values)
    plain = "The weights say how much of each position's value to take."
    name_known_mistake(
        CONTEXT_NAME,
        context,
        expected,
        {
            "averages the weighted values (divides by src_len): the weights already "
            "sum to 1.": Mistake(expected / SRC_LEN, ("Add them up, no division.",)),
            "ignores the weights (a plain sum of the values).": Mistake(
                values.sum(axis=1), (plain,)
            ),
            "ignores the weights (a plain mean of the values).": Mistake(
                values.mean(axis=1), (plain,)
            ),
        },
    )
    expect_finite(CONTEXT_NAME, context)
    one_hot = np.asarray(observation["one_hot"], np.float64)
    picked = values[np.arange(BATCH), ONE_HOT_AT]  # (batch, units)
    if not close(one_hot, picked):
        fail(
            f"`{CONTEXT_NAME}`: with all of a row's weight on one source position j, "
            "the context should be that position's value, values[b, j].",
            preview(picked),
            preview(one_hot),
        )
    expect_not_rescaled(CONTEXT_NAME, context, expected)
    expect_close(CONTEXT_NAME, context, expected)
    expect_close(CONTEXT_NAME, observation["other"], reference_context(*cases["other"]))
    return "the weighted sum of the values over src_len, (batch, units)."


check_context_vector = exercise(
    "3.3",
    "context_vector",
    arguments=("context_vector",),
    probe=_probe_context,
    judge=_judge_context,
    hints=(
        "The context is sum_j weights_j * values_j: one vector of `units` numbers "
        "per sentence. Which axis does the sum run over?",
        "Give the weights a units axis of size 1 so that they broadcast against "
        "the values, (batch, src_len, 1) * (batch, src_len, units); then sum over "
        "src_len.",
        "`weights[:, :, None] * values` is (batch, src_len, units); sum it over "
        "axis 1. Or in one go: `tf.einsum('bs,bsu->bu', weights, values)`.",
    ),
    axes=AXES,
)


# --- Exercise 3.4: one attention step with the layer's sublayers --------------------

ATTEND_NAME = "attend(attention_layer, query, values, keys, mask)"


def _attend_once(attend, inputs: dict, query: np.ndarray):
    """The learner's ``attend`` on a layer holding ``inputs``' W_a, U_a, v_a."""
    import tensorflow as tf

    from s2s_helpers import attention

    layer = attention.BahdanauAttention(ATTENTION_UNITS)
    values, mask = tf.constant(inputs["values"]), tf.constant(inputs["mask"])
    layer(tf.constant(query), values, mask=mask)  # builds the three Dense layers
    layer.query_layer.kernel.assign(inputs["W_a"])
    layer.key_layer.kernel.assign(inputs["U_a"])
    layer.energy_layer.kernel.assign(inputs["v_a"])
    keys = layer.precompute_keys(values)  # once per source batch, by the caller
    # Changed afterwards: keys recomputed inside `attend` would differ from `keys`.
    layer.key_layer.kernel.assign(inputs["U_a_changed"])
    result = attend(layer, tf.constant(query), values, keys, mask)
    if isinstance(result, (tuple, list)) and len(result) == 2:
        return {"kind": "pair", "context": result[0], "weights": result[1]}
    return {"kind": type(result).__name__}


def _probe_attend(attend) -> dict:
    return {
        "base": _attend_once(attend, INPUTS, INPUTS["query"]),
        "query_changed": _attend_once(attend, INPUTS, INPUTS["query_changed"]),
        "other": _attend_once(attend, OTHER_INPUTS, OTHER_INPUTS["query"]),
    }


def _attend_shapes(run: dict) -> tuple[np.ndarray, np.ndarray]:
    if run["kind"] != "pair":
        fail(
            f"`{ATTEND_NAME}` should return (context, weights).",
            "a tuple of 2",
            run["kind"],
        )
    context = expect_array("context", run["context"])
    weights = expect_array("weights", run["weights"])
    if context.shape == (BATCH, SRC_LEN) and weights.shape == (BATCH, UNITS):
        fail(
            f"`{ATTEND_NAME}` returned (weights, context): the context comes first.",
            "(context (batch, units), weights (batch, src_len))",
            f"shapes {context.shape}, {weights.shape}",
        )
    if context.shape == (BATCH, ATTENTION_UNITS):
        of_keys = weights.shape == (BATCH, SRC_LEN) and close(
            context, reference_context(weights.astype(np.float64), INPUTS["keys"])
        )
        fail(
            f"`{ATTEND_NAME}`: the context has attention_units numbers, "
            "(batch, attention_units), not units"
            + (
                ": it is the weighted sum of the *keys*, not of the values (the "
                "encoder outputs)."
                if of_keys
                else "."
            ),
            f"({BATCH}, {UNITS}) (batch, units)",
            context.shape,
        )
    context = expect_shape("context", context, (BATCH, UNITS), "batch, units")
    weights = expect_shape("weights", weights, (BATCH, SRC_LEN), "batch, src_len")
    return context, weights


def _attend_reference(inputs: dict, keys: np.ndarray | None = None) -> np.ndarray:
    keys = inputs["keys"] if keys is None else keys
    scores = reference_scores(inputs["query"], keys, inputs["W_a"], inputs["v_a"])
    return scores, reference_masked_softmax(scores, inputs["mask"])


def _attend_mistakes(weights, context) -> None:
    values, mask = INPUTS["values"].astype(np.float64), INPUTS["mask"]
    scores, expected = _attend_reference(INPUTS)
    recomputed = values @ INPUTS["U_a_changed"]
    name_known_mistake(
        "weights",
        weights,
        expected,
        {
            "the keys were computed again from the values, not taken from the "
            "`keys` argument (they do not depend on the decoder step: recomputing "
            "them at every step is seed bug 6).": Mistake(
                _attend_reference(INPUTS, recomputed)[1],
                ("The keys come in as an argument: use them as they are.",),
            ),
            "the mask is not used: padding gets weight (seed bug 2).": softmax(scores),
            "the mask is applied after the softmax without renormalising.": (
                softmax(scores) * mask
            ),
        },
    )
    name_known_mistake(
        "context",
        context,
        reference_context(expected, values),
        {"ignores the weights (a plain sum of the values).": values.sum(axis=1)},
    )


def _judge_attend(observation: dict) -> str:
    context, weights = _attend_shapes(observation["base"])
    _attend_mistakes(weights, context)
    for case, inputs in (("base", INPUTS), ("other", OTHER_INPUTS)):
        run = observation[case]
        expect_attention_weights("weights", np.asarray(run["weights"]), inputs["mask"])
        own = reference_context(
            np.asarray(run["weights"], np.float64), inputs["values"]
        )
        if not close(run["context"], own):
            fail(
                "`context` is not the weighted sum of `values` with the weights "
                "your function returns.",
                preview(own),
                preview(run["context"]),
            )
    expect_changes(
        "weights",
        weights,
        observation["query_changed"]["weights"],
        "the query changes",
        "the scores must depend on the decoder state through W_a s.",
    )
    for case, inputs in (("base", INPUTS), ("other", OTHER_INPUTS)):
        expected = _attend_reference(inputs)[1]
        expect_close("weights", observation[case]["weights"], expected)
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
        "This is Exercises 3.1-3.3 in a row, with the layer's own sublayers in "
        "place of W_a and v_a; the keys are given.",
        "`attention_layer.query_layer` is W_a and `attention_layer.energy_layer` "
        "is v_a; score, then your masked_softmax, then your context_vector.",
        "`projected = attention_layer.query_layer(query)[:, None, :]`; "
        "`energy = attention_layer.energy_layer(tf.tanh(projected + keys))`; "
        "`scores = energy[..., 0]`; "
        "then your masked_softmax and context_vector. Use `keys` as given.",
    ),
    axes={**AXES, "attention_units": ATTENTION_UNITS},
)
