"""Checks for lesson 10 (speech): downsampled masks, log-mel features, CER.

* 10.1 ``downsample_mask(mask, factor)``: the encoder's mask after its strided
  convolutions, shape `(batch, ceil(frames / factor))`.
* 10.2 ``log_mel_spectrogram(waveform)``: STFT power, mel filter bank, log;
  compared with ``audio.log_mel_spectrogram`` on a tone followed by silence.
* 10.3 ``character_error_rate(predictions, references)``: edit distance by hand,
  compared with jiwer (``metrics.character_error_rate``).

Taught in: lessons/10_speech.ipynb
"""

from __future__ import annotations

import numpy as np

from s2s_helpers.checks import framework
from s2s_helpers.checks.framework import (
    CheckFailed,
    exercise,
    expect_array,
    expect_close,
    fail,
)

# --- Exercise 10.1: downsample_mask -------------------------------------------

# (frames, factor, real frames per example): batch != frames in every case.
MASK_CASES = (
    (10, 4, (10, 7, 3, 1)),
    (8, 4, (8, 5, 2)),
    (9, 2, (9, 4, 5)),
    (16, 8, (16, 9)),
)


def _lengths_to_mask(lengths, frames: int) -> np.ndarray:
    return np.arange(frames)[None, :] < np.asarray(lengths)[:, None]  # (batch, frames)


def _mask_mistakes(mask: np.ndarray, factor: int) -> dict[str, np.ndarray]:
    batch, frames = mask.shape
    padded = np.zeros((batch, -(-frames // factor) * factor), bool)
    padded[:, :frames] = mask
    windows = padded.reshape(batch, -1, factor)  # (batch, enc_frames, factor)
    return {
        "an output position is real as soon as its *first* frame is real: a "
        "partly filled last window still gives the convolution a real output. "
        "Requiring every frame of the window to be real drops it.": windows.all(-1),
        "used the *last* frame of each window, `mask[:, factor - 1::factor]`; "
        "output i starts at frame i * factor, use `mask[:, ::factor]`.": mask[
            :, factor - 1 :: factor
        ],
        "has floor(frames / factor) positions: a 'same'-padded stride-2 "
        "convolution keeps a partial window, so there are ceil(frames / factor).": mask[
            :, : frames // factor * factor : factor
        ],
        "downsampled the batch axis; keep every example and step along "
        "frames (axis 1).": mask[::factor],
    }


def _probe_downsample_mask(downsample_mask) -> dict:
    results = []
    for frames, factor, lengths in MASK_CASES:
        mask = _lengths_to_mask(lengths, frames)
        results.append(framework.to_numpy(downsample_mask(mask.copy(), factor)))
    return {"results": results}


def _judge_downsample_mask(observation: dict) -> str:
    name = "downsample_mask(mask, factor)"
    for (frames, factor, lengths), result in zip(MASK_CASES, observation["results"]):
        mask = _lengths_to_mask(lengths, frames)
        result = expect_array(name, result)
        expected = mask[:, ::factor]
        case = f"for a mask of shape {mask.shape} (batch, frames) and factor {factor}"
        if result.shape == (len(lengths),):
            fail(f"`{name}` returned one number per example (lengths?) {case}; "
                 "return the downsampled mask itself.",
                 f"shape {expected.shape} (batch, enc_frames)", result.shape)  # fmt: skip
        for message, wrong in _mask_mistakes(mask, factor).items():
            if wrong.shape != expected.shape or not np.array_equal(wrong, expected):
                if result.shape == wrong.shape and np.array_equal(result, wrong):
                    raise CheckFailed(f"`{name}` {case}: {message}")
        if result.shape != expected.shape:
            fail(f"`{name}` has the wrong shape {case}.",
                 f"{expected.shape} (batch, ceil(frames / factor))", result.shape)  # fmt: skip
        if result.dtype.kind != "b":
            fail(f"`{name}` should return booleans (True for real positions).",
                 "dtype bool", result.dtype)  # fmt: skip
        if not np.array_equal(result, expected):
            fail(f"`{name}` gives the wrong mask {case} (real frames per example "
                 f"{list(lengths)}).", expected.astype(int).tolist(),
                 result.astype(int).tolist())  # fmt: skip
    return (
        "bool masks of shape (batch, ceil(frames / factor)); a partly filled last "
        "window stays real, on 4 masks and factors 2, 4 and 8."
    )


check_downsample_mask = exercise(
    "10.1",
    "downsample_mask",
    arguments=("downsample_mask",),
    probe=_probe_downsample_mask,
    judge=_judge_downsample_mask,
    hints=(
        "Output position i of a stride-`factor` downsampling starts at input "
        "frame i * factor, and it is real when that frame is real. Slicing "
        "with a step does it: `mask[:, ::factor]`, shape (batch, ceil(frames "
        "/ factor)).",
    ),
)


# --- Exercise 10.2: log_mel_spectrogram ---------------------------------------

SAMPLE_RATE, FRAME_LENGTH, FRAME_STEP, MELS = 22050, 512, 256, 80


def probe_waveform() -> np.ndarray:
    """0.3 s of two tones, then 0.2 s of exact silence: `(samples,)` float32."""
    t = np.arange(int(0.3 * SAMPLE_RATE)) / SAMPLE_RATE
    tones = 0.4 * np.sin(2 * np.pi * 440 * t) + 0.2 * np.sin(2 * np.pi * 1320 * t)
    silence = np.zeros(int(0.2 * SAMPLE_RATE))
    return np.concatenate([tones, silence]).astype(np.float32)


def _log_mel_variants(waveform: np.ndarray) -> tuple[np.ndarray, dict]:
    """The reference and what the known mistakes of Exercise 10.2 produce."""
    import tensorflow as tf

    from s2s_helpers import audio

    reference = audio.log_mel_spectrogram(waveform).numpy()
    stft = tf.signal.stft(waveform, FRAME_LENGTH, FRAME_STEP)
    magnitude = tf.abs(stft).numpy().astype(np.float64)  # (frames, bins)
    bins = magnitude.shape[-1]

    def mel(lower=80.0, upper=7600.0, rate=SAMPLE_RATE):
        return tf.signal.linear_to_mel_weight_matrix(MELS, bins, rate, lower, upper)

    weights = mel().numpy()
    power = magnitude**2 @ weights  # (frames, mels)
    return reference, {
        "is the log of the *magnitude* |STFT|: square it to get the power.": np.log(
            magnitude @ weights + 1e-6
        ),
        "is missing the log: return log(mel power + 1e-6).": power,
        "uses log10; the reference uses the natural log, tf.math.log.": np.log10(
            power + 1e-6
        ),
        "uses the mel filter bank's default edges (125 to 3800 Hz); pass "
        "lower_edge_hertz=80.0 and upper_edge_hertz=7600.0.": np.log(
            magnitude**2 @ mel(125.0, 3800.0).numpy() + 1e-6
        ),
        "uses the defaults of linear_to_mel_weight_matrix (8000 Hz, 125 to 3800 "
        "Hz); pass sample_rate=22050, 80.0 and 7600.0.": np.log(
            magnitude**2 @ mel(125.0, 3800.0, rate=8000).numpy() + 1e-6
        ),
    }


def _probe_log_mel(log_mel_spectrogram) -> dict:
    return {"features": framework.to_numpy(log_mel_spectrogram(probe_waveform()))}


def _judge_log_mel(observation: dict) -> str:
    name = "log_mel_spectrogram(waveform)"
    waveform = probe_waveform()
    frames = 1 + (len(waveform) - FRAME_LENGTH) // FRAME_STEP
    features = expect_array(name, observation["features"])
    swapped = 1 + (len(waveform) - FRAME_STEP) // FRAME_LENGTH
    if features.shape == (MELS, frames):
        fail(f"`{name}` is transposed: time comes first.",
             f"({frames}, {MELS}) (frames, mels)", features.shape)  # fmt: skip
    if features.shape[:1] == (swapped,):
        fail(f"`{name}` swapped frame_length and frame_step: frames of "
             f"{FRAME_LENGTH} samples every {FRAME_STEP}.",
             f"({frames}, {MELS}) (frames, mels)", features.shape)  # fmt: skip
    if features.shape != (frames, MELS):
        fail(f"`{name}` has the wrong shape for {len(waveform)} samples.",
             f"({frames}, {MELS}) (frames, mels)", features.shape)  # fmt: skip
    if features.dtype.kind != "f":
        fail(f"`{name}` should be floating point.", "float32", features.dtype)
    if not np.all(np.isfinite(features)):
        fail(f"`{name}` has -inf or NaN in the silent frames: log(0) = -inf. "
             "Add epsilon = 1e-6 to the mel power before the log.",
             "finite values", "non-finite values in frames "
             f"{sorted(set(np.where(~np.isfinite(features))[0].tolist()))[:5]}...")  # fmt: skip
    reference, mistakes = _log_mel_variants(waveform)
    expect_close(name, features, reference, known_mistakes=mistakes,
                 atol=1e-3, rtol=1e-3)  # fmt: skip
    return (
        f"shape ({frames}, {MELS}) (frames, mels), finite in silence, equal to "
        "audio.log_mel_spectrogram on a two-tone signal."
    )


check_log_mel_spectrogram = exercise(
    "10.2",
    "log_mel_spectrogram",
    arguments=("log_mel_spectrogram",),
    probe=_probe_log_mel,
    judge=_judge_log_mel,
    hints=(
        "stft = tf.signal.stft(waveform, 512, 256); power = tf.abs(stft) ** 2, "
        "shape (frames, bins); weights = tf.signal.linear_to_mel_weight_matrix("
        "80, bins, 22050, 80.0, 7600.0), shape (bins, mels); then "
        "tf.math.log(power @ weights + 1e-6).",
    ),
)


# --- Exercise 10.3: character_error_rate --------------------------------------

CER_CASES = (
    (
        ["the forth of may", "call mum", "play sone jazz", "twenty one", "at"],
        ["the fourth of may", "call dad", "play some jazz", "twenty", "set a timer"],
    ),
    (["abcd", "ab"], ["abdc", "cab"]),
)


def edit_distance(a, b, substitution_cost: int = 1) -> int:
    """Levenshtein distance between two sequences (the check's own reference)."""
    previous = list(range(len(b) + 1))
    for i, item in enumerate(a, start=1):
        current = [i]
        for j, other in enumerate(b, start=1):
            change = 0 if item == other else substitution_cost
            current.append(min(previous[j] + 1, current[j - 1] + 1,
                               previous[j - 1] + change))  # fmt: skip
        previous = current
    return previous[-1]


def _cer_mistakes(predictions, references) -> dict[str, float]:
    pairs = list(zip(predictions, references))
    edits = [edit_distance(p, r) for p, r in pairs]

    def hamming(p, r):
        return sum(x != y for x, y in zip(p, r)) + abs(len(p) - len(r))

    return {
        "averages the CER of each sentence; CER is the total number of edits "
        "divided by the total number of reference characters.": float(
            np.mean([e / len(r) for e, (_, r) in zip(edits, pairs)])
        ),
        "divides by the characters of the *predictions*; divide by the "
        "reference characters (the arguments may be swapped).": sum(edits)
        / sum(len(p) for p in predictions),
        "counts a substitution as 2 edits (a deletion plus an insertion); a "
        "substitution costs 1.": sum(edit_distance(p, r, 2) for p, r in pairs)
        / sum(len(r) for r in references),
        "compares characters position by position; one missing character then "
        "shifts everything after it. Use the edit distance (dynamic programming).":
        sum(hamming(p, r) for p, r in pairs) / sum(len(r) for r in references),
        "computes the word error rate; count edits between characters, not words.":
        sum(edit_distance(p.split(), r.split()) for p, r in pairs)
        / sum(len(r.split()) for r in references),
        "returns a percentage; return a fraction (0.25, not 25).": 100.0
        * sum(edits) / sum(len(r) for r in references),
    }  # fmt: skip


def _probe_cer(character_error_rate) -> dict:
    results = []
    for predictions, references in CER_CASES:
        results.append(character_error_rate(list(predictions), list(references)))
    return {"results": [float(framework.to_numpy(value)) for value in results]}


def _judge_cer(observation: dict) -> str:
    from s2s_helpers import metrics

    name = "character_error_rate(predictions, references)"
    for (predictions, references), value in zip(CER_CASES, observation["results"]):
        reference = metrics.character_error_rate(predictions, references)
        mistakes = {message: np.array(wrong) for message, wrong in
                    _cer_mistakes(predictions, references).items()
                    if not np.isclose(wrong, reference)}  # fmt: skip
        expect_close(f"{name} on {len(predictions)} sentences", np.array(value),
                     np.array(reference), known_mistakes=mistakes)  # fmt: skip
    return "total edits / total reference characters, equal to jiwer's CER on 2 sets."


check_character_error_rate = exercise(
    "10.3",
    "character_error_rate",
    arguments=("character_error_rate",),
    probe=_probe_cer,
    judge=_judge_cer,
    hints=(
        "Edit distance by dynamic programming: row 0 is 0..len(b); each cell is "
        "min(above + 1, left + 1, diagonal + (0 if same else 1)). Then CER = "
        "sum of distances / sum of len(reference).",
    ),
)
