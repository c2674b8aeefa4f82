"""The encoder: token ids to one vector per source position plus a summary state.

Embedding, then a GRU given the padding mask (id 0 is padding) that
returns every position's output and its final state; optionally bidirectional,
each direction with ``units // 2`` so the decoder always sees ``units``.

Every encoder of the course (this one, ``speech.SpeechEncoder``) returns
``(values, state, mask)``: the decoder needs all three, and the mask is built
here, once, by ``source_mask``.

Taught in: lessons/02_encoder.ipynb
"""

from __future__ import annotations

import keras
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
        ValueError: ``src_ids`` is not of rank 2.
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
        mask = source_mask(src_ids)  # (batch, src_len) True for real tokens
        embedded = self.dropout(self.embedding(src_ids), training=training)
        if self.bidirectional:
            outputs, forward, backward = self.gru(
                embedded, mask=mask, training=training
            )
            state = ops.concatenate([forward, backward], axis=-1)  # (batch, units)
        else:
            outputs, state = self.gru(embedded, mask=mask, training=training)
        outputs = (
            outputs * ops.cast(mask, outputs.dtype)[..., None]
        )  # (batch, src_len, units)
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
