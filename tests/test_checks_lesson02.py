"""Lesson 02's checks: the reference passes, the stub is not attempted, and each
known mistake fails with its own message (also after a JSON round trip)."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from checktools import assert_round_trip, outcome, stub
from keras import ops

from s2s_helpers import checks, encoder
from s2s_helpers.checks import lesson02

# --- the numpy GRU the judges rely on agrees with Keras ---------------------------------


@pytest.mark.parametrize("reset_after", [True, False])
def test_numpy_gru_matches_keras(reset_after):
    keras.utils.set_random_seed(4)
    gru = keras.layers.GRU(
        5, return_sequences=True, return_state=True, reset_after=reset_after
    )
    inputs = np.random.default_rng(0).normal(size=(3, 6, 2)).astype(np.float32)
    mask = lesson02.PROBE_IDS != 0
    outputs, state = gru(inputs, mask=mask)
    ref_outputs, ref_state, carried = lesson02.gru_numpy(
        inputs, mask, *[w.numpy() for w in gru.weights]
    )
    np.testing.assert_allclose(state, ref_state, atol=1e-5)
    np.testing.assert_allclose(outputs, carried, atol=1e-5)  # Keras repeats at padding
    np.testing.assert_allclose(outputs * mask[..., None], ref_outputs, atol=1e-5)


# --- Exercise 2.1: the encoder layer ------------------------------------------------------


class SimpleEncoder(keras.layers.Layer):
    def __init__(self, vocab_size, embedding_dim, units, **kwargs):
        super().__init__(**kwargs)
        self.embedding = keras.layers.Embedding(vocab_size, embedding_dim)
        self.gru = keras.layers.GRU(units, return_sequences=True, return_state=True)

    def call(self, src_ids):
        mask = ops.not_equal(src_ids, 0)
        outputs, state = self.gru(self.embedding(src_ids), mask=mask)
        return outputs * ops.cast(mask, outputs.dtype)[..., None], state


class MaskZeroEncoder(keras.layers.Layer):
    """The mask from ``Embedding(mask_zero=True)``, found by the GRU itself."""

    def __init__(self, vocab_size, embedding_dim, units, **kwargs):
        super().__init__(**kwargs)
        self.embedding = keras.layers.Embedding(
            vocab_size, embedding_dim, mask_zero=True
        )
        self.gru = keras.layers.GRU(units, return_sequences=True, return_state=True)

    def call(self, src_ids):
        outputs, state = self.gru(self.embedding(src_ids))
        return outputs * ops.cast(src_ids != 0, outputs.dtype)[..., None], state


def encoder_variant(mask="right", zero=True, sequences=True, state="gru", swap=False):
    class Variant(keras.layers.Layer):
        def __init__(self, vocab_size, embedding_dim, units, **kwargs):
            super().__init__(**kwargs)
            self.embedding = keras.layers.Embedding(vocab_size, embedding_dim)
            self.gru = keras.layers.GRU(
                units, return_sequences=sequences, return_state=state == "gru"
            )

        def call(self, src_ids):
            real = ops.not_equal(src_ids, 0)
            given = {"right": real, "none": None, "inverted": ops.logical_not(real)}
            result = self.gru(self.embedding(src_ids), mask=given[mask])
            outputs, gru_state = result if state == "gru" else (result, None)
            if zero and sequences:
                outputs = outputs * ops.cast(real, outputs.dtype)[..., None]
            if state == "missing":
                return outputs
            if state == "last position":
                gru_state = outputs[:, -1]
            return (gru_state, outputs) if swap else (outputs, gru_state)

    return Variant


class ExtraDense(keras.layers.Layer):
    def __init__(self, vocab_size, embedding_dim, units, **kwargs):
        super().__init__(**kwargs)
        self.encoder = SimpleEncoder(vocab_size, embedding_dim, units)
        self.dense = keras.layers.Dense(units)

    def call(self, src_ids):
        outputs, state = self.encoder(src_ids)
        return outputs, self.dense(state)


ENCODER_MISTAKES = {
    "no mask": (encoder_variant(mask="none"), "also read the padding"),
    "no mask, no zeroing": (
        encoder_variant(mask="none", zero=False),
        "read the padding",
    ),
    "inverted mask": (encoder_variant(mask="inverted"), "inverted"),
    "not zeroed": (encoder_variant(zero=False), "repeats the last real output"),
    "no return_sequences": (encoder_variant(sequences=False), "return_sequences"),
    "no return_state": (encoder_variant(state="missing"), "return_state=True"),
    "last position": (encoder_variant(state="last position"), "last position"),
    "swapped": (encoder_variant(swap=True), "returned (state, outputs)"),
    "extra layer": (ExtraDense, "exactly an Embedding"),
}


def test_encoder_reference_passes(capsys):
    assert outcome("2.1", SimpleEncoder)[0] == "passed"
    assert outcome("2.1", MaskZeroEncoder)[0] == "passed"
    assert outcome("2.1", encoder.Encoder)[0] == "passed"  # the library's own
    checks.check_encoder_layer(SimpleEncoder)
    assert "passed" in capsys.readouterr().out


def test_encoder_stub_is_not_attempted():
    assert outcome("2.1", stub)[0] == "not_attempted"


@pytest.mark.parametrize("name", sorted(ENCODER_MISTAKES))
def test_encoder_known_mistakes_are_named(name):
    function, expected_text = ENCODER_MISTAKES[name]
    status, message = outcome("2.1", function)
    assert status == "failed"
    assert expected_text in message


def test_encoder_round_trip():
    assert_round_trip("2.1", SimpleEncoder)
    assert_round_trip("2.1", ENCODER_MISTAKES["not zeroed"][0])


# --- Exercise 2.2: last_real_output -------------------------------------------------------


def last_real_output(outputs, src_ids):
    lengths = ops.sum(ops.cast(ops.not_equal(src_ids, 0), "int32"), axis=1)
    return tf.gather(outputs, lengths - 1, batch_dims=1)


def last_numpy(outputs, src_ids):
    lengths = (src_ids != 0).sum(axis=1)
    return outputs[np.arange(len(outputs)), lengths - 1]


def lengths_of(ids):
    return (ids != 0).sum(axis=1)


LAST_MISTAKES = {
    "last position": (lambda o, ids: o[:, -1], "outputs[:, -1]"),
    "first position": (lambda o, ids: o[:, 0], "first position"),
    "mean real": (
        lambda o, ids: o.sum(1) / lengths_of(ids)[:, None],
        "averages the real",
    ),
    "mean all": (lambda o, ids: o.mean(1), "padding included"),
    "off by one": (
        lambda o, ids: o[np.arange(len(o)), np.maximum(lengths_of(ids) - 2, 0)],
        "off by one",
    ),
    "keepdims": (lambda o, ids: last_numpy(o, ids)[:, None, :], "kept the src_len"),
    "index length": (lambda o, ids: o[np.arange(len(o)), lengths_of(ids)], "raised"),
}


def test_last_reference_passes():
    assert outcome("2.2", last_real_output)[0] == "passed"
    assert outcome("2.2", last_numpy)[0] == "passed"


def test_last_stub_is_not_attempted():
    assert outcome("2.2", stub)[0] == "not_attempted"


@pytest.mark.parametrize("name", sorted(LAST_MISTAKES))
def test_last_known_mistakes_are_named(name):
    function, expected_text = LAST_MISTAKES[name]
    status, message = outcome("2.2", function)
    assert status in {"failed", "error"}
    assert expected_text in message


def test_last_round_trip():
    assert_round_trip("2.2", last_real_output)


# --- Exercise 2.3: encode_bidirectional ------------------------------------------------------


def encode_bidirectional(embedding, bidirectional_gru, src_ids):
    mask = ops.not_equal(src_ids, 0)
    outputs, forward, backward = bidirectional_gru(embedding(src_ids), mask=mask)
    return outputs, ops.concatenate([forward, backward], axis=-1)


def bidirectional_variant(combine, masked=True):
    def encode(embedding, bidirectional_gru, src_ids):
        mask = ops.not_equal(src_ids, 0) if masked else None
        outputs, forward, backward = bidirectional_gru(embedding(src_ids), mask=mask)
        return outputs, combine(outputs, forward, backward)

    return encode


BIDIRECTIONAL_MISTAKES = {
    "forward only": (bidirectional_variant(lambda o, f, b: f), "only the forward"),
    "backward only": (bidirectional_variant(lambda o, f, b: b), "only the backward"),
    "sum": (bidirectional_variant(lambda o, f, b: f + b), "adds the two"),
    "mean": (bidirectional_variant(lambda o, f, b: (f + b) / 2), "averages"),
    "axis 0": (
        bidirectional_variant(lambda o, f, b: ops.concatenate([f, b], 0)),
        "batch axis",
    ),
    "stack": (bidirectional_variant(lambda o, f, b: ops.stack([f, b])), "new axis"),
    "order": (
        bidirectional_variant(lambda o, f, b: ops.concatenate([b, f], -1)),
        "backward state first",
    ),
    "no mask": (
        bidirectional_variant(lambda o, f, b: ops.concatenate([f, b], -1), False),
        "no mask",
    ),
    "last output": (bidirectional_variant(lambda o, f, b: o[:, -1]), "last position"),
    "three tensors": (
        lambda e, g, ids: g(e(ids), mask=ops.not_equal(ids, 0)),
        "returned 3 tensors",
    ),
}


def test_bidirectional_reference_passes():
    assert outcome("2.3", encode_bidirectional)[0] == "passed"


def test_bidirectional_agrees_with_the_library_encoder():
    """encoder.Encoder(bidirectional=True) computes what the exercise asks."""
    layer = encoder.Encoder(11, 3, 6, bidirectional=True)
    ids = tf.constant(lesson02.PROBE_IDS)
    outputs, state = layer(ids)
    mine_outputs, mine_state = encode_bidirectional(layer.embedding, layer.gru, ids)
    np.testing.assert_allclose(state, mine_state, atol=1e-6)
    np.testing.assert_allclose(outputs, mine_outputs, atol=1e-6)


def test_bidirectional_stub_is_not_attempted():
    assert outcome("2.3", stub)[0] == "not_attempted"


@pytest.mark.parametrize("name", sorted(BIDIRECTIONAL_MISTAKES))
def test_bidirectional_known_mistakes_are_named(name):
    function, expected_text = BIDIRECTIONAL_MISTAKES[name]
    status, message = outcome("2.3", function)
    assert status == "failed"
    assert expected_text in message


def test_bidirectional_round_trip():
    assert_round_trip("2.3", encode_bidirectional)
    assert_round_trip("2.3", BIDIRECTIONAL_MISTAKES["order"][0])
