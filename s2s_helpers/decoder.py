"""The decoder: one step at a time, attending to the source, carrying its state.

One step (Bahdanau et al. 2015, as in the classic tutorial, with its bug fixed):

    1. context, weights = attention(query=previous state, values=encoder outputs)
    2. x = concat([context, embedding(previous token)])
    3. output, state = GRUCell(x, previous state)   # the state is *carried*
    4. logits = Dense(vocab)(concat([output, context]))

Step 4 is a design choice. The classic tutorial scored the next token from the
GRU output alone; here the output layer also sees the context, as in Luong et
al.'s attentional hidden state (2015) and Bahdanau et al.'s deep output: the
source words the step attends to inform the word it writes directly, not only
through the recurrent state. ``output_context=False`` gives the classic
layer.

Teacher forcing knows every input token in advance, so the unroll runs steps
1-3 in a loop and step 4 once, on all the stacked outputs: one large matrix
product instead of ``tgt_len`` small ones. With a known ``tgt_len`` the loop
is unrolled (XLA compiles it); with an unknown one (batches cut to their own
longest target) it is a ``tf.while_loop`` as long as the batch's targets, so
such batches run without retracing.

Seed bug 1: the classic decoder called its GRU without ``initial_state``, so
the recurrent state restarted from zeros at every step and only the attention
query saw the previous state. Here the state goes into the cell.

Taught in: lessons/04_decoder.ipynb
"""

from __future__ import annotations

import keras
from keras import ops

from s2s_helpers.attention import BahdanauAttention, LuongAttention


@keras.saving.register_keras_serializable(package="s2s_helpers")
class Decoder(keras.layers.Layer):
    """Attention decoder built around a ``GRUCell`` (one step = one cell call).

    Args:
        vocab_size: number of target ids (padding and specials included).
        embedding_dim: size of each target token embedding.
        units: size of the recurrent state (the encoder's ``units``).
        attention_units: hidden size of the additive attention.
        attention: "bahdanau" (additive), "luong" ("general") or "luong_dot".
        output_context: the output layer reads ``[output; context]`` (default)
            instead of the GRU output alone.
        dropout_rate: dropout on the output layer's input during training.

    Call arguments (teacher-forced unroll):
        tgt_in_ids: int `(batch, tgt_len)`, starting with ``[START]``.
        values: encoder outputs `(batch, src_len, units)`.
        state: initial state `(batch, units)`, usually the encoder's final state.
        mask: bool `(batch, src_len)`, True for real source tokens.
        keys: optional ``precompute_keys(values)``; computed here when ``None``.

    Scheduled sampling (feeding the model's own tokens) is a training policy,
    built on ``step`` in ``s2s_helpers.scheduled_sampling``.

    Returns:
        logits `(batch, tgt_len, vocab)` and attention weights `(batch, tgt_len, src_len)`.
    """

    def __init__(
        self,
        vocab_size: int,
        embedding_dim: int = 64,
        units: int = 128,
        attention_units: int = 128,
        attention: str = "bahdanau",
        output_context: bool = True,
        dropout_rate: float = 0.0,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.supports_masking = True  # the mask is consumed here, not passed on
        self.vocab_size = vocab_size
        self.embedding_dim = embedding_dim
        self.units = units
        self.attention_units = attention_units
        self.attention_type = attention
        self.output_context = output_context
        self.dropout_rate = dropout_rate
        self.embedding = keras.layers.Embedding(vocab_size, embedding_dim)
        if attention == "bahdanau":
            self.attention = BahdanauAttention(attention_units)
        elif attention in {"luong", "luong_dot"}:
            score = "dot" if attention == "luong_dot" else "general"
            self.attention = LuongAttention(units, score=score)
        else:
            raise ValueError(
                "attention must be 'bahdanau', 'luong' or 'luong_dot'; "
                f"received {attention!r}."
            )
        self.cell = keras.layers.GRUCell(units, recurrent_initializer="glorot_uniform")
        self.dropout = keras.layers.Dropout(dropout_rate)
        self.output_layer = keras.layers.Dense(vocab_size, name="output_layer")

    def build(self, tgt_in_ids_shape, values_shape, state_shape=None):
        batch, units = values_shape[0], values_shape[-1]
        for layer, shape in [
            (self.embedding, (batch,)),
            (self.cell, (batch, units + self.embedding_dim)),
            (self.output_layer, (batch, self.units + units * self.output_context)),
        ]:
            if not layer.built:
                layer.build(shape)
        if not self.attention.built:
            self.attention.build((batch, units), values_shape)
        self.built = True

    def precompute_keys(self, values):
        """The attention keys, once per source batch: see ``BahdanauAttention``."""
        return self.attention.precompute_keys(values)

    def step(self, token_ids, state, values, keys, mask=None, training=None):
        """One decoder step.

        Args:
            token_ids: previous tokens, int `(batch,)`.
            state: previous decoder state `(batch, units)`.
            values: encoder outputs `(batch, src_len, units)`.
            keys: ``precompute_keys(values)``.
            mask: bool `(batch, src_len)`.

        Returns:
            logits `(batch, vocab)`, new state `(batch, units)`, weights `(batch, src_len)`.
        """
        output, new_state, context, weights = self.recur(
            token_ids, state, values, keys, mask, training
        )
        return self.project(output, context, training), new_state, weights

    def recur(self, token_ids, state, values, keys, mask=None, training=None):
        """Steps 1-3 of a decoder step: attend, join, one GRU step.

        Returns:
            output `(batch, units)`, new state `(batch, units)`, context
            `(batch, units)` and weights `(batch, src_len)`.
        """
        # 1. attend with the previous state as the query
        context, weights = self.attention(state, values, keys=keys, mask=mask)
        # 2. the context joins the embedded previous token
        embedded = self.embedding(token_ids)  # (batch, embedding_dim)
        inputs = ops.concatenate(
            [context, embedded], axis=-1
        )  # (batch, units + embedding_dim)
        # 3. one GRU step that *carries* the state (seed bug 1)
        output, new_state = self.cell(inputs, state, training=training)
        if isinstance(new_state, (list, tuple)):
            new_state = new_state[0]
        return output, new_state, context, weights

    def project(self, output, context, training=None):
        """Step 4: scores over the target vocabulary, from ``[output; context]``.

        Args:
            output, context: `(..., units)` each: one step `(batch, units)` or
                stacked steps `(batch, tgt_len, units)`.

        Returns:
            logits `(..., vocab)`.
        """
        features = (
            ops.concatenate([output, context], -1) if self.output_context else output
        )
        return self.output_layer(self.dropout(features, training=training))

    def call(self, tgt_in_ids, values, state, mask=None, keys=None, training=None):
        if len(tgt_in_ids.shape) != 2:
            raise ValueError(
                "Decoder expects tgt_in_ids of shape (batch, tgt_len); received "
                f"{tuple(tgt_in_ids.shape)}."
            )
        if keys is None:
            keys = self.precompute_keys(values)  # once per source batch (seed bug 6)
        source = (values, keys, mask, training)
        if tgt_in_ids.shape[1] is None:  # each batch its own length
            steps = self._symbolic_loop(tgt_in_ids, state, source)
        else:  # a known length: an unrolled loop, which XLA compiles
            steps = self._unrolled_loop(tgt_in_ids, state, source)
        outputs, contexts, weights = steps  # each (batch, tgt_len, ...)
        return self.project(outputs, contexts, training), weights

    def _unrolled_loop(self, tgt_in_ids, state, source):
        """Steps 1-3 for every position (teacher forcing: the true token)."""
        values, keys, mask, training = source
        steps = []
        for t in range(tgt_in_ids.shape[1]):
            output, state, context, weights = self.recur(
                tgt_in_ids[:, t], state, values, keys, mask, training
            )
            steps.append((output, context, weights))
        return [ops.stack(parts, axis=1) for parts in zip(*steps)]

    def _symbolic_loop(self, tgt_in_ids, state, source):
        """The same loop as a ``tf.while_loop`` as long as ``tgt_in_ids``."""
        import tensorflow as tf

        values, keys, mask, training = source
        tgt_len = tf.shape(tgt_in_ids)[1]

        def one_step(t, state, *stacks):
            output, state, context, weights = self.recur(
                tgt_in_ids[:, t], state, values, keys, mask, training
            )
            parts = (output, context, weights)
            return (t + 1, state, *(s.write(t, x) for s, x in zip(stacks, parts)))

        stacks = [tf.TensorArray(values.dtype, size=tgt_len) for _ in range(3)]
        _, _, *stacks = tf.while_loop(
            lambda t, *_: t < tgt_len, one_step, (tf.constant(0), state, *stacks)
        )
        # (tgt_len, batch, ...) -> (batch, tgt_len, ...)
        return [tf.transpose(stack.stack(), [1, 0, 2]) for stack in stacks]

    def compute_mask(self, *args, **kwargs):
        return None

    def get_config(self):
        return {
            **super().get_config(),
            "vocab_size": self.vocab_size,
            "embedding_dim": self.embedding_dim,
            "units": self.units,
            "attention_units": self.attention_units,
            "attention": self.attention_type,
            "output_context": self.output_context,
            "dropout_rate": self.dropout_rate,
        }
