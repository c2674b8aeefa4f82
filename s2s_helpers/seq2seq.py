"""The full model: encoder + attention decoder, trainable with ``fit``.

Inputs are ``(src_ids, tgt_in_ids)`` and the output is logits over the target
vocabulary for each target position, so a plain ``model.compile(loss=
losses.masked_loss)`` / ``model.fit(dataset)`` works with the pipelines of
``s2s_helpers.data``.

Taught in: lessons/04_decoder.ipynb
"""

from __future__ import annotations

import keras
from keras import ops

from s2s_helpers.decoder import Decoder
from s2s_helpers.encoder import Encoder


@keras.saving.register_keras_serializable(package="s2s_helpers")
class Seq2Seq(keras.Model):
    """Encoder-decoder with attention.

    Args:
        src_vocab_size, tgt_vocab_size: vocabulary sizes (ids).
        embedding_dim, units, attention_units: layer sizes
            (``attention_units`` defaults to ``units``).
        bidirectional: bidirectional encoder.
        attention: "bahdanau", "luong" or "luong_dot".
        dropout_rate: encoder embedding dropout.

    Call arguments:
        inputs: ``(src_ids (batch, src_len), tgt_in_ids (batch, tgt_len))``.
        teacher_forcing_ratio, seed, sampling: scheduled sampling (see ``Decoder``).

    Returns:
        logits `(batch, tgt_len, vocab)`.
    """

    def __init__(
        self,
        src_vocab_size: int,
        tgt_vocab_size: int,
        embedding_dim: int = 64,
        units: int = 128,
        attention_units: int | None = None,
        bidirectional: bool = False,
        attention: str = "bahdanau",
        dropout_rate: float = 0.0,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.src_vocab_size = src_vocab_size
        self.tgt_vocab_size = tgt_vocab_size
        self.embedding_dim = embedding_dim
        self.units = units
        self.attention_units = attention_units or units
        self.bidirectional = bidirectional
        self.attention_type = attention
        self.dropout_rate = dropout_rate
        self.encoder = Encoder(
            src_vocab_size, embedding_dim, units, bidirectional, dropout_rate
        )
        self.decoder = Decoder(
            tgt_vocab_size, embedding_dim, units, self.attention_units, attention
        )

    def build(self, input_shape):
        """Create every variable by running a one-example batch of the given lengths."""
        src_shape, tgt_shape = input_shape
        src_ids = ops.ones((1, src_shape[1] or 1), dtype="int32")
        tgt_in_ids = ops.ones((1, tgt_shape[1] or 1), dtype="int32")
        self.call_with_attention((src_ids, tgt_in_ids))
        self.built = True

    def encode(self, src_ids, training=None):
        """Run the encoder once: values, initial state, attention keys and mask."""
        values, state = self.encoder(
            src_ids, training=training
        )  # (batch, src_len, units)
        keys = self.decoder.precompute_keys(values)
        mask = ops.not_equal(src_ids, 0)  # (batch, src_len)
        return values, state, keys, mask

    def call_with_attention(
        self,
        inputs,
        training=None,
        teacher_forcing_ratio=None,
        seed=None,
        sampling="argmax",
    ):
        """Like ``call`` but also returns the weights `(batch, tgt_len, src_len)`."""
        src_ids, tgt_in_ids = inputs
        values, state = self.encoder(src_ids, training=training)
        mask = ops.not_equal(src_ids, 0)
        return self.decoder(
            tgt_in_ids,
            values,
            state,
            mask=mask,
            teacher_forcing_ratio=teacher_forcing_ratio,
            seed=seed,
            sampling=sampling,
            training=training,
        )

    def call(
        self,
        inputs,
        training=None,
        teacher_forcing_ratio=None,
        seed=None,
        sampling="argmax",
    ):
        logits, _ = self.call_with_attention(
            inputs, training, teacher_forcing_ratio, seed, sampling
        )
        return logits

    def get_config(self):
        return {
            **super().get_config(),
            "src_vocab_size": self.src_vocab_size,
            "tgt_vocab_size": self.tgt_vocab_size,
            "embedding_dim": self.embedding_dim,
            "units": self.units,
            "attention_units": self.attention_units,
            "bidirectional": self.bidirectional,
            "attention": self.attention_type,
            "dropout_rate": self.dropout_rate,
        }
