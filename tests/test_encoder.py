import keras
import numpy as np
import pytest
import tensorflow as tf

from s2s_helpers import encoder


@pytest.mark.parametrize("bidirectional", [False, True])
def test_shapes_and_zero_outputs_at_padding(bidirectional, src_ids):
    layer = encoder.Encoder(20, 8, 16, bidirectional=bidirectional)
    outputs, state, mask = layer(src_ids)
    assert outputs.shape == (2, 5, 16) and state.shape == (2, 16)
    assert (outputs.numpy()[1, 2:] == 0).all()
    np.testing.assert_array_equal(mask.numpy(), src_ids != 0)


@pytest.mark.parametrize("bidirectional", [False, True])
def test_extra_padding_changes_nothing(bidirectional, src_ids):
    layer = encoder.Encoder(20, 8, 16, bidirectional=bidirectional)
    outputs, state, _ = layer(src_ids)
    padded = np.pad(src_ids, [[0, 0], [0, 4]])
    outputs2, state2, _ = layer(padded)
    np.testing.assert_allclose(outputs2.numpy()[:, :5], outputs.numpy(), atol=1e-6)
    np.testing.assert_allclose(state2.numpy(), state.numpy(), atol=1e-6)


def test_state_is_the_last_real_output():
    layer = encoder.Encoder(20, 8, 16)
    ids = np.array([[4, 5, 6, 0, 0]], np.int32)
    outputs, state, _ = layer(ids)
    np.testing.assert_allclose(state.numpy()[0], outputs.numpy()[0, 2], atol=1e-6)


def test_errors_and_config():
    with pytest.raises(ValueError, match="even"):
        encoder.Encoder(20, 8, 15, bidirectional=True)
    layer = encoder.Encoder(20, 8, 16)
    with pytest.raises(ValueError, match=r"\(batch, src_len\).*ids\[None, :\]"):
        layer(np.array([4, 5, 6], np.int32))
    with pytest.raises(ValueError, match=r"at least one source position.*\(2, 0\)"):
        layer(np.zeros((2, 0), np.int32))
    config = layer.get_config()
    assert (
        keras.saving.deserialize_keras_object(
            keras.saving.serialize_keras_object(layer)
        ).get_config()
        == config
    )


def keras_encoding(layer, src_ids):
    """The same encoder through Keras's own GRU call with the mask: the oracle."""
    mask = encoder.source_mask(src_ids)
    embedded = layer.embedding(src_ids)
    if layer.bidirectional:
        outputs, forward, backward = layer.gru(embedded, mask=mask)
        state = tf.concat([forward, backward], -1)
    else:
        outputs, state = layer.gru(embedded, mask=mask)
    return outputs * tf.cast(mask, outputs.dtype)[..., None], state


@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize(
    "run", ["eager", "unknown length", "xla", "xla, unknown length"]
)
def test_hoisted_projection_computes_what_the_keras_gru_does(bidirectional, run):
    keras.utils.set_random_seed(3)
    layer = encoder.Encoder(30, 8, 16, bidirectional=bidirectional)
    lengths = np.array([7, 3, 1, 5])
    ids = np.where(np.arange(7) < lengths[:, None], np.arange(2, 9), 0).astype("int32")
    ids = tf.constant(ids)

    def both(src_ids):
        results = []
        for encode in (
            lambda: layer(src_ids)[:2],
            lambda: keras_encoding(layer, src_ids),
        ):
            with tf.GradientTape() as tape:
                outputs, state = encode()
                total = tf.reduce_sum(outputs**2) + tf.reduce_sum(tf.sin(state))
            grads = tape.gradient(total, layer.weights)
            results.append([outputs, state, *map(tf.convert_to_tensor, grads)])
        return results

    if run != "eager":
        length = None if run.endswith("unknown length") else 7
        signature = [tf.TensorSpec([None, length], tf.int32)]
        both = tf.function(
            both, input_signature=signature, jit_compile=run.startswith("xla")
        )
    ours, theirs = both(ids)
    assert len(ours) == 2 + len(layer.weights) == len(theirs)
    for mine, reference in zip(ours, theirs):
        np.testing.assert_allclose(
            mine.numpy(), reference.numpy(), rtol=1e-5, atol=1e-6
        )
    assert all(np.abs(grad.numpy()).sum() > 0 for grad in ours[2:])
