"""The encoder: token ids to one vector per source position plus a summary state.

Embedding, then a GRU given the padding mask (id 0 is padding) that
returns every position's output and its final state; optionally bidirectional,
each direction with ``units // 2`` so the decoder always sees ``units``.

The GRU's weights live in a Keras ``GRU`` layer (``Encoder.gru``), and the
encoder computes exactly what calling it with the mask would, but with
``gru_over_sequence``: the input projections of all positions in one matmul
before the loop, which Keras's GRU does one position at a time inside it.

Every encoder of the course (this one, ``speech.SpeechEncoder``) returns
``(values, state, mask)``: the decoder needs all three, and the mask is built
here, once, by ``source_mask``.

Taught in: lessons/02_encoder.ipynb
"""

from __future__ import annotations

import keras
import tensorflow as tf
from keras import ops

from s2s_helpers.data import PAD_ID


def source_mask(src_ids):
    """True for real source tokens, False for padding (id 0).

    Args:
        src_ids: int `(batch, src_len)`.

    Returns:
        bool `(batch, src_len)`.
    """
    return ops.not_equal(src_ids, PAD_ID)


def gru_over_sequence(gru, inputs, mask, reverse=False):
    """What ``gru(inputs, mask=mask)`` computes, with one input projection for all positions.

    A GRU step is ``z, r = sigmoid(x W_zr + h U_zr)``,
    ``h~ = tanh(x W_h + r * (h U_h))``, ``h' = z * h + (1 - z) * h~`` (biases
    left out). ``x W`` does not depend on the state, so it is computed for every
    position at once, and the loop keeps only the products with ``h``.

    Args:
        gru: a built ``keras.layers.GRU`` as ``Encoder`` makes it (Keras's
            defaults: ``reset_after``, tanh and sigmoid, no dropout).
        inputs: `(batch, src_len, features)`.
        mask: bool `(batch, src_len)`; a masked position keeps the state.
        reverse: run from the last position to the first (a backward GRU).

    Returns:
        outputs: `(batch, src_len, units)`, the state after each position,
            zeros at masked positions.
        state: `(batch, units)`, the state after the last (with ``reverse``,
            the first) real position.
    """
    cell = gru.cell
    input_bias, recurrent_bias = cell.bias[0], cell.bias[1]
    recurrent_kernel = tf.convert_to_tensor(cell.recurrent_kernel)  # read once
    projected = ops.matmul(inputs, cell.kernel) + input_bias  # (batch, src_len, 3u)
    projected = tf.transpose(projected, [1, 0, 2])  # (src_len, batch, 3 units)
    src_len = tf.shape(projected)[0]
    # read position by position from TensorArrays: their gradient writes each
    # position once, where slicing a tensor would add a whole zero-padded
    # (src_len, batch, 3 units) gradient at every step
    projected = tf.TensorArray(inputs.dtype, size=src_len).unstack(projected)
    keep = tf.TensorArray(tf.bool, size=src_len).unstack(tf.transpose(mask)[..., None])

    def one_step(i, state, outputs):
        t = src_len - 1 - i if reverse else i
        x_z, x_r, x_h = tf.split(projected.read(t), 3, axis=-1)
        h_z, h_r, h_h = tf.split(
            tf.matmul(state, recurrent_kernel) + recurrent_bias, 3, axis=-1
        )
        z, r = tf.sigmoid(x_z + h_z), tf.sigmoid(x_r + h_r)
        new_state = z * state + (1.0 - z) * tf.tanh(x_h + r * h_h)
        kept = keep.read(t)  # (batch, 1)
        output = tf.where(kept, new_state, 0.0)
        return i + 1, tf.where(kept, new_state, state), outputs.write(t, output)

    state = tf.zeros([tf.shape(inputs)[0], cell.units], inputs.dtype)
    outputs = tf.TensorArray(
        inputs.dtype, size=src_len, element_shape=(None, cell.units)
    )
    _, state, outputs = tf.while_loop(
        lambda i, *_: i < src_len,
        one_step,
        (tf.constant(0), state, outputs),
        maximum_iterations=src_len,  # XLA needs a bound: a constant once compiled
    )
    return tf.transpose(outputs.stack(), [1, 0, 2]), state


@keras.saving.register_keras_serializable(package="s2s_helpers")
class Encoder(keras.layers.Layer):
    """Embedding + GRU encoder that respects the padding mask.

    Args:
        vocab_size: number of source ids (padding and specials included).
        embedding_dim: size of each token embedding.
        units: size of the outputs and of the state.
        bidirectional: run a forward and a backward GRU of ``units // 2`` each
            and concatenate them (``units`` must then be even).
        dropout_rate: dropout on the embeddings during training.

    Call arguments:
        src_ids: int token ids, shape `(batch, src_len)`, padding id 0.
        training: Python bool, dropout only when True.

    Returns:
        outputs: `(batch, src_len, units)`, zeros at padded positions.
        state: `(batch, units)`, the state after the last real token.
        mask: bool `(batch, src_len)`, True for real tokens (``source_mask``).

    Raises:
        ValueError: ``src_ids`` is not of rank 2, or has no positions.
    """

    def __init__(
        self,
        vocab_size: int,
        embedding_dim: int = 64,
        units: int = 128,
        bidirectional: bool = False,
        dropout_rate: float = 0.0,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if bidirectional and units % 2:
            raise ValueError(f"bidirectional needs an even `units`, received {units}.")
        self.vocab_size = vocab_size
        self.embedding_dim = embedding_dim
        self.units = units
        self.bidirectional = bidirectional
        self.dropout_rate = dropout_rate
        self.embedding = keras.layers.Embedding(vocab_size, embedding_dim)
        self.dropout = keras.layers.Dropout(dropout_rate)
        gru_units = units // 2 if bidirectional else units
        self.gru = keras.layers.GRU(
            gru_units,
            return_sequences=True,
            return_state=True,
            recurrent_initializer="glorot_uniform",
        )
        if bidirectional:
            self.gru = keras.layers.Bidirectional(self.gru, merge_mode="concat")

    def build(self, src_ids_shape):
        self.embedding.build(src_ids_shape)
        self.gru.build((*src_ids_shape, self.embedding_dim))
        self.built = True

    def call(self, src_ids, training=None):
        if len(src_ids.shape) != 2:
            raise ValueError(
                "Encoder expects src_ids of shape (batch, src_len); received shape "
                f"{tuple(src_ids.shape)}. Batch a single sentence with ids[None, :]."
            )
        if src_ids.shape[1] == 0:
            raise ValueError(
                "Encoder needs at least one source position; received src_ids of "
                f"shape {tuple(src_ids.shape)}. Give each sentence at least one "
                "token (Translator.translate refuses empty texts with a message)."
            )
        mask = source_mask(src_ids)  # (batch, src_len) True for real tokens
        embedded = self.dropout(self.embedding(src_ids), training=training)
        if not self.bidirectional:
            outputs, state = gru_over_sequence(self.gru, embedded, mask)
            return outputs, state, mask  # (batch, src_len, units), (batch, units)
        forward = gru_over_sequence(self.gru.forward_layer, embedded, mask)
        backward = gru_over_sequence(
            self.gru.backward_layer, embedded, mask, reverse=True
        )
        outputs = ops.concatenate([forward[0], backward[0]], axis=-1)
        state = ops.concatenate([forward[1], backward[1]], axis=-1)  # (batch, units)
        return outputs, state, mask

    def compute_mask(self, *args, **kwargs):
        return None

    def get_config(self):
        return {
            **super().get_config(),
            "vocab_size": self.vocab_size,
            "embedding_dim": self.embedding_dim,
            "units": self.units,
            "bidirectional": self.bidirectional,
            "dropout_rate": self.dropout_rate,
        }
