"""Tests for s2s_helpers.audio: eSpeak synthesis, log-mel features, padding, phrases."""

import re
import sys

import numpy as np
import pytest

from s2s_helpers import audio

PHRASE = "set a timer for twenty minutes"


def test_sample_rate_is_22050():
    engine = audio.load_espeak()
    assert engine.sample_rate == audio.SAMPLE_RATE == 22050
    assert audio.load_espeak() is engine  # one engine per process
    assert engine.version.startswith("1.")


def test_waveform_dtype_shape_and_range():
    waveform = audio.synthesize(PHRASE)
    assert waveform.dtype == np.float32 and waveform.ndim == 1
    assert 0.5 < len(waveform) / audio.SAMPLE_RATE < 5  # seconds of speech
    assert -1.0 <= waveform.min() < -0.05 and 0.05 < waveform.max() <= 1.0


@pytest.mark.parametrize("voice", ["en", "en+m1", "en+f3", "en+m4"])
def test_same_arguments_give_the_same_samples(voice):
    # en+m1 and en+m4 use pitch flutter: without the engine restart they drift.
    first = audio.synthesize(PHRASE, voice, rate=170, pitch=40)
    audio.synthesize("something else in between", "en+f1")
    assert np.array_equal(audio.synthesize(PHRASE, voice, rate=170, pitch=40), first)


def test_noise_is_seeded_and_has_the_requested_level():
    clean = audio.synthesize(PHRASE, "en+m3")
    noisy = audio.synthesize(PHRASE, "en+m3", noise_level=0.02, seed=7)
    assert noisy.shape == clean.shape and not np.array_equal(noisy, clean)
    assert np.std(noisy - clean) == pytest.approx(0.02, rel=0.1)
    again = audio.synthesize(PHRASE, "en+m3", noise_level=0.02, seed=7)
    assert np.array_equal(again, noisy)
    other = audio.synthesize(PHRASE, "en+m3", noise_level=0.02, seed=8)
    assert not np.array_equal(other, noisy)


def _fundamental_frequency(waveform):
    """Pitch in Hz from the autocorrelation peak of the middle half, 60-400 Hz."""
    middle = waveform[len(waveform) // 4 : 3 * len(waveform) // 4]
    middle = middle - middle.mean()
    correlation = np.correlate(middle, middle, "full")[len(middle) - 1 :]
    shortest, longest = audio.SAMPLE_RATE // 400, audio.SAMPLE_RATE // 60
    lag = shortest + np.argmax(correlation[shortest:longest])
    return audio.SAMPLE_RATE / lag


def test_voices_and_pitch_change_the_audio():
    male, female = audio.synthesize("aaah", "en+m1"), audio.synthesize("aaah", "en+f3")
    assert _fundamental_frequency(female) > 1.5 * _fundamental_frequency(male)
    low = audio.synthesize("aaah", "en", pitch=20)
    high = audio.synthesize("aaah", "en", pitch=90)
    assert _fundamental_frequency(high) > 1.5 * _fundamental_frequency(low)


def test_duration_grows_with_text_and_shrinks_with_rate():
    short = audio.synthesize("one")
    long = audio.synthesize("one two three four five six seven")
    assert len(long) > 2 * len(short)
    assert len(audio.synthesize(PHRASE, rate=300)) < len(
        audio.synthesize(PHRASE, rate=120)
    )


def test_bad_arguments_raise_value_error():
    for kwargs in [{"voice": "en+nosuchvariant"}, {"voice": "zz"}, {"rate": 10}]:
        with pytest.raises(ValueError):
            audio.synthesize("hello", **kwargs)
    with pytest.raises(ValueError):
        audio.synthesize("   ")
    assert {"m1", "f3", "m7"} <= set(audio.list_voice_variants())
    assert set(audio.HELD_OUT_VOICES).isdisjoint(audio.TRAIN_VOICES)


@pytest.mark.parametrize(
    "samples, frame_length, frame_step",
    [
        (100, 512, 256),
        (512, 512, 256),
        (513, 512, 256),
        (22050, 512, 256),
        (1000, 400, 160),
    ],
)
def test_spectrogram_shape_follows_the_frame_formula(samples, frame_length, frame_step):
    waveform = np.random.default_rng(0).normal(0, 0.1, samples).astype(np.float32)
    features = audio.log_mel_spectrogram(
        waveform, frame_length=frame_length, frame_step=frame_step, mels=40
    )
    frames = 1 + (max(samples, frame_length) - frame_length) // frame_step
    assert features.shape == (frames, 40)
    assert audio.count_frames(samples, frame_length, frame_step) == frames
    assert np.isfinite(features.numpy()).all()


def test_spectrogram_of_silence_is_finite_and_batches_match_singles():
    silence = np.zeros(4000, np.float32)
    assert np.isfinite(audio.log_mel_spectrogram(silence).numpy()).all()
    speech = audio.synthesize("hello")[:4000]
    batch = audio.log_mel_spectrogram(np.stack([speech, silence]))
    assert batch.shape == (2, audio.count_frames(4000), audio.MELS)
    single = audio.log_mel_spectrogram(speech)
    np.testing.assert_allclose(batch[0].numpy(), single.numpy(), rtol=1e-4, atol=1e-4)


def test_a_pure_tone_lands_in_the_mel_band_of_its_frequency():
    time = np.arange(audio.SAMPLE_RATE) / audio.SAMPLE_RATE
    tone = (0.5 * np.sin(2 * np.pi * 1000.0 * time)).astype(np.float32)
    features = audio.log_mel_spectrogram(tone).numpy()  # (frames, mels)
    band = int(np.argmax(features.mean(axis=0)))

    def hertz_to_mel(hertz):  # the HTK mel scale used by tf.signal
        return 1127.0 * np.log1p(hertz / 700.0)

    edges = np.linspace(hertz_to_mel(80.0), hertz_to_mel(7600.0), audio.MELS + 2)
    centre = 700.0 * np.expm1(edges[band + 1] / 1127.0)
    assert abs(centre - 1000.0) < 60.0


def test_normalize_features_per_mel_band():
    features = audio.log_mel_spectrogram(audio.synthesize(PHRASE))
    normalized = audio.normalize_features(features).numpy()
    assert normalized.shape == tuple(features.shape)
    np.testing.assert_allclose(normalized.mean(axis=0), 0.0, atol=1e-4)
    np.testing.assert_allclose(normalized.std(axis=0), 1.0, atol=1e-2)


def test_pad_features_shapes_values_and_mask():
    rng = np.random.default_rng(0)
    utterances = [
        rng.normal(size=(frames, 8)).astype(np.float32) for frames in (5, 3, 7)
    ]
    features, mask = audio.pad_features(utterances)
    assert features.shape == (3, 7, 8) and mask.shape == (3, 7)
    assert mask.dtype.name == "bool"
    assert mask.numpy().sum(axis=1).tolist() == [5, 3, 7]
    np.testing.assert_array_equal(features[1, :3].numpy(), utterances[1])
    assert np.all(features[1, 3:].numpy() == 0) and not mask[1, 3:].numpy().any()
    features, mask = audio.pad_features(utterances, max_frames=10)
    assert features.shape == (3, 10, 8) and mask.numpy().sum() == 15
    with pytest.raises(ValueError, match="truncate=True"):
        audio.pad_features(utterances, max_frames=6)
    features, mask = audio.pad_features(utterances, max_frames=6, truncate=True)
    assert mask.numpy().sum(axis=1).tolist() == [5, 3, 6]


def test_number_and_ordinal_words():
    expected = {0: "zero", 13: "thirteen", 40: "forty", 99: "ninety nine",
                100: "one hundred", 115: "one hundred and fifteen",
                999: "nine hundred and ninety nine"}  # fmt: skip
    assert {n: audio.number_to_words(n) for n in expected} == expected
    ordinals = {1: "first", 2: "second", 3: "third", 4: "fourth", 12: "twelfth",
                20: "twentieth", 22: "twenty second", 31: "thirty first"}  # fmt: skip
    assert {n: audio.ordinal_to_words(n) for n in ordinals} == ordinals


def test_generate_phrases_is_deterministic_lower_case_text():
    phrases = audio.generate_phrases(200, seed=1)
    assert phrases == audio.generate_phrases(200, seed=1)
    assert phrases != audio.generate_phrases(200, seed=2)
    assert all(re.fullmatch(r"[a-z]+( [a-z]+)*", phrase) for phrase in phrases)
    assert any(phrase.startswith("set a timer for") for phrase in phrases)
    assert any(re.fullmatch(r"the \w+( \w+)? of \w+", phrase) for phrase in phrases)
    dates = audio.generate_phrases(20, seed=0, kinds=["date"])
    assert all(" of " in phrase or " the " in phrase for phrase in dates)


def test_make_speech_dataset_is_deterministic_for_a_seed():
    phrases = audio.generate_phrases(6, seed=0)
    first = audio.make_speech_dataset(phrases, seed=5)
    again = audio.make_speech_dataset(phrases, seed=5)
    other = audio.make_speech_dataset(phrases, seed=6)
    assert [transcript for _, transcript in first] == phrases
    assert all(
        np.array_equal(a, b) for (a, _), (b, _) in zip(first, again, strict=True)
    )
    assert any(
        a.shape != b.shape or not np.array_equal(a, b)
        for (a, _), (b, _) in zip(first, other, strict=True)
    )
    features = audio.make_speech_dataset(phrases[:2], seed=5, as_features=True)
    for (waveform, _), (feature, _) in zip(first, features, strict=False):
        assert feature.shape == (audio.count_frames(len(waveform)), audio.MELS)


def test_missing_extra_names_the_install_command(monkeypatch):
    monkeypatch.setattr(audio, "_ENGINE", None)  # as if nothing was loaded yet
    monkeypatch.setitem(sys.modules, "espeakng_loader", None)
    with pytest.raises(ModuleNotFoundError, match=r"pip install -e '\.\[apps\]'"):
        audio.synthesize("hello")
