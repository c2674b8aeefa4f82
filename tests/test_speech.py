"""The speech encoder downsamples with the right mask and plugs into the decoder."""

import math

import keras
import numpy as np
import pytest
import tensorflow as tf

from s2s_helpers import audio, search, shapes, speech, speech_data

MELS = 12  # small features keep the tests fast


def _batch(lengths, frames=None, seed=0):
    rng = np.random.default_rng(seed)
    utterances = [rng.normal(size=(n, MELS)).astype(np.float32) for n in lengths]
    return audio.pad_features(
        utterances, frames
    )  # (batch, frames, mels), (batch, frames)


def _model(**kwargs):
    settings = dict(mels=MELS, filters=8, embedding_dim=8, units=16, attention_units=8)
    settings.update(kwargs)
    return speech.SpeechRecognizer(speech_data.character_vocabulary().size, **settings)


def test_frame_mask_finds_padding():
    features, mask = _batch([7, 3, 10])
    np.testing.assert_array_equal(speech.frame_mask(features).numpy(), mask.numpy())


@pytest.mark.parametrize("layers", [0, 1, 2, 3])
def test_encoder_shapes_and_downsampling_factor(layers):
    lengths = [37, 20, 5]
    features, _ = _batch(lengths)  # 37 frames
    encoder = speech.SpeechEncoder(
        units=16, filters=8, downsampling_layers=layers, mels=MELS
    )
    values, state, mask = encoder(features)
    checker = shapes.ShapeChecker()
    checker(features, "batch frames mels", "features")
    checker(values, "batch enc_frames units", "values")
    checker(state, "batch units", "state")
    checker(mask, "batch enc_frames", "mask")
    factor = 2**layers
    assert encoder.downsampling_factor == factor
    assert (
        values.shape[1]
        == math.ceil(37 / factor)
        == speech.downsampled_frames(37, layers)
    )
    # a partly filled last window is still a real position
    np.testing.assert_array_equal(
        mask.numpy().sum(axis=1), [math.ceil(n / factor) for n in lengths]
    )


def test_encoder_outputs_are_zero_at_padding_and_ignore_it():
    features, _ = _batch([9, 16])
    encoder = speech.SpeechEncoder(
        units=16, filters=8, downsampling_layers=2, mels=MELS
    )
    values, state, mask = encoder(features)
    assert np.all(values.numpy()[~mask.numpy()] == 0.0)
    # the first utterance alone, without padding, gives the same real outputs
    alone, alone_state, _ = encoder(features[:1, :9])
    np.testing.assert_allclose(values[0, :3], alone[0], atol=1e-5)
    np.testing.assert_allclose(state[0], alone_state[0], atol=1e-5)


def test_downsample_mask_matches_strided_convolution_lengths():
    mask = np.arange(10)[None, :] < np.array([[10], [7], [1]])
    result = speech.downsample_mask(tf.constant(mask), 4).numpy()
    assert result.shape == (3, 3)
    np.testing.assert_array_equal(result.sum(axis=1), [3, 2, 1])


def test_encoder_rejects_wrong_shapes_with_both_shapes_named():
    encoder = speech.SpeechEncoder(units=16, filters=8, mels=MELS)
    with pytest.raises(ValueError, match=r"\(batch, frames, mels=12\).*\(20, 12\)"):
        encoder(tf.zeros((20, MELS)))
    with pytest.raises(ValueError, match="received shape"):
        encoder(tf.zeros((2, 20, MELS + 1)))
    with pytest.raises(ValueError, match="even"):
        speech.SpeechEncoder(units=15)


def test_model_logits_and_attention_over_encoder_positions():
    features, _ = _batch([30, 12])
    model = _model()
    tgt_in_ids = tf.constant([[2, 5, 6, 7], [2, 8, 0, 0]], tf.int32)
    logits, weights = model.call_with_attention((features, tgt_in_ids))
    assert logits.shape == (2, 4, speech_data.character_vocabulary().size)
    assert weights.shape == (2, 4, math.ceil(30 / 4))
    np.testing.assert_allclose(weights.numpy().sum(-1), 1.0, atol=1e-5)
    assert np.all(weights.numpy()[1, :, 3:] == 0.0)  # 12 frames -> 3 real positions


def test_greedy_decode_and_beam_search_work_on_features():
    features, _ = _batch([30, 12, 21])
    model = _model()
    for result in (
        search.greedy_decode(model, features, max_length=6),
        search.beam_search(model, features, max_length=6, beam_width=3),
    ):
        assert result.tokens.shape == (3, 6)
        assert result.weights.shape == (3, 6, math.ceil(30 / 4))
        assert result.scores.shape == (3,)
    # a beam of width 1 is greedy decoding
    greedy = search.greedy_decode(model, features, max_length=6)
    narrow = search.beam_search(model, features, max_length=6, beam_width=1)
    np.testing.assert_array_equal(greedy.tokens, narrow.tokens)


def test_transcribe_returns_text_per_utterance():
    features, _ = _batch([30, 12])
    texts, result = speech.transcribe(
        _model(), features, speech_data.character_vocabulary(), 5
    )
    assert len(texts) == 2 and all(isinstance(text, str) for text in texts)
    assert result.tokens.shape == (2, 5)
    with pytest.raises(ValueError, match="method"):
        speech.transcribe(
            _model(), features, speech_data.character_vocabulary(), 5, "sample"
        )


def test_serialization_round_trip(tmp_path):
    features, _ = _batch([30, 12])
    model = _model(downsampling_layers=3)
    tgt_in_ids = tf.constant([[2, 5, 6], [2, 8, 0]], tf.int32)
    expected = model((features, tgt_in_ids))
    model.save(tmp_path / "speech.keras")
    restored = keras.models.load_model(tmp_path / "speech.keras")
    assert isinstance(restored, speech.SpeechRecognizer)
    assert restored.get_config() == model.get_config()
    np.testing.assert_allclose(restored((features, tgt_in_ids)), expected, atol=1e-6)
    config = speech.SpeechEncoder(units=16, mels=MELS).get_config()
    assert speech.SpeechEncoder.from_config(config).get_config() == config
