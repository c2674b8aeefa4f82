import keras
import numpy as np
import pytest

from s2s_helpers import attention


def _identity_bahdanau(units):
    """Bahdanau attention with W_a = U_a = I and v_a = 1 (hand-computable)."""
    layer = attention.BahdanauAttention(units)
    query, values = np.zeros((1, units), "float32"), np.zeros((1, 2, units), "float32")
    layer(query, values)
    layer.query_layer.set_weights([np.eye(units, dtype="float32")])
    layer.key_layer.set_weights([np.eye(units, dtype="float32")])
    layer.energy_layer.set_weights([np.ones((units, 1), "float32")])
    return layer


def test_hand_computed_2x2():
    layer = _identity_bahdanau(2)
    query = np.array([[1.0, 0.0]], "float32")
    values = np.array([[[1.0, 0.0], [0.0, 1.0]]], "float32")
    context, weights = layer(query, values)
    score = np.array([np.tanh(2.0) + np.tanh(0.0), np.tanh(1.0) + np.tanh(1.0)])
    expected = np.exp(score) / np.exp(score).sum()
    np.testing.assert_allclose(weights.numpy()[0], expected, rtol=1e-5)
    np.testing.assert_allclose(context.numpy()[0], expected @ values[0], rtol=1e-5)


def test_matches_keras_additive_attention_with_identity_projections():
    rng = np.random.default_rng(0)
    units = 4
    layer = _identity_bahdanau(units)
    query = rng.normal(size=(3, units)).astype("float32")
    values = rng.normal(size=(3, 6, units)).astype("float32")
    mask = np.array([[1] * 6, [1] * 4 + [0] * 2, [1] * 2 + [0] * 4], bool)
    context, weights = layer(query, values, mask=mask)
    keras_layer = keras.layers.AdditiveAttention(use_scale=False)
    keras_context, keras_scores = keras_layer(
        [query[:, None, :], values], mask=[None, mask], return_attention_scores=True
    )
    np.testing.assert_allclose(weights.numpy(), keras_scores.numpy()[:, 0], atol=1e-6)
    np.testing.assert_allclose(context.numpy(), keras_context.numpy()[:, 0], atol=1e-5)


@pytest.mark.parametrize("kind", ["bahdanau", "luong", "luong_dot"])
def test_rows_sum_to_one_and_padding_gets_exactly_zero(kind):
    rng = np.random.default_rng(1)
    layer = (
        attention.BahdanauAttention(5)
        if kind == "bahdanau"
        else attention.LuongAttention(8, "dot" if kind == "luong_dot" else "general")
    )
    query = rng.normal(size=(2, 8)).astype("float32") * 10
    values = rng.normal(size=(2, 7, 8)).astype("float32") * 10
    mask = np.array([[1] * 7, [1] * 3 + [0] * 4], bool)
    _, weights = layer(query, values, mask=mask)
    weights = weights.numpy()
    np.testing.assert_allclose(weights.sum(-1), 1.0, rtol=1e-5)
    assert (weights[1, 3:] == 0.0).all()  # exactly zero, not just small


def test_precomputed_keys_give_the_same_result():
    rng = np.random.default_rng(2)
    layer = attention.BahdanauAttention(6)
    query = rng.normal(size=(2, 8)).astype("float32")
    values = rng.normal(size=(2, 5, 8)).astype("float32")
    context, weights = layer(query, values)
    keys = layer.precompute_keys(values)
    assert keys.shape == (2, 5, 6)
    context2, weights2 = layer(query, values, keys=keys)
    np.testing.assert_allclose(weights.numpy(), weights2.numpy(), rtol=1e-6)
    np.testing.assert_allclose(context.numpy(), context2.numpy(), rtol=1e-6)


def test_masked_softmax_masks_before_the_softmax():
    scores = np.array([[1.0, 2.0, 30.0]], "float32")
    weights = attention.masked_softmax(scores, np.array([[True, True, False]])).numpy()
    np.testing.assert_allclose(
        weights[0, :2], np.exp([1, 2]) / np.exp([1, 2]).sum(), rtol=1e-6
    )
    assert weights[0, 2] == 0.0


def test_bad_shapes_name_expected_and_received():
    layer = attention.BahdanauAttention(4)
    with pytest.raises(
        ValueError, match=r"query \(batch, units\).*received query \(2, 3, 8\)"
    ):
        layer(np.zeros((2, 3, 8), "float32"), np.zeros((2, 5, 8), "float32"))
    with pytest.raises(ValueError, match="keys"):
        layer(
            np.zeros((2, 8), "float32"),
            np.zeros((2, 5, 8), "float32"),
            keys=np.zeros((2, 5, 3), "float32"),
        )
    with pytest.raises(ValueError, match="'dot' or 'general'"):
        attention.LuongAttention(4, score="cosine")


def test_layers_serialise():
    for layer in (attention.BahdanauAttention(7), attention.LuongAttention(5, "dot")):
        clone = layer.__class__.from_config(layer.get_config())
        assert clone.get_config() == layer.get_config()
        assert (
            keras.saving.deserialize_keras_object(
                keras.saving.serialize_keras_object(layer)
            ).get_config()
            == layer.get_config()
        )
