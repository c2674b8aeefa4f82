"""Lesson 06's checks: the reference passes, the stub is not attempted, and each
known mistake fails with its own message (also after a JSON round trip)."""

import math

import keras
import numpy as np
import pytest
import tensorflow as tf

from s2s_helpers import checks, losses, training
from s2s_helpers.checks import framework


def outcome(exercise_id, function):
    return framework.outcome(exercise_id, framework.observe(exercise_id, function))


def stub(*args):
    raise NotImplementedError()


def assert_round_trip_judges_the_same(exercise_id, function):
    observation = framework.observe(exercise_id, function)
    again = checks.loads_observation(checks.dumps_observation(observation))
    assert framework.outcome(exercise_id, again) == framework.outcome(
        exercise_id, observation
    )


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
):
    def train_step(model, optimizer, src_ids, tgt_in_ids, tgt_out_ids):
        ids = {"in": tgt_in_ids, "out": tgt_out_ids}
        variables = (
            model.decoder.trainable_variables
            if decoder_only
            else model.trainable_variables
        )
        if tape_outside:
            logits = model((src_ids, ids[decoder_inputs]), training=True)
        with tf.GradientTape() as tape:
            if not tape_outside:
                logits = model((src_ids, ids[decoder_inputs]), training=True)
            loss = loss_fn(ids[labels], logits)
        gradients = tape.gradient(loss, variables)
        if apply:
            for _ in range(times):
                if manual_rate is not None:
                    for v, g in zip(variables, gradients):
                        v.assign_sub(manual_rate * tf.convert_to_tensor(g))
                else:
                    if sign != 1.0:
                        gradients = [sign * tf.convert_to_tensor(g) for g in gradients]
                    optimizer.apply_gradients(zip(gradients, variables))
        return loss

    return train_step


def unmasked_loss(labels, logits):
    return keras.losses.SparseCategoricalCrossentropy(from_logits=True)(labels, logits)


def test_train_step_reference_passes(capsys):
    reference = make_train_step()
    assert outcome("6.1", reference)[0] == "passed"
    assert outcome("6.1", tf.function(reference))[0] == "passed"
    checks.check_train_step(reference)
    assert "passed" in capsys.readouterr().out
    assert_round_trip_judges_the_same("6.1", reference)


def test_train_step_stub_is_not_attempted():
    assert outcome("6.1", stub)[0] == "not_attempted"


TRAIN_STEP_MISTAKES = {
    "not applied": (make_train_step(apply=False), "never applied"),
    "wrong sign": (make_train_step(sign=-1.0), "wrong sign"),
    "not masked": (make_train_step(loss_fn=unmasked_loss), "not masked"),
    "padded mean": (
        make_train_step(loss_fn=losses.padded_mean_loss),
        "averaged over every",
    ),
    "tape outside": (make_train_step(tape_outside=True), "inside"),
    "labels not shifted": (make_train_step(labels="in"), "not shifted"),
    "decoder sees answer": (make_train_step(decoder_inputs="out"), "sees the token"),
    "applied twice": (make_train_step(times=2), "applied twice"),
    "manual rate": (make_train_step(manual_rate=0.1), "optimizer's step"),
    "decoder only": (make_train_step(decoder_only=True), "encoder *and* decoder"),
    "returns None": (lambda *args: make_train_step()(*args) and None, "returned None"),
}


@pytest.mark.parametrize("name", sorted(TRAIN_STEP_MISTAKES))
def test_train_step_known_mistakes_are_named(name):
    function, expected_text = TRAIN_STEP_MISTAKES[name]
    status, message = outcome("6.1", function)
    assert status == "failed", message
    assert expected_text in message


def test_train_step_mistake_survives_round_trip():
    assert_round_trip_judges_the_same("6.1", make_train_step(loss_fn=unmasked_loss))


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
        k = training._inverse_sigmoid_k(total_steps)
        value = k / (k + math.exp(progress * total_steps / k))
        if raw_sigmoid:
            return value
        first, last = k / (k + 1.0), k / (k + math.exp(total_steps / k))
        return end + (start - end) * (value - last) / (first - last)

    return schedule_fn


def test_schedule_reference_passes(capsys):
    assert outcome("6.2", training.teacher_forcing_ratio)[0] == "passed"
    assert outcome("6.2", make_schedule())[0] == "passed"
    checks.check_teacher_forcing_ratio(make_schedule())
    assert "passed" in capsys.readouterr().out
    assert_round_trip_judges_the_same("6.2", make_schedule())


def test_schedule_stub_is_not_attempted():
    assert outcome("6.2", stub)[0] == "not_attempted"


SCHEDULE_MISTAKES = {
    "reversed": (make_schedule(reverse=True), "runs backwards"),
    "not clipped": (make_schedule(clip=False), "not clipped"),
    "hard coded": (make_schedule(hard_coded=True), "ignores `start` and `end`"),
    "integer division": (make_schedule(integer=True), "integer division"),
    "raw sigmoid": (make_schedule(raw_sigmoid=True), "not rescaled"),
    "exponential base": (make_schedule(exponential_base_end=True), "only works when"),
}


@pytest.mark.parametrize("name", sorted(SCHEDULE_MISTAKES))
def test_schedule_known_mistakes_are_named(name):
    function, expected_text = SCHEDULE_MISTAKES[name]
    status, message = outcome("6.2", function)
    assert status == "failed", message
    assert expected_text in message


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
    return training.mix_tokens(true_ids, predicted_ids, ratio, tf.constant([1, 2]))


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
    assert outcome("6.3", training.mix_tokens)[0] == "passed"
    checks.check_mix_tokens(training.mix_tokens)
    assert "passed" in capsys.readouterr().out
    assert_round_trip_judges_the_same("6.3", training.mix_tokens)


def test_mix_stub_is_not_attempted():
    assert outcome("6.3", stub)[0] == "not_attempted"


MIX_MISTAKES = {
    "inverted": (inverted_mix, "inverted"),
    "one coin": (one_coin_mix, "one coin for the whole batch"),
    "stateful": (stateful_mix, "not reproducible"),
    "fixed seed": (fixed_seed_mix, "ignores its `seed`"),
    "blend": (blended_mix, "neither the true token"),
    "blocks": (blocked_mix, "evenly"),
}


@pytest.mark.parametrize("name", sorted(MIX_MISTAKES))
def test_mix_known_mistakes_are_named(name):
    function, expected_text = MIX_MISTAKES[name]
    status, message = outcome("6.3", function)
    assert status == "failed", message
    assert expected_text in message


def test_mix_numpy_version_passes():
    def numpy_mix(true_ids, predicted_ids, ratio, seed):
        rng = np.random.default_rng(np.asarray(seed).tolist())
        coins = rng.random(np.shape(true_ids))
        return np.where(
            coins < float(ratio), np.asarray(true_ids), np.asarray(predicted_ids)
        )

    assert outcome("6.3", numpy_mix)[0] == "passed"
