"""Speech to text: a downsampling spectrogram encoder and the same attention decoder.

A spoken phrase is a log-mel spectrogram of shape ``(frames, mels)`` with about
86 frames per second (``audio.FRAME_STEP``), far more frames than the phrase has
characters. The encoder (in the spirit of Listen, Attend and Spell, Chan et al.
2016, with strided convolutions in place of the pyramidal LSTM):

    1. zero the padding frames, then ``downsampling_layers`` Conv1D layers with
       stride 2: every layer halves the frames (``ceil(frames / 2)``) and its
       mask keeps every second entry, ``mask[:, ::2]``; output ``i`` is centred
       on input frame ``2 i``
    2. a bidirectional GRU over the downsampled frames, given that mask
    3. outputs at padded positions set to zero, the final state as the summary

The decoder is ``decoder.Decoder``, unchanged: it attends over encoder
outputs, whatever they were computed from. ``SpeechRecognizer`` is a
``seq2seq.EncoderDecoder`` like ``Seq2Seq``, so greedy decoding and beam
search of ``s2s_helpers.search`` work on it as they are.

Pitfall: the frame mask is recovered from the features (a padding frame is all
zeros, see ``audio.pad_features``), so normalise each utterance *before*
padding it; a normalised real frame is never exactly all zeros.

Pitfall: Keras' ``padding="same"`` with stride 2 puts an odd padding frame on
the right, so its windows shift by one frame with the parity of the *padded*
length: an utterance would be encoded differently depending on the longest
one in its batch. The convolutions here pad explicitly, ``(kernel_size - 1) //
2`` frames on the left whatever the length, and use ``padding="valid"``.

Taught in: lessons/10_speech.ipynb
"""

from __future__ import annotations

import keras
from keras import ops

from s2s_helpers import audio, search
from s2s_helpers.data import Vocabulary
from s2s_helpers.decoder import Decoder
from s2s_helpers.seq2seq import EncoderDecoder


def frame_mask(features):
    """True for real frames: a padding frame has all of its mels exactly zero.

    Args:
        features: float `(batch, frames, mels)`.

    Returns:
        bool `(batch, frames)`.
    """
    return ops.any(ops.not_equal(features, 0.0), axis=-1)


def downsample_mask(mask, factor: int):
    """The mask after downsampling by ``factor`` (stride-2 layers, ``ceil`` lengths).

    Output position ``i`` starts at input frame ``i * factor``; it is real when
    that frame is real, so ``length`` real frames become ``ceil(length / factor)``.

    Args:
        mask: bool `(batch, frames)`.
        factor: a power of two, ``2 ** downsampling_layers``.

    Returns:
        bool `(batch, ceil(frames / factor))`.
    """
    return mask[:, ::factor]


def downsampled_frames(frames: int, downsampling_layers: int) -> int:
    """Encoder positions for ``frames`` input frames: ``ceil`` at every layer."""
    for _ in range(downsampling_layers):
        frames = -(-frames // 2)
    return frames


@keras.saving.register_keras_serializable(package="s2s_helpers")
class SpeechEncoder(keras.layers.Layer):
    """Strided Conv1D downsampling + bidirectional GRU over log-mel frames.

    Args:
        units: size of the outputs and of the state (even: ``units // 2`` per
            GRU direction).
        filters: channels of each strided convolution.
        kernel_size: frames seen by each convolution.
        downsampling_layers: number of stride-2 convolutions; frames shrink by
            ``2 ** downsampling_layers``.
        mels: mel bands expected in the input.
        dropout_rate: dropout on the convolution outputs during training.

    Call arguments:
        features: float `(batch, frames, mels)`, padding frames all zero.
        mask: optional bool `(batch, frames)`, True for real frames; ``None``
            recovers it with ``frame_mask(features)``.
        training: Python bool, dropout only when True.

    Returns:
        outputs: `(batch, enc_frames, units)` with ``enc_frames =
            ceil(frames / 2 ** downsampling_layers)``, zeros at padding.
        state: `(batch, units)`, both directions' final states.
        mask: bool `(batch, enc_frames)`, True for real encoder positions.

    Raises:
        ValueError: ``features`` is not `(batch, frames, mels)`.
    """

    def __init__(
        self,
        units: int = 256,
        filters: int = 128,
        kernel_size: int = 5,
        downsampling_layers: int = 2,
        mels: int = audio.MELS,
        dropout_rate: float = 0.0,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if units % 2:
            raise ValueError(f"SpeechEncoder needs an even `units`, received {units}.")
        if downsampling_layers < 0:
            raise ValueError(
                f"downsampling_layers must be >= 0, received {downsampling_layers}."
            )
        self.units = units
        self.filters = filters
        self.kernel_size = kernel_size
        self.downsampling_layers = downsampling_layers
        self.mels = mels
        self.dropout_rate = dropout_rate
        self.convolutions = [
            keras.layers.Conv1D(
                filters, kernel_size, strides=2, padding="valid", activation="relu",
                name=f"downsampling_{index}",
            )
            for index in range(downsampling_layers)
        ]  # fmt: skip
        self.dropout = keras.layers.Dropout(dropout_rate)
        self.gru = keras.layers.Bidirectional(
            keras.layers.GRU(
                units // 2,
                return_sequences=True,
                return_state=True,
                recurrent_initializer="glorot_uniform",
            ),
            merge_mode="concat",
        )

    @property
    def downsampling_factor(self) -> int:
        """How many input frames one encoder position stands for."""
        return 2**self.downsampling_layers

    def call(self, features, mask=None, training=None):
        if len(features.shape) != 3 or features.shape[-1] != self.mels:
            raise ValueError(
                f"SpeechEncoder expects features of shape (batch, frames, mels="
                f"{self.mels}); received shape {tuple(features.shape)}. Batch one "
                "utterance with features[None] and check the number of mel bands."
            )
        if mask is None:
            mask = frame_mask(features)  # (batch, frames)
        x = features
        left = (self.kernel_size - 1) // 2  # fixed, so windows never shift
        edges = [[0, 0], [left, self.kernel_size - 1 - left], [0, 0]]
        # 1. each stride-2 convolution halves the frames, and so does the mask
        for convolution in self.convolutions:
            x = x * ops.cast(mask, x.dtype)[..., None]  # padding stays zero
            x = convolution(ops.pad(x, edges))  # (batch, ceil(frames / 2), filters)
            mask = downsample_mask(mask, 2)
        x = self.dropout(x, training=training)
        # 2. the GRU reads only the real downsampled frames
        outputs, forward, backward = self.gru(x, mask=mask, training=training)
        state = ops.concatenate([forward, backward], axis=-1)  # (batch, units)
        # 3. padded positions give exactly zero outputs
        outputs = outputs * ops.cast(mask, outputs.dtype)[..., None]
        return outputs, state, mask  # (batch, enc_frames, units)

    def compute_mask(self, *args, **kwargs):
        return None

    def get_config(self):
        return {
            **super().get_config(),
            "units": self.units,
            "filters": self.filters,
            "kernel_size": self.kernel_size,
            "downsampling_layers": self.downsampling_layers,
            "mels": self.mels,
            "dropout_rate": self.dropout_rate,
        }


@keras.saving.register_keras_serializable(package="s2s_helpers")
class SpeechRecognizer(EncoderDecoder):
    """Speech encoder + the course's attention decoder, trainable with ``Trainer``.

    The interface of every ``seq2seq.EncoderDecoder`` (``encode``,
    ``decode_step``, ``call_with_attention``), so ``search`` decodes speech too.

    Args:
        vocab_size: number of target (character) ids, specials included.
        mels, filters, kernel_size, downsampling_layers, dropout_rate: see
            ``SpeechEncoder``.
        embedding_dim, units, attention_units, attention: see ``Decoder``
            (``attention_units`` defaults to ``units``).

    Call arguments:
        inputs: ``(features (batch, frames, mels), tgt_in_ids (batch, tgt_len))``.

    Returns:
        logits `(batch, tgt_len, vocab)`; the weights of ``call_with_attention``
        are `(batch, tgt_len, enc_frames)`.
    """

    def __init__(
        self,
        vocab_size: int,
        mels: int = audio.MELS,
        filters: int = 128,
        kernel_size: int = 5,
        downsampling_layers: int = 2,
        embedding_dim: int = 32,
        units: int = 256,
        attention_units: int | None = None,
        attention: str = "bahdanau",
        dropout_rate: float = 0.0,
        **kwargs,
    ):
        attention_units = attention_units or units
        super().__init__(
            SpeechEncoder(
                units, filters, kernel_size, downsampling_layers, mels, dropout_rate
            ),
            Decoder(vocab_size, embedding_dim, units, attention_units, attention),
            {
                "vocab_size": vocab_size,
                "mels": mels,
                "filters": filters,
                "kernel_size": kernel_size,
                "downsampling_layers": downsampling_layers,
                "embedding_dim": embedding_dim,
                "units": units,
                "attention_units": attention_units,
                "attention": attention,
                "dropout_rate": dropout_rate,
            },
            **kwargs,
        )

    def example_source(self, length: int | None):
        return ops.ones((1, length or 8, self.mels), dtype="float32")


def transcribe(
    model, features, tgt_vocab: Vocabulary, max_length: int, method: str = "greedy",
    beam_width: int = 4,
):  # fmt: skip
    """Decode a batch of features to text with ``search``; returns (texts, result).

    Args:
        features: float `(batch, frames, mels)` (one utterance: ``features[None]``).
        method: "greedy" or "beam".

    Returns:
        a list of transcripts and the ``search.SearchResult`` (its weights are
        `(batch, tgt_len, enc_frames)`).
    """
    if method == "greedy":
        result = search.greedy_decode(model, features, max_length)
    elif method == "beam":
        result = search.beam_search(model, features, max_length, beam_width)
    else:
        raise ValueError(f"method must be 'greedy' or 'beam', received {method!r}.")
    texts = [tgt_vocab.join(tgt_vocab.decode(row)) for row in result.tokens]
    return texts, result
