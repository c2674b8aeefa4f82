"""Checks for lesson 10 (speech): downsampled masks, log-mel features, CER.

* 10.1 ``downsample_mask(mask, factor)``: the encoder's mask after its strided
  convolutions, shape `(batch, ceil(frames / factor))`.
* 10.2 ``log_mel_spectrogram(waveform)``: STFT power, mel filter bank, log;
  compared with ``audio.log_mel_spectrogram`` on a tone followed by silence.
* 10.3 ``character_error_rate(predictions, references)``: edit distance by hand,
  compared with jiwer (``metrics.character_error_rate``).

Each judge first tests what any correct answer does (a prefix of real
positions, one per window that starts on a real frame; silence at log(1e-6) in
every band, a rise of log 4 when the waveform doubles, the tone in its own mel
band; 1 edit per substituted, deleted or inserted character, spaces included)
and says which fails, then names a catalogued mistake that matches every input.

Taught in: lessons/10_speech.ipynb
"""

from __future__ import annotations

import math

import numpy as np

from s2s_helpers.checks.expect import expect_no_known_mistake, expect_number
from s2s_helpers.checks.framework import (
    CheckFailed,
    Mistake,
    exercise,
    expect_array,
    expect_close,
    expect_shape,
    fail,
    to_numpy,
)

# --- Exercise 10.1: downsample_mask -------------------------------------------

# (frames, factor, real frames per example): batch, frames and ceil(frames /
# factor) differ in every case; rows with and without padding; the last case
# has padding in every row.
MASK_CASES = (
    (10, 4, (10, 7, 3, 1, 6, 8)),
    (9, 2, (9, 4, 5)),
    (16, 8, (16, 9, 3, 12)),
    (16, 4, (7, 3, 5, 2, 6)),
)
_MASK_CALL = "downsample_mask(mask, factor)"
_MASK = f"`{_MASK_CALL}`"


def _lengths_to_mask(lengths, frames: int) -> np.ndarray:
    return np.arange(frames)[None, :] < np.asarray(lengths)[:, None]  # (batch, frames)


def _expect_shape_for(where: str, name: str, value, shape: tuple, axes: str) -> None:
    """``expect_shape``, with the check's input named on the first line."""
    try:
        expect_shape(name, value, shape, axes)
    except CheckFailed as failure:
        first, *rest = str(failure).splitlines()
        lines = [f"{first} ({where})", *rest]
        raise CheckFailed("\n".join(lines), failure.hints) from None


def _probe_downsample_mask(downsample_mask) -> dict:
    results = []
    for frames, factor, lengths in MASK_CASES:
        mask = _lengths_to_mask(lengths, frames)
        results.append(to_numpy(downsample_mask(mask.copy(), factor)))
    return {"results": results}


def _expect_mask_shape(case, result: np.ndarray) -> None:
    frames, factor, lengths = case
    mask = _lengths_to_mask(lengths, frames)
    expected = mask[:, ::factor]  # (batch, enc_frames)
    if result.shape == expected.shape:
        return
    where = f"for a mask of shape {mask.shape} (batch, frames) and factor {factor}"
    want = f"{expected.shape} (batch, enc_frames)"
    if result.shape == (len(lengths),):
        fail(f"{_MASK} returned one number per example {where}, not a mask.",
             want, f"{result.shape} (batch,)")  # fmt: skip
    if np.array_equal(result, mask[::factor]):
        fail(f"{_MASK} kept all {frames} frames and every {factor}th example "
             f"{where}: the batch axis was downsampled, not frames.", want,
             result.shape, hints=("Keep every example: step along axis 1.",))  # fmt: skip
    if np.array_equal(result, expected.T):
        fail(f"{_MASK} is transposed {where}.", want,
             f"{result.shape} (enc_frames, batch)")  # fmt: skip
    if np.array_equal(result, mask[:, factor - 1 :: factor]):
        fail(f"{_MASK} {where}: output position i follows frame i * factor + "
             f"{factor - 1}, the *last* frame of its window; it starts at frame "
             "i * factor.", want, result.shape,
             hints=("Start the slice at frame 0.",))  # fmt: skip
    if result.shape == (len(lengths), frames // factor):
        fail(f"{_MASK} has floor(frames / factor) = {frames // factor} positions "
             f"{where}: the partly filled last window has no position. A 'same'-"
             f"padded strided convolution keeps it: ceil(frames / factor) = "
             f"{expected.shape[1]}.", want, result.shape,
             hints=("A slice with a step keeps a partial window at the end.",))  # fmt: skip
    _expect_shape_for(where, _MASK_CALL, result, expected.shape, "batch, enc_frames")


def _expect_mask_rows(case, result: np.ndarray) -> None:
    frames, factor, lengths = case
    want = np.array([-(-length // factor) for length in lengths])
    floor = np.array([length // factor for length in lengths])
    if not np.array_equal(want, floor) and np.array_equal(
        result, np.arange(result.shape[1])[None, :] < floor[:, None]
    ):
        fail(f"{_MASK} counts a partly filled window as padding: the rows with "
             f"{list(lengths)} real frames of {frames} and factor {factor} get "
             f"{floor.tolist()} real positions.", want.tolist(), floor.tolist(),
             hints=("A window with at least one real frame gives the "
                    "convolution real input, so its output is real.",))  # fmt: skip
    for row, (length, values) in enumerate(zip(lengths, result)):
        shown = f"row {row} ({length} real frames of {frames}, factor {factor})"
        if length and not values[0]:
            fail(f"{_MASK}: position 0 of {shown} is False, but the window it "
                 "starts, at frame 0, is real.", "True first", values.tolist())  # fmt: skip
        if np.any(values[1:] & ~values[:-1]):
            fail(f"{_MASK}: {shown} has True after False; real positions come "
                 "first, padding after.", "a run of True, then False",
                 values.tolist())  # fmt: skip
        if values.sum() != want[row]:
            fail(f"{_MASK}: {shown} has {values.sum()} real positions; a window "
                 f"is real when it starts on a real frame, so ceil({length} / "
                 f"{factor}) = {want[row]}.", want[row], values.sum())  # fmt: skip


def _judge_downsample_mask(observation: dict) -> str:
    for case, result in zip(MASK_CASES, observation["results"], strict=True):
        result = expect_array(_MASK_CALL, result)
        _expect_mask_shape(case, result)
        if result.dtype.kind != "b":
            fail(f"{_MASK} holds {result.dtype} values; a mask holds booleans (True "
                 "for real positions).", "dtype bool", result.dtype)  # fmt: skip
        _expect_mask_rows(case, result)
    return (
        "bool masks of shape (batch, ceil(frames / factor)); a partly filled last "
        f"window stays real, on {len(MASK_CASES)} masks and factors 2, 4 and 8."
    )


check_downsample_mask = exercise(
    "10.1",
    "downsample_mask",
    arguments=("downsample_mask",),
    probe=_probe_downsample_mask,
    judge=_judge_downsample_mask,
    hints=(
        "Draw a row of 10 frames, 7 of them real, cut it into windows of 4: how "
        "many windows are there, and which contain a real frame?",
        "Output position i starts at input frame i * factor and is real when "
        "that frame is real; there are ceil(frames / factor) positions, a partly "
        "filled last window included.",
        "Slicing with a step does it: `mask[:, ::factor]`, shape (batch, "
        "ceil(frames / factor)).",
    ),
    axes={"batch": 6, "frames": 10, "enc_frames": 3},
)


# --- Exercise 10.2: log_mel_spectrogram ---------------------------------------

SAMPLE_RATE, FRAME_LENGTH, FRAME_STEP, MELS = 22050, 512, 256, 80
TONE_SAMPLES, SILENT_SAMPLES = int(0.3 * SAMPLE_RATE), int(0.2 * SAMPLE_RATE)
TONE_FRAMES = slice(0, (TONE_SAMPLES - FRAME_LENGTH) // FRAME_STEP + 1)
SILENT_FRAMES = slice(-(-TONE_SAMPLES // FRAME_STEP), None)  # all-zero samples
_LOG_MEL_CALL = "log_mel_spectrogram(waveform)"
_LOG_MEL = f"`{_LOG_MEL_CALL}`"


def probe_waveform() -> np.ndarray:
    """0.3 s of two tones, then 0.2 s of exact silence: `(samples,)` float32."""
    t = np.arange(TONE_SAMPLES) / SAMPLE_RATE
    tones = 0.4 * np.sin(2 * np.pi * 440 * t) + 0.2 * np.sin(2 * np.pi * 1320 * t)
    return np.concatenate([tones, np.zeros(SILENT_SAMPLES)]).astype(np.float32)


def _log_mel_variants(waveform: np.ndarray) -> tuple[np.ndarray, dict]:
    """The reference and what the known mistakes of Exercise 10.2 produce."""
    import tensorflow as tf

    from s2s_helpers import audio

    reference = audio.log_mel_spectrogram(waveform).numpy()
    stft = tf.signal.stft(waveform, FRAME_LENGTH, FRAME_STEP)
    magnitude = tf.abs(stft).numpy().astype(np.float64)  # (frames, bins)

    def mel(lower=80.0, upper=7600.0, rate=SAMPLE_RATE):
        bins = magnitude.shape[-1]
        return tf.signal.linear_to_mel_weight_matrix(MELS, bins, rate, lower, upper)

    power = magnitude**2 @ mel().numpy()  # (frames, mels)
    return reference, {
        "is the log of the mel-filtered *magnitude* |STFT|, not of the power "
        "|STFT|².": Mistake(np.log(magnitude @ mel().numpy() + 1e-6),
                            ("The power is the magnitude squared.",)),
        "is missing the log: it is the mel power itself.": Mistake(
            power, ("Take the log of (mel power + 1e-6).",)),
        "uses the base-10 log; the reference uses the natural log.": Mistake(
            np.log10(power + 1e-6), ("tf.math.log is the natural log.",)),
        "uses the mel filter bank's default edges (125 to 3800 Hz), not 80 to "
        "7600 Hz.": Mistake(np.log(magnitude**2 @ mel(125.0, 3800.0).numpy() + 1e-6),
                            ("Pass the lower and upper edges, 80.0 and 7600.0 Hz.",)),
        "uses every default of linear_to_mel_weight_matrix (8000 Hz, 125 to 3800 "
        "Hz).": Mistake(
            np.log(magnitude**2 @ mel(125.0, 3800.0, rate=8000).numpy() + 1e-6),
            ("Pass the sample rate, 22050, and the edges, 80.0 and 7600.0 Hz.",)),
    }  # fmt: skip


def _probe_log_mel(log_mel_spectrogram) -> dict:
    waveform = probe_waveform()
    return {
        "features": to_numpy(log_mel_spectrogram(waveform)),
        "doubled": to_numpy(log_mel_spectrogram(2 * waveform)),
    }


def _expect_log_mel_shape(features: np.ndarray, waveform: np.ndarray) -> None:
    from s2s_helpers import audio

    samples = len(waveform)
    frames = 1 + (samples - FRAME_LENGTH) // FRAME_STEP
    want = f"({frames}, {MELS}) (frames, mels)"
    if features.shape == (MELS, frames):
        fail(f"{_LOG_MEL} is transposed: time should come first.", want,
             f"{features.shape} (mels, frames)")  # fmt: skip
    if features.shape == (1 + (samples - FRAME_STEP) // FRAME_LENGTH, MELS):
        swapped = audio.log_mel_spectrogram(
            waveform, frame_length=FRAME_STEP, frame_step=FRAME_LENGTH
        ).numpy()
        if np.allclose(features, swapped, atol=1e-3, rtol=1e-3):
            fail(f"{_LOG_MEL} has frames of {FRAME_STEP} samples every "
                 f"{FRAME_LENGTH}: frame_length and frame_step are swapped.",
                 want, features.shape,
                 hints=(f"Frames are {FRAME_LENGTH} samples long, one every "
                        f"{FRAME_STEP}.",))  # fmt: skip
    _expect_shape_for(f"for {samples} samples", _LOG_MEL_CALL, features,
                      (frames, MELS), "frames, mels")  # fmt: skip


def _expect_silence(features: np.ndarray) -> None:
    silent = features[SILENT_FRAMES]  # (silent frames, mels)
    floor = math.log(1e-6)
    first = SILENT_FRAMES.start
    where = f"{_LOG_MEL}: the silent frames ({first} to {len(features) - 1}, all zero)"
    if np.ptp(silent) > 1e-3:
        fail(f"{where} differ between mel bands, from {silent.min():.4g} to "
             f"{silent.max():.4g}; zero power gives log(0 + 1e-6) in every band.",
             f"{floor:.4f} everywhere", f"{silent.min():.4g} .. {silent.max():.4g}",
             hints=("Zero power in every bin should give the same value in "
                    "every band: which comes first, the mel filter bank or the "
                    "log?",))  # fmt: skip
    if abs(silent.mean() - floor) > 1e-3:
        fail(f"{where} are {silent.mean():.4g} in every mel band; zero power gives "
             f"log(0 + 1e-6) = {floor:.4f}.", f"{floor:.4f}", f"{silent.mean():.4g}",
             hints=("What is added to the mel power before the log, and which "
                    "log is it?",))  # fmt: skip


def _expect_power_scaling(features, doubled, reference) -> None:
    loud = reference > 0  # power far above the 1e-6 floor
    doubled = np.asarray(doubled, dtype=np.float64)
    if doubled.shape != features.shape:
        fail(f"{_LOG_MEL} of the waveform times 2 has another shape.",
             features.shape, doubled.shape)  # fmt: skip
    rise = float(np.median((doubled - features)[loud]))
    if abs(rise - math.log(4)) > 1e-2:
        also = " (log 2: what |STFT| without the square gives)"
        fail(f"{_LOG_MEL}: doubling the waveform raised the loud cells by {rise:.4g}"
             f"{also if abs(rise - math.log(2)) < 1e-2 else ''}; the power "
             "|STFT|² grows 4 times, so its log rises by log 4.",
             f"{math.log(4):.4f}", f"{rise:.4g}")  # fmt: skip


def _band_centre(band: int) -> float:
    """Centre frequency (Hz) of a mel band of the 80-7600 Hz filter bank."""
    low, high = (1127.0 * math.log1p(hz / 700.0) for hz in (80.0, 7600.0))
    mel = low + (band + 1) * (high - low) / (MELS + 1)
    return 700.0 * math.expm1(mel / 1127.0)


def _expect_peak_band(features, reference) -> None:
    got = int(np.argmax(features[TONE_FRAMES].mean(axis=0)))
    want = int(np.argmax(reference[TONE_FRAMES].mean(axis=0)))
    if got != want:
        fail(f"{_LOG_MEL}: the two-tone frames are loudest in mel band {got} "
             f"(centre {_band_centre(got):.0f} Hz); the 440 Hz tone belongs in band "
             f"{want} (centre {_band_centre(want):.0f} Hz): the frequencies of the "
             "mel bands are off.", f"band {want}", f"band {got}",
             hints=("The filter bank needs the real sample rate and the band "
                    "edges 80 to 7600 Hz.",))  # fmt: skip


def _judge_log_mel(observation: dict) -> str:
    waveform = probe_waveform()
    features = expect_array(_LOG_MEL_CALL, observation["features"])
    _expect_log_mel_shape(features, waveform)
    if features.dtype.kind != "f":
        fail(f"{_LOG_MEL} should be floating point.", "float32", features.dtype)
    if not np.all(np.isfinite(features)):
        bad = sorted(set(np.where(~np.isfinite(features))[0].tolist()))
        fail(f"{_LOG_MEL} has -inf or NaN in frames {bad[:3]}...{bad[-1]}, the "
             "silent ones: log(0) = -inf.", "finite values", "non-finite values",
             hints=("Keep the log away from 0: add a small epsilon, 1e-6, to the "
                    "mel power first.",))  # fmt: skip
    reference, mistakes = _log_mel_variants(waveform)
    expect_no_known_mistake(_LOG_MEL_CALL, features, mistakes, atol=1e-3, rtol=1e-3)
    _expect_silence(features)
    _expect_power_scaling(features, observation["doubled"], reference)
    _expect_peak_band(features, reference)
    expect_close(_LOG_MEL_CALL, features, reference, atol=1e-3, rtol=1e-3)
    return (
        f"shape {features.shape} (frames, mels), log(1e-6) in silence, +log 4 when "
        "the waveform doubles, equal to audio.log_mel_spectrogram on two tones."
    )


check_log_mel_spectrogram = exercise(
    "10.2",
    "log_mel_spectrogram",
    arguments=("log_mel_spectrogram",),
    probe=_probe_log_mel,
    judge=_judge_log_mel,
    hints=(
        "Follow the four steps of the task with shapes: STFT (frames, bins), "
        "power, mel filter bank (bins, mels), log. Which step gives which shape?",
        "tf.signal.stft(waveform, 512, 256) gives the complex STFT; the power is "
        "its absolute value squared; linear_to_mel_weight_matrix needs 80 bands, "
        "the number of bins, 22050 Hz and the edges 80 and 7600 Hz.",
        "stft = tf.signal.stft(waveform, 512, 256); power = tf.abs(stft) ** 2, "
        "shape (frames, bins); weights = tf.signal.linear_to_mel_weight_matrix("
        "80, bins, 22050, 80.0, 7600.0), shape (bins, mels); then "
        "tf.math.log(power @ weights + 1e-6).",
    ),
    axes={
        "samples": TONE_SAMPLES + SILENT_SAMPLES,
        "frames": 42,
        "mels": MELS,
        "bins": FRAME_LENGTH // 2 + 1,
    },  # fmt: skip
)


# --- Exercise 10.3: character_error_rate --------------------------------------

CER_CASES = (
    (
        ["the forth of may", "call mum", "play sone jazz", "twenty one", "at"],
        ["the fourth of may", "call dad", "play some jazz", "twenty", "set a timer"],
    ),
    (["abcd", "ab"], ["abdc", "cab"]),
)
# (predictions, references, CER counted by hand, what it shows)
CER_PROPERTIES = (
    (["call mum"], ["call mum"], 0.0, "a perfect transcript has no edit"),
    (["abxd"], ["abcd"], 0.25, "one substituted character is 1 edit of 4 "
     "reference characters"),
    (["bcd"], ["abcd"], 0.25, "one deleted character, the first, is 1 edit of 4"),
    (["abc"], ["abcd"], 0.25, "one deleted character, the last, is 1 edit of 4"),
    (["xabcd"], ["abcd"], 0.25, "one inserted character, before the first, is 1 "
     "edit of 4 reference characters"),
    (["callmum"], ["call mum"], 0.125, "a missing space is 1 edit of 8 reference "
     "characters: spaces are characters too"),
    (["", "ab"], ["abcd", "ab"], 4 / 6, "an empty transcript of 'abcd' is 4 "
     "deletions, of 6 reference characters in all"),
    (["abababab"], ["ab"], 3.0, "6 extra characters for a 2-character reference "
     "are 6 insertions of 2: CER can exceed 1"),
    (["ab", "abcdefgh"], ["xb", "abcdefgh"], 0.1, "1 edit in two sentences of 10 "
     "reference characters in all: the sentences are pooled"),
)  # fmt: skip
_CER_CALL = "character_error_rate(predictions, references)"


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


def _hamming(p, r) -> int:
    return sum(x != y for x, y in zip(p, r)) + abs(len(p) - len(r))


def _pooled(ps, rs, distance=edit_distance, size=len) -> float:
    return sum(distance(p, r) for p, r in zip(ps, rs)) / sum(map(size, rs))


_CER_MISTAKES = {
    "averages the CER of each sentence; the corpus CER pools all edits over all "
    "reference characters.": (
        lambda ps, rs: float(np.mean([edit_distance(p, r) / len(r)
                                      for p, r in zip(ps, rs)])),
        ("Add up the edits of every sentence and the reference characters of "
         "every sentence, then divide once.",)),
    "divides by the characters of the *predictions*, not of the references "
    "(or the arguments are swapped).": (
        lambda ps, rs: _pooled(rs, ps),
        ("The denominator is the length of the references.",)),
    "counts a substitution as 2 edits (a deletion plus an insertion).": (
        lambda ps, rs: _pooled(ps, rs, lambda p, r: edit_distance(p, r, 2)),
        ("The diagonal step of the table costs 1 when the characters differ.",)),
    "compares characters position by position, so one missing character shifts "
    "everything after it.": (
        lambda ps, rs: _pooled(ps, rs, _hamming),
        ("Use the edit distance table of the lesson, which lets characters "
         "shift.",)),
    "computes the word error rate: edits between words, not characters.": (
        lambda ps, rs: _pooled([p.split() for p in ps], [r.split() for r in rs]),
        ("Compare the strings character by character.",)),
    "returns a percentage, 100 times the CER.": (
        lambda ps, rs: 100.0 * _pooled(ps, rs),
        ("Return the fraction itself (0.25, not 25).",)),
}  # fmt: skip


def _cer_inputs() -> list[tuple]:
    return [*CER_CASES, *((ps, rs) for ps, rs, _, _ in CER_PROPERTIES)]


def _outputs(function) -> np.ndarray:
    values = []
    for predictions, references in _cer_inputs():
        try:
            values.append(function(predictions, references))
        except ZeroDivisionError:
            values.append(math.nan)
    return np.array(values, dtype=np.float64)


def _probe_cer(character_error_rate) -> dict:
    results = [character_error_rate(list(ps), list(rs)) for ps, rs in _cer_inputs()]
    return {"results": [None if v is None else to_numpy(v) for v in results]}


def _judge_cer(observation: dict) -> str:
    from s2s_helpers import metrics

    values = np.array([expect_number(f"character_error_rate({ps}, {rs})", value)
                       for (ps, rs), value in zip(_cer_inputs(),
                                                  observation["results"])])  # fmt: skip
    reference = _outputs(metrics.character_error_rate)
    expect_no_known_mistake(_CER_CALL, values, {
        message: Mistake(_outputs(function), hints)
        for message, (function, hints) in _CER_MISTAKES.items()
        if not np.allclose(_outputs(function), reference, equal_nan=True)})  # fmt: skip
    for (ps, rs, wanted, shows), value in zip(CER_PROPERTIES, values[len(CER_CASES) :]):
        if not math.isclose(value, wanted, rel_tol=1e-6, abs_tol=1e-9):
            fail(f"`character_error_rate({ps}, {rs})` is {value:.4g}: {shows}, "
                 f"so {wanted:.4g}.", f"{wanted:.4g}", f"{value:.4g}")  # fmt: skip
    for (ps, _), value, wanted in zip(CER_CASES, values, reference):
        expect_close(f"{_CER_CALL} on {len(ps)} sentences", value, wanted)
    return (
        "total edits / total reference characters: 1 per substitution, deletion, "
        "insertion and space, above 1 for babble, equal to jiwer's CER."
    )


check_character_error_rate = exercise(
    "10.3",
    "character_error_rate",
    arguments=("character_error_rate",),
    probe=_probe_cer,
    judge=_judge_cer,
    hints=(
        "Compute the CER of 'abd' against 'abcd' by hand: how many edits, and "
        "divided by what?",
        "Fill the table of the lesson for two short strings: row 0 and column 0 "
        "count up from 0; each cell takes the cheapest of a deletion, an insertion "
        "or a (free when equal) substitution. Then pool: total edits over total "
        "reference characters.",
        "Edit distance by dynamic programming: row 0 is 0..len(b); each cell is "
        "min(above + 1, left + 1, diagonal + (0 if same else 1)). Then CER = "
        "sum of distances / sum of len(reference).",
    ),
)
