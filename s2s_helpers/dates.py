"""The running task of lessons 00-07: written dates to ISO dates, generated offline.

A date such as 12 April 2098 is written in one of 15 locales and one of their
styles, taken from the CLDR data shipped with ``babel`` ("samedi 12 avril
2098", "Apr 20, 2011"), and paired with its ISO form "2098-04-12". The
generator is seeded and has no limit, and only patterns that spell the month
are used, so every written date has exactly one reading.

``date_task`` is the recipe every user of the task shares (the demo, the
benchmarks, the lessons): pairs split into training, validation and test sets
whose written dates never overlap, the two character vocabularies, the fixed
lengths, and the ``tf.data`` pipelines of ``data.make_dataset``.

Taught in: lessons/01_data.ipynb
"""

from __future__ import annotations

import datetime
import random
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from s2s_helpers.data import Vocabulary, encode_pairs, make_dataset

MAX_SRC_LEN = 40  # longest written date is 38 characters
MAX_TGT_LEN = 11  # "2098-04-12" + [END]

DATE_LOCALES = (
    "en", "en_GB", "fr", "de", "es", "it", "pt", "nl",
    "sv", "da", "nb", "pl", "ro", "tr", "id",
)  # fmt: skip
_EXTRA_PATTERNS = ("d MMM y", "EEE d MMMM y", "MMMM d, y", "EEEE d MMM y")


def _date_patterns(locale: str) -> list[str]:
    """The locale's full/long/medium patterns plus extras, month spelled out only.

    A pattern without a month name (12.04.2098, 4/12/98) is ambiguous across
    locales, so it is left out: every generated date has one reading.
    """
    from babel.dates import get_date_format

    patterns = [
        get_date_format(f, locale=locale).pattern for f in ("full", "long", "medium")
    ]
    patterns += _EXTRA_PATTERNS
    return [
        p
        for p in dict.fromkeys(patterns)
        if "MMM" in p and "yy" not in p.replace("y", "", 1)
    ]


def generate_dates(
    count: int,
    seed: int = 0,
    locales: Sequence[str] = DATE_LOCALES,
    start_year: int = 1900,
    end_year: int = 2099,
) -> list[tuple[str, str]]:
    """Generate ``count`` (written date, ISO date) pairs, e.g. ("12 avril 2098", "2098-04-12").

    Dates are uniform in ``[start_year, end_year]``; locale and style are drawn
    per example from CLDR (babel). The same seed gives the same pairs.
    """
    from babel.dates import format_date

    if count < 0:
        raise ValueError(f"count must be >= 0, received {count}")
    rng = random.Random(seed)
    first = datetime.date(start_year, 1, 1).toordinal()
    last = datetime.date(end_year, 12, 31).toordinal()
    patterns = {loc: _date_patterns(loc) for loc in locales}
    pairs = []
    for _ in range(count):
        day = datetime.date.fromordinal(rng.randint(first, last))
        locale = rng.choice(locales)
        written = format_date(day, rng.choice(patterns[locale]), locale=locale)
        pairs.append((written, day.isoformat()))
    return pairs


def date_splits(
    train_size: int, val_size: int, seed: int = 0
) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """Train and held-out date pairs whose source strings never overlap."""
    train = generate_dates(train_size, seed=seed)
    seen = {src for src, _ in train}
    held_out: list[tuple[str, str]] = []
    batch_seed = seed + 1_000_003
    while len(held_out) < val_size:
        for pair in generate_dates(2 * val_size, seed=batch_seed):
            if pair[0] not in seen and len(held_out) < val_size:
                seen.add(pair[0])
                held_out.append(pair)
        batch_seed += 1
    return train, held_out


def date_vocabularies(
    pairs: Sequence[tuple[str, str]],
) -> tuple[Vocabulary, Vocabulary]:
    """Character vocabularies for the date task (source normalised, target ISO as is)."""
    src_vocab = Vocabulary.build([s for s, _ in pairs], level="char")
    tgt_vocab = Vocabulary(list("0123456789-"), level="char", standardize=False)
    return src_vocab, tgt_vocab


@dataclass
class DateTask:
    """The date task, split, with its vocabularies and fixed lengths.

    Attributes:
        train_pairs, val_pairs, test_pairs: (written, iso) pairs; no written
            date is in two of them.
        src_vocab: the characters of the (normalised) training dates.
        tgt_vocab: the 11 characters of an ISO date, ``0-9`` and ``-``.
        max_src_len: `src_len` of every source, 40 (the longest date has 38).
        max_tgt_len: `tgt_len` of every target, 11 (10 characters + ``[END]``).
    """

    train_pairs: list[tuple[str, str]]
    val_pairs: list[tuple[str, str]]
    test_pairs: list[tuple[str, str]]
    src_vocab: Vocabulary
    tgt_vocab: Vocabulary
    max_src_len: int = MAX_SRC_LEN
    max_tgt_len: int = MAX_TGT_LEN

    def encode(
        self, pairs: Sequence[tuple[str, str]]
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``data.encode_pairs`` with the task's vocabularies and lengths.

        Returns:
            src_ids `(batch, src_len)`, tgt_in_ids `(batch, tgt_len)`,
            tgt_out_ids `(batch, tgt_len)`, int32 with padding 0.
        """
        return encode_pairs(
            pairs, self.src_vocab, self.tgt_vocab, self.max_src_len, self.max_tgt_len
        )

    def dataset(self, pairs: Sequence[tuple[str, str]], batch_size: int, **options):
        """A ``tf.data`` pipeline of ``pairs``: ``data.make_dataset(self.encode(pairs), ...)``.

        Args:
            pairs: e.g. ``task.train_pairs``.
            batch_size: examples per batch.
            **options: ``shuffle``, ``seed``, ``drop_remainder``, ``buckets`` of
                ``data.make_dataset``.

        Returns:
            ``((src_ids, tgt_in_ids), tgt_out_ids)`` batches, `(batch, src_len)`
            and `(batch, tgt_len)`.
        """
        return make_dataset(self.encode(pairs), batch_size, **options)


def date_task(
    train_size: int, val_size: int, test_size: int = 0, seed: int = 0
) -> DateTask:
    """Generate, split and index the date task: the recipe every lesson shares.

    The held-out dates are drawn once, ``val_size + test_size`` of them, and cut
    into validation (the first ``val_size``) and test sets, so a larger test set
    leaves the validation dates as they were. The vocabularies are built from
    the training dates only.

    Args:
        train_size: training pairs (``generate_dates(train_size, seed)``).
        val_size: validation pairs, for choices made during training.
        test_size: test pairs, measured once at the end (0: none).
        seed: the same seed gives the same task.

    Returns:
        a ``DateTask``.
    """
    if min(train_size, val_size, test_size) < 0:
        raise ValueError(
            "Sizes must be >= 0, received train_size="
            f"{train_size}, val_size={val_size}, test_size={test_size}."
        )
    train_pairs, held_out = date_splits(train_size, val_size + test_size, seed=seed)
    src_vocab, tgt_vocab = date_vocabularies(train_pairs)
    return DateTask(
        train_pairs, held_out[:val_size], held_out[val_size:], src_vocab, tgt_vocab
    )
