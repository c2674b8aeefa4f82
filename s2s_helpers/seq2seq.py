"""The full model: encoder + attention decoder, trainable with ``fit``.

Inputs are ``(src_ids, tgt_in_ids)`` and the output is logits over the target
vocabulary for each target position, so a plain ``model.compile(loss=
losses.masked_loss)`` / ``model.fit(dataset)`` works with the pipelines of
``s2s_helpers.data``.

``EncoderDecoder`` is the one interface every model of the course shares,
whatever its encoder reads (token ids here, spectrograms in
``speech.SpeechRecognizer``):

    encode(source)                 -> values, state, keys, mask   (once per batch)
    decode_step(token, state, ...) -> logits, new state, weights  (one step)
    call_with_attention(inputs)    -> logits, weights             (teacher-forced)

Search (``s2s_helpers.search``) and scheduled sampling
(``s2s_helpers.scheduled_sampling``) are written against these methods only.

Taught in: lessons/04_decoder.ipynb
"""

from __future__ import annotations

import keras
from keras import ops

from s2s_helpers.decoder import Decoder
from s2s_helpers.encoder import Encoder


class EncoderDecoder(keras.Model):
    """An encoder returning ``(values, state, mask)`` and the attention ``Decoder``.

    Subclasses create both layers, pass them here with the constructor's
    arguments (``settings``, kept as attributes and returned by
    ``get_config``), and say what a one-example source looks like
    (``example_source``).

    Args:
        encoder: a layer, ``encoder(source, training=...)`` returning values
            `(batch, src_len, units)`, state `(batch, units)` and mask
            `(batch, src_len)`.
        decoder: a ``decoder.Decoder``.
        settings: the subclass's constructor arguments, by name.

    Call arguments:
        inputs: ``(source, tgt_in_ids (batch, tgt_len))``.

    Returns:
        logits `(batch, tgt_len, vocab)`.
    """

    def __init__(self, encoder, decoder: Decoder, settings: dict, **kwargs):
        super().__init__(**kwargs)
        self.settings = dict(settings)
        for name, value in self.settings.items():
            setattr(self, name, value)  # model.units, model.tgt_vocab_size, ...
        self.encoder = encoder
        self.decoder = decoder

    def example_source(self, length: int | None):
        """A one-example source of ``length`` positions, to build the model with."""
        raise NotImplementedError("a subclass says what its source looks like")

    def build(self, input_shape):
        """Create every variable by running a one-example batch of the given lengths."""
        source_shape, tgt_shape = input_shape
        tgt_in_ids = ops.ones((1, tgt_shape[1] or 1), dtype="int32")
        self.call_with_attention((self.example_source(source_shape[1]), tgt_in_ids))
        self.built = True

    def encode(self, source, training=None):
        """Run the encoder once per batch.

        Returns:
            values `(batch, src_len, units)`, the decoder's initial state
            `(batch, units)`, the attention keys `(batch, src_len,
            attention_units)` (computed once, seed bug 6) and the source mask
            `(batch, src_len)`, True for real positions.
        """
        values, state, mask = self.encoder(source, training=training)
        keys = self.decoder.precompute_keys(values)
        return values, state, keys, mask

    def decode_step(self, token_ids, state, values, keys, mask, training=None):
        """One decoder step (``Decoder.step``) on what ``encode`` returned.

        Args:
            token_ids: int `(batch,)`, the previous tokens.
            state: `(batch, units)`, the previous decoder state.

        Returns:
            logits `(batch, vocab)`, new state `(batch, units)`, weights
            `(batch, src_len)`.
        """
        return self.decoder.step(token_ids, state, values, keys, mask, training)

    def call_with_attention(self, inputs, training=None):
        """Like ``call`` but also returns the weights `(batch, tgt_len, src_len)`."""
        source, tgt_in_ids = inputs
        values, state, keys, mask = self.encode(source, training=training)
        return self.decoder(
            tgt_in_ids, values, state, mask=mask, keys=keys, training=training
        )

    def call(self, inputs, training=None):
        logits, _ = self.call_with_attention(inputs, training=training)
        return logits

    def get_config(self):
        return {**super().get_config(), **self.settings}


@keras.saving.register_keras_serializable(package="s2s_helpers")
class Seq2Seq(EncoderDecoder):
    """Encoder-decoder with attention, on token ids.

    Args:
        src_vocab_size, tgt_vocab_size: vocabulary sizes (ids).
        embedding_dim, units, attention_units: layer sizes
            (``attention_units`` defaults to ``units``).
        bidirectional: bidirectional encoder.
        attention: "bahdanau", "luong" or "luong_dot".
        dropout_rate: dropout on the encoder's embeddings and on the
            decoder's output-layer input, during training.
        output_context: the decoder's output layer reads ``[output; context]``
            (default) or, as in the classic tutorial, the GRU output alone.

    Call arguments:
        inputs: ``(src_ids (batch, src_len), tgt_in_ids (batch, tgt_len))``.

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
        output_context: bool = True,
        **kwargs,
    ):
        attention_units = attention_units or units
        super().__init__(
            Encoder(src_vocab_size, embedding_dim, units, bidirectional, dropout_rate),
            Decoder(
                tgt_vocab_size,
                embedding_dim,
                units,
                attention_units,
                attention,
                output_context=output_context,
                dropout_rate=dropout_rate,
            ),
            {
                "src_vocab_size": src_vocab_size,
                "tgt_vocab_size": tgt_vocab_size,
                "embedding_dim": embedding_dim,
                "units": units,
                "attention_units": attention_units,
                "bidirectional": bidirectional,
                "attention": attention,
                "dropout_rate": dropout_rate,
                "output_context": output_context,
            },
            **kwargs,
        )

    def example_source(self, length: int | None):
        return ops.ones((1, length or 1), dtype="int32")
