"""Tests for s2s_helpers.espeak: eSpeak NG synthesis through ctypes."""

import sys

import numpy as np
import pytest

from s2s_helpers import audio, espeak

PHRASE = "set a timer for twenty minutes"


def test_sample_rate_is_22050():
    engine = espeak.load_espeak()
    assert engine.sample_rate == audio.SAMPLE_RATE == 22050
    assert espeak.load_espeak() is engine  # one engine per process
    assert engine.version.startswith("1.")


def test_waveform_dtype_shape_and_range():
    waveform = espeak.synthesize(PHRASE)
    assert waveform.dtype == np.float32 and waveform.ndim == 1
    assert 0.5 < len(waveform) / audio.SAMPLE_RATE < 5  # seconds of speech
    assert -1.0 <= waveform.min() < -0.05 and 0.05 < waveform.max() <= 1.0


@pytest.mark.parametrize("voice", ["en", "en+m1", "en+f3", "en+m4"])
def test_same_arguments_give_the_same_samples(voice):
    # en+m1 and en+m4 use pitch flutter: without the engine restart they drift.
    # Not bit for bit: eSpeak draws small variations from the C library's rand().
    first = espeak.synthesize(PHRASE, voice, rate=170, pitch=40)
    espeak.synthesize("something else in between", "en+f1")
    again = espeak.synthesize(PHRASE, voice, rate=170, pitch=40)
    assert again.shape == first.shape
    assert np.corrcoef(again, first)[0, 1] > 0.99


def test_noise_is_seeded_and_has_the_requested_level():
    clean = espeak.synthesize(PHRASE, "en+m3")
    noisy = espeak.synthesize(PHRASE, "en+m3", noise_level=0.02, seed=7)
    assert noisy.shape == clean.shape and not np.array_equal(noisy, clean)
    assert np.std(noisy - clean) == pytest.approx(0.02, rel=0.1)
    again = espeak.synthesize(PHRASE, "en+m3", noise_level=0.02, seed=7)
    other = espeak.synthesize(PHRASE, "en+m3", noise_level=0.02, seed=8)
    # the same seed, the same noise: what differs is eSpeak's own small variation
    assert np.std(again - noisy) < 0.5 * np.std(other - noisy)


def _fundamental_frequency(waveform):
    """Pitch in Hz from the autocorrelation peak of the middle half, 60-400 Hz."""
    middle = waveform[len(waveform) // 4 : 3 * len(waveform) // 4]
    middle = middle - middle.mean()
    correlation = np.correlate(middle, middle, "full")[len(middle) - 1 :]
    shortest, longest = audio.SAMPLE_RATE // 400, audio.SAMPLE_RATE // 60
    lag = shortest + np.argmax(correlation[shortest:longest])
    return audio.SAMPLE_RATE / lag


def test_voices_and_pitch_change_the_audio():
    male, female = (
        espeak.synthesize("aaah", "en+m1"),
        espeak.synthesize("aaah", "en+f3"),
    )
    assert _fundamental_frequency(female) > 1.5 * _fundamental_frequency(male)
    low = espeak.synthesize("aaah", "en", pitch=20)
    high = espeak.synthesize("aaah", "en", pitch=90)
    assert _fundamental_frequency(high) > 1.5 * _fundamental_frequency(low)


def test_duration_grows_with_text_and_shrinks_with_rate():
    short = espeak.synthesize("one")
    long = espeak.synthesize("one two three four five six seven")
    assert len(long) > 2 * len(short)
    assert len(espeak.synthesize(PHRASE, rate=300)) < len(
        espeak.synthesize(PHRASE, rate=120)
    )


def test_bad_arguments_raise_value_error():
    for kwargs in [{"voice": "en+nosuchvariant"}, {"voice": "zz"}, {"rate": 10}]:
        with pytest.raises(ValueError):
            espeak.synthesize("hello", **kwargs)
    with pytest.raises(ValueError):
        espeak.synthesize("   ")
    assert {"m1", "f3", "m7"} <= set(espeak.list_voice_variants())


def test_missing_extra_names_the_install_command(monkeypatch):
    monkeypatch.setattr(espeak, "_ENGINE", None)  # as if nothing was loaded yet
    monkeypatch.setitem(sys.modules, "espeakng_loader", None)
    with pytest.raises(ModuleNotFoundError, match=r"pip install -e '\.\[apps\]'"):
        espeak.synthesize("hello")
