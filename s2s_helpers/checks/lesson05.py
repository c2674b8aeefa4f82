"""Checks for lesson 05 (loss): masked cross-entropy, masked accuracy, per-token losses.

A scalar on one batch cannot tell mistakes apart (two wrong formulas can give
the same number by chance), so the learner's function runs on several small
batches whose sizes never coincide (batch, tgt_len and vocab all differ) and
which differ from the first in one known way: padding appended, other logits
at the padding, the batch repeated, a constant added to the logits, one row at
a time. A correct answer must not change where nothing real changed; the first
property that fails is the message. Known mistakes are named only when they
match on every batch. The first batch has 9 real tokens among 15 positions and
logits whose argmax is fixed by construction (6 of the 9 are right).

Taught in: lessons/05_loss.ipynb
"""

from __future__ import annotations

import numpy as np

from s2s_helpers.checks.expect import (
    CheckFailed,
    Mistake,
    expect_array,
    expect_close,
    expect_shape,
    fail,
    log_softmax,
    softmax,
)
from s2s_helpers.checks.registry import exercise

VOCAB_SIZE = 7
TGT_OUT_IDS = np.array(
    [[4, 1, 3, 0, 0], [2, 4, 1, 4, 3], [3, 0, 0, 0, 0]], dtype=np.int32
)  # (batch=3, tgt_len=5): 3 + 5 + 1 = 9 real tokens, padding 0
PREDICTED = np.array(
    [[4, 2, 3, 1, 0], [2, 0, 1, 3, 3], [3, 4, 0, 2, 0]], dtype=np.int32
)  # (batch, tgt_len): the argmax of LOGITS; 6 of the 9 real tokens are right
AXES = {"batch": 3, "tgt_len": 5, "vocab": VOCAB_SIZE}
_rng = np.random.default_rng(505)
LOGITS = (
    _rng.uniform(-1.0, 1.0, size=(*TGT_OUT_IDS.shape, VOCAB_SIZE))
    + 3.0 * np.eye(VOCAB_SIZE)[PREDICTED]
).astype(np.float32)  # (batch, tgt_len, vocab)
PAD = TGT_OUT_IDS == 0


def _other_batch(rng) -> tuple[np.ndarray, np.ndarray]:
    """(batch=4, tgt_len=6, vocab=9): rows of 6, 2, 0 and 4 real tokens."""
    ids = rng.integers(1, 9, size=(4, 6)).astype(np.int32)
    ids[np.arange(6)[None, :] >= np.array([[6], [2], [0], [4]])] = 0
    return ids, rng.normal(0.0, 2.0, size=(4, 6, 9)).astype(np.float32)


def _with_padding_logits(rng) -> np.ndarray:
    """LOGITS with new values at the padding positions only."""
    logits = LOGITS.copy()
    logits[PAD] = rng.normal(0.0, 3.0, size=(int(PAD.sum()), VOCAB_SIZE))
    return logits


def _cases(rng) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    appended = rng.normal(0.0, 3.0, size=(3, 3, VOCAB_SIZE)).astype(np.float32)
    cases = {
        "padded": (TGT_OUT_IDS, LOGITS),
        "other": _other_batch(rng),
        "more_padding": (  # (3, 8): 3 padding positions appended
            np.pad(TGT_OUT_IDS, ((0, 0), (0, 3))),
            np.concatenate([LOGITS, appended], axis=1),
        ),
        "padding_logits": (TGT_OUT_IDS, _with_padding_logits(rng)),
        "repeated": (np.tile(TGT_OUT_IDS, (2, 1)), np.tile(LOGITS, (2, 1, 1))),
        "shifted": (  # a constant per position added to every logit
            TGT_OUT_IDS,
            LOGITS + rng.normal(0.0, 5.0, size=(3, 5, 1)).astype(np.float32),
        ),
        "confident": (
            TGT_OUT_IDS,
            40.0 * np.eye(VOCAB_SIZE, dtype=np.float32)[TGT_OUT_IDS],
        ),
        "uniform": (TGT_OUT_IDS, np.zeros_like(LOGITS)),
        "all_padding": (
            np.zeros((2, 3), np.int32),
            rng.normal(size=(2, 3, 4)).astype(np.float32),
        ),
        "large_logits": (TGT_OUT_IDS, 100.0 * LOGITS),  # exp() overflows float32
    }
    for row in range(3):
        cases[f"row{row}"] = (TGT_OUT_IDS[row : row + 1], LOGITS[row : row + 1])
    for label in range(VOCAB_SIZE):
        cases[f"label{label}"] = (np.full_like(TGT_OUT_IDS, label), LOGITS)
    return cases


CASES = _cases(np.random.default_rng(5050))
SCALAR_CASES = (
    "padded other more_padding padding_logits repeated shifted".split()
    + "confident uniform all_padding row0 row1 row2".split()
)
NAMED_CASES = SCALAR_CASES[:6]  # a known mistake is named only if it matches on all
TOKEN_CASES = ["padded", "other", "shifted", "confident", "large_logits"] + [
    f"label{label}" for label in range(VOCAB_SIZE)
]


def _probe_cases(function, names) -> dict:
    """Call ``function(tgt_out_ids, logits)`` with tensors, as a model gives them."""
    import tensorflow as tf

    results = {}
    for name in names:
        tgt_out_ids, logits = CASES[name]
        results[name] = function(tf.constant(tgt_out_ids), tf.constant(logits))
    return {"results": results}


def _probe_scalars(function) -> dict:
    return _probe_cases(function, SCALAR_CASES)


# --- numpy references -----------------------------------------------------------


def _pick(values: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """``values[b, t, ids[b, t]]``: `(batch, tgt_len)`."""
    return np.take_along_axis(values, ids[..., None].astype(np.int64), axis=-1)[..., 0]


def _token_losses(ids, logits, axis=-1) -> np.ndarray:
    return -_pick(log_softmax(logits, axis), ids)  # (batch, tgt_len)


def _probabilities_as_logits(ids, logits) -> np.ndarray:
    """What ``from_logits=False`` computes on logits: clipped, renormalised."""
    clipped = np.clip(np.asarray(logits, np.float64), 1e-7, 1 - 1e-7)
    return -np.log(_pick(clipped, ids) / clipped.sum(axis=-1))


def _masked_mean(values, mask) -> float:
    mask = np.asarray(mask, np.float64)
    return float((values * mask).sum() / max(mask.sum(), 1.0))


def _reference_loss(ids, logits) -> float:
    return _masked_mean(_token_losses(ids, logits), ids != 0)


def _reference_accuracy(ids, logits) -> float:
    return _masked_mean(np.argmax(logits, axis=-1) == ids, ids != 0)


# --- judging scalars: shape, known mistakes on every batch, then properties ---------


def _as_scalar(name: str, value, ids: np.ndarray) -> float:
    array = expect_array(name, np.asarray(value) if np.isscalar(value) else value)
    if array.size == 1 and array.ndim <= 1:
        return float(array.reshape(()))
    per = {ids.shape: "token, (batch, tgt_len)", ids.shape[:1]: "sequence, (batch,)"}
    if array.shape in per:
        fail(
            f"`{name}` returned one value per {per[array.shape]}, not a single number.",
            "a scalar, shape ()",
            array.shape,
            hints=("The exercise asks for one number for the whole batch.",),
        )
    fail(f"`{name}` should return a single number.", "a scalar, shape ()", array.shape)
    return 0.0


def _scalars(name: str, results: dict) -> dict[str, float]:
    return {case: _as_scalar(name, results[case], CASES[case][0]) for case in results}


def _close(a: float, b: float) -> bool:
    return bool(np.isclose(a, b, rtol=1e-4, atol=1e-5))


def _name_mistake(name: str, values: dict, mistakes, reference) -> None:
    """Name a known mistake that matches on every batch of NAMED_CASES."""
    per_case = {case: mistakes(*CASES[case]) for case in NAMED_CASES}
    for message in per_case[NAMED_CASES[0]]:
        found = [per_case[case][message] for case in NAMED_CASES]
        if all(_close(values[c], m.output) for c, m in zip(NAMED_CASES, found)):
            if not all(
                _close(reference(*CASES[c]), m.output)
                for c, m in zip(NAMED_CASES, found)
            ):
                raise CheckFailed(f"`{name}`: {message}", found[0].hints)


def _expect_zero_when_empty(name: str, value: float) -> None:
    if not np.isfinite(value):
        fail(
            f"`{name}` is {value} for a batch of padding only: it divides by zero "
            "real tokens.",
            "0.0",
            value,
            hints=(
                "How many real tokens does a batch of padding only have? What is "
                "0 / 0 in floating point?",
                "Divide by `ops.maximum(count, 1.0)` instead of `count`.",
            ),
        )
    if abs(value) > 1e-6:
        fail(f"`{name}` should be 0.0 for a batch of padding only.", "0.0", value)


CASE_WORDS = {
    "padded": "the check's batch",
    "other": "a second batch (batch 4, tgt_len 6, vocab 9)",
    "more_padding": "the batch with padding appended",
    "padding_logits": "the batch with other logits at its padding",
    "repeated": "the batch repeated twice",
    "shifted": "the batch with a constant added to the logits",
    "confident": "logits that make the right token certain",
    "uniform": "equal logits",
}


def _expect_finite_values(name: str, values: dict) -> None:
    for case, value in values.items():
        if not np.isfinite(value):
            where = CASE_WORDS.get(case, f"row {case[3:]} of the batch alone")
            fail(f"`{name}` is {value} for {where}.", "a finite number", value)


def _expect_unchanged(name: str, values: dict, case: str, change: str, why: str):
    if not _close(values[case], values["padded"]):
        fail(
            f"`{name}` changes when {change}: {why}",
            f"{values['padded']:.4f} both times",
            f"{values['padded']:.4f}, then {values[case]:.4f}",
        )


def _expect_padding_ignored(name: str, values: dict) -> None:
    why = "the padding must not count."
    _expect_unchanged(
        name, values, "more_padding", "padding positions are appended", why
    )
    _expect_unchanged(
        name,
        values,
        "padding_logits",
        "only the logits at padding positions change",
        why,
    )


def _expect_token_mean(name: str, values: dict) -> None:
    """A mean over the batch's real tokens: same when repeated, rows weighted by size."""
    _expect_unchanged(
        name,
        values,
        "repeated",
        "the batch is repeated twice",
        "a mean over the real tokens stays the same.",
    )
    counts = (TGT_OUT_IDS != 0).sum(axis=1)
    rows = np.array([values[f"row{row}"] for row in range(3)])
    weighted = float((rows * counts).sum() / counts.sum())
    if not _close(values["padded"], weighted):
        fail(
            f"`{name}` of the batch is not the mean of its rows' values weighted by "
            f"their numbers of real tokens {counts.tolist()}: every real token must "
            "weigh the same.",
            f"{weighted:.4f} (rows alone give {np.round(rows, 4).tolist()})",
            f"{values['padded']:.4f}",
        )


# --- Exercise 5.1: masked_loss ------------------------------------------------------


def _loss_mistakes(ids, logits) -> dict[str, Mistake]:
    losses = _token_losses(ids, logits)  # (batch, tgt_len)
    mask = ids != 0
    lengths = np.maximum(mask.sum(axis=1), 1)
    divide = "Divide the sum of the masked losses by the number of real tokens."
    return {
        "it averages over every position, padding included: the plain mean of "
        "`loss * mask` (seed bug 3), so more padding gives a smaller loss.": Mistake(
            (losses * mask).sum() / mask.size,
            (
                "Which positions does the denominator count?",
                divide,
                "Keras's `SparseCategoricalCrossentropy` with `sample_weight=mask` "
                "does the same unless `reduction='mean_with_sample_weight'`.",
            ),
        ),
        "the padding is not masked: its losses count too.": Mistake(
            losses.mean(), ("Multiply the per-token losses by `tgt_out_ids != 0`.",)
        ),
        "it is the sum over the real tokens, not the mean.": Mistake(
            (losses * mask).sum(), (divide,)
        ),
        "it averages each sequence first, then the sequences, so a token of a short "
        "sequence weighs more.": Mistake(
            ((losses * mask).sum(axis=1) / lengths).mean(),
            ("Divide the batch's sum by its number of real tokens, once.",),
        ),
        "softmax was applied twice: the logits went through a softmax before a loss "
        "that applies its own.": Mistake(
            _masked_mean(_token_losses(ids, softmax(logits)), mask),
            ("Pass the raw logits to the loss.",),
        ),
        "the loss treated the logits as probabilities (`from_logits=False`, the "
        "default of Keras's cross-entropy).": Mistake(
            _masked_mean(_probabilities_as_logits(ids, logits), mask),
            ("Tell the loss its inputs are logits: `from_logits=True`.",),
        ),
        "the mask was made from the predictions (`argmax(logits) != 0`).": Mistake(
            _masked_mean(losses, np.argmax(logits, axis=-1) != 0),
            ("Padding is where the *labels* are 0: `tgt_out_ids != 0`.",),
        ),
        "the sign is wrong: the loss is negative.": Mistake(
            -_masked_mean(losses, mask),
            ("Cross-entropy is the *negative* log-probability of the right token.",),
        ),
    }


def _loss_properties(name: str, values: dict) -> None:
    _expect_zero_when_empty(name, values["all_padding"])
    _expect_finite_values(name, values)
    if min(values.values()) < -1e-6:
        fail(
            f"`{name}` is negative: a cross-entropy is never below 0.",
            ">= 0",
            f"{min(values.values()):.4f}",
        )
    _expect_padding_ignored(name, values)
    _expect_token_mean(name, values)
    if values["confident"] > 1e-3:
        fail(
            f"for logits that make the right token certain (a margin of 40 at every "
            f"position), `{name}` is {values['confident']:.4f}; expected about 0.",
            hints=("Does your loss take logits, or probabilities?",),
        )
    if not _close(values["uniform"], np.log(VOCAB_SIZE)):
        fail(
            f"for equal logits (every token as likely), `{name}` is "
            f"{values['uniform']:.4f}; expected log(vocab) = log {VOCAB_SIZE}.",
            f"{np.log(VOCAB_SIZE):.4f}",
            f"{values['uniform']:.4f}",
        )
    _expect_unchanged(
        name,
        values,
        "shifted",
        "a constant is added to all the logits of a position",
        "a softmax over the logits, and so the loss, would not change.",
    )


def _judge_loss(observation: dict) -> str:
    name = "masked_loss(tgt_out_ids, logits)"
    values = _scalars(name, observation["results"])
    _name_mistake(name, values, _loss_mistakes, _reference_loss)
    _loss_properties(name, values)
    for case in NAMED_CASES:
        expect_close(name, values[case], _reference_loss(*CASES[case]))
    return (
        f"a scalar, the mean cross-entropy over the {int((TGT_OUT_IDS != 0).sum())} "
        "real tokens only, from logits; 0.0 (not NaN) for a batch of padding."
    )


check_masked_loss = exercise(
    "5.1",
    "masked cross-entropy",
    arguments=("masked_loss",),
    probe=_probe_scalars,
    judge=_judge_loss,
    hints=(
        "Two steps: the loss of every position, then the mean over the real "
        "tokens only. Which positions are real?",
        "`keras.losses.sparse_categorical_crossentropy(tgt_out_ids, logits, "
        "from_logits=True)` gives `(batch, tgt_len)`; the mask is `tgt_out_ids != 0` "
        "cast to float.",
        "Return `sum(losses * mask) / maximum(sum(mask), 1)`.",
    ),
    axes=AXES,
)


# --- Exercise 5.2: masked_accuracy --------------------------------------------------


def _accuracy_mistakes(ids, logits) -> dict[str, Mistake]:
    mask = ids != 0
    predicted = np.argmax(logits, axis=-1)  # (batch, tgt_len)
    correct = predicted == ids
    lengths = np.maximum(mask.sum(axis=1), 1)
    count_real = "Count only the real tokens, `tgt_out_ids != 0`."
    return {
        "it counts the padding: a padded position whose argmax is 0 counts as "
        "right.": Mistake(correct.mean(), (count_real,)),
        "it divides by every position, padding included (the plain mean of "
        "`correct * mask`).": Mistake(
            (correct & mask).sum() / mask.size,
            ("Divide by the number of real tokens.",),
        ),
        "the mask was made from the predictions (`argmax(logits) != 0`).": Mistake(
            _masked_mean(correct, predicted != 0),
            ("Padding is where the *labels* are 0: `tgt_out_ids != 0`.",),
        ),
        "this is the number of right tokens, not the fraction.": Mistake(
            (correct & mask).sum(), ("Divide by the number of real tokens.",)
        ),
        "it averages each sequence first, then the sequences, so a token of a short "
        "sequence weighs more.": Mistake(
            ((correct & mask).sum(axis=1) / lengths).mean(),
            ("Divide the batch's right tokens by its real tokens, once.",),
        ),
    }


def _accuracy_properties(name: str, values: dict) -> None:
    _expect_zero_when_empty(name, values["all_padding"])
    _expect_finite_values(name, values)
    outside = [v for v in values.values() if not -1e-6 <= v <= 1 + 1e-6]
    if outside:
        fail(f"`{name}` is not a fraction.", "a value in [0, 1]", f"{outside[0]:.4f}")
    if not _close(values["confident"], 1.0):
        fail(
            f"for logits whose argmax is the right token at every position, `{name}` "
            f"is {values['confident']:.4f}; expected 1.0.",
            hints=(
                "Compare the argmax at each position with the label at the same "
                "position.",
            ),
        )
    _expect_padding_ignored(name, values)
    _expect_token_mean(name, values)


def _judge_accuracy(observation: dict) -> str:
    name = "masked_accuracy(tgt_out_ids, logits)"
    values = _scalars(name, observation["results"])
    _name_mistake(name, values, _accuracy_mistakes, _reference_accuracy)
    _accuracy_properties(name, values)
    for case in NAMED_CASES:
        expect_close(name, values[case], _reference_accuracy(*CASES[case]))
    mask = TGT_OUT_IDS != 0
    right, real = int(((PREDICTED == TGT_OUT_IDS) & mask).sum()), int(mask.sum())
    return (
        f"{right}/{real} = {right / real:.4f}: the fraction of real tokens whose "
        "argmax over the vocabulary is right; padding never counts."
    )


check_masked_accuracy = exercise(
    "5.2",
    "masked accuracy",
    arguments=("masked_accuracy",),
    probe=_probe_scalars,
    judge=_judge_accuracy,
    hints=(
        "The prediction at a position is the token with the largest logit. Which "
        "positions should be counted, and what do you divide by?",
        "`predicted = argmax(logits, axis=-1)` is `(batch, tgt_len)`; `mask = "
        "tgt_out_ids != 0`.",
        "right = `(predicted == tgt_out_ids) & mask`; return `sum(right) / "
        "maximum(sum(mask), 1)` (cast the booleans to float).",
    ),
    axes=AXES,
)


# --- Exercise 5.3: per-token cross-entropy by hand ----------------------------------


def _token_mistakes(ids, logits) -> dict[str, Mistake]:
    reference = _token_losses(ids, logits)
    return {
        "padding is already masked (0 there), but this function returns the loss of "
        "every position.": Mistake(
            reference * (ids != 0), ("Masking is `masked_loss`'s job, not this one's.",)
        ),
        "the sign is wrong: the losses are negative.": Mistake(
            -reference,
            ("The loss is the *negative* log-probability of the right token.",),
        ),
        "softmax was applied twice.": Mistake(
            _token_losses(ids, softmax(logits)),
            ("Compute the log-softmax of the raw logits, once.",),
        ),
        "the softmax runs over tgt_len (axis 1).": Mistake(
            _token_losses(ids, logits, axis=1),
            ("Normalise over the vocabulary, the last axis.",),
        ),
        "this is the probability of the right token, not the loss.": Mistake(
            np.exp(-reference), ("The loss is minus the log of that probability.",)
        ),
        "the logits were treated as probabilities (as `from_logits=False` "
        "does).": Mistake(
            _probabilities_as_logits(ids, logits),
            ("Normalise the raw logits with a log-softmax.",),
        ),
    }


def _token_arrays(name: str, results: dict) -> dict[str, np.ndarray]:
    arrays = {}
    for case, value in results.items():
        ids = CASES[case][0]
        value = expect_array(name, np.asarray(value) if np.isscalar(value) else value)
        if value.size == 1 and ids.size > 1:
            fail(
                f"`{name}` returned a single number, not the loss of every position.",
                f"{ids.shape} (batch, tgt_len)",
                value.shape,
                hints=("The mean over the tokens comes later, in `masked_loss`.",),
            )
        arrays[case] = expect_shape(name, value, ids.shape, "batch, tgt_len")
    return arrays


def _expect_finite(name: str, arrays: dict) -> None:
    for case in ("padded", "other"):
        if not np.all(np.isfinite(arrays[case])):
            largest = float(np.abs(CASES[case][1]).max())
            fail(
                f"`{name}` gives inf or NaN for ordinary logits (all within ±{largest:.1f})."
            )
    if not np.all(np.isfinite(arrays["large_logits"])):
        fail(
            f"`{name}` gives inf or NaN for logits in the hundreds (up to "
            f"{float(np.abs(CASES['large_logits'][1]).max()):.0f}), though it is "
            "finite for small ones: float32 cannot hold exp() of such numbers.",
            "finite losses",
            np.array2string(arrays["large_logits"], precision=3, threshold=6).replace(
                "\n", ""
            ),
            hints=(
                "softmax(x) = softmax(x - c) for any c: which c keeps every exp() "
                "at most 1?",
                "Subtract each position's largest logit (`keepdims=True`) before "
                "exp: log_softmax(x) = (x - max) - log(sum(exp(x - max))).",
            ),
        )


def _expect_normalised(name: str, arrays: dict) -> None:
    """exp(-loss) over every label is a distribution at each position."""
    by_label = np.stack([arrays[f"label{v}"] for v in range(VOCAB_SIZE)])
    if np.allclose(by_label, by_label[:1], atol=1e-5):
        fail(
            f"`{name}` does not depend on the label: every label gives the same loss "
            "at each position.",
            hints=("Pick the log-probability of the label's own token.",),
        )
    sums = np.exp(-by_label.astype(np.float64)).sum(axis=0)  # (batch, tgt_len)
    if not np.allclose(sums, 1.0, atol=1e-3):
        b, t = np.unravel_index(np.argmax(np.abs(sums - 1.0)), sums.shape)
        fail(
            f"the probabilities `{name}` implies, exp(-loss), do not sum to 1 over "
            f"the vocabulary at position [{b}, {t}].",
            "1.0",
            f"{sums[b, t]:.4f}",
            hints=("Normalise the logits of each position over the vocabulary only.",),
        )


def _token_properties(name: str, arrays: dict) -> None:
    _expect_finite(name, arrays)
    if np.any(arrays["padded"] < -1e-5):
        fail(f"`{name}` has negative losses.", ">= 0", f"{arrays['padded'].min():.4f}")
    if np.all(arrays["padded"][PAD] == 0):
        fail(f"`{name}` is 0 at every padding position: it comes masked.")
    _expect_normalised(name, arrays)
    if not np.allclose(arrays["shifted"], arrays["padded"], atol=1e-3, rtol=1e-4):
        fail(
            f"`{name}` changes when a constant is added to all the logits of a "
            "position; a softmax over the logits, and so the loss, would not change."
        )
    if np.any(arrays["confident"] > 1e-3):
        fail(
            f"for logits that make the right token certain (a margin of 40), `{name}` "
            f"is up to {arrays['confident'].max():.4f}; expected about 0."
        )


def _judge_token_losses(observation: dict) -> str:
    name = "token_losses(tgt_out_ids, logits)"
    arrays = _token_arrays(name, observation["results"])
    for message, mistake in _token_mistakes(*CASES["padded"]).items():
        if np.allclose(arrays["padded"], mistake.output, atol=1e-3, rtol=1e-4):
            other = _token_mistakes(*CASES["other"])[message].output
            if np.allclose(arrays["other"], other, atol=1e-3, rtol=1e-4):
                raise CheckFailed(f"`{name}`: {message}", mistake.hints)
    _token_properties(name, arrays)
    for case in ("padded", "other", "large_logits"):
        reference = _token_losses(*CASES[case])
        expect_close(name, arrays[case], reference, rtol=1e-4, atol=1e-3)
    return (
        "per-token cross-entropy from logits, shape (batch, tgt_len), every position, "
        "finite even for logits in the hundreds."
    )


check_token_losses = exercise(
    "5.3",
    "per-token cross-entropy by hand",
    arguments=("token_losses",),
    probe=lambda token_losses: _probe_cases(token_losses, TOKEN_CASES),
    judge=_judge_token_losses,
    hints=(
        "The loss at a position is minus the log-probability of its label; the "
        "log-probabilities are a log-softmax over the vocabulary.",
        "Subtract each position's max logit (`keepdims=True`) before any `exp`; the "
        "log-softmax is then `shifted - log(sum(exp(shifted)))` over the last axis.",
        "`ops.take_along_axis(log_probs, ops.expand_dims(tgt_out_ids, -1), axis=-1)` "
        "picks the label's entry; return minus it without the last axis, shape "
        "(batch, tgt_len).",
    ),
    axes=AXES,
)
