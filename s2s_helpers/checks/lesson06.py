"""Checks for lesson 06 (teacher forcing): the train step, the schedule, the mixing.

* 6.1 ``train_step(model, optimizer, src_ids, tgt_in_ids, tgt_out_ids)`` runs on
  a tiny model with fixed weights and plain SGD (no momentum, no clipping), so
  one correct step moves every weight by exactly ``-learning_rate * gradient``
  of the masked loss. The judge rebuilds the same model and computes that
  gradient itself, and the gradients of the usual wrong losses.
* 6.2 ``teacher_forcing_ratio(schedule, step, total_steps, start, end)`` is
  compared with ``training.teacher_forcing_ratio`` on a grid of steps that goes
  past ``total_steps``.
* 6.3 ``mix_tokens(true_ids, predicted_ids, ratio, seed)`` draws coins, so it is
  judged statistically (thousands of positions) and for reproducibility.

Taught in: lessons/06_teacher_forcing.ipynb
"""

from __future__ import annotations

import functools
import math

import numpy as np

from s2s_helpers.checks import framework
from s2s_helpers.checks.framework import (
    CheckFailed,
    exercise,
    expect_close,
    expect_shape,
    fail,
)

# --- a tiny model with fixed weights (6.1) ----------------------------------------

SRC_VOCAB, TGT_VOCAB, EMBEDDING_DIM, UNITS = 9, 8, 4, 6
LEARNING_RATE = 0.5
# (batch=3, src_len=5) and (batch=3, tgt_len=4); tgt_out_ids has padding in two
# rows, so a loss averaged over padding differs from the masked one.
SRC_IDS = np.array([[4, 5, 6, 7, 8], [5, 4, 0, 0, 0], [8, 7, 6, 0, 0]], np.int32)
TGT_IN_IDS = np.array([[2, 4, 5, 6], [2, 7, 0, 0], [2, 5, 4, 0]], np.int32)
TGT_OUT_IDS = np.array([[4, 5, 6, 3], [7, 3, 0, 0], [5, 4, 3, 0]], np.int32)


def tiny_model():
    """A built ``Seq2Seq`` whose weights come from a fixed numpy generator."""
    from s2s_helpers import seq2seq

    model = seq2seq.Seq2Seq(SRC_VOCAB, TGT_VOCAB, EMBEDDING_DIM, UNITS)
    model((SRC_IDS[:1], TGT_IN_IDS[:1]))
    rng = np.random.default_rng(6)
    model.set_weights(
        [rng.normal(0.0, 0.5, w.shape).astype(np.float32) for w in model.get_weights()]
    )
    return model


def _variable_names(model) -> list[str]:
    return [v.path.split("/", 1)[-1] for v in model.trainable_variables]


def _probe_train_step(train_step) -> dict:
    import keras
    import tensorflow as tf

    model = tiny_model()
    optimizer = keras.optimizers.SGD(learning_rate=LEARNING_RATE)  # no momentum
    try:
        loss = train_step(
            model,
            optimizer,
            tf.constant(SRC_IDS),
            tf.constant(TGT_IN_IDS),
            tf.constant(TGT_OUT_IDS),
        )
    except NotImplementedError:
        raise
    except Exception as error:  # recorded: some errors name a known mistake
        return {"error": framework.last_line(error)}
    return {
        "error": None,
        "loss": None if loss is None else framework.to_numpy(loss).astype(np.float64),
        "weights": [v.numpy() for v in model.trainable_variables],
        "names": _variable_names(model),
        "iterations": int(optimizer.iterations.numpy()),
    }


def _loss_and_gradients(model, loss_fn, labels, decoder_inputs):
    """One forward pass under a tape: (loss, gradients as numpy arrays)."""
    import tensorflow as tf

    with tf.GradientTape() as tape:
        logits = model(
            (tf.constant(SRC_IDS), tf.constant(decoder_inputs)), training=True
        )
        loss = loss_fn(tf.constant(labels), logits)
    gradients = tape.gradient(loss, model.trainable_variables)
    return float(loss), [tf.convert_to_tensor(g).numpy() for g in gradients]


@functools.lru_cache(maxsize=1)
def _reference_step() -> tuple[list, list, dict]:
    """The tiny model's weights and names, the correct loss and gradients, and
    those of the known wrong losses (computed once: they never change)."""
    import keras

    from s2s_helpers import losses

    model = tiny_model()

    def unmasked(labels, logits):  # every position counts, padding included
        return keras.ops.mean(losses.token_losses(labels, logits))

    variants = {
        "correct": _loss_and_gradients(
            model, losses.masked_loss, TGT_OUT_IDS, TGT_IN_IDS
        ),
        "the loss is not masked: padding positions count as if they were tokens. "
        "Use `losses.masked_loss(tgt_out_ids, logits)`.": _loss_and_gradients(
            model, unmasked, TGT_OUT_IDS, TGT_IN_IDS
        ),
        "the loss is masked but averaged over every position, padding included (the "
        "classic tutorial's bug): divide by the number of real tokens, as "
        "`losses.masked_loss` does.": _loss_and_gradients(
            model, losses.padded_mean_loss, TGT_OUT_IDS, TGT_IN_IDS
        ),
        "the labels are `tgt_in_ids` (not shifted): the decoder must predict "
        "`tgt_out_ids`, the next token.": _loss_and_gradients(
            model, losses.masked_loss, TGT_IN_IDS, TGT_IN_IDS
        ),
        "the decoder is fed `tgt_out_ids`, so it sees the token it must predict. "
        "Feed `(src_ids, tgt_in_ids)` to the model.": _loss_and_gradients(
            model, losses.masked_loss, TGT_OUT_IDS, TGT_OUT_IDS
        ),
    }
    before = [v.numpy() for v in model.trainable_variables]
    return before, _variable_names(model), variants


def _judge_train_step(obs: dict) -> str:
    name = "train_step(model, optimizer, src_ids, tgt_in_ids, tgt_out_ids)"
    error = obs.get("error")
    if error:
        if "No gradients provided" in error:
            fail(
                f"`{name}` found no gradients (None for every weight): the forward "
                "pass (`model(...)` and the loss) must run *inside* the "
                "`with tf.GradientTape() as tape:` block, or the tape records nothing.",
                received=error,
            )
        fail(f"`{name}` raised an error on the check's tiny batch.", received=error)
    if obs["loss"] is None:
        fail(f"`{name}` returned None: return the loss (a scalar).")
    loss = np.asarray(obs["loss"])
    if loss.size != 1:
        fail(
            f"`{name}` should return the scalar loss of the batch.",
            expected="a scalar",
            received=f"shape {loss.shape}",
        )
    before, names, variants = _reference_step()
    variants = dict(variants)
    expected_loss, gradients = variants.pop("correct")
    expect_close(
        "loss",
        loss.reshape(()),
        np.float64(expected_loss),
        known_mistakes={
            message: np.float64(value) for message, (value, _) in variants.items()
        },
        atol=1e-5,
    )
    after = obs["weights"]
    if len(after) != len(before):
        fail("the model's variables changed in number.", len(before), len(after))
    expected = [w - LEARNING_RATE * g for w, g in zip(before, gradients)]
    if all(np.allclose(a, e, atol=1e-5) for a, e in zip(after, expected)):
        if obs["iterations"] != 1:
            fail(
                "`optimizer.apply_gradients` should run exactly once per step.",
                expected="1 optimizer step",
                received=f"{obs['iterations']} steps",
            )
        return (
            "the masked loss is right and every weight moved by one optimizer step "
            "on its gradient (SGD, compared with an independent tape)."
        )
    moved = [not np.allclose(a, b, atol=1e-7) for a, b in zip(after, before)]
    if not any(moved):
        raise CheckFailed(
            "the loss is right but no weight moved: the gradients were never "
            "applied. Call `optimizer.apply_gradients(zip(gradients, "
            "model.trainable_variables))`."
        )
    uphill = [w + LEARNING_RATE * g for w, g in zip(before, gradients)]
    if all(np.allclose(a, u, atol=1e-5) for a, u in zip(after, uphill)):
        raise CheckFailed(
            "the weights moved *up* the gradient (wrong sign): the loss would grow. "
            "Pass the gradients to the optimizer as they are; it subtracts them."
        )
    twice = [w - 2 * LEARNING_RATE * g for w, g in zip(before, gradients)]
    if all(np.allclose(a, t, atol=1e-5) for a, t in zip(after, twice)):
        raise CheckFailed("the gradients were applied twice: apply them once per step.")
    untouched = [n for n, m, g in zip(names, moved, gradients) if not m and np.any(g)]
    if untouched:
        fail(
            "some weights with a gradient did not move: differentiate with respect "
            "to `model.trainable_variables` (encoder *and* decoder).",
            expected="every trainable weight updated",
            received="not updated: " + ", ".join(untouched[:4]),
        )
    steps = [a - b for a, b in zip(after, before)]
    dot = sum(float(np.sum(s * g)) for s, g in zip(steps, gradients))
    norm = sum(float(np.sum(g * g)) for g in gradients)
    scale = -dot / max(norm, 1e-12)
    if all(np.allclose(s, -scale * g, atol=1e-5) for s, g in zip(steps, gradients)):
        fail(
            "the weights moved along the gradient, but not by the optimizer's step: "
            "let `optimizer.apply_gradients` update them (it knows the learning rate).",
            expected=f"a step of {LEARNING_RATE} x gradient",
            received=f"a step of {scale:.3g} x gradient",
        )
    fail(
        "the loss is right but the weights did not move as one optimizer step on "
        "its gradient: take the gradient of the loss you return, with respect to "
        "`model.trainable_variables`, inside the same tape."
    )


check_train_step = exercise(
    "6.1",
    "train_step",
    arguments=("train_step",),
    probe=_probe_train_step,
    judge=_judge_train_step,
    hints=(
        "Inside `with tf.GradientTape() as tape:` compute `logits = "
        "model((src_ids, tgt_in_ids), training=True)` and `loss = "
        "losses.masked_loss(tgt_out_ids, logits)`. After the block: "
        "`gradients = tape.gradient(loss, model.trainable_variables)`, then "
        "`optimizer.apply_gradients(zip(gradients, model.trainable_variables))`; "
        "return `loss`.",
    ),
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


def _steps(total_steps: int) -> list[int]:
    return [int(round(f * total_steps)) for f in STEP_FRACTIONS]


def _probe_schedule(teacher_forcing_ratio) -> dict:
    values = []
    for schedule, total, start, end in SCHEDULE_CASES:
        row = [
            teacher_forcing_ratio(schedule, step, total, start, end)
            for step in _steps(total)
        ]
        values.append([float(framework.to_numpy(v)) for v in row])
    return {"values": np.array(values, np.float64)}


def _schedule_mistakes(schedule, step, total, start, end) -> dict[str, float]:
    """What the known mistakes of Exercise 6.2 give at one step."""
    from s2s_helpers import training

    reference = training.teacher_forcing_ratio
    k = training._inverse_sigmoid_k(total)
    mistakes = {
        "it runs backwards: it starts at `end` and finishes at `start`. At step 0 "
        "the ratio must be `start` (1.0: pure teacher forcing).": reference(
            schedule, step, total, end, start
        )
        if schedule != "exponential" or end > 0
        else math.nan,
        "it is not clipped after `total_steps`: past the end it keeps going (below "
        "`end`). Clip the progress `step / total_steps` to [0, 1].": _unclipped(
            schedule, step, total, start, end, k
        ),
        "it ignores `start` and `end` (1.0 and 0.0 written in): use the arguments.": (
            reference(schedule, step, total, 1.0, 0.0)
            if schedule != "exponential"
            else reference(schedule, step, total, 1.0, 0.01)
        ),
        "the progress is an integer division (`step // total_steps` is 0 until the "
        "end): use `step / total_steps`.": reference(
            schedule, min(step // total, 1) * total, total, start, end
        ),
        "the inverse sigmoid is not rescaled: `k / (k + exp(step / k))` must be "
        "stretched to run from exactly `start` at step 0 to `end` at `total_steps`.": (
            k / (k + math.exp(min(step, total) / k))
        ),
        "the exponential schedule should be `start * (end / start) ** progress`; "
        "`start * end ** progress` only works when start is 1.": (
            start * end ** min(step / total, 1.0)
        ),
    }
    return mistakes


def _unclipped(schedule, step, total, start, end, k) -> float:
    progress = step / total
    if schedule == "constant":
        return start
    if schedule == "linear":
        return start + (end - start) * progress
    if schedule == "exponential":
        return start * (end / start) ** progress
    first, last = k / (k + 1.0), k / (k + math.exp(total / k))
    value = k / (k + math.exp(progress * total / k))
    return end + (start - end) * (value - last) / (first - last)


def _judge_schedule(obs: dict) -> str:
    from s2s_helpers import training

    values = expect_shape(
        "values",
        obs["values"],
        (len(SCHEDULE_CASES), len(STEP_FRACTIONS)),
        "cases, steps",
    )
    for row, (schedule, total, start, end) in zip(values, SCHEDULE_CASES):
        steps = _steps(total)
        expected = np.array(
            [
                training.teacher_forcing_ratio(schedule, s, total, start, end)
                for s in steps
            ]
        )
        if np.allclose(row, expected, atol=1e-4):
            continue
        call = f"teacher_forcing_ratio({schedule!r}, step, {total}, {start}, {end})"
        variants = [_schedule_mistakes(schedule, s, total, start, end) for s in steps]
        for message in variants[0]:
            wrong = np.array([v[message] for v in variants], np.float64)
            if np.all(np.isfinite(wrong)) and not np.allclose(
                wrong, expected, atol=1e-4
            ):
                if np.allclose(row, wrong, atol=1e-4):
                    raise CheckFailed(f"`{call}`: {message}")
        fail(
            f"`{call}` differs from the reference at steps {steps}.",
            expected=np.round(expected, 4).tolist(),
            received=np.round(row, 4).tolist(),
        )
    return (
        "constant, linear, exponential and inverse sigmoid schedules start at "
        "`start`, reach `end` at total_steps and stay there, matching the reference."
    )


check_teacher_forcing_ratio = exercise(
    "6.2",
    "teacher_forcing_ratio",
    arguments=("teacher_forcing_ratio",),
    probe=_probe_schedule,
    judge=_judge_schedule,
    hints=(
        "First `progress = min(max(step / total_steps, 0.0), 1.0)`. Then constant: "
        "`start`; linear: `start + (end - start) * progress`; exponential: "
        "`start * (end / start) ** progress`; inverse sigmoid: `s(i) = k / (k + "
        "exp(i / k))` at `i = progress * total_steps`, rescaled with `s(0)` and "
        "`s(total_steps)` so it runs from `start` to `end`.",
    ),
)


# --- Exercise 6.3: mixing true and predicted tokens ---------------------------------

POSITIONS = 4000
TRUE_IDS = (np.arange(POSITIONS) % 20 + 4).astype(np.int32)  # (batch,) ids 4..23
PREDICTED_IDS = (TRUE_IDS + 30).astype(np.int32)  # never equal to the true id
RATIOS = (0.0, 0.25, 0.8, 1.0)
SEED, OTHER_SEED = (3, 7), (4, 7)


def _probe_mix(mix_tokens) -> dict:
    import tensorflow as tf

    def call(ratio, seed):
        out = mix_tokens(
            tf.constant(TRUE_IDS),
            tf.constant(PREDICTED_IDS),
            tf.constant(ratio, tf.float32),
            tf.constant(seed, tf.int32),
        )
        return framework.to_numpy(out)

    return {
        "outputs": [call(ratio, SEED) for ratio in RATIOS],
        "again": call(0.25, SEED),
        "other_seed": call(0.25, OTHER_SEED),
    }


def _fraction_true(out: np.ndarray) -> float:
    return float(np.mean(out == TRUE_IDS))


def _judge_mix(obs: dict) -> str:
    name = "mix_tokens(true_ids, predicted_ids, ratio, seed)"
    outputs = [expect_shape(name, out, (POSITIONS,), "batch") for out in obs["outputs"]]
    for out in outputs:
        if out.dtype.kind not in "iu":
            fail(
                f"`{name}` should return token ids (integers).",
                "an integer dtype",
                out.dtype,
            )
        mixed = ~((out == TRUE_IDS) | (out == PREDICTED_IDS))
        if np.any(mixed):
            fail(
                f"`{name}` returned ids that are neither the true token nor the "
                "prediction at their position: choose one of the two with "
                "`tf.where(coins < ratio, true_ids, predicted_ids)`, never a blend.",
                received=f"{int(mixed.sum())} of {POSITIONS} positions",
            )
    fractions = [_fraction_true(out) for out in outputs]
    tolerance = 0.04  # about 6 standard deviations of a fair coin over 4000 positions
    inverted = all(abs(f - (1 - r)) < tolerance for f, r in zip(fractions, RATIOS))
    if inverted:
        raise CheckFailed(
            f"`{name}` is inverted: it keeps the *prediction* with probability "
            "`ratio`. `ratio` is the probability of feeding the TRUE token "
            "(ratio 1.0 is teacher forcing)."
        )
    middle = fractions[1:3]
    if all(f in (0.0, 1.0) for f in middle):
        raise CheckFailed(
            f"`{name}` flips one coin for the whole batch (every position gets the "
            "true token, or every position the prediction). Draw one coin per "
            "position: `tf.random.stateless_uniform(tf.shape(true_ids), seed)`."
        )
    for fraction, ratio in zip(fractions, RATIOS):
        if abs(fraction - ratio) > tolerance:
            fail(
                f"`{name}` with ratio={ratio} kept the true token at the wrong rate.",
                expected=f"about {ratio:.2f} of the positions",
                received=f"{fraction:.3f}",
            )
    quarters = np.split(outputs[1] == TRUE_IDS, 4)
    if max(abs(float(q.mean()) - RATIOS[1]) for q in quarters) > 2 * tolerance:
        fail(
            f"`{name}` does not spread the true tokens evenly over the batch: each "
            "position needs its own independent coin.",
            expected=f"about {RATIOS[1]} in every quarter of the batch",
            received=[round(float(q.mean()), 3) for q in quarters],
        )
    if not np.array_equal(obs["again"], outputs[1]):
        raise CheckFailed(
            f"`{name}` is not reproducible: the same seed gave different coins. Use "
            "the stateless `tf.random.stateless_uniform(shape, seed=seed)`, not "
            "`tf.random.uniform` or numpy's global generator."
        )
    if np.array_equal(obs["other_seed"], outputs[1]):
        raise CheckFailed(
            f"`{name}` ignores its `seed` argument: another seed gave the same coins. "
            "Pass `seed=seed` to `tf.random.stateless_uniform`."
        )
    return (
        "one coin per position, the true token kept with probability `ratio` "
        f"(measured {fractions[1]:.3f} for 0.25 and {fractions[2]:.3f} for 0.8), "
        "the same seed gives the same coins."
    )


check_mix_tokens = exercise(
    "6.3",
    "mix_tokens",
    arguments=("mix_tokens",),
    probe=_probe_mix,
    judge=_judge_mix,
    hints=(
        "`coins = tf.random.stateless_uniform(tf.shape(true_ids), seed=seed)` "
        "gives one number in [0, 1) per position; `coins < ratio` is True with "
        "probability `ratio`: there keep the true token, elsewhere the "
        "prediction: `tf.where(coins < ratio, true_ids, predicted_ids)`.",
    ),
)
