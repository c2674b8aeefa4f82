"""Lesson 06's checks: the reference passes, the stub is not attempted, every wrong
answer (catalogued or not) is diagnosed as itself (also after a JSON round trip),
and unusual correct answers pass."""

import math

import keras
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

from s2s_helpers import checks, losses, scheduled_sampling
from s2s_helpers.checks import framework, lesson06


def test_every_exercise_has_hint_levels():
    for exercise_id in ("6.1", "6.2", "6.3"):
        assert len(framework.get(exercise_id).hints) >= 2


def test_the_train_step_inputs_separate_axes():
    sizes = list(lesson06.STEP_AXES.values())
    assert len(set(sizes)) == len(sizes)
    padded_rows = (lesson06.TGT_OUT_IDS == 0).any(axis=1)
    assert padded_rows.any() and not padded_rows.all()
    assert lesson06.tiny_model(lesson06.DROPOUT_RATE).dropout_rate > 0


# --- Exercise 6.1: train_step ---------------------------------------------------------


def make_train_step(
    loss_fn=losses.masked_loss,
    sign=1.0,
    apply=True,
    tape_outside=False,
    labels="out",
    decoder_inputs="in",
    times=1,
    manual_rate=None,
    decoder_only=False,
    training=True,
    gradient_loss=None,
    loss_after_update=False,
):
    def train_step(model, optimizer, src_ids, tgt_in_ids, tgt_out_ids):
        ids = {"in": tgt_in_ids, "out": tgt_out_ids}
        variables = (
            model.decoder.trainable_variables
            if decoder_only
            else model.trainable_variables
        )
        inputs = (src_ids, ids[decoder_inputs])
        if tape_outside:
            logits = model(inputs, training=training)
        with tf.GradientTape() as tape:
            if not tape_outside:
                logits = model(inputs, training=training)
            loss = loss_fn(ids[labels], logits)
            differentiated = (
                gradient_loss(ids[labels], logits) if gradient_loss else loss
            )
        gradients = tape.gradient(differentiated, variables)
        if apply:
            for _ in range(times):
                if manual_rate is not None:
                    for v, g in zip(variables, gradients):
                        v.assign_sub(manual_rate * tf.convert_to_tensor(g))
                else:
                    if sign != 1.0:
                        gradients = [sign * tf.convert_to_tensor(g) for g in gradients]
                    optimizer.apply_gradients(zip(gradients, variables))
        if loss_after_update:
            return loss_fn(ids[labels], model(inputs, training=False))
        return loss

    return train_step


def unmasked_loss(labels, logits):
    return keras.losses.SparseCategoricalCrossentropy(from_logits=True)(labels, logits)


def test_train_step_reference_passes(capsys):
    reference = make_train_step()
    assert outcome("6.1", reference)[0] == "passed"
    checks.check_train_step(reference)
    assert "passed" in capsys.readouterr().out
    assert_round_trip("6.1", reference)


def keras_apply_step(model, optimizer, src_ids, tgt_in_ids, tgt_out_ids):
    loss_object = keras.losses.SparseCategoricalCrossentropy(
        from_logits=True, reduction="mean_with_sample_weight"
    )
    with tf.GradientTape() as tape:
        logits = model((src_ids, tgt_in_ids), training=True)
        weights = tf.cast(tgt_out_ids != 0, tf.float32)
        loss = loss_object(tgt_out_ids, logits, sample_weight=weights)
    optimizer.apply(
        tape.gradient(loss, model.trainable_weights), model.trainable_weights
    )
    return float(loss)


@pytest.mark.parametrize("function", [tf.function(make_train_step()), keras_apply_step])
def test_train_step_unusual_correct_answers_pass(function):
    assert_passes_unusual("6.1", function)


def test_train_step_stub_is_not_attempted():
    assert outcome("6.1", stub)[0] == "not_attempted"


def softmax_first(labels, logits):
    return losses.masked_loss(labels, tf.nn.softmax(logits))


TRAIN_STEP_MISTAKES = {
    "not applied": (make_train_step(apply=False), "never applied"),
    "wrong sign": (make_train_step(sign=-1.0), "wrong sign"),
    "not masked": (make_train_step(loss_fn=unmasked_loss), "not masked"),
    "padded mean": (
        make_train_step(loss_fn=losses.padded_mean_loss),
        "averaged over every",
    ),
    "tape outside": (make_train_step(tape_outside=True), "did not record"),
    "labels not shifted": (make_train_step(labels="in"), "not shifted"),
    "decoder sees answer": (make_train_step(decoder_inputs="out"), "sees the token"),
    "applied twice": (make_train_step(times=2), "two optimizer steps"),
    "manual rate": (make_train_step(manual_rate=0.1), "optimizer's step"),
    "decoder only": (make_train_step(decoder_only=True), "did not move"),
    "returns None": (lambda *args: make_train_step()(*args) and None, "returned None"),
    # not in the catalogue: diagnosed by the property that fails
    "training not passed": (make_train_step(training=None), "inference mode"),
    "loss after the update": (make_train_step(loss_after_update=True), "*after*"),
    "gradient of another loss": (
        make_train_step(gradient_loss=unmasked_loss),
        "gradient of another loss: the unmasked loss",
    ),
    "softmax before the loss": (
        make_train_step(loss_fn=softmax_first),
        "probabilities",
    ),
    "per-token losses returned": (
        make_train_step(loss_fn=losses.token_losses),
        "shape (3, 4) (batch, tgt_len)",
    ),
}


@pytest.mark.parametrize("label", sorted(TRAIN_STEP_MISTAKES))
def test_train_step_wrong_answers_are_diagnosed(label):
    assert_diagnosed("6.1", TRAIN_STEP_MISTAKES, label)


def test_train_step_mistake_survives_round_trip():
    assert_round_trip("6.1", make_train_step(loss_fn=unmasked_loss))


# --- Exercise 6.2: teacher_forcing_ratio ----------------------------------------------


def make_schedule(
    reverse=False,
    clip=True,
    hard_coded=False,
    integer=False,
    raw_sigmoid=False,
    exponential_base_end=False,
):
    def schedule_fn(schedule, step, total_steps, start=1.0, end=0.0):
        if hard_coded:
            start, end = 1.0, (0.01 if schedule == "exponential" else 0.0)
        if reverse:
            start, end = end, start
        progress = step // total_steps if integer else step / total_steps
        if clip:
            progress = min(max(progress, 0.0), 1.0)
        if schedule == "constant":
            return start
        if schedule == "linear":
            return start + (end - start) * progress
        if schedule == "exponential":
            if exponential_base_end:
                return start * end**progress
            return start * (end / start) ** progress
        k = scheduled_sampling.inverse_sigmoid_k(total_steps)
        value = k / (k + math.exp(progress * total_steps / k))
        if raw_sigmoid:
            return value
        first, last = k / (k + 1.0), k / (k + math.exp(total_steps / k))
        return end + (start - end) * (value - last) / (first - last)

    return schedule_fn


def test_schedule_reference_passes(capsys):
    assert outcome("6.2", scheduled_sampling.teacher_forcing_ratio)[0] == "passed"
    assert outcome("6.2", make_schedule())[0] == "passed"
    checks.check_teacher_forcing_ratio(make_schedule())
    assert "passed" in capsys.readouterr().out
    assert_round_trip("6.2", make_schedule())


def numpy_schedule(schedule, step, total_steps, start=1.0, end=0.0):
    progress = np.clip(np.float64(step) / total_steps, 0.0, 1.0)
    k = scheduled_sampling.inverse_sigmoid_k(total_steps)
    sigmoid = k / (k + np.exp(np.array([0.0, progress, 1.0]) * total_steps / k))
    curves = {
        "constant": lambda: np.float64(start),
        "linear": lambda: np.interp(progress, [0.0, 1.0], [start, end]),
        "exponential": lambda: start * np.exp(progress * np.log(end / start)),
        "inverse_sigmoid": lambda: np.interp(
            sigmoid[1], [sigmoid[2], sigmoid[0]], [end, start]
        ),
    }
    return curves[schedule]()


def tensor_schedule(schedule, step, total_steps, start=1.0, end=0.0):
    return tf.constant(make_schedule()(schedule, step, total_steps, start, end))


@pytest.mark.parametrize("function", [numpy_schedule, tensor_schedule])
def test_schedule_unusual_correct_answers_pass(function):
    assert_passes_unusual("6.2", function)


def test_schedule_stub_is_not_attempted():
    assert outcome("6.2", stub)[0] == "not_attempted"


def edited_schedule(**changes):
    """The reference schedule with one learner's edit."""

    def schedule_fn(schedule, step, total_steps, start=1.0, end=0.0):
        total = changes.get("total", total_steps) + changes.get("off_by", 0)
        progress = min(max(step / total, 0.0), 1.0)
        if schedule in changes:
            return changes[schedule](start, end, progress)
        value = make_schedule()(schedule, step, total, start, end)
        return value * changes.get("scale", 1.0)

    return schedule_fn


SCHEDULE_MISTAKES = {
    "reversed": (make_schedule(reverse=True), "runs backwards"),
    "not clipped": (make_schedule(clip=False), "not clipped"),
    "hard coded": (make_schedule(hard_coded=True), "ignores `start` and `end`"),
    "integer division": (make_schedule(integer=True), "integer division"),
    "raw sigmoid": (make_schedule(raw_sigmoid=True), "not rescaled"),
    "exponential base": (make_schedule(exponential_base_end=True), "only works when"),
    # not in the catalogue: diagnosed by the property that fails
    "a percentage": (edited_schedule(scale=100.0), "at step 0 should be `start`"),
    "linear misses end": (
        edited_schedule(linear=lambda a, b, p: a - b * p),
        "at step 100 should be `end`",
    ),
    "exponential decay to 1/e": (
        edited_schedule(exponential=lambda a, b, p: a * math.exp(-p)),
        "at step 100 should be `end`",
    ),
    "total_steps ignored": (
        edited_schedule(total=100),
        "at step 40 should be `end`",
    ),
    "off by one": (edited_schedule(off_by=-1), "does not follow the linear curve"),
    "constant gives end": (
        edited_schedule(constant=lambda a, b, p: b),
        "at step 0 should be `start`",
    ),
}


@pytest.mark.parametrize("label", sorted(SCHEDULE_MISTAKES))
def test_schedule_wrong_answers_are_diagnosed(label):
    assert_diagnosed("6.2", SCHEDULE_MISTAKES, label)


# --- Exercise 6.3: mix_tokens ---------------------------------------------------------


def inverted_mix(true_ids, predicted_ids, ratio, seed):
    coins = tf.random.stateless_uniform(tf.shape(true_ids), seed=seed)
    return tf.where(coins < ratio, predicted_ids, true_ids)


def one_coin_mix(true_ids, predicted_ids, ratio, seed):
    coin = tf.random.stateless_uniform([], seed=seed)
    return tf.where(coin < ratio, true_ids, predicted_ids)


def stateful_mix(true_ids, predicted_ids, ratio, seed):
    coins = tf.random.uniform(tf.shape(true_ids))
    return tf.where(coins < ratio, true_ids, predicted_ids)


def fixed_seed_mix(true_ids, predicted_ids, ratio, seed):
    return scheduled_sampling.mix_tokens(
        true_ids, predicted_ids, ratio, tf.constant([1, 2])
    )


def blended_mix(true_ids, predicted_ids, ratio, seed):
    mixed = ratio * tf.cast(true_ids, tf.float32) + (1 - ratio) * tf.cast(
        predicted_ids, tf.float32
    )
    return tf.cast(tf.round(mixed), tf.int32)


def blocked_mix(true_ids, predicted_ids, ratio, seed):
    position = tf.cast(tf.range(tf.size(true_ids)), tf.float32) / tf.cast(
        tf.size(true_ids), tf.float32
    )
    return tf.where(position < ratio, true_ids, predicted_ids)


def test_mix_reference_passes(capsys):
    assert outcome("6.3", scheduled_sampling.mix_tokens)[0] == "passed"
    checks.check_mix_tokens(scheduled_sampling.mix_tokens)
    assert "passed" in capsys.readouterr().out
    assert_round_trip("6.3", scheduled_sampling.mix_tokens)


def test_mix_stub_is_not_attempted():
    assert outcome("6.3", stub)[0] == "not_attempted"


def truncated_ratio_mix(true_ids, predicted_ids, ratio, seed):
    coins = tf.random.stateless_uniform(tf.shape(true_ids), seed=seed)
    threshold = tf.cast(tf.cast(ratio, true_ids.dtype), coins.dtype)  # 0.8 -> 0
    return tf.where(coins < threshold, true_ids, predicted_ids)


def first_entry_mix(true_ids, predicted_ids, ratio, seed):
    rng = np.random.default_rng(int(seed[0]))
    coins = rng.random(true_ids.shape[0])
    return np.where(coins < float(ratio), true_ids.numpy(), predicted_ids.numpy())


def summed_seed_mix(true_ids, predicted_ids, ratio, seed):
    rng = np.random.default_rng(int(seed[0] + seed[1]))
    coins = rng.random(true_ids.shape[0])
    return np.where(coins < float(ratio), true_ids.numpy(), predicted_ids.numpy())


def column_coins_mix(true_ids, predicted_ids, ratio, seed):
    coins = tf.random.stateless_uniform([tf.size(true_ids), 1], seed=seed)
    return tf.where(coins < ratio, true_ids, predicted_ids)  # (batch, batch)


def float_mix(true_ids, predicted_ids, ratio, seed):
    coins = tf.random.stateless_uniform(tf.shape(true_ids), seed=seed)
    as_float = [tf.cast(ids, tf.float32) for ids in (true_ids, predicted_ids)]
    return tf.where(coins < ratio, *as_float)


MIX_MISTAKES = {
    "inverted": (inverted_mix, "inverted"),
    "one coin": (one_coin_mix, "one coin for the whole batch"),
    "stateful": (stateful_mix, "not reproducible"),
    "fixed seed": (fixed_seed_mix, "ignores its `seed`"),
    "blend": (blended_mix, "neither the true token"),
    "blocks": (blocked_mix, "evenly"),
    # not in the catalogue: diagnosed by the property that fails
    "ratio truncated to an integer": (truncated_ratio_mix, "the same choice"),
    "second seed entry ignored": (first_entry_mix, "ignores the second entry"),
    "seed entries summed": (summed_seed_mix, "seeds (4, 7) and (3, 8) gave the same"),
    "a column of coins": (column_coins_mix, "It has 2 axes; expected 1 (batch)"),
    "float ids": (float_mix, "wrong dtype"),
}


@pytest.mark.parametrize("label", sorted(MIX_MISTAKES))
def test_mix_wrong_answers_are_diagnosed(label):
    assert_diagnosed("6.3", MIX_MISTAKES, label)


def numpy_mix(true_ids, predicted_ids, ratio, seed):
    rng = np.random.default_rng(np.asarray(seed).tolist())
    coins = rng.random(np.shape(true_ids))
    return np.where(
        coins < float(ratio), np.asarray(true_ids), np.asarray(predicted_ids)
    )


def loop_mix(true_ids, predicted_ids, ratio, seed):
    rng = np.random.default_rng(np.asarray(seed).tolist())
    pairs = zip(true_ids.numpy(), predicted_ids.numpy())
    return np.array([t if rng.random() < float(ratio) else p for t, p in pairs])


def binomial_mix(true_ids, predicted_ids, ratio, seed):
    use_true = tf.random.stateless_binomial(
        tf.shape(true_ids), seed, counts=1.0, probs=ratio, output_dtype=tf.int32
    )
    return tf.where(use_true == 1, true_ids, predicted_ids)


@pytest.mark.parametrize("function", [numpy_mix, loop_mix, binomial_mix])
def test_mix_unusual_correct_answers_pass(function):
    assert_passes_unusual("6.3", function)
