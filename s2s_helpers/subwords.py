"""Subword vocabularies: SentencePiece pieces with the course's special ids.

A word vocabulary of ``max_tokens`` words turns every rarer word into
``[UNK]``: names, inflected forms (*engrandeciendose*) and anything unseen. A
subword vocabulary splits words into frequent pieces instead (byte-pair
encoding, Sennrich et al. 2016; the unigram language model, Kudo 2018), so a
rare word becomes a few known pieces and only characters never seen in training
are ``[UNK]``. SentencePiece (Kudo & Richardson 2018) learns the pieces from raw
sentences and marks the start of each word with ``▁`` (U+2581), so pieces glue
back into text without guessing where the spaces were:
``"engrandeciendose"`` -> ``["▁engrandec", "iendo", "se"]``.

``SubwordVocabulary`` has the interface of ``data.Vocabulary`` (``size``,
``tokenize``, ``encode``, ``decode``, ``join``, ``to_config``, ``save``,
``load``) and the same special ids (padding 0, ``[UNK]`` 1, ``[START]`` 2,
``[END]`` 3), so ``data.encode_pairs``, ``Translator`` and the lessons use
either kind unchanged. ``oov_rate`` measures how much of a text either kind
covers. Needs the ``sentencepiece`` package (the ``apps`` extra): without it,
``corpora.MissingExtraError`` says how to install it.

Taught in: lessons/08_translation.ipynb
"""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path
from typing import Iterable, Sequence

from s2s_helpers import data
from s2s_helpers.corpora import require
from s2s_helpers.data import (
    END,
    END_ID,
    PAD_ID,
    SPECIAL_TOKENS,
    START,
    START_ID,
    UNK,
    UNK_ID,
    Vocabulary,
    normalize,
)

WORD_START = "\u2581"  # "▁": SentencePiece's mark for the start of a word
MODEL_TYPES = ("unigram", "bpe")
KIND = "subword"


class SubwordVocabulary:
    """Piece <-> id mapping for one side of a task, backed by a SentencePiece model.

    Args:
        model_proto: a serialized SentencePiece model (``build`` trains one)
            whose ids 0-3 are padding, ``[UNK]``, ``[START]`` and ``[END]``.
        standardize: apply ``data.normalize`` before splitting into pieces.

    Raises:
        ValueError: the model's special ids are not the course's.

    Example (the pieces depend on the training texts)::

        vocab = SubwordVocabulary.build(spanish_verses, vocab_size=4000)
        vocab.tokenize("Engrandeciéndose.")  # ['▁engrandec', 'iendo', 'se', '▁.']
        vocab.encode(vocab.tokenize("la luz"))  # ids, never an error
    """

    def __init__(self, model_proto: bytes, standardize: bool = True) -> None:
        spm = require("sentencepiece")
        self.model_proto = bytes(model_proto)
        self.standardize = standardize
        self.processor = spm.SentencePieceProcessor(model_proto=self.model_proto)
        specials = (
            self.processor.pad_id(),
            self.processor.unk_id(),
            self.processor.bos_id(),
            self.processor.eos_id(),
        )
        if specials != (PAD_ID, UNK_ID, START_ID, END_ID):
            raise ValueError(
                f"expected a model with padding, [UNK], [START], [END] at ids "
                f"{(PAD_ID, UNK_ID, START_ID, END_ID)}, received ids {specials}. "
                "Train it with SubwordVocabulary.build."
            )
        pieces = [
            self.processor.id_to_piece(i)
            for i in range(len(SPECIAL_TOKENS), self.processor.get_piece_size())
        ]
        self._id_to_token = [*SPECIAL_TOKENS, *pieces]
        self._token_to_id = {tok: i for i, tok in enumerate(self._id_to_token)}

    @classmethod
    def build(
        cls,
        texts: Iterable[str],
        vocab_size: int = 8000,
        model_type: str = "unigram",
        standardize: bool = True,
    ) -> "SubwordVocabulary":
        """Train a SentencePiece model on ``texts``, in memory and deterministically.

        Args:
            texts: the training sentences (normalised first if ``standardize``).
            vocab_size: the most ids, padding and specials included (as
                ``max_tokens`` of ``data.Vocabulary.build``). A soft limit: a
                small corpus gets fewer pieces (``size`` says how many).
            model_type: "unigram" (Kudo 2018) or "bpe" (Sennrich et al. 2016).
            standardize: apply ``data.normalize`` before training and splitting.

        Returns:
            a ``SubwordVocabulary`` that covers every character of ``texts``.

        Raises:
            ValueError: an unknown ``model_type``, no text, or a ``vocab_size``
                too small for the characters of ``texts``.
        """
        if model_type not in MODEL_TYPES:
            raise ValueError(
                f"model_type must be one of {MODEL_TYPES}, received {model_type!r}."
            )
        sentences = [normalize(t) if standardize else t for t in texts]
        sentences = [s for s in sentences if s.strip()]
        if not sentences:
            raise ValueError("Cannot build a vocabulary from no tokens.")
        model = io.BytesIO()
        try:
            require("sentencepiece").SentencePieceTrainer.train(
                sentence_iterator=iter(sentences),
                model_writer=model,
                **_trainer_options(vocab_size, model_type),
            )
        except RuntimeError as error:
            least = len(set("".join(sentences))) + len(SPECIAL_TOKENS)
            raise ValueError(
                f"SentencePiece could not train a {model_type} model of "
                f"vocab_size={vocab_size} on {len(sentences)} texts ({error}). "
                f"Expected a vocab_size of at least {least} (every distinct "
                "character plus the 4 specials) and enough text for it."
            ) from None
        return cls(model.getvalue(), standardize)

    @property
    def size(self) -> int:
        """Number of ids, padding and special tokens included."""
        return len(self._id_to_token)

    @property
    def tokens(self) -> list[str]:
        """The pieces (no special tokens), in id order."""
        return self._id_to_token[len(SPECIAL_TOKENS) :]

    def tokenize(self, text: str) -> list[str]:
        """Split one text into pieces (after ``data.normalize`` if ``standardize``).

        E.g. ``"La luz."`` -> ``['▁la', '▁luz', '▁.']`` when these are pieces.
        """
        if self.standardize:
            text = normalize(text)
        return self.processor.encode_as_pieces(text)

    def encode(self, tokens: Sequence[str]) -> list[int]:
        """Pieces to ids; unknown pieces become ``[UNK]`` (id 1), never an error."""
        return [self._token_to_id.get(tok, UNK_ID) for tok in tokens]

    def decode(self, ids: Iterable[int], strip: bool = True) -> list[str]:
        """Ids to pieces; with ``strip``, stop at ``[END]`` and drop padding/START."""
        return data.ids_to_tokens(ids, self._id_to_token, strip)

    def join(self, tokens: Sequence[str]) -> str:
        """Pieces back to text: glue them, each ``▁`` becomes a space.

        ``["▁engrandec", "iendo", "se", "▁."]`` -> ``"engrandeciendose ."``.

        The same text as ``processor.decode_ids`` for known pieces; unknown
        pieces (characters never seen in training) are kept as they are.
        """
        return "".join(tokens).replace(WORD_START, " ").strip()

    def to_config(self) -> dict:
        """A JSON-ready dict: ``kind``, the model (base64) and ``standardize``."""
        return {
            "kind": KIND,
            "model_proto": base64.b64encode(self.model_proto).decode("ascii"),
            "standardize": self.standardize,
        }

    @classmethod
    def from_config(cls, config: dict) -> "SubwordVocabulary":
        """The vocabulary ``to_config`` describes."""
        if config.get("kind") != KIND:
            raise ValueError(
                f"expected a config with kind {KIND!r}, received kind "
                f"{config.get('kind')!r}. Use data.vocabulary_from_config for any kind."
            )
        model_proto = base64.b64decode(config["model_proto"])
        return cls(model_proto, standardize=config.get("standardize", True))

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_config()), encoding="utf-8")

    @classmethod
    def load(cls, path: str | Path) -> "SubwordVocabulary":
        return cls.from_config(json.loads(Path(path).read_text(encoding="utf-8")))


def _trainer_options(vocab_size: int, model_type: str) -> dict:
    """SentencePiece trainer settings: the course's specials, no normalisation."""
    return dict(
        vocab_size=vocab_size,
        model_type=model_type,
        pad_id=PAD_ID,
        unk_id=UNK_ID,
        bos_id=START_ID,
        eos_id=END_ID,
        pad_piece="[PAD]",  # SentencePiece needs a name; decode shows "" as data does
        unk_piece=UNK,
        bos_piece=START,
        eos_piece=END,
        unk_surface=UNK,
        # data.normalize (or nothing) is the only normalisation, so that
        # join(tokenize(text)) gives back the normalised text exactly
        normalization_rule_name="identity",
        character_coverage=1.0,  # every training character gets a piece
        hard_vocab_limit=False,
        shuffle_input_sentence=False,  # with one thread: the same model every time
        num_threads=1,
        minloglevel=2,  # no training log on stderr
    )


data.VOCABULARY_KINDS[KIND] = SubwordVocabulary  # data.vocabulary_from_config


def oov_rate(texts: Sequence[str], vocab: Vocabulary | SubwordVocabulary) -> float:
    """Share of tokens that ``vocab`` maps to ``[UNK]``, pooled over all texts.

    Tokens are what ``vocab.tokenize`` gives: words for a word vocabulary,
    pieces for a subword one, so the two rates count different units (a rare
    word is one unknown word, or a few known pieces).

    E.g. ``["Y dijo Dios: Sea la luz."]`` with a word vocabulary that lacks
    *dijo* and *sea*: 2 of 8 tokens, 0.25.

    Args:
        texts: the texts to measure, e.g. the test set's target sentences.
        vocab: a ``data.Vocabulary`` or a ``SubwordVocabulary``.

    Returns:
        a float in [0, 1]: unknown tokens / all tokens of all texts.

    Raises:
        ValueError: ``texts`` have no tokens at all.
    """
    ids = [i for text in texts for i in vocab.encode(vocab.tokenize(text))]
    if not ids:
        raise ValueError(
            f"expected texts with at least one token, received {len(texts)} texts "
            "with none."
        )
    return sum(i == UNK_ID for i in ids) / len(ids)
