"""The date task at the date lessons' settings, and the two models trained on it.

The settings are those of ``demo.train_date_translator`` (the date lessons'
defaults): 20,000 training dates, embedding_dim 32, units 64, batch 64, Adam.
"""

from __future__ import annotations

from dataclasses import dataclass

# isort: off
import s2s_helpers  # noqa: F401  (first: it silences TensorFlow's start-up logs)

# isort: on
import keras
import numpy as np
import tensorflow as tf

from benchmarks import seed_baseline
from s2s_helpers import data, dates, seq2seq

EMBEDDING_DIM, UNITS, BATCH_SIZE = 32, 64, 64
MAX_SRC_LEN, MAX_TGT_LEN = dates.MAX_SRC_LEN, dates.MAX_TGT_LEN
BUCKETS = (16, 24)  # the reference's length buckets: batches of 16, 24 or 40 positions


@dataclass
class DateTask:
    """The date task as ``demo.train_date_translator`` splits it.

    Attributes:
        arrays: training ``(src_ids, tgt_in_ids, tgt_out_ids)``, `(20000, len)`.
        val_pairs, test_pairs: 500 and 1,000 held-out (written, iso) pairs.
        test_ids: int `(1000, src_len)` the test sources, padded.
    """

    src_vocab: data.Vocabulary
    tgt_vocab: data.Vocabulary
    arrays: tuple
    val_pairs: list
    test_pairs: list
    test_ids: np.ndarray

    def dataset(self, seed: int = 0, buckets=None):
        """The reference pipeline: cached, shuffled, batched, prefetched; with
        ``buckets``, batches of similar source lengths cut to their bucket."""
        return data.make_dataset(
            self.arrays,
            BATCH_SIZE,
            shuffle=True,
            seed=seed,
            drop_remainder=True,
            buckets=buckets,
        )

    def seed_style_dataset(self, seed: int = 0):
        """The classic tutorial's pipeline: no cache, no prefetch."""
        src_ids, tgt_in_ids, tgt_out_ids = self.arrays
        dataset = tf.data.Dataset.from_tensor_slices((src_ids, tgt_in_ids, tgt_out_ids))
        dataset = dataset.shuffle(len(src_ids), seed=seed)
        return dataset.batch(BATCH_SIZE, drop_remainder=True)


def date_task(
    train_size: int = 20000, test_size: int = 1000, seed: int = 0
) -> DateTask:
    task = dates.date_task(train_size, val_size=500, test_size=test_size, seed=seed)
    arrays = task.encode(task.train_pairs)
    test_ids = task.encode(task.test_pairs)[0]
    src_vocab, tgt_vocab = task.src_vocab, task.tgt_vocab
    val_pairs, test_pairs = task.val_pairs, task.test_pairs
    return DateTask(src_vocab, tgt_vocab, arrays, val_pairs, test_pairs, test_ids)


def reference_model(task: DateTask, seed: int = 0) -> seq2seq.Seq2Seq:
    """The reference model, built, with the initial weights of ``seed``."""
    keras.utils.set_random_seed(seed)
    # the seed design scores tokens from the GRU output alone: the same function
    # as the seed-style baseline needs the classic output layer
    model = seq2seq.Seq2Seq(
        task.src_vocab.size,
        task.tgt_vocab.size,
        EMBEDDING_DIM,
        UNITS,
        output_context=False,
    )
    model.build(((None, MAX_SRC_LEN), (None, MAX_TGT_LEN)))
    return model


def baseline_like(reference, task: DateTask) -> seed_baseline.SeedSeq2Seq:
    """A seed-style model holding a copy of ``reference``'s current weights."""
    baseline = seed_baseline.SeedSeq2Seq(
        task.src_vocab.size, task.tgt_vocab.size, EMBEDDING_DIM, UNITS
    )
    baseline.build(MAX_SRC_LEN)
    seed_baseline.copy_weights(reference, baseline)
    return baseline
