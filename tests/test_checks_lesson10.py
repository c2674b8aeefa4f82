"""The checks of lesson 10 accept the reference and unusual correct answers, spot
a stub, and diagnose every wrong answer below by what it gets wrong."""

import functools

import keras
import numpy as np
import pytest
import tensorflow as tf
from checktools import assert_diagnosed, assert_passes_unusual
from checktools import passing_message as _verdict
from checktools import stub as _stub

from s2s_helpers import audio, checks, metrics
from s2s_helpers.checks import framework

LESSON_10 = ["10.1", "10.2", "10.3"]


@pytest.mark.parametrize("exercise_id", LESSON_10)
def test_stub_is_not_attempted(exercise_id):
    observation = framework.observe(exercise_id, _stub)
    assert framework.outcome(exercise_id, observation)[0] == "not_attempted"


@pytest.mark.parametrize("exercise_id", LESSON_10)
def test_hints_come_in_levels(exercise_id):
    hints = framework.get(exercise_id).hints
    assert len(hints) >= 2 and len(set(hints)) == len(hints)


# --- 10.1 ------------------------------------------------------------------------


def test_downsample_mask_reference_passes():
    assert "passed" in _verdict("10.1", lambda mask, factor: mask[:, ::factor])


def _from_lengths(mask, factor):
    lengths = tf.reduce_sum(tf.cast(mask, tf.int32), axis=1)
    enc_frames = -(-mask.shape[1] // factor)
    return tf.sequence_mask((lengths + factor - 1) // factor, enc_frames)


def _any_in_window(mask, factor):
    batch, frames = mask.shape
    padded = np.zeros((batch, -(-frames // factor) * factor), bool)
    padded[:, :frames] = mask
    return padded.reshape(batch, -1, factor).any(axis=-1)


def _loop(mask, factor):
    return np.array([[row[i] for i in range(0, len(row), factor)] for row in mask])


@pytest.mark.parametrize(
    "function",
    [
        lambda mask, factor: tf.constant(mask)[:, ::factor],
        _from_lengths,
        _any_in_window,
        _loop,
        tf.function(lambda mask, factor: tf.strided_slice(mask, [0, 0], mask.shape, [1, factor])),
    ],
)  # fmt: skip
def test_downsample_mask_unusual_correct_answers_pass(function):
    assert_passes_unusual("10.1", function)


def _all_frames(mask, factor):
    batch, frames = mask.shape
    padded = np.zeros((batch, -(-frames // factor) * factor), bool)
    padded[:, :frames] = mask
    return padded.reshape(batch, -1, factor).all(-1)


def _floor(mask, factor):
    frames = mask.shape[1]
    return mask[:, : frames // factor * factor : factor]


def _sequence_mask_without_length(mask, factor):
    lengths = np.sum(mask, axis=1)
    return tf.sequence_mask(-(-lengths // factor))


def _ceil_off_by_one(mask, factor):
    lengths = np.sum(mask, axis=1)
    return tf.sequence_mask((lengths + factor) // factor, -(-mask.shape[1] // factor))


MASK_MISTAKES = {
    # the named catalogue
    "every frame real": (_all_frames, "partly filled window"),
    "last frame": (lambda mask, factor: mask[:, factor - 1 :: factor], "*last* frame"),
    "batch axis": (lambda mask, factor: mask[::factor], "batch axis"),
    "lengths": (lambda mask, f: mask[:, ::f].sum(1), "one number per example"),
    "floats": (lambda mask, f: mask[:, ::f].astype(np.float32), "booleans"),
    "floor": (_floor, "floor(frames / factor)"),
    # not in the catalogue: diagnosed by what a correct answer must do
    "inverted": (lambda mask, f: ~mask[:, ::f], "position 0 of row 0"),
    "starts at frame 1": (lambda mask, f: mask[:, 1::f], "position 0 of row 3"),
    "transposed": (lambda mask, f: mask[:, ::f].T, "transposed"),
    "factor 4 always": (lambda mask, f: mask[:, ::4], "enc_frames is 3, expected 5"),
    "no maxlen": (_sequence_mask_without_length, "enc_frames is 2, expected 4"),
    "ceil off by one": (_ceil_off_by_one, "has 3 real positions"),
    "gaps": (lambda mask, f: mask[:, ::f] & (np.arange(-(-mask.shape[1] // f)) != 1),
             "True after False"),
}  # fmt: skip


@pytest.mark.parametrize("label", sorted(MASK_MISTAKES))
def test_downsample_mask_mistakes_are_diagnosed(label):
    assert_diagnosed("10.1", MASK_MISTAKES, label)


def test_downsample_mask_cases_keep_axes_apart():
    for frames, factor, lengths in checks.lesson10.MASK_CASES:
        sizes = {len(lengths), frames, -(-frames // factor)}
        assert len(sizes) == 3, (frames, factor, lengths)


# --- 10.2 ------------------------------------------------------------------------


def _log_mel(waveform, square=True, log=tf.math.log, epsilon=1e-6, edges=(80.0, 7600.0),
             rate=22050, frame_length=512, frame_step=256, mels=80):  # fmt: skip
    stft = tf.signal.stft(waveform, frame_length, frame_step)
    power = tf.abs(stft) ** 2 if square else tf.abs(stft)
    weights = tf.signal.linear_to_mel_weight_matrix(mels, stft.shape[-1], rate, *edges)
    mel = power @ weights
    return mel if log is None else log(mel + epsilon)


def test_log_mel_reference_passes():
    assert "passed" in _verdict("10.2", audio.log_mel_spectrogram)
    assert "passed" in _verdict("10.2", _log_mel)


def _with_numpy(waveform):
    stft = tf.signal.stft(waveform, 512, 256).numpy()
    weights = tf.signal.linear_to_mel_weight_matrix(80, 257, 22050, 80.0, 7600.0)
    return np.log((stft.real**2 + stft.imag**2) @ weights.numpy() + 1e-6)


@tf.function
def _as_tf_function(waveform):
    stft = tf.signal.stft(waveform, frame_length=512, frame_step=256)
    power = tf.math.real(stft * tf.math.conj(stft))
    weights = tf.signal.linear_to_mel_weight_matrix(80, 257, 22050, 80.0, 7600.0)
    return tf.math.log(tf.einsum("fb,bm->fm", power, weights) + 1e-6)


def _with_keras_ops(waveform):
    stft = tf.signal.stft(waveform, 512, 256)
    weights = tf.signal.linear_to_mel_weight_matrix(80, 257, 22050, 80.0, 7600.0)
    power = keras.ops.square(keras.ops.abs(stft))
    return keras.ops.log(keras.ops.matmul(power, weights) + 1e-6)


@pytest.mark.parametrize("function", [_with_numpy, _as_tf_function, _with_keras_ops])
def test_log_mel_unusual_correct_answers_pass(function):
    assert_passes_unusual("10.2", function)


def _swapped(waveform):
    return _log_mel(waveform, frame_length=256, frame_step=512)


def _filters_first(waveform):
    stft = tf.signal.stft(waveform, 512, 256)
    weights = tf.signal.linear_to_mel_weight_matrix(80, 257, 22050, 80.0, 7600.0)
    return tf.math.log(weights @ tf.abs(stft) ** 2 + 1e-6)


def _log_before_mel(waveform):
    stft = tf.signal.stft(waveform, 512, 256)
    weights = tf.signal.linear_to_mel_weight_matrix(80, 257, 22050, 80.0, 7600.0)
    return tf.math.log(tf.abs(stft) ** 2 + 1e-6) @ weights


LOG_MEL_MISTAKES = {
    # the named catalogue
    "magnitude": (lambda w: _log_mel(w, square=False), "*magnitude*"),
    "no log": (lambda w: _log_mel(w, log=None), "missing the log"),
    "no epsilon": (lambda w: _log_mel(w, epsilon=0.0), "log(0) = -inf"),
    "log10": (lambda w: _log_mel(w, log=lambda x: tf.math.log(x) / np.log(10.0)),
              "base-10 log"),
    "default edges": (lambda w: _log_mel(w, edges=(125.0, 3800.0)), "default edges"),
    "all defaults": (lambda w: _log_mel(w, rate=8000, edges=(125.0, 3800.0)),
                     "(8000 Hz"),
    "transposed": (lambda w: tf.transpose(_log_mel(w)), "transposed"),
    "swapped frame sizes": (_swapped, "frame_length and frame_step are swapped"),
    # not in the catalogue: diagnosed by what a correct answer must do
    "epsilon 1e-10": (lambda w: _log_mel(w, epsilon=1e-10), "are -23.03 in every"),
    "log1p": (lambda w: _log_mel(w, log=tf.math.log1p, epsilon=0.0),
              "are 0 in every mel band"),
    "log before the filters": (_log_before_mel, "differ between mel bands"),
    "hop of 500": (lambda w: _log_mel(w, frame_step=500), "frames is 22, expected 42"),
    "filters first": (_filters_first, "(257, 80) (bins, mels) and (42, 257) (frames, bins)"),
    "hop of 128": (lambda w: _log_mel(w, frame_step=128), "frames is 83, expected 42"),
    "128 bands": (lambda w: _log_mel(w, mels=128), "mels is 128, expected 80"),
    "a batch axis": (lambda w: _log_mel(w[None]), "It has 3 axes; expected 2"),
    "16 kHz filter bank": (lambda w: _log_mel(w, rate=16000), "loudest in mel band 8"),
}  # fmt: skip


@pytest.mark.parametrize("label", sorted(LOG_MEL_MISTAKES))
def test_log_mel_mistakes_are_diagnosed(label):
    assert_diagnosed("10.2", LOG_MEL_MISTAKES, label)


# --- 10.3 ------------------------------------------------------------------------


def _distance(a, b, substitution_cost=1):
    return checks.lesson10.edit_distance(a, b, substitution_cost)


def _cer(predictions, references):
    edits = sum(_distance(p, r) for p, r in zip(predictions, references))
    return edits / sum(len(r) for r in references)


def test_cer_reference_passes():
    assert "passed" in _verdict("10.3", _cer)
    assert "passed" in _verdict("10.3", metrics.character_error_rate)


def test_cer_hand_counted_cases_agree_with_jiwer():
    for ps, rs, wanted, _ in checks.lesson10.CER_PROPERTIES:
        assert metrics.character_error_rate(ps, rs) == pytest.approx(wanted)


def _memoised_recursion(predictions, references):
    def distance(a, b):
        @functools.cache
        def d(i, j):  # distance between a[:i] and b[:j]
            if i == 0 or j == 0:
                return i + j
            return min(d(i - 1, j) + 1, d(i, j - 1) + 1,
                       d(i - 1, j - 1) + (a[i - 1] != b[j - 1]))  # fmt: skip

        return d(len(a), len(b))

    edits = sum(distance(p, r) for p, r in zip(predictions, references))
    return edits / sum(map(len, references))


def _numpy_table(predictions, references):
    edits = 0
    for a, b in zip(predictions, references):
        table = np.zeros((len(a) + 1, len(b) + 1), np.int64)
        table[:, 0], table[0, :] = np.arange(len(a) + 1), np.arange(len(b) + 1)
        for i in range(1, len(a) + 1):
            for j in range(1, len(b) + 1):
                table[i, j] = min(table[i - 1, j] + 1, table[i, j - 1] + 1,
                                  table[i - 1, j - 1] + (a[i - 1] != b[j - 1]))  # fmt: skip
        edits += table[-1, -1]
    return np.float64(edits) / np.sum([len(r) for r in references])


@pytest.mark.parametrize("function", [_memoised_recursion, _numpy_table])
def test_cer_unusual_correct_answers_pass(function):
    assert_passes_unusual("10.3", function)


def _zero_first_row(predictions, references):
    def distance(a, b):
        previous = [0] * (len(b) + 1)
        for i, x in enumerate(a, start=1):
            current = [i]
            for j, y in enumerate(b, start=1):
                current.append(min(previous[j] + 1, current[j - 1] + 1,
                                   previous[j - 1] + (x != y)))  # fmt: skip
            previous = current
        return previous[-1]

    edits = sum(distance(p, r) for p, r in zip(predictions, references))
    return edits / sum(len(r) for r in references)


def _zero_first_column(predictions, references):
    def distance(a, b):
        previous = list(range(len(b) + 1))
        for x in a:
            current = [0]
            for j, y in enumerate(b, start=1):
                current.append(min(previous[j] + 1, current[j - 1] + 1,
                                   previous[j - 1] + (x != y)))  # fmt: skip
            previous = current
        return previous[-1]

    edits = sum(distance(p, r) for p, r in zip(predictions, references))
    return edits / sum(len(r) for r in references)


def _no_spaces(predictions, references):
    return _cer([p.replace(" ", "") for p in predictions],
                [r.replace(" ", "") for r in references])  # fmt: skip


def _longer_side(predictions, references):
    edits = sum(_distance(p, r) for p, r in zip(predictions, references))
    return edits / sum(max(len(p), len(r)) for p, r in zip(predictions, references))


CER_MISTAKES = {
    # the named catalogue
    "per sentence": (
        lambda ps, rs: float(np.mean([_distance(p, r) / len(r) for p, r in zip(ps, rs)])),
        "averages the CER of each sentence"),
    "predictions' characters": (lambda ps, rs: _cer(rs, ps), "*predictions*"),
    "substitution costs 2": (
        lambda ps, rs: sum(_distance(p, r, 2) for p, r in zip(ps, rs)) / sum(map(len, rs)),
        "substitution as 2 edits"),
    "position by position": (
        lambda ps, rs: sum(sum(x != y for x, y in zip(p, r)) + abs(len(p) - len(r))
                           for p, r in zip(ps, rs)) / sum(map(len, rs)),
        "position by position"),
    "word error rate": (
        lambda ps, rs: sum(_distance(p.split(), r.split()) for p, r in zip(ps, rs))
        / sum(len(r.split()) for r in rs),
        "word error rate"),
    "percentage": (lambda ps, rs: 100 * _cer(ps, rs), "percentage"),
    # not in the catalogue: diagnosed by what a correct answer must do
    "a constant": (lambda ps, rs: 0.5, "a perfect transcript has no edit"),
    "first row of zeros": (_zero_first_row, "one deleted character, the first"),
    "first column of zeros": (_zero_first_column, "one inserted character"),
    "spaces ignored": (_no_spaces, "spaces are characters too"),
    "clipped at 1": (lambda ps, rs: min(1.0, _cer(ps, rs)), "CER can exceed 1"),
    "longer side": (_longer_side, "one inserted character"),
    "per sentence count": (
        lambda ps, rs: sum(_distance(p, r) for p, r in zip(ps, rs)) / len(rs),
        "one substituted character"),
    "position, no tail": (
        lambda ps, rs: sum(sum(x != y for x, y in zip(p, r)) for p, r in zip(ps, rs))
        / sum(map(len, rs)),
        "one deleted character, the first"),
    "edits and characters": (
        lambda ps, rs: (sum(_distance(p, r) for p, r in zip(ps, rs)), sum(map(len, rs))),
        "returned 2 numbers"),
}  # fmt: skip


@pytest.mark.parametrize("label", sorted(CER_MISTAKES))
def test_cer_mistakes_are_diagnosed(label):
    assert_diagnosed("10.3", CER_MISTAKES, label)


def test_cer_catalogue_needs_every_input_to_match():
    # Right on every hand-counted case but averaging on the two-sentence sets:
    # not the whole catalogued mistake, so it gets the values, not its name.
    def averages_only_long_sets(ps, rs):
        if len(ps) == 5:
            return float(np.mean([_distance(p, r) / len(r) for p, r in zip(ps, rs)]))
        return _cer(ps, rs)

    status, message = framework.outcome(
        "10.3", framework.observe("10.3", averages_only_long_sets)
    )
    assert status == "failed"
    assert "averages" not in message and "on 5 sentences" in message
