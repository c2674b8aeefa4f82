"""Lesson 02's checks: the reference passes, the stub is not attempted, and each
known mistake fails with its own message (also after a JSON round trip)."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from checktools import (
    assert_diagnosed,
    assert_passes_unusual,
    assert_round_trip,
    outcome,
    stub,
)
from keras import ops

from s2s_helpers import checks, encoder
from s2s_helpers.checks import framework, lesson02

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
    "no mask": (encoder_variant(mask="none"), "the state after the last position"),
    "no mask, no zeroing": (
        encoder_variant(mask="none", zero=False),
        "and they are not 0 there",
    ),
    "inverted mask": (encoder_variant(mask="inverted"), "inverted"),
    "not zeroed": (encoder_variant(zero=False), "repeat the last real output"),
    "no return_sequences": (
        encoder_variant(sequences=False),
        "one vector per sequence",
    ),
    "no return_state": (encoder_variant(state="missing"), "only the outputs"),
    "last position": (encoder_variant(state="last position"), "last position"),
    "swapped": (encoder_variant(swap=True), "returned (state, outputs)"),
    "extra layer": (ExtraDense, "exactly an Embedding"),
}


class LSTMEncoder(keras.layers.Layer):
    def __init__(self, vocab_size, embedding_dim, units, **kwargs):
        super().__init__(**kwargs)
        self.embedding = keras.layers.Embedding(vocab_size, embedding_dim)
        self.rnn = keras.layers.LSTM(units, return_sequences=True, return_state=True)

    def call(self, src_ids):
        mask = ops.not_equal(src_ids, 0)
        outputs, state, _ = self.rnn(self.embedding(src_ids), mask=mask)
        return outputs * ops.cast(mask, outputs.dtype)[..., None], state


class UnitsWideEmbedding(SimpleEncoder):
    def __init__(self, vocab_size, embedding_dim, units, **kwargs):
        super().__init__(vocab_size, units, units, **kwargs)  # embedding_dim ignored


class SublayerInCall(keras.layers.Layer):
    def __init__(self, vocab_size, embedding_dim, units, **kwargs):
        super().__init__(**kwargs)
        self.sizes = vocab_size, embedding_dim
        self.gru = keras.layers.GRU(units, return_sequences=True, return_state=True)

    def call(self, src_ids):
        embedded = keras.layers.Embedding(*self.sizes)(src_ids)  # new weights each call
        mask = ops.not_equal(src_ids, 0)
        outputs, state = self.gru(embedded, mask=mask)
        return outputs * ops.cast(mask, outputs.dtype)[..., None], state


class IdOneIsPadding(SimpleEncoder):
    def call(self, src_ids):
        mask = ops.greater(src_ids, 1)  # id 1 is a real token
        outputs, state = self.gru(self.embedding(src_ids), mask=mask)
        return outputs * ops.cast(mask, outputs.dtype)[..., None], state


class MeanState(SimpleEncoder):
    def call(self, src_ids):
        outputs, _ = super().call(src_ids)
        return outputs, ops.mean(outputs, axis=1)


def encoder_with(**gru_options):
    """SimpleEncoder with other GRU options."""

    class Encoder(keras.layers.Layer):
        def __init__(self, vocab_size, embedding_dim, units, **kwargs):
            super().__init__(**kwargs)
            self.embedding = keras.layers.Embedding(vocab_size, embedding_dim)
            self.gru = keras.layers.GRU(
                units, return_sequences=True, return_state=True, **gru_options
            )

        call = SimpleEncoder.call

    return Encoder


ENCODER_MISTAKES.update(
    {  # not in the catalogue: diagnosed by the property they break
        "an LSTM": (LSTMEncoder, "an LSTM's"),
        "embedding of width units": (UnitsWideEmbedding, "its embedding has shape"),
        "embedding created in call": (SublayerInCall, "holds no embedding weights"),
        "id 1 masked too": (IdOneIsPadding, "are 0 at real tokens (row 2, position 3)"),
        "mean as the state": (MeanState, "not the output at the last real token"),
        "reads backwards": (
            encoder_with(go_backwards=True),
            "are 0 at real tokens (row 0, position 0",
        ),
    }
)


class LibraryEncoder(encoder.Encoder):
    """The library's encoder without its third result, the source mask, which
    Exercise 2.1 does not ask for (the decoder of lesson 04 needs it)."""

    def call(self, src_ids, training=None):
        return super().call(src_ids, training=training)[:2]


def test_encoder_reference_passes(capsys):
    assert outcome("2.1", SimpleEncoder)[0] == "passed"
    assert outcome("2.1", MaskZeroEncoder)[0] == "passed"
    assert outcome("2.1", LibraryEncoder)[0] == "passed"  # the library's own
    checks.check_encoder_layer(SimpleEncoder)
    assert "passed" in capsys.readouterr().out


def test_encoder_stub_is_not_attempted():
    assert outcome("2.1", stub)[0] == "not_attempted"


@pytest.mark.parametrize("name", sorted(ENCODER_MISTAKES))
def test_encoder_mistakes_are_diagnosed(name):
    assert_diagnosed("2.1", ENCODER_MISTAKES, name)


class StateFromOutputs(keras.layers.Layer):
    """A GRU cell in an RNN, the state picked from the outputs, padding by where."""

    def __init__(self, vocab_size, embedding_dim, units, **kwargs):
        super().__init__(**kwargs)
        self.embedding = keras.layers.Embedding(vocab_size, embedding_dim)
        self.rnn = keras.layers.RNN(keras.layers.GRUCell(units), return_sequences=True)

    def call(self, src_ids):
        mask = ops.not_equal(src_ids, 0)
        outputs = self.rnn(self.embedding(src_ids), mask=mask)
        outputs = ops.where(mask[..., None], outputs, 0.0)
        lengths = ops.sum(ops.cast(mask, "int32"), axis=1)
        return outputs, tf.gather(outputs, lengths - 1, batch_dims=1)


@pytest.mark.parametrize("layer", [encoder_with(reset_after=False), StateFromOutputs])
def test_encoder_unusual_correct_answers_pass(layer):
    assert_passes_unusual("2.1", layer)


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
    "last position": (lambda o, ids: o[:, -1], "takes the last position"),
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


LAST_MISTAKES.update(
    {  # not in the catalogue: diagnosed by the property they break
        "gather without batch_dims": (
            lambda o, ids: tf.gather(o, lengths_of(ids) - 1, axis=1),
            "(batch, batch, units)",
        ),
        "argmin for the length": (
            lambda o, ids: o[np.arange(len(o)), np.argmin(ids, axis=1) - 1],
            "row 2 is the output of row 2 at position 2",
        ),
        "largest value": (lambda o, ids: ops.max(o, axis=1), "none of the outputs"),
        "rows reversed": (
            lambda o, ids: last_numpy(o, ids)[::-1],
            "row 0 is the output of row 2",
        ),
    }
)


def test_last_reference_passes():
    assert outcome("2.2", last_real_output)[0] == "passed"
    assert outcome("2.2", last_numpy)[0] == "passed"


def test_last_stub_is_not_attempted():
    assert outcome("2.2", stub)[0] == "not_attempted"


@pytest.mark.parametrize("name", sorted(LAST_MISTAKES))
def test_last_mistakes_are_diagnosed(name):
    assert_diagnosed("2.2", LAST_MISTAKES, name)


def last_in_a_loop(outputs, src_ids):
    rows = []
    for row, ids in zip(outputs, src_ids):
        length = sum(1 for token in ids if token != 0)
        rows.append(row[length - 1])
    return np.stack(rows)


@tf.function
def last_by_one_hot(outputs, src_ids):
    lengths = tf.reduce_sum(tf.cast(src_ids != 0, tf.int32), axis=1)
    pick = tf.one_hot(lengths - 1, tf.shape(outputs)[1])  # (batch, src_len)
    return tf.reduce_sum(outputs * pick[..., None], axis=1)


def last_take_along_axis(outputs, src_ids):
    positions = (np.sum(src_ids != 0, axis=1) - 1)[:, None, None]
    return np.take_along_axis(outputs, positions, axis=1)[:, 0]


@pytest.mark.parametrize(
    "function", [last_in_a_loop, last_by_one_hot, last_take_along_axis]
)
def test_last_unusual_correct_answers_pass(function):
    assert_passes_unusual("2.2", function)


def test_last_round_trip():
    assert_round_trip("2.2", last_real_output)


# --- Exercise 2.3: encode_bidirectional ------------------------------------------------------


def encode_bidirectional(embedding, bidirectional_gru, src_ids):
    mask = ops.not_equal(src_ids, 0)
    outputs, forward, backward = bidirectional_gru(embedding(src_ids), mask=mask)
    return outputs, ops.concatenate([forward, backward], axis=-1)


def masked_with(embedding, bidirectional_gru, src_ids, mask):
    outputs, forward, backward = bidirectional_gru(embedding(src_ids), mask=mask)
    return outputs, ops.concatenate([forward, backward], axis=-1)


def forward_outputs_only(embedding, bidirectional_gru, src_ids):
    outputs, state = encode_bidirectional(embedding, bidirectional_gru, src_ids)
    return outputs[..., : outputs.shape[-1] // 2], state


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


BIDIRECTIONAL_MISTAKES.update(
    {  # not in the catalogue: diagnosed by the property they break
        "forward twice": (
            bidirectional_variant(lambda o, f, b: ops.concatenate([f, f], -1)),
            "second half of `state` (backward) is the forward state",
        ),
        "first position as the state": (
            bidirectional_variant(lambda o, f, b: o[:, 0]),
            "first half of `state` (forward) is not",
        ),
        "forward outputs only": (
            lambda e, g, ids: forward_outputs_only(e, g, ids),
            "units is 4, expected 8",
        ),
        "stacked on the last axis": (
            bidirectional_variant(lambda o, f, b: ops.stack([f, b], axis=-1)),
            "It has 3 axes",
        ),
        "inverted mask": (
            lambda e, g, ids: masked_with(e, g, ids, ops.equal(ids, 0)),
            "`outputs` are not 0 at padding",
        ),
        "id 1 masked too": (
            lambda e, g, ids: masked_with(e, g, ids, ops.greater(ids, 1)),
            "are 0 at real tokens",
        ),
    }
)


def test_bidirectional_reference_passes():
    assert outcome("2.3", encode_bidirectional)[0] == "passed"


def test_bidirectional_agrees_with_the_library_encoder():
    """encoder.Encoder(bidirectional=True) computes what the exercise asks."""
    layer = encoder.Encoder(11, 3, 6, bidirectional=True)
    ids = tf.constant(lesson02.PROBE_IDS)
    outputs, state, _ = layer(ids)
    mine_outputs, mine_state = encode_bidirectional(layer.embedding, layer.gru, ids)
    np.testing.assert_allclose(state, mine_state, atol=1e-6)
    np.testing.assert_allclose(outputs, mine_outputs, atol=1e-6)


def test_bidirectional_stub_is_not_attempted():
    assert outcome("2.3", stub)[0] == "not_attempted"


@pytest.mark.parametrize("name", sorted(BIDIRECTIONAL_MISTAKES))
def test_bidirectional_mistakes_are_diagnosed(name):
    assert_diagnosed("2.3", BIDIRECTIONAL_MISTAKES, name)


def state_from_the_outputs(embedding, bidirectional_gru, src_ids):
    """Forward state = forward output at the last real token; backward = position 0."""
    mask = src_ids != 0
    outputs, _, _ = bidirectional_gru(embedding(src_ids), mask=mask)
    half = outputs.shape[-1] // 2
    lengths = tf.reduce_sum(tf.cast(mask, tf.int32), axis=1)
    forward = tf.gather(outputs[..., :half], lengths - 1, batch_dims=1)
    return outputs, tf.concat([forward, outputs[:, 0, half:]], axis=1)


def concatenated_in_numpy(embedding, bidirectional_gru, src_ids):
    outputs, forward, backward = bidirectional_gru(
        embedding(src_ids), mask=src_ids != 0
    )
    return outputs.numpy(), np.concatenate([forward, backward], axis=1)


@pytest.mark.parametrize("function", [state_from_the_outputs, concatenated_in_numpy])
def test_bidirectional_unusual_correct_answers_pass(function):
    assert_passes_unusual("2.3", function)


def test_bidirectional_round_trip():
    assert_round_trip("2.3", encode_bidirectional)
    assert_round_trip("2.3", BIDIRECTIONAL_MISTAKES["order"][0])


@pytest.mark.parametrize("exercise_id", ["2.1", "2.2", "2.3"])
def test_every_exercise_has_hints_in_levels(exercise_id):
    assert len(framework.get(exercise_id).hints) >= 2
