"""Scheduled sampling: feed the decoder its own tokens some of the time.

Teacher forcing feeds the decoder the *true* previous token. At inference it
only ever sees its own predictions (exposure bias). Scheduled sampling
(Bengio et al. 2015) feeds, position by position, the true token with
probability ``teacher_forcing_ratio`` and the model's own token otherwise, and
lowers that ratio during training by a schedule:

    linear:           start + (end - start) * step / total_steps
    exponential:      start * (end / start) ** (step / total_steps)
    inverse sigmoid:  k / (k + exp(i / k)), rescaled to run from start to end

The unroll here is the decoder's teacher-forced loop with one change: after
the first step, the token fed is ``mix_tokens(true, own, ratio, seed)``. It is
built on the model's public ``encode`` and ``decode_step``; the decoder layer
itself holds no training policy.

Seed bug 10: the classic tutorial only named scheduled sampling.

Taught in: lessons/06_teacher_forcing.ipynb
"""

from __future__ import annotations

import math

import tensorflow as tf

SCHEDULES = ("constant", "linear", "exponential", "inverse_sigmoid")
SAMPLING = ("argmax", "sample")


def teacher_forcing_ratio(
    schedule: str, step: int, total_steps: int, start: float = 1.0, end: float = 0.0
) -> float:
    """The probability of feeding the true token at training ``step``.

    Every schedule equals ``start`` at step 0 and ``end`` at ``total_steps``
    (and stays there after). "exponential" needs ``end > 0``.
    """
    if schedule not in SCHEDULES:
        raise ValueError(f"schedule must be one of {SCHEDULES}, received {schedule!r}")
    if total_steps <= 0:
        raise ValueError(f"total_steps must be positive, received {total_steps}")
    progress = min(max(step / total_steps, 0.0), 1.0)
    if schedule == "constant":
        return float(start)
    if schedule == "linear":
        return float(start + (end - start) * progress)
    if schedule == "exponential":
        if end <= 0 or start <= 0:
            raise ValueError("the exponential schedule needs start > 0 and end > 0")
        return float(start * (end / start) ** progress)
    k = inverse_sigmoid_k(total_steps)
    first, last = k / (k + 1.0), k / (k + math.exp(total_steps / k))
    value = k / (k + math.exp(progress * total_steps / k))
    return float(end + (start - end) * (value - last) / (first - last))


def inverse_sigmoid_k(total_steps: int) -> float:
    """The inverse sigmoid's ``k``: its midpoint ``k ln k`` falls at ``total_steps / 2``.

    Found with a few Newton steps on ``k ln k - total_steps / 2``.

    Args:
        total_steps: the step at which the schedule reaches its ``end``.

    Returns:
        k, a float > 1.
    """
    k = max(2.0, total_steps / 4)
    for _ in range(50):
        k -= (k * math.log(k) - total_steps / 2) / (math.log(k) + 1)
        k = max(k, 1.0 + 1e-6)
    return k


def always_teacher_forced(schedule: str, start: float, end: float) -> bool:
    """True when the schedule's ratio is 1.0 at every step: plain teacher forcing.

    Then no token is ever mixed, and a train step needs no coin, argmax or
    select at all.
    """
    return start >= 1.0 and (schedule == "constant" or end >= 1.0)


def mix_tokens(true_ids, predicted_ids, ratio, seed):
    """Per position, keep the true token with probability ``ratio``, else the prediction.

    Args:
        true_ids: int `(batch,)` the true previous tokens.
        predicted_ids: int `(batch,)` the model's previous tokens.
        ratio: scalar in [0, 1] (1.0 is teacher forcing, 0.0 always sampled).
        seed: int `(2,)` stateless seed: the same seed gives the same coins.

    Returns:
        int `(batch,)` the tokens to feed.
    """
    coins = tf.random.stateless_uniform(tf.shape(true_ids), seed=seed)  # (batch,)
    use_true = coins < tf.cast(ratio, coins.dtype)
    return tf.where(use_true, true_ids, tf.cast(predicted_ids, true_ids.dtype))


def step_seed(seed, t):
    """A distinct stateless seed per step: ``seed + (0, t)``.

    Args:
        seed: int `(2,)` the run's seed; ``None`` is ``(0, 0)``.
        t: the decoder step (a Python int or a scalar tensor).

    Returns:
        int32 `(2,)`.
    """
    if seed is None:
        seed = tf.constant([0, 0], tf.int32)
    return tf.cast(seed, tf.int32) + tf.constant([0, 1], tf.int32) * t


def choose_tokens(logits, sampling, seed, t):
    """The model's own tokens from one step's logits (no gradient flows back).

    Args:
        logits: `(batch, vocab)` of the previous step.
        sampling: "argmax" (the most likely token) or "sample" (drawn from the
            softmax, with a seed of its own derived from ``seed`` and ``t``).
        seed: int `(2,)` the run's seed.
        t: the decoder step.

    Returns:
        int32 `(batch,)`.
    """
    logits = tf.stop_gradient(logits)
    if sampling == "argmax":
        return tf.argmax(logits, axis=-1, output_type=tf.int32)
    if sampling == "sample":
        sample_seed = step_seed(seed, t) + tf.constant([1, 0], tf.int32)
        drawn = tf.random.stateless_categorical(logits, 1, sample_seed, dtype=tf.int32)
        return drawn[:, 0]
    raise ValueError(f"sampling must be one of {SAMPLING}, received {sampling!r}")


def unroll(model, inputs, ratio, seed, sampling: str = "argmax", training=None):
    """The decoder's unroll with scheduled sampling, for a whole batch.

    Step 0 is fed ``[START]``; step t > 0 the true ``tgt_in_ids[:, t]`` with
    probability ``ratio``, else the model's own token from step t - 1
    (``choose_tokens``), one coin per position (``mix_tokens``).

    Args:
        model: an encoder-decoder with ``encode`` and ``decode_step``
            (``seq2seq.Seq2Seq``, ``speech.SpeechRecognizer``).
        inputs: ``(source, tgt_in_ids)``; ``tgt_in_ids`` int `(batch, tgt_len)`
            with a known ``tgt_len``.
        ratio: scalar, the probability of feeding the true token.
        seed: int `(2,)`, the stateless seed of the coins (and of "sample").
        sampling: "argmax" or "sample": how the model's own token is chosen.
        training: passed to the encoder and to every step (dropout).

    Returns:
        logits `(batch, tgt_len, vocab)` and weights `(batch, tgt_len, src_len)`.
    """
    source, tgt_in_ids = inputs
    if sampling not in SAMPLING:
        raise ValueError(f"sampling must be one of {SAMPLING}, received {sampling!r}")
    values, state, keys, mask = model.encode(source, training=training)
    all_logits, all_weights = [], []
    token_ids = tgt_in_ids[:, 0]  # [START]
    for t in range(tgt_in_ids.shape[1]):
        if t > 0:
            own = choose_tokens(all_logits[-1], sampling, seed, t)
            token_ids = mix_tokens(tgt_in_ids[:, t], own, ratio, step_seed(seed, t))
        logits, state, weights = model.decode_step(
            token_ids, state, values, keys, mask, training=training
        )
        all_logits.append(logits)  # (batch, vocab)
        all_weights.append(weights)  # (batch, src_len)
    return tf.stack(all_logits, axis=1), tf.stack(all_weights, axis=1)
