import math

import numpy as np
import pytest
import tensorflow as tf

from s2s_helpers import scheduled_sampling


@pytest.mark.parametrize("schedule", ["linear", "exponential", "inverse_sigmoid"])
def test_schedules_hit_their_end_points_and_decrease(schedule):
    start, end, total = 1.0, 0.05, 1000
    values = [
        scheduled_sampling.teacher_forcing_ratio(schedule, s, total, start, end)
        for s in range(0, 1201, 50)
    ]
    assert values[0] == pytest.approx(start)
    assert scheduled_sampling.teacher_forcing_ratio(
        schedule, total, total, start, end
    ) == pytest.approx(end)
    assert values[-1] == pytest.approx(end)  # stays at the end point after total_steps
    assert all(a >= b - 1e-12 for a, b in zip(values, values[1:]))


def test_schedule_shapes_follow_bengio_et_al():
    total = 1000
    linear_mid = scheduled_sampling.teacher_forcing_ratio(
        "linear", 500, total, 1.0, 0.0
    )
    sigmoid_mid = scheduled_sampling.teacher_forcing_ratio(
        "inverse_sigmoid", 500, total, 1.0, 0.0
    )
    exp_mid = scheduled_sampling.teacher_forcing_ratio(
        "exponential", 500, total, 1.0, 0.01
    )
    assert linear_mid == pytest.approx(0.5)
    assert exp_mid == pytest.approx(0.1)  # geometric mean of the end points
    assert 0.35 < sigmoid_mid < 0.65  # the midpoint sits at half way
    assert (
        scheduled_sampling.teacher_forcing_ratio(
            "inverse_sigmoid", 100, total, 1.0, 0.0
        )
        > 0.9
    )  # slow start


def test_schedule_errors():
    with pytest.raises(ValueError, match="schedule must be one of"):
        scheduled_sampling.teacher_forcing_ratio("cosine", 0, 10)
    with pytest.raises(ValueError, match="end > 0"):
        scheduled_sampling.teacher_forcing_ratio("exponential", 0, 10, 1.0, 0.0)
    with pytest.raises(ValueError, match="positive"):
        scheduled_sampling.teacher_forcing_ratio("linear", 0, 0)


def test_mix_tokens_ratio_end_points_and_frequency():
    true = tf.fill([10000], 7)
    predicted = tf.fill([10000], 9)
    seed = tf.constant([3, 4])
    assert (
        scheduled_sampling.mix_tokens(true, predicted, 1.0, seed).numpy() == 7
    ).all()
    assert (
        scheduled_sampling.mix_tokens(true, predicted, 0.0, seed).numpy() == 9
    ).all()
    mixed = scheduled_sampling.mix_tokens(true, predicted, 0.3, seed).numpy()
    assert abs((mixed == 7).mean() - 0.3) < 0.02  # per position, not one coin for all
    np.testing.assert_array_equal(
        mixed, scheduled_sampling.mix_tokens(true, predicted, 0.3, seed).numpy()
    )


@pytest.mark.parametrize("total_steps", [10, 1000, 50_000])
def test_inverse_sigmoid_k_puts_the_midpoint_at_half_the_steps(total_steps):
    k = scheduled_sampling.inverse_sigmoid_k(total_steps)
    assert k > 1.0
    assert k * math.log(k) == pytest.approx(total_steps / 2, rel=1e-9)


def test_always_teacher_forced_only_when_the_ratio_stays_one():
    assert scheduled_sampling.always_teacher_forced("constant", 1.0, 0.0)
    assert scheduled_sampling.always_teacher_forced("linear", 1.0, 1.0)
    assert not scheduled_sampling.always_teacher_forced("linear", 1.0, 0.5)
    assert not scheduled_sampling.always_teacher_forced("constant", 0.9, 1.0)
    for schedule in scheduled_sampling.SCHEDULES:  # against the schedule itself
        for start, end in ((1.0, 1.0), (1.0, 0.5), (0.5, 1.0)):
            ratios = [
                scheduled_sampling.teacher_forcing_ratio(schedule, s, 10, start, end)
                for s in range(11)
            ]
            assert scheduled_sampling.always_teacher_forced(
                schedule, start, end
            ) == all(r >= 1.0 for r in ratios), (schedule, start, end)


@pytest.fixture
def model_and_batch(tiny_model, src_ids):
    tgt_in = np.array([[2, 4, 5, 6], [2, 7, 8, 0]], np.int32)
    return tiny_model, (src_ids, tgt_in)


def test_ratio_one_is_the_teacher_forced_call(model_and_batch):
    model, inputs = model_and_batch
    forced, forced_weights = model.call_with_attention(inputs)
    logits, weights = scheduled_sampling.unroll(
        model, inputs, tf.constant(1.0), tf.constant([1, 2])
    )
    np.testing.assert_allclose(logits.numpy(), forced.numpy(), atol=1e-6)
    np.testing.assert_allclose(weights.numpy(), forced_weights.numpy(), atol=1e-6)


def test_ratio_zero_feeds_the_previous_argmax(model_and_batch):
    model, (src_ids, tgt_in) = model_and_batch
    logits, _ = scheduled_sampling.unroll(
        model, (src_ids, tgt_in), tf.constant(0.0), tf.constant([1, 2])
    )
    values, state, keys, mask = model.encode(src_ids)
    token, expected = tgt_in[:, 0], []  # an independent greedy loop from [START]
    for _ in range(tgt_in.shape[1]):
        step_logits, state, _ = model.decode_step(token, state, values, keys, mask)
        expected.append(step_logits.numpy())
        token = np.argmax(step_logits.numpy(), axis=-1).astype(np.int32)
    np.testing.assert_allclose(logits.numpy(), np.stack(expected, 1), atol=1e-5)


def test_a_seed_gives_the_same_mix_and_step_0_is_always_start(model_and_batch):
    model, inputs = model_and_batch
    seed = tf.constant([5, 6])
    runs = [
        scheduled_sampling.unroll(model, inputs, 0.5, seed, "sample")[0].numpy()
        for _ in range(2)
    ]
    np.testing.assert_array_equal(runs[0], runs[1])
    forced = model(inputs).numpy()
    np.testing.assert_allclose(runs[0][:, 0], forced[:, 0], atol=1e-6)
    with pytest.raises(ValueError, match="sampling must be one of"):
        scheduled_sampling.unroll(model, inputs, 0.5, seed, "beam")


def test_choose_tokens_and_step_seeds():
    logits = tf.constant([[0.0, 5.0, 1.0], [3.0, 0.0, 0.0]])
    chosen = scheduled_sampling.choose_tokens(logits, "argmax", None, 1)
    np.testing.assert_array_equal(chosen.numpy(), [1, 0])
    seeds = [
        scheduled_sampling.step_seed(tf.constant([4, 9]), t).numpy() for t in (0, 3)
    ]
    np.testing.assert_array_equal(seeds, [[4, 9], [4, 12]])
    wide = tf.zeros([4000, 2])  # two equally likely tokens: about half each
    drawn = scheduled_sampling.choose_tokens(wide, "sample", tf.constant([1, 1]), 2)
    assert abs(float(tf.reduce_mean(tf.cast(drawn, tf.float32))) - 0.5) < 0.05
    with pytest.raises(ValueError, match="sampling must be one of"):
        scheduled_sampling.choose_tokens(logits, "beam", None, 1)
