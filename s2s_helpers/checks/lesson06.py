"""Checks for lesson 06 (teacher forcing): the train step, the schedule, the mixing.

* 6.1 ``train_step(model, optimizer, src_ids, tgt_in_ids, tgt_out_ids)`` runs on
  a tiny model with fixed weights and plain SGD (no momentum, no clipping), so
  one correct step moves every weight by exactly ``-learning_rate * gradient``
  of the masked loss. The judge rebuilds the same model and computes that
  gradient itself, and those of the usual wrong losses. The step also runs on
  the same batch with padding appended (the loss must not change) and on the
  same model with dropout (the loss must differ from the loss without dropout:
  the model must be called with ``training=True``).
* 6.2 ``teacher_forcing_ratio(schedule, step, total_steps, start, end)`` runs on
  a grid of steps that goes past ``total_steps``: it must start at ``start``,
  reach ``end`` at ``total_steps``, stay there, and follow its curve between.
* 6.3 ``mix_tokens(true_ids, predicted_ids, ratio, seed)`` draws coins, so it is
  judged statistically (thousands of positions, several ratios) and for its
  seed: the same seed gives the same coins, a change in either entry of the
  seed gives other coins (the decoder changes the second entry at every step).

Taught in: lessons/06_teacher_forcing.ipynb
"""

from __future__ import annotations

import functools
import math
import re

import numpy as np

from s2s_helpers.checks.codec import to_numpy
from s2s_helpers.checks.expect import CheckFailed, expect_dtype, expect_shape, fail
from s2s_helpers.checks.models import tiny_seq2seq
from s2s_helpers.checks.registry import exercise

# --- Exercise 6.1: train_step -------------------------------------------------------

SRC_VOCAB, TGT_VOCAB, EMBEDDING_DIM, UNITS, ATTENTION_UNITS = 9, 11, 7, 6, 10
LEARNING_RATE, DROPOUT_RATE, EXTRA_PADDING = 0.5, 0.5, 4
# (batch=3, src_len=5) and (batch=3, tgt_len=4); padding in two rows of three, so
# a loss averaged over padding differs from the masked one.
SRC_IDS = np.array([[4, 5, 6, 7, 8], [5, 4, 0, 0, 0], [8, 7, 6, 0, 0]], np.int32)
TGT_IN_IDS = np.array([[2, 4, 5, 6], [2, 7, 0, 0], [2, 5, 4, 0]], np.int32)
TGT_OUT_IDS = np.array([[4, 5, 6, 3], [7, 3, 0, 0], [5, 4, 3, 0]], np.int32)
BATCH = (SRC_IDS, TGT_IN_IDS, TGT_OUT_IDS)
PADDED_BATCH = (
    SRC_IDS,
    *(np.pad(ids, ((0, 0), (0, EXTRA_PADDING))) for ids in BATCH[1:]),
)
STEP_AXES = {
    "batch": 3,
    "src_len": 5,
    "tgt_len": 4,
    "vocab": TGT_VOCAB,
    "units": UNITS,
    "embedding_dim": EMBEDDING_DIM,
    "attention_units": ATTENTION_UNITS,
}
STEP_NAME = "train_step(model, optimizer, src_ids, tgt_in_ids, tgt_out_ids)"


def tiny_model(dropout_rate: float = 0.0):
    """The check's ``Seq2Seq``: weights from a fixed numpy generator."""
    return tiny_seq2seq(
        SRC_VOCAB,
        TGT_VOCAB,
        EMBEDDING_DIM,
        UNITS,
        (SRC_IDS[:1], TGT_IN_IDS[:1]),
        seed=6,
        attention_units=ATTENTION_UNITS,
        dropout_rate=dropout_rate,
    )


@functools.lru_cache(maxsize=2)
def _built(dropout_rate: float) -> tuple:
    model = tiny_model(dropout_rate)
    return model, model.get_weights()


def fresh_model(dropout_rate: float = 0.0):
    """The check's model with its initial weights (built once, then reset)."""
    model, weights = _built(dropout_rate)
    model.set_weights(weights)
    return model


def _run_step(train_step, model, batch) -> dict:
    """One call of the learner's step with a fresh SGD optimizer."""
    import keras
    import tensorflow as tf

    optimizer = keras.optimizers.SGD(learning_rate=LEARNING_RATE)  # no momentum
    try:
        loss = train_step(model, optimizer, *(tf.constant(ids) for ids in batch))
    except ValueError as error:
        if "No gradients provided" not in str(error):
            raise
        return {"no_gradients": True}
    return {
        "loss": None if loss is None else to_numpy(loss).astype(np.float64),
        "iterations": int(optimizer.iterations.numpy()),
    }


def _probe_train_step(train_step) -> dict:
    model = fresh_model()
    observation = _run_step(train_step, model, BATCH)
    if observation.get("no_gradients") or observation["loss"] is None:
        return observation
    observation["weights"] = [v.numpy() for v in model.trainable_variables]
    padded = _run_step(train_step, fresh_model(), PADDED_BATCH)
    dropout = _run_step(train_step, fresh_model(DROPOUT_RATE), BATCH)
    return {
        **observation,
        "padded_loss": padded.get("loss"),
        "dropout_loss": dropout.get("loss"),
    }


def _variable_names(model) -> list[str]:
    """ "encoder/gru/gru_cell/kernel": paths without the model and layer counters."""
    return [
        re.sub(r"_\d+(?=/|$)", "", v.path.split("/", 1)[-1])
        for v in model.trainable_variables
    ]


# message -> (what the gradient is of, how the loss differs (see _options), hints)
STEP_MISTAKES = {
    "the loss is not masked: padding positions count as if they were tokens.": (
        "the unmasked loss",
        {"loss": "unmasked"},
        ("Which positions of `tgt_out_ids` are padding?", "Use `losses.masked_loss`."),
    ),
    "the loss is masked but averaged over every position, padding included (the "
    "classic tutorial's bug).": (
        "the loss averaged over padding",
        {"loss": "padded_mean"},
        ("Divide by the number of real tokens, as `losses.masked_loss` does.",),
    ),
    "the labels are `tgt_in_ids` (not shifted): position t is asked to predict the "
    "token it was given.": (
        "a loss with `tgt_in_ids` as labels",
        {"labels": "in"},
        ("The decoder must predict `tgt_out_ids`, the next token.",),
    ),
    "the decoder is fed `tgt_out_ids`, so it sees the token it must predict.": (
        "a loss with `tgt_out_ids` fed to the decoder",
        {"feed": "out"},
        ("Feed `(src_ids, tgt_in_ids)` to the model.",),
    ),
    "the loss was computed on probabilities (a softmax of the logits), but "
    "`masked_loss` expects logits.": (
        "the loss of softmax(logits)",
        {"probs": True},
        ("Pass the model's logits to the loss as they are.",),
    ),
}


def _options(label: str) -> tuple:
    """(loss function, labels, decoder inputs, softmax first) of "correct" or a mistake."""
    import keras

    from s2s_helpers import losses

    kw = {} if label == "correct" else STEP_MISTAKES[label][1]
    loss_fn = {
        "masked": losses.masked_loss,
        "unmasked": lambda y, p: keras.ops.mean(losses.token_losses(y, p)),
        "padded_mean": losses.padded_mean_loss,
    }[kw.get("loss", "masked")]
    return (
        loss_fn,
        kw.get("labels", "out"),
        kw.get("feed", "in"),
        kw.get("probs", False),
    )


def _reference_loss(model, batch, label: str, logits_of: dict | None = None):
    """The loss of ``label``'s computation on the check's model; ``logits_of``
    keeps the logits of each (batch, decoder inputs) for the next label."""
    import tensorflow as tf

    loss_fn, labels, feed, probs = _options(label)
    src_ids, tgt_in_ids, tgt_out_ids = (tf.constant(ids) for ids in batch)
    ids = {"in": tgt_in_ids, "out": tgt_out_ids}
    logits_of = {} if logits_of is None else logits_of
    key = (id(batch), feed)
    if key not in logits_of:
        logits_of[key] = model((src_ids, ids[feed]), training=True)
    logits = logits_of[key]
    return loss_fn(ids[labels], tf.nn.softmax(logits) if probs else logits)


@functools.lru_cache(maxsize=None)
def _reference_gradients(label: str) -> tuple[float, list]:
    """(loss, gradients as numpy) on the batch, for "correct" or a mistake."""
    import tensorflow as tf

    model = fresh_model()
    with tf.GradientTape() as tape:
        loss = _reference_loss(model, BATCH, label)
    gradients = tape.gradient(loss, model.trainable_variables)
    return float(loss), [tf.convert_to_tensor(g).numpy() for g in gradients]


@functools.lru_cache(maxsize=1)
def _reference_losses() -> dict[str, tuple[float, float]]:
    """{label: (loss on the batch, loss on the padded batch)} for every label."""
    model, logits_of = fresh_model(), {}
    return {
        label: tuple(
            float(_reference_loss(model, b, label, logits_of))
            for b in (BATCH, PADDED_BATCH)
        )
        for label in ("correct", *STEP_MISTAKES)
    }


@functools.lru_cache(maxsize=1)
def _initial_weights() -> tuple[list, list]:
    """The model's weights before the step, and their names."""
    model = fresh_model()
    return [v.numpy() for v in model.trainable_variables], _variable_names(model)


@functools.lru_cache(maxsize=1)
def _loss_without_dropout() -> float:
    from s2s_helpers import losses

    model = fresh_model(DROPOUT_RATE)
    logits = model((SRC_IDS, TGT_IN_IDS), training=False)
    return float(losses.masked_loss(TGT_OUT_IDS, logits))


def _loss_after(weights) -> float:
    """The masked loss of the tiny model with the given weights."""
    from s2s_helpers import losses

    model = fresh_model()
    for variable, value in zip(model.trainable_variables, weights):
        variable.assign(value)
    return float(losses.masked_loss(TGT_OUT_IDS, model((SRC_IDS, TGT_IN_IDS))))


def _first(value) -> float:
    """The (first) value of a recorded loss; NaN when there is none."""
    return math.nan if value is None else float(np.asarray(value).reshape(-1)[0])


def _expect_scalar_loss(obs: dict) -> float:
    if obs.get("no_gradients"):
        fail(
            f"`{STEP_NAME}`: every gradient is None: the tape did not record how the "
            "loss depends on the weights.",
            hints=(
                "A tape records only what runs inside its `with` block.",
                "Call the model and the loss inside `with tf.GradientTape() as tape:`.",
            ),
        )
    if obs["loss"] is None:
        fail(f"`{STEP_NAME}` returned None.", "the loss, a scalar", "None")
    loss = np.asarray(obs["loss"])
    if loss.size != 1:
        shapes = {(3, 4): " (batch, tgt_len)", (3,): " (batch,)"}
        fail(
            f"`{STEP_NAME}` should return the scalar loss of the batch.",
            "a scalar",
            f"shape {loss.shape}{shapes.get(loss.shape, '')}",
        )
    return float(loss.reshape(()))


def _expect_loss(obs: dict, loss: float) -> None:
    """The masked loss: named mistakes (on both batches), padding, after the update."""
    references = _reference_losses()
    expected = references["correct"][0]
    if math.isclose(loss, expected, rel_tol=1e-5, abs_tol=1e-5):
        return
    padded = _first(obs["padded_loss"])
    for message, (_, _, hints) in STEP_MISTAKES.items():
        if np.allclose([loss, padded], references[message], atol=1e-5):
            raise CheckFailed(f"`{STEP_NAME}`: {message}", hints)
    if not math.isclose(padded, loss, rel_tol=1e-5, abs_tol=1e-5):
        fail(
            f"`{STEP_NAME}`: the loss changes when only padding positions are "
            "appended to `tgt_in_ids` and `tgt_out_ids`.",
            f"{loss:.5f} both times",
            f"{loss:.5f}, then {padded:.5f}",
            hints=("Padding (id 0 in `tgt_out_ids`) must not count in the loss.",),
        )
    if math.isclose(loss, _loss_after(obs["weights"]), rel_tol=1e-5, abs_tol=1e-5):
        fail(
            f"`{STEP_NAME}` returned the loss *after* the update (the loss of the "
            "weights it just changed).",
            f"the loss before the update, {expected:.5f}",
            f"{loss:.5f}",
            hints=("Return the loss computed inside the tape.",),
        )
    fail(
        f"`{STEP_NAME}`: the loss is not the masked cross-entropy of the model's "
        "logits for `(src_ids, tgt_in_ids)` against `tgt_out_ids`.",
        f"{expected:.5f}",
        f"{loss:.5f}",
    )


def _moves_by(after, before, gradients, rate) -> bool:
    return all(
        np.allclose(a, b - rate * g, atol=1e-5)
        for a, b, g in zip(after, before, gradients)
    )


def _expect_one_step(after: list) -> None:
    """Every weight moved by -learning_rate * its gradient of the masked loss."""
    before, names = _initial_weights()
    gradients = _reference_gradients("correct")[1]
    if len(after) != len(before):
        fail("the model's variables changed in number.", len(before), len(after))
    if _moves_by(after, before, gradients, LEARNING_RATE):
        return
    moved = [not np.allclose(a, b, atol=1e-7) for a, b in zip(after, before)]
    _expect_moved(moved, names, gradients)
    for rate, what in _WRONG_STEPS:
        if _moves_by(after, before, gradients, rate):
            fail(
                f"the loss is right, but the weights moved {what}.",
                hints=_WRONG_STEPS[rate, what],
            )
    for message, (what, _, _) in STEP_MISTAKES.items():
        if _moves_by(after, before, _reference_gradients(message)[1], LEARNING_RATE):
            fail(
                f"the loss is right, but the weights moved by the gradient of another "
                f"loss: {what}.",
                hints=("Take the gradient of the loss you return.",),
            )
    _expect_step_size(after, before, gradients)


_WRONG_STEPS = {  # (step as a multiple of -gradient, what): hints
    (-LEARNING_RATE, "*up* the gradient (wrong sign)"): (
        "The optimizer subtracts what it is given.",
        "Pass the gradients to the optimizer as they are.",
    ),
    (2 * LEARNING_RATE, "two optimizer steps, not one"): (
        "Apply the gradients once per step.",
    ),
}


def _expect_moved(moved: list, names: list, gradients: list) -> None:
    if not any(moved):
        fail(
            "the loss is right but no weight moved: the gradients were never applied.",
            hints=(
                "What updates the weights after `tape.gradient`?",
                "Call `optimizer.apply_gradients(zip(gradients, "
                "model.trainable_variables))`.",
            ),
        )
    untouched = [n for n, m, g in zip(names, moved, gradients) if not m and np.any(g)]
    if untouched:
        fail(
            "some weights with a nonzero gradient did not move.",
            expected="every trainable weight updated",
            received="not updated: " + ", ".join(untouched[:4]),
            hints=(
                "The encoder's weights need updating too.",
                "Differentiate with respect to `model.trainable_variables`.",
            ),
        )


def _expect_step_size(after: list, before: list, gradients: list) -> None:
    steps = [a - b for a, b in zip(after, before)]
    dot = sum(float(np.sum(s * g)) for s, g in zip(steps, gradients))
    norm = sum(float(np.sum(g * g)) for g in gradients)
    scale = -dot / max(norm, 1e-12)
    if all(np.allclose(s, -scale * g, atol=1e-5) for s, g in zip(steps, gradients)):
        fail(
            "the weights moved along the gradient, but not by the optimizer's step.",
            expected=f"a step of {LEARNING_RATE} x gradient",
            received=f"a step of {scale:.3g} x gradient",
            hints=(
                "Let `optimizer.apply_gradients` update the weights: it knows "
                "the learning rate.",
            ),
        )
    fail(
        "the loss is right but the weights did not move as one optimizer step on "
        "its gradient (with respect to every trainable weight).",
    )


def _expect_training_mode(obs: dict) -> None:
    loss = _first(obs["dropout_loss"])
    if math.isclose(loss, _loss_without_dropout(), rel_tol=1e-6, abs_tol=1e-6):
        fail(
            f"on a model with dropout, `{STEP_NAME}` returns exactly the loss the model "
            "gives with dropout off (in inference mode).",
            hints=(
                "Layers such as dropout behave differently while training: the model "
                "must be told.",
                "Call the model with `training=True`.",
            ),
        )


def _judge_train_step(obs: dict) -> str:
    loss = _expect_scalar_loss(obs)
    _expect_loss(obs, loss)
    _expect_one_step(obs["weights"])
    if obs["iterations"] != 1:
        fail(
            "`optimizer.apply_gradients` ran more than once in one step.",
            expected="1 optimizer step",
            received=f"{obs['iterations']} steps",
        )
    _expect_training_mode(obs)
    return (
        "the masked loss is right, unchanged by padding, and every weight moved by one "
        "optimizer step on its gradient (SGD, compared with an independent tape); "
        "dropout is on during the step."
    )


check_train_step = exercise(
    "6.1",
    "train_step",
    arguments=("train_step",),
    probe=_probe_train_step,
    judge=_judge_train_step,
    hints=(
        "Three parts: a forward pass the tape records, the gradients of its loss, "
        "one optimizer update. Then return the loss.",
        "Inside `with tf.GradientTape() as tape:` compute `logits = "
        "model((src_ids, tgt_in_ids), training=True)` and `loss = "
        "losses.masked_loss(tgt_out_ids, logits)`.",
        "After the block: `gradients = tape.gradient(loss, "
        "model.trainable_variables)`, then `optimizer.apply_gradients(zip(gradients, "
        "model.trainable_variables))`; return `loss`.",
    ),
    axes=STEP_AXES,
)


# --- Exercise 6.2: the scheduled-sampling schedule ----------------------------------

SCHEDULE_CASES = (
    # schedule, total_steps, start, end
    ("constant", 100, 1.0, 0.0),
    ("constant", 40, 0.7, 0.2),
    ("linear", 100, 1.0, 0.0),
    ("linear", 40, 0.9, 0.2),
    ("exponential", 100, 1.0, 0.01),
    ("exponential", 40, 0.9, 0.2),
    ("inverse_sigmoid", 100, 1.0, 0.0),
    ("inverse_sigmoid", 40, 0.9, 0.2),
)
STEP_FRACTIONS = np.array(
    [0, 0.05, 0.1, 0.25, 0.4, 0.5, 0.6, 0.75, 0.9, 1.0, 1.25, 1.5]
)
END = int(np.argmax(STEP_FRACTIONS == 1.0))  # the index of step == total_steps


def _steps(total_steps: int) -> list[int]:
    return [int(round(f * total_steps)) for f in STEP_FRACTIONS]


def _probe_schedule(teacher_forcing_ratio) -> dict:
    values = []
    for schedule, total, start, end in SCHEDULE_CASES:
        row = [
            teacher_forcing_ratio(schedule, step, total, start, end)
            for step in _steps(total)
        ]
        values.append([float(to_numpy(v)) for v in row])
    return {"values": np.array(values, np.float64)}


def _schedule_value(schedule, step, total, start, end, clip=True) -> float:
    """The reference schedule, optionally without clipping the progress."""
    progress = step / total
    progress = min(max(progress, 0.0), 1.0) if clip else progress
    if schedule == "constant":
        return start
    if schedule == "linear":
        return start + (end - start) * progress
    if schedule == "exponential":
        return start * (end / start) ** progress if end > 0 else math.nan
    from s2s_helpers.scheduled_sampling import inverse_sigmoid_k

    k = inverse_sigmoid_k(total)
    first, last = k / (k + 1.0), k / (k + math.exp(total / k))
    value = k / (k + math.exp(progress * total / k))
    return end + (start - end) * (value - last) / (first - last)


def _raw_sigmoid(step, total) -> float:
    from s2s_helpers.scheduled_sampling import inverse_sigmoid_k

    k = inverse_sigmoid_k(total)
    return k / (k + math.exp(min(step, total) / k))


# message: (what the mistake gives for (schedule, step, total, start, end), hints)
SCHEDULE_MISTAKES = {
    "it runs backwards: it starts at `end` and finishes at `start`.": (
        lambda c, s, t, a, b: _schedule_value(c, s, t, b, a),
        ("At step 0 the ratio must be `start` (1.0: pure teacher forcing).",),
    ),
    "it is not clipped after `total_steps`: past the end it keeps going.": (
        lambda c, s, t, a, b: _schedule_value(c, s, t, a, b, clip=False),
        ("Clip the progress `step / total_steps` to [0, 1].",),
    ),
    "it ignores `start` and `end` (1.0 and 0.0 written in).": (
        lambda c, s, t, a, b: _schedule_value(
            c, s, t, 1.0, 0.01 if c == "exponential" else 0.0
        ),
        ("Use the arguments.",),
    ),
    "the progress is an integer division (0 until the end).": (
        lambda c, s, t, a, b: _schedule_value(c, min(s // t, 1) * t, t, a, b),
        ("Use `step / total_steps`, not `//`.",),
    ),
    "the inverse sigmoid is not rescaled: it is the raw `k / (k + exp(i / k))`.": (
        lambda c, s, t, a, b: _raw_sigmoid(s, t),
        (
            "Stretch it to run from exactly `start` at step 0 to `end` at "
            "`total_steps`.",
        ),
    ),
    "the exponential schedule is `start * end ** progress`, which only works when "
    "start is 1.": (
        lambda c, s, t, a, b: a * b ** min(s / t, 1.0),
        (
            "`start * (end / start) ** progress` is `start` at progress 0 and `end` "
            "at 1.",
        ),
    ),
}


def _name_schedule_mistake(values: np.ndarray, expected: np.ndarray) -> None:
    """Name a known mistake when every row is either it or right, and at least one
    row shows it where it moves (a constant row alone cannot show a direction)."""
    for message, (mistake, hints) in SCHEDULE_MISTAKES.items():
        shown = False
        for row, right, case in zip(values, expected, SCHEDULE_CASES):
            steps = _steps(case[1])
            wrong = np.array([mistake(case[0], s, *case[1:]) for s in steps])
            if np.allclose(row, right, atol=1e-4):
                continue
            if not np.allclose(row, wrong, atol=1e-4, equal_nan=False):
                break
            shown = shown or np.ptp(wrong) > 1e-4
        else:
            if shown:
                raise CheckFailed(f"`teacher_forcing_ratio`: {message}", hints)


def _schedule_properties(call: str, row, case, expected) -> None:
    """Start, end, flat after the end, between and monotone, then the curve."""
    schedule, total, start, end = case
    steps = _steps(total)
    at = {"start": (0, start), "end": (END, end)}
    for which, (index, value) in at.items():
        if not math.isclose(row[index], value, abs_tol=1e-4):
            fail(
                f"`{call}` at step {steps[index]} should be `{which}`.",
                value,
                round(float(row[index]), 4),
            )
    after = row[END:]
    if not np.allclose(after, end, atol=1e-4):
        fail(
            f"`{call}` moves away from `end` after `total_steps`.",
            f"{end} at steps {steps[END:]}",
            np.round(after, 4).tolist(),
        )
    low, high = min(start, end) - 1e-4, max(start, end) + 1e-4
    if np.any(row < low) or np.any(row > high):
        fail(
            f"`{call}` leaves the range between `start` and `end`.",
            f"[{end}, {start}]",
            np.round(row, 4).tolist(),
        )
    if np.any(np.diff(row) * np.sign(end - start) < -1e-4):
        fail(
            f"`{call}` goes back and forth instead of moving steadily from `start` to `end`.",
            received=np.round(row, 4).tolist(),
        )
    first = int(np.argmax(~np.isclose(row, expected, atol=1e-4)))
    fail(
        f"`{call}` does not follow the {schedule.replace('_', ' ')} curve: at step "
        f"{steps[first]} it is {row[first]:.4f}.",
        np.round(expected, 4).tolist(),
        np.round(row, 4).tolist(),
    )


def _judge_schedule(obs: dict) -> str:
    from s2s_helpers.scheduled_sampling import teacher_forcing_ratio

    values = expect_shape(
        "values",
        obs["values"],
        (len(SCHEDULE_CASES), len(STEP_FRACTIONS)),
        "cases, steps",
    )
    expected = np.array(
        [
            [teacher_forcing_ratio(c[0], s, *c[1:]) for s in _steps(c[1])]
            for c in SCHEDULE_CASES
        ]
    )
    if np.allclose(values, expected, atol=1e-4):
        return (
            "constant, linear, exponential and inverse sigmoid schedules start at "
            "`start`, reach `end` at total_steps and stay there, matching the "
            "reference."
        )
    _name_schedule_mistake(values, expected)
    for row, right, case in zip(values, expected, SCHEDULE_CASES):
        if not np.allclose(row, right, atol=1e-4):
            call = "teacher_forcing_ratio({!r}, step, {}, {}, {})".format(*case)
            if not np.all(np.isfinite(row)):
                fail(f"`{call}` gives inf or NaN.", received=np.round(row, 4).tolist())
            _schedule_properties(call, row, case, right)
    return ""  # not reached: some row differs


check_teacher_forcing_ratio = exercise(
    "6.2",
    "teacher_forcing_ratio",
    arguments=("teacher_forcing_ratio",),
    probe=_probe_schedule,
    judge=_judge_schedule,
    hints=(
        "Every schedule is a function of the progress, a number from 0 (step 0) to 1 "
        "(`total_steps` and after): start there.",
        "`progress = min(max(step / total_steps, 0.0), 1.0)`. Constant: `start`; "
        "linear: `start + (end - start) * progress`; exponential: "
        "`start * (end / start) ** progress`.",
        "Inverse sigmoid: `s(i) = k / (k + exp(i / k))` at `i = progress * "
        "total_steps`, rescaled with `s(0)` and `s(total_steps)` so it runs from "
        "`start` to `end`: `end + (start - end) * (s(i) - s(T)) / (s(0) - s(T))`.",
    ),
)


# --- Exercise 6.3: mixing true and predicted tokens ---------------------------------

POSITIONS = 4000
TRUE_IDS = (np.arange(POSITIONS) % 20 + 4).astype(np.int32)  # (batch,) ids 4..23
PREDICTED_IDS = (TRUE_IDS + 30).astype(np.int32)  # never equal to the true id
RATIOS = (0.0, 0.25, 0.5, 0.8, 1.0)
SEED = (3, 7)
# other seeds at ratio 0.5: the first entry changed, the second changed, then more
OTHER_SEEDS = ((4, 7), (3, 8), (11, 2), (5, 13), (8, 1), (6, 9))
TOLERANCE = 0.04  # about 6 standard deviations of a fair coin over 4000 positions
MIX_NAME = "mix_tokens(true_ids, predicted_ids, ratio, seed)"


def _probe_mix(mix_tokens) -> dict:
    import tensorflow as tf

    def call(ratio, seed):
        out = to_numpy(
            mix_tokens(
                tf.constant(TRUE_IDS),
                tf.constant(PREDICTED_IDS),
                tf.constant(ratio, tf.float32),
                tf.constant(seed, tf.int32),
            )
        )
        if out.shape != (POSITIONS,):  # record the shape only, not a huge array
            return {"shape": list(out.shape), "dtype": str(out.dtype)}
        return out

    return {
        "outputs": [call(ratio, SEED) for ratio in RATIOS],
        "again": call(0.5, SEED),
        "seeds": [call(0.5, seed) for seed in OTHER_SEEDS],
    }


def _mix_array(out) -> np.ndarray:
    if isinstance(out, dict):
        out = np.broadcast_to(np.zeros((), out["dtype"]), out["shape"])
    out = expect_shape(MIX_NAME, out, (POSITIONS,), "batch")
    expect_dtype(MIX_NAME, out, "i")
    mixed = ~((out == TRUE_IDS) | (out == PREDICTED_IDS))
    if np.any(mixed):
        fail(
            f"`{MIX_NAME}` returned ids that are neither the true token nor the "
            "prediction at their position.",
            "at each position, one of the two",
            f"{int(mixed.sum())} of {POSITIONS} positions are neither",
            hints=("Choose between the two ids at each position; never blend them.",),
        )
    return out


def _fraction_true(out: np.ndarray) -> float:
    return float(np.mean(out == TRUE_IDS))


def _expect_per_position(outputs: list, seeds: list) -> None:
    """Ratios between 0 and 1 must mix the batch, not choose for all of it."""
    middle = [_fraction_true(out) for out in outputs[1:-1]]
    by_seed = [_fraction_true(out) for out in seeds]
    if not all(f in (0.0, 1.0) for f in middle + by_seed):
        return
    if len(set(by_seed + [middle[1]])) == 2:  # ratio 0.5: all true or all predicted
        fail(
            f"`{MIX_NAME}` flips one coin for the whole batch: at ratio 0.5 every "
            "position gets the true token with some seeds and every position the "
            "prediction with others.",
            hints=(
                "Draw one coin per position: the coins have the shape of `true_ids`.",
            ),
        )
    received = ", ".join(
        f"{r}: {'all true' if f else 'all predicted'}"
        for r, f in zip(RATIOS[1:-1], middle)
    )
    fail(
        f"`{MIX_NAME}` with a ratio between 0 and 1 gives every position the same "
        "choice, whatever the seed.",
        "a mix of true and predicted tokens",
        received,
        hints=("Compare each coin with `ratio` itself, a float between 0 and 1.",),
    )


def _expect_rates(fractions: list) -> None:
    if all(abs(f - (1 - r)) < TOLERANCE for f, r in zip(fractions, RATIOS)):
        fail(
            f"`{MIX_NAME}` is inverted: it keeps the *prediction* with probability "
            "`ratio`.",
            hints=(
                "`ratio` is the probability of feeding the TRUE token (ratio 1.0 "
                "is teacher forcing).",
            ),
        )
    for fraction, ratio in zip(fractions, RATIOS):
        if abs(fraction - ratio) > TOLERANCE:
            fail(
                f"`{MIX_NAME}` with ratio={ratio} kept the true token at the wrong rate.",
                expected=f"about {ratio:.2f} of the positions",
                received=f"{fraction:.3f}",
            )


def _expect_spread(out: np.ndarray) -> None:
    quarters = np.split(out == TRUE_IDS, 4)
    if max(abs(float(q.mean()) - 0.5) for q in quarters) > 2 * TOLERANCE:
        fail(
            f"`{MIX_NAME}` does not spread the true tokens evenly over the batch.",
            expected="about 0.5 in every quarter of the batch at ratio 0.5",
            received=[round(float(q.mean()), 3) for q in quarters],
            hints=("Each position needs its own independent coin.",),
        )


def _expect_seed_used(out: np.ndarray, again: np.ndarray, seeds: list) -> None:
    if not np.array_equal(again, out):
        fail(
            f"`{MIX_NAME}` is not reproducible: the same seed gave different coins.",
            hints=(
                "Use a *stateless* random function, which takes the seed as an "
                "argument: `tf.random.stateless_uniform(shape, seed=seed)`.",
            ),
        )
    outputs = dict(zip([SEED, *OTHER_SEEDS], [out, *seeds]))
    if all(np.array_equal(o, out) for o in seeds):
        fail(
            f"`{MIX_NAME}` ignores its `seed`: every seed gave the same coins.",
            hints=("Pass `seed=seed` to the random function.",),
        )
    for which, other in (("first", OTHER_SEEDS[0]), ("second", OTHER_SEEDS[1])):
        if np.array_equal(outputs[other], out):
            fail(
                f"`{MIX_NAME}` ignores the {which} entry of its seed: seeds {SEED} and "
                f"{other} gave the same coins.",
                hints=(
                    "The decoder changes the second entry at every step: with it "
                    "ignored, every step reuses the same coins.",
                    "Pass the whole seed, both entries, to the random function.",
                ),
            )
    seen = {}
    for seed, o in outputs.items():
        key = o.tobytes()
        if key in seen:
            fail(
                f"`{MIX_NAME}`: seeds {seen[key]} and {seed} gave the same coins.",
                hints=("Use both entries of the seed as they are.",),
            )
        seen[key] = seed


def _judge_mix(obs: dict) -> str:
    outputs = [_mix_array(out) for out in obs["outputs"]]
    seeds = [_mix_array(out) for out in obs["seeds"]]
    again = _mix_array(obs["again"])
    _expect_per_position(outputs, seeds)
    fractions = [_fraction_true(out) for out in outputs]
    _expect_rates(fractions)
    _expect_spread(outputs[2])
    _expect_seed_used(outputs[2], again, seeds)
    return (
        "one coin per position, the true token kept with probability `ratio` "
        f"(measured {fractions[1]:.3f} for 0.25 and {fractions[3]:.3f} for 0.8), "
        "the same seed gives the same coins and both entries of the seed count."
    )


check_mix_tokens = exercise(
    "6.3",
    "mix_tokens",
    arguments=("mix_tokens",),
    probe=_probe_mix,
    judge=_judge_mix,
    hints=(
        "One random number in [0, 1) per position: it is below `ratio` with "
        "probability `ratio`. There keep the true token, elsewhere the prediction.",
        "`coins = tf.random.stateless_uniform(tf.shape(true_ids), seed=seed)` gives "
        "those numbers, the same ones for the same seed.",
        "Return `tf.where(coins < ratio, true_ids, predicted_ids)` (cast `ratio` to "
        "the coins' dtype).",
    ),
    axes={"batch": POSITIONS},
)
