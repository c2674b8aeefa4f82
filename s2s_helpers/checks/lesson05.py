"""Checks for lesson 05 (loss): masked cross-entropy, masked accuracy, per-token losses.

The inputs are small and written out: a padded batch of target ids with 9 real
tokens among 15 positions, and logits whose argmax is fixed by construction, so
the accuracy of every known mistake can be counted by hand (6/9 is right; 9/15
counts padding, 6/15 is the plain mean, 6/11 masks by the predictions). The
judges compute the reference and each mistake with numpy.

Taught in: lessons/05_loss.ipynb
"""

from __future__ import annotations

import numpy as np

from s2s_helpers.checks import framework
from s2s_helpers.checks.framework import exercise, expect_close, fail

VOCAB_SIZE = 5  # = tgt_len on purpose: an argmax over tgt_len keeps the shape
TGT_OUT_IDS = np.array(
    [[4, 1, 3, 0, 0], [2, 4, 1, 4, 3], [3, 0, 0, 0, 0]], dtype=np.int32
)  # (batch, tgt_len): 3 + 5 + 1 = 9 real tokens, padding 0
PREDICTED = np.array(
    [[4, 2, 3, 1, 0], [2, 0, 1, 3, 3], [3, 4, 0, 2, 0]], dtype=np.int32
)  # (batch, tgt_len): the argmax of LOGITS; 6 of the 9 real tokens are right
_rng = np.random.default_rng(505)
LOGITS = (
    _rng.uniform(-1.0, 1.0, size=(*TGT_OUT_IDS.shape, VOCAB_SIZE))
    + 3.0 * np.eye(VOCAB_SIZE)[PREDICTED]
).astype(np.float32)  # (batch, tgt_len, vocab)
EMPTY_TGT_OUT_IDS = np.zeros((2, VOCAB_SIZE), dtype=np.int32)  # a batch of padding only
EMPTY_LOGITS = _rng.normal(size=(2, VOCAB_SIZE, VOCAB_SIZE)).astype(np.float32)
LARGE_LOGITS = (100.0 * LOGITS).astype(np.float32)  # exp() overflows float32

CASES = {
    "padded": (TGT_OUT_IDS, LOGITS),
    "all_padding": (EMPTY_TGT_OUT_IDS, EMPTY_LOGITS),
    "large_logits": (TGT_OUT_IDS, LARGE_LOGITS),
}


def _probe_cases(function, names) -> dict:
    """Call ``function(tgt_out_ids, logits)`` with tensors, as a model gives them."""
    import tensorflow as tf

    results = {}
    for name in names:
        tgt_out_ids, logits = CASES[name]
        results[name] = function(tf.constant(tgt_out_ids), tf.constant(logits))
    return {"results": results}


# --- numpy references and known mistakes -----------------------------------------


def _log_softmax(logits: np.ndarray, axis: int = -1) -> np.ndarray:
    logits = np.asarray(logits, np.float64)
    shifted = logits - logits.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def _softmax(logits: np.ndarray) -> np.ndarray:
    return np.exp(_log_softmax(logits))


def _pick(values: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """``values[b, t, ids[b, t]]``: `(batch, tgt_len)`."""
    return np.take_along_axis(values, ids[..., None].astype(np.int64), axis=-1)[..., 0]


def _token_losses(ids, logits, axis=-1) -> np.ndarray:
    return -_pick(_log_softmax(logits, axis), ids)  # (batch, tgt_len)


def _probabilities_as_logits(ids, logits) -> np.ndarray:
    """What ``from_logits=False`` computes on logits: clipped, renormalised "probabilities"."""
    clipped = np.clip(np.asarray(logits, np.float64), 1e-7, 1 - 1e-7)
    return -np.log(_pick(clipped, ids) / clipped.sum(axis=-1))


def _masked_mean(values, mask) -> float:
    mask = np.asarray(mask, np.float64)
    return float((values * mask).sum() / max(mask.sum(), 1.0))


def _as_scalar(name: str, value, ids: np.ndarray) -> float:
    array = np.asarray(value) if isinstance(value, (bool, int, float)) else value
    array = framework.expect_array(name, array)
    if array.size == 1 and array.ndim <= 1:
        return float(array.reshape(()))
    batch, tgt_len = ids.shape
    if array.shape == (batch, tgt_len):
        fail(
            f"`{name}` returned one value per token, shape (batch, tgt_len): reduce "
            "it to a single number (the mean over the real tokens).",
            "a scalar, shape ()",
            array.shape,
        )
    if array.shape == (batch,):
        fail(
            f"`{name}` returned one value per sequence, shape (batch,): reduce over "
            "the whole batch to a single number.",
            "a scalar, shape ()",
            array.shape,
        )
    fail(f"`{name}` should return a single number.", "a scalar, shape ()", array.shape)
    return 0.0


def _expect_zero_when_empty(name: str, value: float, what: str) -> None:
    if not np.isfinite(value):
        fail(
            f"`{name}` is {value} for a batch of padding only: it divides by zero real "
            f"tokens. Divide by `maximum(count, 1)` so such a batch gives {what}.",
            "0.0",
            value,
        )
    if abs(value) > 1e-6:
        fail(f"`{name}` should be 0.0 for a batch of padding only.", "0.0", value)


# --- Exercise 5.1: masked_loss --------------------------------------------------------


def _probe_loss(masked_loss) -> dict:
    return _probe_cases(masked_loss, ["padded", "all_padding"])


def _loss_mistakes(ids, logits) -> dict[str, float]:
    losses = _token_losses(ids, logits)  # (batch, tgt_len)
    mask = ids != 0
    lengths = np.maximum(mask.sum(axis=1), 1)
    predicted_mask = np.argmax(logits, axis=-1) != 0
    return {
        "it averages over every position, padding included: the plain mean of "
        "`loss * mask` (seed bug 3), so more padding gives a smaller loss. Divide the "
        "sum by the number of real tokens, `sum(mask)`. (Keras's "
        "`SparseCategoricalCrossentropy` with `sample_weight=mask` does the same "
        "unless `reduction='mean_with_sample_weight'`.)": float(
            (losses * mask).sum() / mask.size
        ),
        "the padding is not masked: its losses count too. Multiply the per-token "
        "losses by `mask = tgt_out_ids != 0` before averaging.": float(losses.mean()),
        "it is the sum over the real tokens, not the mean: divide by the number of "
        "real tokens.": float((losses * mask).sum()),
        "it averages each sequence first, then the sequences, so a token of a short "
        "sequence weighs more. Divide the batch's sum by its number of real "
        "tokens.": float(((losses * mask).sum(axis=1) / lengths).mean()),
        "softmax was applied twice: the logits went through a softmax before a loss "
        "that applies its own (`from_logits=True`). Pass the raw logits.": _masked_mean(
            _token_losses(ids, _softmax(logits)), mask
        ),
        "the loss treated the logits as probabilities (`from_logits=False`, the "
        "default of Keras's cross-entropy). Use `from_logits=True`.": _masked_mean(
            _probabilities_as_logits(ids, logits), mask
        ),
        "the mask was made from the predictions (`argmax(logits) != 0`). Padding is "
        "where the *labels* are 0: `tgt_out_ids != 0`.": _masked_mean(
            losses, predicted_mask
        ),
        "the sign is wrong: cross-entropy is the *negative* log-probability of the "
        "right token, so the loss is positive.": -_masked_mean(losses, mask),
    }


def _judge_loss(observation: dict) -> str:
    results = observation["results"]
    name = "masked_loss(tgt_out_ids, logits)"
    value = _as_scalar(name, results["padded"], TGT_OUT_IDS)
    expected = _masked_mean(_token_losses(TGT_OUT_IDS, LOGITS), TGT_OUT_IDS != 0)
    expect_close(
        name,
        np.array(value),
        np.array(expected),
        known_mistakes=_loss_mistakes(TGT_OUT_IDS, LOGITS),
    )
    empty = _as_scalar(name, results["all_padding"], EMPTY_TGT_OUT_IDS)
    _expect_zero_when_empty(name, empty, "a loss of 0.0")
    return (
        f"a scalar, the mean cross-entropy over the {int((TGT_OUT_IDS != 0).sum())} "
        "real tokens only, from logits; 0.0 (not NaN) for a batch of padding."
    )


check_masked_loss = exercise(
    "5.1",
    "masked cross-entropy",
    arguments=("masked_loss",),
    probe=_probe_loss,
    judge=_judge_loss,
    hints=(
        "`losses = keras.losses.sparse_categorical_crossentropy(tgt_out_ids, "
        "logits, from_logits=True)` is `(batch, tgt_len)`; `mask` is `tgt_out_ids "
        "!= 0` cast to float; return `sum(losses * mask) / maximum(sum(mask), 1)`.",
    ),
)


# --- Exercise 5.2: masked_accuracy ---------------------------------------------------------


def _probe_accuracy(masked_accuracy) -> dict:
    return _probe_cases(masked_accuracy, ["padded", "all_padding"])


def _accuracy_mistakes(ids, logits) -> dict[str, float]:
    mask = ids != 0
    predicted = np.argmax(logits, axis=-1)  # (batch, tgt_len)
    correct = predicted == ids
    lengths = np.maximum(mask.sum(axis=1), 1)
    wrong_axis = np.argmax(logits, axis=1)  # (batch, vocab): tgt_len == vocab here
    return {
        "it counts the padding: a padded position whose argmax is 0 counts as right. "
        "Count only the real tokens, `tgt_out_ids != 0`.": float(correct.mean()),
        "it divides by every position, padding included (the plain mean of "
        "`correct * mask`). Divide by the number of real tokens.": float(
            (correct & mask).sum() / mask.size
        ),
        "the argmax runs over the wrong axis (tgt_len). Take it over the vocabulary, "
        "the last axis: `argmax(logits, axis=-1)`.": _masked_mean(
            wrong_axis == ids, mask
        ),
        "the mask was made from the predictions (`argmax(logits) != 0`). Padding is "
        "where the *labels* are 0: `tgt_out_ids != 0`.": _masked_mean(
            correct, predicted != 0
        ),
        "this is the number of right tokens, not the fraction: divide by the number "
        "of real tokens.": float((correct & mask).sum()),
        "it averages each sequence first, then the sequences, so a token of a short "
        "sequence weighs more. Divide the batch's right tokens by its real "
        "tokens.": float(((correct & mask).sum(axis=1) / lengths).mean()),
    }


def _judge_accuracy(observation: dict) -> str:
    results = observation["results"]
    name = "masked_accuracy(tgt_out_ids, logits)"
    value = _as_scalar(name, results["padded"], TGT_OUT_IDS)
    mask = TGT_OUT_IDS != 0
    expected = _masked_mean(PREDICTED == TGT_OUT_IDS, mask)
    expect_close(
        name,
        np.array(value),
        np.array(expected),
        known_mistakes=_accuracy_mistakes(TGT_OUT_IDS, LOGITS),
    )
    empty = _as_scalar(name, results["all_padding"], EMPTY_TGT_OUT_IDS)
    _expect_zero_when_empty(name, empty, "an accuracy of 0.0")
    right, real = int(((PREDICTED == TGT_OUT_IDS) & mask).sum()), int(mask.sum())
    return (
        f"{right}/{real} = {expected:.4f}: the fraction of real tokens whose argmax over "
        "the vocabulary is right; padding never counts."
    )


check_masked_accuracy = exercise(
    "5.2",
    "masked accuracy",
    arguments=("masked_accuracy",),
    probe=_probe_accuracy,
    judge=_judge_accuracy,
    hints=(
        "`predicted = argmax(logits, axis=-1)` `(batch, tgt_len)`; `mask = "
        "tgt_out_ids != 0`; right = `(predicted == tgt_out_ids) & mask`; return "
        "`sum(right) / maximum(sum(mask), 1)` (cast the booleans to float).",
    ),
)


# --- Exercise 5.3: per-token cross-entropy by hand -----------------------------------


def _probe_token_losses(token_losses) -> dict:
    return _probe_cases(token_losses, ["padded", "large_logits"])


def _judge_token_losses(observation: dict) -> str:
    results = observation["results"]
    name = "token_losses(tgt_out_ids, logits)"
    for case in ("padded", "large_logits"):
        ids, logits = CASES[case]
        value = results[case]
        value = np.asarray(value) if isinstance(value, (bool, int, float)) else value
        value = framework.expect_array(name, value)
        if value.shape != ids.shape:
            if value.size == 1:
                fail(
                    f"`{name}` returned a single number: return the loss of every "
                    "position, shape (batch, tgt_len); the mean comes later.",
                    f"{ids.shape} (batch, tgt_len)",
                    value.shape,
                )
            fail(
                f"`{name}` has the wrong shape.",
                f"{ids.shape} (batch, tgt_len)",
                value.shape,
            )
        if not np.all(np.isfinite(value)):
            fail(
                f"`{name}` gives inf or NaN for large logits (up to "
                f"{float(np.abs(logits).max()):.0f}): exp() overflows. Subtract each "
                "row's max before exp (the log-sum-exp trick): log_softmax(x) = "
                "(x - max) - log(sum(exp(x - max))).",
                "finite losses",
                np.array2string(value, precision=3, threshold=6).replace("\n", ""),
            )
        mask = ids != 0
        reference = _token_losses(ids, logits)
        as_probabilities = _probabilities_as_logits(ids, logits)
        expect_close(
            name,
            value,
            reference,
            rtol=1e-4,
            atol=1e-3,
            known_mistakes={
                "padding is already masked (0 there). This function returns the loss "
                "of every position; masking is `masked_loss`'s job.": reference * mask,
                "the sign is wrong: the loss is the *negative* log-probability of the "
                "right token.": -reference,
                "softmax was applied twice: compute the log-softmax of the raw logits "
                "once.": _token_losses(ids, _softmax(logits)),
                "the softmax runs over tgt_len (axis 1). Normalise over the vocabulary, "
                "the last axis.": _token_losses(ids, logits, axis=1),
                "this is the probability of the right token; the loss is minus its "
                "log.": np.exp(-reference),
                "the logits were treated as probabilities (`from_logits=False`). "
                "Normalise the raw logits with a log-softmax.": as_probabilities,
            },
        )
    return (
        "per-token cross-entropy from logits, shape (batch, tgt_len), every position, "
        "finite even for logits in the hundreds."
    )


check_token_losses = exercise(
    "5.3",
    "per-token cross-entropy by hand",
    arguments=("token_losses",),
    probe=_probe_token_losses,
    judge=_judge_token_losses,
    hints=(
        "Subtract each row's max (`keepdims=True`) before any `exp`; the "
        "log-softmax is then `shifted - log(sum(exp(shifted)))` over the last "
        "axis; `ops.take_along_axis` picks the label's entry once the ids get an "
        "extra last axis. Return minus that, shape (batch, tgt_len).",
    ),
)
