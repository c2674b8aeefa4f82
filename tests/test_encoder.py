import keras
import numpy as np
import pytest

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
    config = layer.get_config()
    assert (
        keras.saving.deserialize_keras_object(
            keras.saving.serialize_keras_object(layer)
        ).get_config()
        == config
    )
