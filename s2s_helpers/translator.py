"""String in, string out, for any trained model, without crashing on real input.

Seed bug 4: the classic ``evaluate()`` looked every word up with
``word_index[w]`` and crashed with ``KeyError`` on the first unseen word. Here
unknown words become ``[UNK]`` and are reported; empty input is a clear
``ValueError``; input longer than the model's limit is truncated and reported.

Taught in: lessons/07_inference.ipynb
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import keras
import numpy as np
import tensorflow as tf

from s2s_helpers import search
from s2s_helpers.data import END, UNK_ID, Vocabulary, vocabulary_from_config
from s2s_helpers.seq2seq import Seq2Seq

METHODS = ("greedy", "beam", "sample")


@dataclass
class Translation:
    """One translated input.

    Attributes:
        source: the input text as given.
        text: the output text.
        src_tokens: the input tokens the model saw (unknown ones as ``word[UNK]``).
        output_tokens: the emitted tokens, ``[END]`` included when produced.
        attention: `(len(output_tokens), len(src_tokens))` weights.
        unknown_words: input tokens missing from the vocabulary.
        truncated: the input was longer than the model's ``max_src_len``.
        warnings: human-readable notes about the above.
    """

    source: str
    text: str
    src_tokens: list[str]
    output_tokens: list[str]
    attention: np.ndarray
    unknown_words: list[str] = field(default_factory=list)
    truncated: bool = False
    warnings: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        notes = "".join(f"\n  note: {w}" for w in self.warnings)
        return f"{self.source!r} -> {self.text!r}{notes}"


class Translator:
    """Wrap a trained ``Seq2Seq`` with its vocabularies and length limits.

    Args:
        model: the trained model.
        src_vocab, tgt_vocab: the vocabularies it was trained with.
        max_src_len: inputs are padded / truncated to this many tokens.
        max_tgt_len: most output tokens (``[END]`` included).
    """

    def __init__(
        self,
        model: Seq2Seq,
        src_vocab: Vocabulary,
        tgt_vocab: Vocabulary,
        max_src_len: int,
        max_tgt_len: int,
    ):
        self.model = model
        self.src_vocab = src_vocab
        self.tgt_vocab = tgt_vocab
        self.max_src_len = int(max_src_len)
        self.max_tgt_len = int(max_tgt_len)
        if not model.built:  # search calls encode / decode_step: build them first
            model.build(((None, self.max_src_len), (None, self.max_tgt_len)))

    def prepare(self, texts: Sequence[str]):
        """Texts to `(batch, max_src_len)` ids plus, per text, (tokens, unknown, truncated).

        Raises:
            TypeError: an input is not a string.
            ValueError: an input is empty (or only spaces / punctuation removed).
        """
        src_ids = np.zeros((len(texts), self.max_src_len), np.int32)
        infos = []
        for row, text in enumerate(texts):
            if not isinstance(text, str):
                raise TypeError(
                    f"translate expects strings; received {type(text).__name__}."
                )
            tokens = self.src_vocab.tokenize(text)
            if not tokens:
                raise ValueError(
                    f"Input {row} is empty after normalisation (received {text!r}); "
                    "give at least one word to translate."
                )
            truncated = len(tokens) > self.max_src_len
            tokens = tokens[: self.max_src_len]
            ids = self.src_vocab.encode(tokens)
            unknown = [tok for tok, i in zip(tokens, ids) if i == UNK_ID]
            labels = [
                f"{tok}[UNK]" if i == UNK_ID else tok for tok, i in zip(tokens, ids)
            ]
            src_ids[row, : len(ids)] = ids
            infos.append((labels, unknown, truncated))
        return src_ids, infos

    def translate(
        self,
        texts: str | Sequence[str],
        method: str = "greedy",
        beam_width: int = 4,
        temperature: float = 1.0,
        seed: int = 0,
    ):
        """Translate one string (returns a ``Translation``) or a list (returns a list)."""
        single = isinstance(texts, str)
        batch = [texts] if single else list(texts)
        if not batch:
            raise ValueError(
                "translate received an empty list; give at least one text."
            )
        if method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}, received {method!r}.")
        src_ids, infos = self.prepare(batch)
        if method == "greedy":
            result = search.greedy_decode(self.model, src_ids, self.max_tgt_len)
        elif method == "beam":
            result = search.beam_search(
                self.model, src_ids, self.max_tgt_len, beam_width
            )
        else:
            result = search.sample_decode(
                self.model, src_ids, self.max_tgt_len, temperature, seed
            )
        translations = [
            self._translation(text, row, info, result)
            for row, (text, info) in enumerate(zip(batch, infos))
        ]
        return translations[0] if single else translations

    def _translation(self, text, row, info, result) -> Translation:
        labels, unknown, truncated = info
        words = self.tgt_vocab.decode(result.tokens[row])
        output_tokens = self.tgt_vocab.decode(result.tokens[row], strip=False)
        output_tokens = [t for t in output_tokens if t != ""]
        output_tokens = (
            output_tokens[: output_tokens.index(END) + 1]
            if END in output_tokens
            else output_tokens
        )
        attention = result.weights[row, : len(output_tokens), : len(labels)]
        notes = []
        if unknown:
            notes.append(f"unknown words replaced by [UNK]: {', '.join(unknown)}")
        if truncated:
            notes.append(f"input longer than {self.max_src_len} tokens was truncated")
        if END not in output_tokens:
            notes.append(f"output stopped at the limit of {self.max_tgt_len} tokens")
        return Translation(
            text,
            self.tgt_vocab.join(words),
            labels,
            output_tokens,
            attention,
            unknown,
            truncated,
            notes,
        )

    def plot(self, translation: Translation, ax=None):
        """The attention heatmap of one translation, labelled with its tokens."""
        from s2s_helpers.plotting import plot_attention

        return plot_attention(
            translation.attention,
            translation.src_tokens,
            translation.output_tokens,
            ax=ax,
            title=translation.source,
        )

    # --- saving -------------------------------------------------------------------

    def save(self, directory: str | Path) -> Path:
        """Write ``model.keras`` and ``translator.json`` (vocabularies, limits)."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        self.model.save(directory / "model.keras")
        settings = {
            "src_vocab": self.src_vocab.to_config(),
            "tgt_vocab": self.tgt_vocab.to_config(),
            "max_src_len": self.max_src_len,
            "max_tgt_len": self.max_tgt_len,
        }
        (directory / "translator.json").write_text(
            json.dumps(settings), encoding="utf-8"
        )
        return directory

    @classmethod
    def load(cls, directory: str | Path) -> "Translator":
        """Reload what ``save`` wrote; outputs are identical to the saved translator's."""
        directory = Path(directory)
        settings = json.loads(
            (directory / "translator.json").read_text(encoding="utf-8")
        )
        model = keras.models.load_model(directory / "model.keras")
        return cls(
            model,
            vocabulary_from_config(settings["src_vocab"]),
            vocabulary_from_config(settings["tgt_vocab"]),
            settings["max_src_len"],
            settings["max_tgt_len"],
        )

    def export_saved_model(self, directory: str | Path) -> Path:
        """Export greedy decoding as a TensorFlow SavedModel (ids in, ids out).

        The signature ``translate_ids`` takes int32 `(batch, max_src_len)` and
        returns ``tokens`` `(batch, max_tgt_len)` and ``weights``; load it with
        ``tf.saved_model.load(directory)`` anywhere TensorFlow runs.
        """
        model, max_tgt_len = self.model, self.max_tgt_len
        module = tf.Module()
        module.model = model

        @tf.function(
            input_signature=[tf.TensorSpec([None, self.max_src_len], tf.int32)]
        )
        def translate_ids(src_ids):
            tokens, weights, _ = search.decode_loop(model, src_ids, max_tgt_len)
            return {"tokens": tokens, "weights": weights}

        module.translate_ids = translate_ids
        logger = tf.get_logger()
        level = logger.level
        logger.setLevel("WARNING")  # no "Assets written to ..." INFO line on stderr
        try:
            tf.saved_model.save(
                module, str(directory), signatures={"translate_ids": translate_ids}
            )
        finally:
            logger.setLevel(level)
        return Path(directory)
