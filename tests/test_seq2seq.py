import keras
import numpy as np

from s2s_helpers import losses, seq2seq, training


def test_logits_shape_and_attention(tiny_model, src_ids):
    tgt_in = np.array([[2, 4, 5], [2, 6, 0]], np.int32)
    logits, weights = tiny_model.call_with_attention((src_ids, tgt_in))
    assert logits.shape == (2, 3, 12) and weights.shape == (2, 3, 5)
    np.testing.assert_allclose(weights.numpy().sum(-1), 1.0, rtol=1e-5)
    assert (weights.numpy()[1, :, 2:] == 0).all()


def test_trainable_with_keras_fit(tiny_model, src_ids):
    tgt_in = np.array([[2, 4, 5], [2, 6, 0]], np.int32)
    tgt_out = np.array([[4, 5, 3], [6, 3, 0]], np.int32)
    tiny_model.compile(
        optimizer="adam", loss=losses.masked_loss, metrics=[losses.masked_accuracy]
    )
    history = tiny_model.fit((src_ids, tgt_in), tgt_out, epochs=3, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]


def test_overfits_one_batch(date_arrays):
    keras.utils.set_random_seed(0)
    src_vocab, tgt_vocab, (src, tgt_in, tgt_out), _, _ = date_arrays
    batch = (src[:16], tgt_in[:16]), tgt_out[:16]
    model = seq2seq.Seq2Seq(src_vocab.size, tgt_vocab.size, 16, 32)
    trainer = training.Trainer(model, keras.optimizers.Adam(0.02), jit_compile=False)
    import tensorflow as tf

    dataset = tf.data.Dataset.from_tensors(batch).repeat(150)
    history = trainer.fit(dataset, 1, verbose=0)
    assert history["loss"][0] < 1.0
    logits = model(batch[0])
    assert float(losses.masked_accuracy(batch[1], logits)) == 1.0
    assert float(losses.masked_loss(batch[1], logits)) < 0.05


def test_keras_file_roundtrip(tiny_model, src_ids, tmp_path):
    tgt_in = np.array([[2, 4, 5], [2, 6, 0]], np.int32)
    expected = tiny_model((src_ids, tgt_in)).numpy()
    tiny_model.save(tmp_path / "model.keras")
    again = keras.models.load_model(tmp_path / "model.keras")
    np.testing.assert_array_equal(again((src_ids, tgt_in)).numpy(), expected)
    assert again.get_config()["units"] == 16


def test_bidirectional_and_luong_variants(src_ids):
    for kwargs in (
        {"bidirectional": True},
        {"attention": "luong"},
        {"attention": "luong_dot"},
    ):
        model = seq2seq.Seq2Seq(20, 12, 8, 16, **kwargs)
        logits = model((src_ids, np.array([[2, 4], [2, 5]], np.int32)))
        assert logits.shape == (2, 2, 12)


def test_encode_and_decode_steps_give_the_teacher_forced_call(tiny_model, src_ids):
    tgt_in = np.array([[2, 4, 5], [2, 6, 0]], np.int32)
    logits, weights = tiny_model.call_with_attention((src_ids, tgt_in))
    values, state, keys, mask = tiny_model.encode(src_ids)
    np.testing.assert_array_equal(mask.numpy(), src_ids != 0)
    assert keys.shape == (2, 5, 10)  # (batch, src_len, attention_units)
    for t in range(tgt_in.shape[1]):
        step_logits, state, step_weights = tiny_model.decode_step(
            tgt_in[:, t], state, values, keys, mask
        )
        np.testing.assert_allclose(step_logits, logits[:, t], atol=1e-5)
        np.testing.assert_allclose(step_weights, weights[:, t], atol=1e-6)


def test_text_and_speech_models_share_one_interface():
    """Both models inherit encode / decode_step / call from ``EncoderDecoder``."""
    from s2s_helpers import speech

    shared = ("build", "encode", "decode_step", "call_with_attention", "call")
    for model_class in (seq2seq.Seq2Seq, speech.SpeechRecognizer):
        assert issubclass(model_class, seq2seq.EncoderDecoder)
        assert not set(shared + ("get_config",)) & set(vars(model_class))
