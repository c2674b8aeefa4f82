"""The checks of lesson 10 accept the reference, spot a stub and name known mistakes."""

import numpy as np
import pytest
import tensorflow as tf
from checktools import failure_message as _failure
from checktools import passing_message as _verdict
from checktools import stub as _stub

from s2s_helpers import audio, checks
from s2s_helpers.checks import framework


@pytest.mark.parametrize("exercise_id", ["10.1", "10.2", "10.3"])
def test_stub_is_not_attempted(exercise_id):
    observation = framework.observe(exercise_id, _stub)
    assert framework.outcome(exercise_id, observation)[0] == "not_attempted"


# --- 10.1 ------------------------------------------------------------------------


def test_downsample_mask_reference_passes():
    assert "passed" in _verdict("10.1", lambda mask, factor: mask[:, ::factor])
    as_tensor = lambda mask, factor: tf.constant(mask)[:, ::factor]  # noqa: E731
    assert "passed" in _verdict("10.1", as_tensor)


def _all_frames(mask, factor):
    batch, frames = mask.shape
    padded = np.zeros((batch, -(-frames // factor) * factor), bool)
    padded[:, :frames] = mask
    return padded.reshape(batch, -1, factor).all(-1)


@pytest.mark.parametrize(
    "wrong, expected",
    [
        (_all_frames, "partly filled last window"),
        (lambda mask, factor: mask[:, factor - 1 :: factor], "*last* frame"),
        (lambda mask, factor: mask[::factor], "batch axis"),
        (lambda mask, factor: mask[:, ::factor].sum(1), "lengths?"),
        (lambda mask, factor: mask[:, ::factor].astype(np.float32), "booleans"),
    ],
)
def test_downsample_mask_mistakes(wrong, expected):
    assert expected in _failure("10.1", wrong)


def test_downsample_mask_floor_is_named():
    def floor(mask, factor):
        frames = mask.shape[1]
        return mask[:, : frames // factor * factor : factor]

    assert "floor(frames / factor)" in _failure("10.1", floor)


# --- 10.2 ------------------------------------------------------------------------


def _log_mel(waveform, square=True, log=tf.math.log, epsilon=1e-6, edges=(80.0, 7600.0),
             rate=22050, frame_length=512, frame_step=256):  # fmt: skip
    stft = tf.signal.stft(waveform, frame_length, frame_step)
    power = tf.abs(stft) ** 2 if square else tf.abs(stft)
    weights = tf.signal.linear_to_mel_weight_matrix(80, stft.shape[-1], rate, *edges)
    mel = power @ weights
    return mel if log is None else log(mel + epsilon)


def test_log_mel_reference_passes():
    assert "passed" in _verdict("10.2", audio.log_mel_spectrogram)
    assert "passed" in _verdict("10.2", _log_mel)


@pytest.mark.parametrize(
    "wrong, expected",
    [
        (lambda w: _log_mel(w, square=False), "*magnitude*"),
        (lambda w: _log_mel(w, log=None), "missing the log"),
        (lambda w: _log_mel(w, epsilon=0.0), "log(0) = -inf"),
        (lambda w: _log_mel(w, log=lambda x: tf.math.log(x) / np.log(10.0)), "log10"),
        (lambda w: _log_mel(w, edges=(125.0, 3800.0)), "default edges"),
        (lambda w: _log_mel(w, rate=8000, edges=(125.0, 3800.0)), "(8000 Hz"),
        (lambda w: tf.transpose(_log_mel(w)), "transposed"),
    ],
)
def test_log_mel_mistakes(wrong, expected):
    assert expected in _failure("10.2", wrong)


def test_log_mel_swapped_frame_sizes_is_named():
    def swapped(waveform):
        stft = tf.signal.stft(waveform, 256, 512)
        weights = tf.signal.linear_to_mel_weight_matrix(
            80, stft.shape[-1], 22050, 80.0, 7600.0
        )
        return tf.math.log(tf.abs(stft) ** 2 @ weights + 1e-6)

    assert "swapped frame_length and frame_step" in _failure("10.2", swapped)


# --- 10.3 ------------------------------------------------------------------------


def _distance(a, b, substitution_cost=1):
    return checks.lesson10.edit_distance(a, b, substitution_cost)


def _cer(predictions, references):
    edits = sum(_distance(p, r) for p, r in zip(predictions, references))
    return edits / sum(len(r) for r in references)


def test_cer_reference_passes():
    assert "passed" in _verdict("10.3", _cer)


@pytest.mark.parametrize(
    "wrong, expected",
    [
        (
            lambda ps, rs: float(
                np.mean([_distance(p, r) / len(r) for p, r in zip(ps, rs)])
            ),
            "averages the CER of each sentence",
        ),
        (lambda ps, rs: _cer(rs, ps), "*predictions*"),
        (
            lambda ps, rs: (
                sum(_distance(p, r, 2) for p, r in zip(ps, rs)) / sum(map(len, rs))
            ),
            "substitution as 2 edits",
        ),
        (
            lambda ps, rs: (
                sum(
                    sum(x != y for x, y in zip(p, r)) + abs(len(p) - len(r))
                    for p, r in zip(ps, rs)
                )
                / sum(map(len, rs))
            ),
            "position by position",
        ),
        (
            lambda ps, rs: (
                sum(_distance(p.split(), r.split()) for p, r in zip(ps, rs))
                / sum(len(r.split()) for r in rs)
            ),
            "word error rate",
        ),
        (lambda ps, rs: 100 * _cer(ps, rs), "percentage"),
    ],
)
def test_cer_mistakes(wrong, expected):
    assert expected in _failure("10.3", wrong)


def test_cer_unknown_mistake_reports_values():
    message = _failure("10.3", lambda ps, rs: 0.5)
    assert "differs from the reference" in message
