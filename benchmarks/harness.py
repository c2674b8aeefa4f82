"""What the benchmarks share: the date task at the lessons' settings, timers, the machine.

The settings are those of ``demo.train_date_translator`` (the date lessons'
defaults): 20,000 training dates, embedding_dim 32, units 64, batch 64, Adam.
"""

from __future__ import annotations

import datetime
import os
import platform
import statistics
import time
from dataclasses import dataclass

# isort: off
import s2s_helpers  # noqa: F401  (first: it silences TensorFlow's start-up logs)

# isort: on
import keras
import numpy as np
import tensorflow as tf

from benchmarks import reporting, seed_baseline
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
    model = seq2seq.Seq2Seq(
        task.src_vocab.size, task.tgt_vocab.size, EMBEDDING_DIM, UNITS
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


# --- timing --------------------------------------------------------------------


@dataclass
class Timing:
    """Wall and process CPU seconds of one timed block, and what it processed."""

    wall: float
    cpu: float
    items: float


def timed(block) -> Timing:
    """Run ``block()`` (which returns the number of items it processed) and time it."""
    wall, cpu = time.perf_counter(), time.process_time()
    items = block()
    return Timing(time.perf_counter() - wall, time.process_time() - cpu, items)


def alternate(rounds: int, *blocks) -> tuple[list[Timing], ...]:
    """Time every block ``rounds`` times, in A B B A A B ... order (A B C C B A
    ... for three).

    Alternating cancels slow drifts of the machine's load between them.
    """
    timings: tuple[list[Timing], ...] = tuple([] for _ in blocks)
    for number in range(rounds):
        order = range(len(blocks)) if number % 2 == 0 else reversed(range(len(blocks)))
        for side in order:
            timings[side].append(timed(blocks[side]))
    return timings


def median(values) -> float:
    return float(statistics.median(values))


def rate(timing: Timing) -> float:
    return timing.items / timing.wall


def round_ratios(fast: list[Timing], slow: list[Timing]) -> list[float]:
    """(fast items/s) / (slow items/s) of each round, rounds paired."""
    return [rate(a) / rate(b) for a, b in zip(fast, slow)]


def ratio_of_rates(fast: list[Timing], slow: list[Timing]) -> float:
    """Median over rounds of (fast items/s) / (slow items/s), rounds paired."""
    return median(round_ratios(fast, slow))


# --- the machine and the report ---------------------------------------------------


def machine() -> dict:
    """What the numbers were measured on (threads: 0 means TensorFlow's default)."""
    return {
        "cpu": reporting.cpu_model(),
        "nproc": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)),
        "intra_op_threads": tf.config.threading.get_intra_op_parallelism_threads(),
        "inter_op_threads": tf.config.threading.get_inter_op_parallelism_threads(),
        "gpus": len(tf.config.list_physical_devices("GPU")),
        "python": platform.python_version(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "date": datetime.date.today().isoformat(),
    }
