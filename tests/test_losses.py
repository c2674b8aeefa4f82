import keras
import numpy as np
import pytest

from s2s_helpers import losses


def _logits_for(targets, vocab=5, right=3.0):
    logits = np.zeros(targets.shape + (vocab,), "float32")
    for index in np.ndindex(targets.shape):
        logits[index + (targets[index],)] = right
    return logits


def test_masked_loss_equals_hand_computation():
    tgt = np.array([[1, 2, 0]], np.int32)
    logits = np.log(
        np.array(
            [
                [
                    [0.1, 0.6, 0.1, 0.1, 0.1],
                    [0.2, 0.2, 0.2, 0.2, 0.2],
                    [0.9, 0.025, 0.025, 0.025, 0.025],
                ]
            ],
            "float32",
        )
    )
    expected = -(np.log(0.6) + np.log(0.2)) / 2  # two real tokens, padding ignored
    assert float(losses.masked_loss(tgt, logits)) == pytest.approx(expected, rel=1e-5)


def test_logits_at_padding_are_ignored():
    rng = np.random.default_rng(0)
    tgt = np.array([[3, 4, 0, 0], [1, 0, 0, 0]], np.int32)
    logits = rng.normal(size=(2, 4, 5)).astype("float32")
    noisy = logits.copy()
    noisy[tgt == 0] = rng.normal(size=noisy[tgt == 0].shape) * 100
    assert float(losses.masked_loss(tgt, logits)) == pytest.approx(
        float(losses.masked_loss(tgt, noisy))
    )
    assert float(losses.masked_accuracy(tgt, logits)) == float(
        losses.masked_accuracy(tgt, noisy)
    )


def test_extra_padding_changes_neither_loss_nor_accuracy():
    rng = np.random.default_rng(1)
    tgt = np.array([[3, 4, 2], [1, 2, 0]], np.int32)
    logits = rng.normal(size=(2, 3, 5)).astype("float32")
    tgt_padded = np.pad(tgt, [[0, 0], [0, 3]])
    logits_padded = np.concatenate(
        [logits, rng.normal(size=(2, 3, 5)).astype("float32")], 1
    )
    assert float(losses.masked_loss(tgt, logits)) == pytest.approx(
        float(losses.masked_loss(tgt_padded, logits_padded)), rel=1e-6
    )
    assert float(losses.masked_accuracy(tgt, logits)) == pytest.approx(
        float(losses.masked_accuracy(tgt_padded, logits_padded))
    )
    # the seed's loss (bug 3) does change with padding
    assert float(losses.padded_mean_loss(tgt_padded, logits_padded)) < float(
        losses.padded_mean_loss(tgt, logits)
    )


def test_agrees_with_keras_sample_weighted_crossentropy():
    rng = np.random.default_rng(2)
    tgt = np.array([[3, 4, 2, 0], [1, 0, 0, 0]], np.int32)
    logits = rng.normal(size=(2, 4, 5)).astype("float32")
    keras_loss = keras.losses.SparseCategoricalCrossentropy(
        from_logits=True, reduction="sum"
    )
    total = float(keras_loss(tgt, logits, sample_weight=(tgt != 0).astype("float32")))
    assert float(losses.masked_loss(tgt, logits)) == pytest.approx(total / 4, rel=1e-5)


def test_masked_accuracy_counts_only_real_tokens():
    tgt = np.array([[1, 2, 3, 0]], np.int32)
    logits = _logits_for(np.array([[1, 2, 4, 0]]))
    assert float(losses.masked_accuracy(tgt, logits)) == pytest.approx(2 / 3)


def test_all_padding_batch_is_zero_not_nan():
    tgt = np.zeros((2, 3), np.int32)
    logits = np.zeros((2, 3, 5), "float32")
    assert float(losses.masked_loss(tgt, logits)) == 0.0


def test_bad_shapes_are_named():
    with pytest.raises(
        ValueError, match=r"tgt_out_ids \(batch, tgt_len\).*received \(3,\)"
    ):
        losses.masked_loss(np.zeros(3, np.int32), np.zeros((3, 5), "float32"))
