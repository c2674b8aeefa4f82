"""The seed-style baseline: the classic tutorial's structure, for benchmarks only.

Written the way the classic TensorFlow tutorial wrote its model, so that the
benchmarks can measure what the course's reference implementation gains:

- the decoder calls a Keras ``GRU`` *layer* on a length-1 sequence at every
  step (a whole RNN loop for one step), not a ``GRUCell``;
- the attention keys ``W1(values)`` are recomputed at every decoder step
  (seed bug 6);
- training unrolls the target positions in Python inside a ``tf.function``
  without XLA;
- inference decodes one sentence at a time, eagerly (seed bug 5).

Only the bugs that change *what* is computed are fixed, so that, from the same
weights, the baseline computes the same function as the reference and the loss
curves can be compared: the decoder state is carried (seed bug 1, through
``initial_state``), padding is masked in the encoder and the attention (seed
bug 2) and the loss is divided by the number of real tokens (seed bug 3).
The Dense layers of the attention have no bias, like the reference's.

This module is not part of ``s2s_helpers``: nothing in the course imports it.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from s2s_helpers import losses
from s2s_helpers.data import END_ID, PAD_ID, START_ID, UNK_ID

NEG_INF = -1e9
BANNED_IDS = (PAD_ID, START_ID, UNK_ID)  # never emitted, as in the reference search


class SeedEncoder(keras.layers.Layer):
    """Embedding + GRU, called with an initial hidden state (the seed's interface)."""

    def __init__(self, vocab_size: int, embedding_dim: int, units: int, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.embedding = keras.layers.Embedding(vocab_size, embedding_dim)
        self.gru = keras.layers.GRU(
            units,
            return_sequences=True,
            return_state=True,
            recurrent_initializer="glorot_uniform",
        )

    def call(self, src_ids, hidden):
        mask = tf.not_equal(src_ids, 0)  # (batch, src_len)
        embedded = self.embedding(src_ids)  # (batch, src_len, embedding_dim)
        output, state = self.gru(embedded, initial_state=hidden, mask=mask)
        return output, state  # (batch, src_len, units), (batch, units)

    def initialize_hidden_state(self, batch_size: int):
        return tf.zeros((batch_size, self.units))


class SeedAttention(keras.layers.Layer):
    """Bahdanau attention that projects the values at every call (seed bug 6)."""

    def __init__(self, units: int, **kwargs):
        super().__init__(**kwargs)
        self.W1 = keras.layers.Dense(units, use_bias=False)  # keys: U_a
        self.W2 = keras.layers.Dense(units, use_bias=False)  # query: W_a
        self.V = keras.layers.Dense(1, use_bias=False)  # energy: v_a

    def call(self, query, values, mask):
        query_with_time_axis = tf.expand_dims(query, 1)  # (batch, 1, units)
        score = self.V(tf.nn.tanh(self.W1(values) + self.W2(query_with_time_axis)))
        score = tf.where(mask[:, :, None], score, NEG_INF)  # (batch, src_len, 1)
        attention_weights = tf.nn.softmax(score, axis=1)
        context_vector = tf.reduce_sum(attention_weights * values, axis=1)
        return context_vector, attention_weights  # (batch, units), (batch, src_len, 1)


class SeedDecoder(keras.layers.Layer):
    """One step: attention, concat with the embedded token, a GRU *layer*, Dense."""

    def __init__(self, vocab_size: int, embedding_dim: int, units: int, **kwargs):
        super().__init__(**kwargs)
        self.embedding = keras.layers.Embedding(vocab_size, embedding_dim)
        self.gru = keras.layers.GRU(
            units,
            return_sequences=True,
            return_state=True,
            recurrent_initializer="glorot_uniform",
        )
        self.fc = keras.layers.Dense(vocab_size)
        self.attention = SeedAttention(units)

    def call(self, x, hidden, enc_output, mask):
        context_vector, attention_weights = self.attention(hidden, enc_output, mask)
        x = self.embedding(x)  # (batch, 1, embedding_dim)
        x = tf.concat([tf.expand_dims(context_vector, 1), x], axis=-1)
        # seed bug 1 fixed: the state goes into the GRU as its initial state
        output, state = self.gru(x, initial_state=hidden)  # (batch, 1, units)
        output = tf.reshape(output, (-1, output.shape[2]))
        return self.fc(output), state, attention_weights


class SeedSeq2Seq:
    """The seed's encoder and decoder side by side (the tutorial had no model class)."""

    def __init__(self, src_vocab_size, tgt_vocab_size, embedding_dim, units):
        self.encoder = SeedEncoder(src_vocab_size, embedding_dim, units)
        self.decoder = SeedDecoder(tgt_vocab_size, embedding_dim, units)

    def build(self, src_len: int) -> None:
        src_ids = tf.ones((1, src_len), tf.int32)
        enc_output, state = self.encoder(
            src_ids, self.encoder.initialize_hidden_state(1)
        )
        token = tf.fill((1, 1), START_ID)
        self.decoder(token, state, enc_output, tf.not_equal(src_ids, 0))

    @property
    def trainable_variables(self):
        return self.encoder.trainable_variables + self.decoder.trainable_variables


def copy_weights(reference, baseline: SeedSeq2Seq) -> None:
    """Give the baseline the reference model's weights, variable by variable.

    ``GRUCell`` and the ``GRU`` layer (``reset_after=True``) share the layout
    of ``kernel``, ``recurrent_kernel`` and ``bias`` `(2, 3 * units)`.

    Raises:
        ValueError: a shape differs, or a baseline variable was left out.
    """
    enc, dec = reference.encoder, reference.decoder
    attention = dec.attention
    pairs = [
        (enc.embedding.embeddings, baseline.encoder.embedding.embeddings),
        (dec.embedding.embeddings, baseline.decoder.embedding.embeddings),
        (attention.key_layer.kernel, baseline.decoder.attention.W1.kernel),
        (attention.query_layer.kernel, baseline.decoder.attention.W2.kernel),
        (attention.energy_layer.kernel, baseline.decoder.attention.V.kernel),
        (dec.output_layer.kernel, baseline.decoder.fc.kernel),
        (dec.output_layer.bias, baseline.decoder.fc.bias),
    ]
    for source, target in (
        (enc.gru.cell, baseline.encoder.gru.cell),
        (dec.cell, baseline.decoder.gru.cell),
    ):
        pairs += [
            (getattr(source, name), getattr(target, name))
            for name in ("kernel", "recurrent_kernel", "bias")
        ]
    for source, target in pairs:
        if tuple(source.shape) != tuple(target.shape):
            raise ValueError(
                f"{source.path} {source.shape} != {target.path} {target.shape}"
            )
        target.assign(source)
    assigned = {id(target) for _, target in pairs}
    missing = [v.path for v in baseline.trainable_variables if id(v) not in assigned]
    if missing:
        raise ValueError(f"baseline variables without a reference weight: {missing}")


def make_train_step(baseline: SeedSeq2Seq, optimizer):
    """The seed's ``@tf.function train_step``: a Python loop over target positions.

    Returns:
        ``train_step(src_ids, tgt_in_ids, tgt_out_ids) -> loss``, the masked
        mean cross-entropy over real target tokens (as ``losses.masked_loss``).
    """

    @tf.function
    def train_step(src_ids, tgt_in_ids, tgt_out_ids):
        total = 0.0
        with tf.GradientTape() as tape:
            hidden = baseline.encoder.initialize_hidden_state(tf.shape(src_ids)[0])
            enc_output, dec_hidden = baseline.encoder(src_ids, hidden)
            mask = tf.not_equal(src_ids, 0)
            for t in range(tgt_in_ids.shape[1]):
                dec_input = tgt_in_ids[:, t : t + 1]  # teacher forcing
                predictions, dec_hidden, _ = baseline.decoder(
                    dec_input, dec_hidden, enc_output, mask
                )
                step_loss = losses.token_losses(tgt_out_ids[:, t], predictions)
                real = tf.cast(tf.not_equal(tgt_out_ids[:, t], 0), step_loss.dtype)
                total += tf.reduce_sum(step_loss * real)
            count = tf.cast(tf.math.count_nonzero(tgt_out_ids), tf.float32)
            loss = total / tf.maximum(count, 1.0)
        variables = baseline.trainable_variables
        gradients = tape.gradient(loss, variables)
        optimizer.apply_gradients(zip(gradients, variables))
        return loss

    return train_step


def evaluate(baseline: SeedSeq2Seq, src_ids: np.ndarray, max_length: int) -> list[int]:
    """The seed's ``evaluate``: greedy decoding of *one* sentence, eagerly.

    Args:
        src_ids: int `(src_len,)`, one padded sentence.
        max_length: most tokens to emit (``[END]`` included).

    Returns:
        the emitted ids, ``[END]`` included when produced.
    """
    inputs = tf.convert_to_tensor(src_ids[None, :], tf.int32)  # (1, src_len)
    hidden = baseline.encoder.initialize_hidden_state(1)
    enc_out, dec_hidden = baseline.encoder(inputs, hidden)
    mask = tf.not_equal(inputs, 0)
    dec_input = tf.expand_dims([START_ID], 0)
    result = []
    for _ in range(max_length):
        predictions, dec_hidden, _ = baseline.decoder(
            dec_input, dec_hidden, enc_out, mask
        )
        banned = tf.reduce_sum(tf.one_hot(list(BANNED_IDS), predictions.shape[-1]), 0)
        predicted_id = int(tf.argmax(predictions[0] + banned * NEG_INF).numpy())
        result.append(predicted_id)
        if predicted_id == END_ID:
            break
        dec_input = tf.expand_dims([predicted_id], 0)
    return result
