"""Tests for s2s_helpers.audio: log-mel features, normalisation, padding."""

import numpy as np
import pytest

from s2s_helpers import audio, espeak

PHRASE = "set a timer for twenty minutes"


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
    speech = espeak.synthesize("hello")[:4000]
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
    features = audio.log_mel_spectrogram(espeak.synthesize(PHRASE))
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
