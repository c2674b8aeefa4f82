"""From raw text to padded id tensors: normalisation, vocabularies, tf.data.

The special tokens are defined once, here. Ids are laid out by
``keras.layers.StringLookup``: 0 is padding (the mask token), 1 is ``[UNK]``,
then ``[START]`` and ``[END]``, then the corpus tokens by frequency.

Seed bug 8 (start/end tokens lost to the tokenizer's filters) cannot happen:
the special tokens are added to the vocabulary by name, never by tokenising.

Taught in: lessons/01_data.ipynb
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

PAD_ID = 0
UNK = "[UNK]"
START = "[START]"
END = "[END]"
SPECIAL_TOKENS = ("", UNK, START, END)  # ids 0, 1, 2, 3
UNK_ID, START_ID, END_ID = 1, 2, 3

_PUNCTUATION = re.compile(r"([?.!,¿¡;:\"()])")
_SPACES = re.compile(r"\s+")


def normalize(text: str, strip_accents: bool = True) -> str:
    """Normalise text: Unicode NFKD, accents stripped, lower case, punctuation spaced.

    >>> normalize("¿Todavía está en casa?")
    '¿ todavia esta en casa ?'
    """
    if not isinstance(text, str):
        raise TypeError(f"normalize expects a str, received {type(text).__name__}.")
    text = unicodedata.normalize("NFKD", text)
    if strip_accents:
        text = "".join(ch for ch in text if unicodedata.category(ch) != "Mn")
    text = _PUNCTUATION.sub(r" \1 ", text.lower())
    return _SPACES.sub(" ", text).strip()


@dataclass
class Vocabulary:
    """Token <-> id mapping for one side of a task, backed by ``StringLookup``.

    Args:
        tokens: the corpus tokens, most frequent first (no special tokens).
        level: "word" (split on spaces) or "char" (every character a token).
        standardize: apply :func:`normalize` before splitting.
    """

    tokens: list[str]
    level: str = "word"
    standardize: bool = True

    def __post_init__(self) -> None:
        import keras

        if self.level not in {"word", "char"}:
            raise ValueError(f"level must be 'word' or 'char', received {self.level!r}")
        clashes = sorted(set(self.tokens) & set(SPECIAL_TOKENS))
        if clashes:
            raise ValueError(f"tokens must not contain special tokens: {clashes}")
        vocabulary = [START, END, *self.tokens]
        self.lookup = keras.layers.StringLookup(
            vocabulary=vocabulary, mask_token="", oov_token=UNK
        )
        self._id_to_token = ["", UNK, *vocabulary]
        self._token_to_id = {tok: i for i, tok in enumerate(self._id_to_token)}

    @classmethod
    def build(
        cls,
        texts: Iterable[str],
        level: str = "word",
        standardize: bool = True,
        max_tokens: int | None = None,
    ) -> "Vocabulary":
        """Adapt a ``StringLookup`` to ``texts`` and keep its frequency order."""
        import keras

        tokenized = [_split(t, level, standardize) for t in texts]
        words = [tok for tokens in tokenized for tok in tokens]
        if not words:
            raise ValueError("Cannot build a vocabulary from no tokens.")
        layer = keras.layers.StringLookup(mask_token=None, num_oov_indices=0)
        layer.adapt(np.array(words, dtype=object))
        ordered = [str(t) for t in layer.get_vocabulary() if t not in SPECIAL_TOKENS]
        if max_tokens is not None:
            ordered = ordered[: max(0, max_tokens - len(SPECIAL_TOKENS))]
        return cls(ordered, level, standardize)

    @property
    def size(self) -> int:
        """Number of ids, padding and special tokens included."""
        return len(self._id_to_token)

    def tokenize(self, text: str) -> list[str]:
        """Split one text into tokens (after normalisation if ``standardize``)."""
        return _split(text, self.level, self.standardize)

    def encode(self, tokens: Sequence[str]) -> list[int]:
        """Tokens to ids; unseen tokens become ``[UNK]`` (id 1), never an error."""
        return [self._token_to_id.get(tok, UNK_ID) for tok in tokens]

    def decode(self, ids: Iterable[int], strip: bool = True) -> list[str]:
        """Ids to tokens; with ``strip``, stop at ``[END]`` and drop padding/START."""
        return ids_to_tokens(ids, self._id_to_token, strip)

    def join(self, tokens: Sequence[str]) -> str:
        """Tokens back to a string (spaces between words, none between chars)."""
        return ("" if self.level == "char" else " ").join(tokens)

    def to_config(self) -> dict:
        return {
            "tokens": self.tokens,
            "level": self.level,
            "standardize": self.standardize,
        }

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_config()), encoding="utf-8")

    @classmethod
    def load(cls, path: str | Path) -> "Vocabulary":
        return cls(**json.loads(Path(path).read_text(encoding="utf-8")))


def ids_to_tokens(ids: Iterable[int], id_to_token: list[str], strip: bool = True):
    """Ids to tokens, for any vocabulary; ids out of range become ``[UNK]``.

    Args:
        ids: token ids, e.g. one row of `(batch, tgt_len)` decoder output.
        id_to_token: the vocabulary's tokens by id (padding, specials included).
        strip: stop at ``[END]`` and drop padding and ``[START]``.
    """
    tokens = []
    for i in ids:
        i = int(i)
        if strip and i == END_ID:
            break
        if strip and i in (PAD_ID, START_ID):
            continue
        tokens.append(id_to_token[i] if 0 <= i < len(id_to_token) else UNK)
    return tokens


# Vocabulary kinds by the ``kind`` of their config; another kind registers itself
# here when its module is imported (``subwords`` adds "subword", lesson 08).
VOCABULARY_KINDS: dict[str, type] = {}


def vocabulary_from_config(config: dict):
    """The vocabulary that a ``to_config()`` dict describes, of any kind.

    Args:
        config: ``Vocabulary.to_config()`` (no ``kind``: a word or character
            vocabulary) or the config of a registered kind (``VOCABULARY_KINDS``).

    Raises:
        ValueError: a kind that no imported module registered.
    """
    config = dict(config)
    kind = config.get("kind")
    if kind is None:
        return Vocabulary(**config)
    if kind not in VOCABULARY_KINDS:
        raise ValueError(
            f"expected a vocabulary config without a kind or of a registered kind "
            f"{sorted(VOCABULARY_KINDS)}; received kind {kind!r}. A 'subword' "
            "vocabulary needs `import s2s_helpers.subwords` first."
        )
    return VOCABULARY_KINDS[kind].from_config(config)


def _split(text: str, level: str, standardize: bool) -> list[str]:
    if standardize:
        text = normalize(text)
    return list(text) if level == "char" else text.split()


# --- a toy task of lesson 06 ---------------------------------------------------


def generate_running_counts(
    count: int, length: int = 20, seed: int = 0
) -> list[tuple[str, str]]:
    """Bit strings and their running count of ones, mod 10: ("0110", "0122").

    Output digit ``t`` is the number of ``1`` among the first ``t + 1`` input
    bits, mod 10: it is the previous output digit plus the current bit, so a
    model that leans on its previous token carries one mistake into every
    later digit. Lesson 06 measures exposure bias on it.

    Args:
        count: how many pairs.
        length: bits per input, digits per output.
        seed: the same seed gives the same pairs.

    Returns:
        ``count`` (bits, running counts) pairs of two ``length``-character strings.
    """
    if count < 0 or length < 1:
        raise ValueError(
            f"count must be >= 0 and length >= 1, received count={count}, "
            f"length={length}"
        )
    bits = np.random.default_rng(seed).integers(0, 2, size=(count, length))
    counts = np.cumsum(bits, axis=1) % 10  # (count, length)
    return [
        ("".join(map(str, row)), "".join(map(str, total)))
        for row, total in zip(bits, counts)
    ]


def digit_vocabulary() -> Vocabulary:
    """The ten digits as characters, as they are (both sides of the running counts)."""
    return Vocabulary(list("0123456789"), level="char", standardize=False)


# --- ids and tf.data -----------------------------------------------------------


def encode_pairs(
    pairs: Sequence[tuple[str, str]],
    src_vocab: Vocabulary,
    tgt_vocab: Vocabulary,
    max_src_len: int,
    max_tgt_len: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Encode pairs into fixed-length padded arrays (fixed shapes: no retracing).

    ``tgt_in_ids`` is ``[START] y1 .. yn`` and ``tgt_out_ids`` is ``y1 .. yn [END]``
    (the teacher-forcing shift). Longer sequences are truncated.

    Returns:
        src_ids `(batch, src_len)`, tgt_in_ids `(batch, tgt_len)`,
        tgt_out_ids `(batch, tgt_len)`, all int32 with padding 0.
    """
    n = len(pairs)
    src_ids = np.zeros((n, max_src_len), np.int32)
    tgt_in_ids = np.zeros((n, max_tgt_len), np.int32)
    tgt_out_ids = np.zeros((n, max_tgt_len), np.int32)
    for row, (src, tgt) in enumerate(pairs):
        ids = src_vocab.encode(src_vocab.tokenize(src))[:max_src_len]
        src_ids[row, : len(ids)] = ids
        target = tgt_vocab.encode(tgt_vocab.tokenize(tgt))[: max_tgt_len - 1]
        tgt_in_ids[row, : len(target) + 1] = [START_ID, *target]
        tgt_out_ids[row, : len(target) + 1] = [*target, END_ID]
    return src_ids, tgt_in_ids, tgt_out_ids


def make_dataset(
    arrays: tuple[np.ndarray, np.ndarray, np.ndarray],
    batch_size: int,
    shuffle: bool = False,
    seed: int = 0,
    drop_remainder: bool = False,
    buckets: Sequence[int] | None = None,
    target_buckets: Sequence[int] | None = None,
):
    """A ``tf.data`` pipeline of ``((src_ids, tgt_in_ids), tgt_out_ids)`` batches.

    Cached in memory and prefetched so the model never waits for data.

    Args:
        arrays: ``encode_pairs``'s padded arrays, `(n, src_len)` and `(n, tgt_len)`.
        batch_size: examples per batch.
        shuffle: reshuffle the examples every epoch (with ``seed``).
        drop_remainder: drop a last batch smaller than ``batch_size`` (with
            ``buckets``: the last one of each bucket).
        buckets: source lengths to cut batches to, e.g. ``(16, 24)``. Sources are
            grouped by their real length (up to the last non-padding id) so that
            every source of a batch fits the smallest bucket that holds the
            longest, and the batch keeps only that many source positions (the
            longest sources keep all ``src_len``). The encoder and the attention
            then skip most of the padding, which changes nothing they compute
            (padding is masked); the model sees ``len(buckets) + 1`` source
            shapes instead of one (``Trainer`` traces its step once, XLA compiles
            it once per shape). Targets keep their fixed length unless
            ``target_buckets`` is given too.
        target_buckets: target lengths to cut batches to (with ``buckets``):
            each batch keeps the smallest of these widths that holds its
            longest target (``[END]`` included), or all ``tgt_len``. Pairs are
            then grouped by the longer of their two sides (measured against
            ``buckets``), so that a batch is short on both sides. The decoder
            runs fewer steps over padding, which is masked in the loss.

    Raises:
        ValueError: ``buckets`` with sources that are not `(n, src_len)` ids, a
            bucket that is not a positive integer, or ``target_buckets``
            without ``buckets``.
    """
    import tensorflow as tf

    src_ids, tgt_in_ids, tgt_out_ids = arrays
    dataset = tf.data.Dataset.from_tensor_slices(
        ((src_ids, tgt_in_ids), tgt_out_ids)
    ).cache()
    if shuffle:
        dataset = dataset.shuffle(
            len(src_ids), seed=seed, reshuffle_each_iteration=True
        )
    if buckets is None:
        if target_buckets is not None:
            raise ValueError(
                "target_buckets cut batches that buckets group by length: give "
                "buckets=... as well (e.g. the same widths)."
            )
        dataset = dataset.batch(batch_size, drop_remainder=drop_remainder)
    else:
        dataset = _bucketed(
            dataset, arrays, batch_size, drop_remainder, buckets, target_buckets
        )
    return dataset.prefetch(tf.data.AUTOTUNE)


def source_lengths(src_ids):
    """Each row's length up to its last non-padding id, int32 `(batch,)`.

    Works on NumPy arrays and on tensors; padding in the middle of a row counts
    as part of the row.
    """
    import tensorflow as tf

    src_ids = tf.convert_to_tensor(src_ids)
    positions = tf.range(1, tf.shape(src_ids)[-1] + 1, dtype=tf.int32)
    return tf.reduce_max(tf.where(src_ids != 0, positions, 0), axis=-1)


def _bounds(buckets, length: int, name: str) -> list[int]:
    """Sorted widths below ``length``, then ``length`` itself."""
    if any(not isinstance(b, (int, np.integer)) or b < 1 for b in buckets):
        raise ValueError(f"{name} must be positive integers, received {list(buckets)}.")
    return sorted({int(b) for b in buckets if b < length}) + [length]


def _cut_to_bound(ids, bounds):
    """``ids`` cut to the smallest bound that holds every row's last real id."""
    import tensorflow as tf

    bounds_tensor = tf.constant(bounds, tf.int32)
    longest = tf.reduce_max(source_lengths(ids))
    width = tf.reduce_min(tf.where(bounds_tensor >= longest, bounds_tensor, bounds[-1]))
    return ids[:, :width]


def _bucketed(dataset, arrays, batch_size, drop_remainder, buckets, target_buckets):
    """Batches of similar lengths, each cut to its bucket (see make_dataset)."""
    import tensorflow as tf

    src_ids, _, tgt_out_ids = arrays
    if np.ndim(src_ids) != 2 or not np.issubdtype(
        np.asarray(src_ids).dtype, np.integer
    ):
        raise ValueError(
            "buckets need integer source ids of shape (n, src_len); received "
            f"{np.asarray(src_ids).dtype} of shape {np.shape(src_ids)}. Leave "
            "buckets=None for other inputs (audio features, for example)."
        )
    bounds = _bounds(buckets, np.shape(src_ids)[1], "buckets")
    tgt_bounds = None
    if target_buckets is not None:
        tgt_bounds = _bounds(target_buckets, np.shape(tgt_out_ids)[1], "target_buckets")

    def key(inputs, tgt_out):  # the length that decides a pair's bucket
        if tgt_bounds is None:
            return source_lengths(inputs[0])
        return tf.maximum(source_lengths(inputs[0]), source_lengths(tgt_out))

    # bucket i holds lengths <= bounds[i]; bucket_by_sequence_length's
    # boundaries are exclusive upper bounds
    dataset = dataset.bucket_by_sequence_length(
        key,
        [bound + 1 for bound in bounds[:-1]],
        [batch_size] * len(bounds),
        drop_remainder=drop_remainder,
    )

    def cut(inputs, tgt_out):
        src, tgt_in = inputs
        if tgt_bounds is not None:  # [END] is tgt_out's last real id
            tgt_out = _cut_to_bound(tgt_out, tgt_bounds)
            tgt_in = tgt_in[:, : tf.shape(tgt_out)[1]]
        return (_cut_to_bound(src, bounds), tgt_in), tgt_out

    # the number of batches is fixed (a source's bucket does not depend on the
    # shuffle): state it, so progress bars and schedules know the epoch's length
    lengths = source_lengths(src_ids).numpy()
    if tgt_bounds is not None:
        lengths = np.maximum(lengths, source_lengths(tgt_out_ids).numpy())
    bucket = np.minimum(np.searchsorted(bounds, lengths), len(bounds) - 1)
    counts = np.bincount(bucket, minlength=len(bounds))
    batches = counts // batch_size if drop_remainder else -(-counts // batch_size)
    dataset = dataset.map(cut, num_parallel_calls=tf.data.AUTOTUNE)
    return dataset.apply(tf.data.experimental.assert_cardinality(int(batches.sum())))
