import keras
import numpy as np
import pytest
import tensorflow as tf

from s2s_helpers import decoder


@pytest.fixture
def parts():
    keras.utils.set_random_seed(4)
    layer = decoder.Decoder(12, 8, 16, 10)
    rng = np.random.default_rng(0)
    values = rng.normal(size=(2, 5, 16)).astype("float32")
    mask = np.array([[1, 1, 1, 1, 0], [1, 1, 0, 0, 0]], bool)
    tgt_in = np.array([[2, 4, 5, 6], [2, 7, 8, 0]], np.int32)
    state = rng.normal(size=(2, 16)).astype("float32")
    return layer, values, mask, tgt_in, state


def test_carried_state_changes_the_output(parts):
    """Seed bug 1: the previous state must reach the GRU cell, not only the query."""
    layer, values, mask, _, state = parts
    keys = layer.precompute_keys(values)
    token = np.array([4, 4], np.int32)
    logits_a, new_state, _ = layer.step(token, state, values, keys, mask)
    logits_b, _, _ = layer.step(token, state * 0.0 + 1.0, values, keys, mask)
    assert not np.allclose(logits_a, logits_b)
    # and the cell really received it: a GRUCell step from zeros differs
    context, _ = layer.attention(state, values, keys=keys, mask=mask)
    inputs = tf.concat([context, layer.embedding(token)], -1)
    from_zero, _ = layer.cell(inputs, tf.zeros_like(state))
    carried, _ = layer.cell(inputs, state)
    np.testing.assert_allclose(new_state.numpy(), carried.numpy(), atol=1e-6)
    assert not np.allclose(new_state.numpy(), from_zero.numpy())


def test_unroll_equals_the_steps(parts):
    layer, values, mask, tgt_in, state = parts
    logits, weights = layer(tgt_in, values, state, mask=mask)
    assert logits.shape == (2, 4, 12) and weights.shape == (2, 4, 5)
    keys = layer.precompute_keys(values)
    s = state
    for t in range(4):
        step_logits, s, step_weights = layer.step(tgt_in[:, t], s, values, keys, mask)
        np.testing.assert_allclose(logits.numpy()[:, t], step_logits.numpy(), atol=1e-5)
        np.testing.assert_allclose(
            weights.numpy()[:, t], step_weights.numpy(), atol=1e-6
        )
    assert (weights.numpy()[1, :, 2:] == 0).all()


def test_given_keys_are_used_as_they_are(parts):
    """``call(keys=...)`` reuses keys computed once (``EncoderDecoder.encode``)."""
    layer, values, mask, tgt_in, state = parts
    keys = layer.precompute_keys(values)
    logits, weights = layer(tgt_in, values, state, mask=mask)
    again, again_weights = layer(tgt_in, values, state, mask=mask, keys=keys)
    np.testing.assert_allclose(again.numpy(), logits.numpy(), atol=1e-6)
    other, _ = layer(tgt_in, values, state, mask=mask, keys=keys * 2.0)
    assert not np.allclose(other.numpy(), logits.numpy())


def test_errors_and_config(parts):
    layer, values, mask, tgt_in, state = parts
    with pytest.raises(ValueError, match="attention must be"):
        decoder.Decoder(12, attention="cosine")
    with pytest.raises(ValueError, match=r"\(batch, tgt_len\)"):
        layer(tgt_in[0], values, state, mask=mask)
    clone = decoder.Decoder.from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()


def test_an_unknown_tgt_len_loops_symbolically_to_the_same_result(parts):
    """Batches cut to their own length: the tf.while_loop gives the unrolled
    loop's logits and weights, and one trace serves every length."""
    layer, values, mask, tgt_in, state = parts
    spec = tf.TensorSpec([None, None], tf.int32)

    @tf.function(input_signature=[spec])
    def symbolic(ids):
        return layer(ids, values, state, mask=mask)

    for length in (4, 2):
        expected = layer(tgt_in[:, :length], values, state, mask=mask)
        for got, want in zip(symbolic(tgt_in[:, :length]), expected):
            np.testing.assert_allclose(got.numpy(), want.numpy(), atol=1e-5)
    assert symbolic.experimental_get_tracing_count() == 1


def test_the_output_layer_reads_output_and_context(parts):
    layer, values, mask, tgt_in, state = parts
    keys = layer.precompute_keys(values)
    output, new_state, context, _ = layer.recur(tgt_in[:, 0], state, values, keys, mask)
    logits, _, _ = layer.step(tgt_in[:, 0], state, values, keys, mask)
    joined = tf.concat([output, context], -1)
    np.testing.assert_allclose(logits, layer.output_layer(joined), atol=1e-6)
    classic = decoder.Decoder(12, 8, 16, 10, output_context=False)
    classic(tgt_in, values, state, mask=mask)
    assert classic.output_layer.kernel.shape == (16, 12)
    assert layer.output_layer.kernel.shape == (32, 12)
