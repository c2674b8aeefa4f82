"""The measurements: equal losses, training and decoding speed, time to 99%, memory.

Every function takes the date task of ``date_setup.date_task`` and returns plain
numbers; ``benchmarks.date_vs_seed`` puts them in a table.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import tensorflow as tf

from benchmarks import date_setup, seed_baseline, timing
from benchmarks.date_setup import MAX_TGT_LEN, DateTask
from benchmarks.timing import Timing
from s2s_helpers import demo, metrics, search, training
from s2s_helpers.translator import Translator


class ReferenceTraining:
    """The reference's compiled train step, called the way ``Trainer.fit`` calls it.

    ``Trainer.fit`` trains whole epochs; the benchmarks need single steps (to
    time them and to evaluate every few steps), so they call the Trainer's
    compiled step directly, with the constant teacher-forcing ratio 1.0 of the
    date lessons and one scheduled-sampling seed per step.
    """

    def __init__(self, trainer: training.Trainer, dataset):
        started = time.perf_counter()
        trainer._compile(dataset)  # trace (XLA compiles at the first call)
        self.trace_seconds = time.perf_counter() - started
        self.trainer = trainer
        self.steps = 0
        self._ratio = tf.constant(1.0)

    def step(self, inputs, tgt_out_ids):
        seed = tf.constant([self.trainer.seed, self.steps], tf.int32)
        loss, _ = self.trainer._train_step(inputs, tgt_out_ids, self._ratio, seed)
        self.trainer.step.assign_add(1)
        self.steps += 1
        return loss


@dataclass
class Pair:
    """A reference and a baseline trained side by side from the same weights."""

    model: object
    reference: ReferenceTraining
    baseline: seed_baseline.SeedSeq2Seq
    baseline_step: object
    ref_losses: list[float]
    base_losses: list[float]
    ref_first_step: float  # seconds of the first step: tracing and compiling
    base_first_step: float

    @property
    def max_loss_difference(self) -> float:
        return float(np.max(np.abs(np.subtract(self.ref_losses, self.base_losses))))


def loss_curves(task: DateTask, steps: int = 50) -> Pair:
    """Train both for ``steps`` steps on the same batches from the same weights."""
    model = date_setup.reference_model(task, seed=0)
    dataset = task.dataset(seed=0)
    reference = ReferenceTraining(training.Trainer(model, "adam"), dataset)
    baseline = date_setup.baseline_like(model, task)
    baseline_step = seed_baseline.make_train_step(
        baseline, training.make_optimizer("adam")
    )
    ref_losses, base_losses, first = [], [], []
    for (src_ids, tgt_in_ids), tgt_out_ids in dataset.take(steps):
        started = time.perf_counter()
        ref_losses.append(float(reference.step((src_ids, tgt_in_ids), tgt_out_ids)))
        middle = time.perf_counter()
        base_losses.append(float(baseline_step(src_ids, tgt_in_ids, tgt_out_ids)))
        if not first:
            ref_first = reference.trace_seconds + middle - started
            first = [ref_first, time.perf_counter() - middle]
    return Pair(
        model, reference, baseline, baseline_step, ref_losses, base_losses, *first
    )


def training_throughput(task: DateTask, pair: Pair, rounds: int, steps: int) -> dict:
    """Target tokens per block of ``steps`` steps, each side on its own pipeline.

    Three sides take turns: the reference on ``data.make_dataset`` batches
    padded to 40 (``pair.reference``), the reference on length buckets
    (``make_dataset(buckets=date_setup.BUCKETS)``: a second trainer from the same
    initial weights, warmed up until XLA has compiled every source width), and
    the baseline on the classic ``from_tensor_slices -> shuffle -> batch``.

    Returns:
        ``{"fixed", "bucketed", "baseline"}``: the timings of each side;
        ``bucketed_startup``: seconds from the bucketed trainer's creation to
        the end of its warm-up (trace, and one compile per width);
        ``mean_width``: the mean source width of the bucketed batches timed.
    """
    started = time.perf_counter()
    model = date_setup.reference_model(task, seed=0)
    bucketed_data = task.dataset(seed=1, buckets=date_setup.BUCKETS)
    bucketed = ReferenceTraining(training.Trainer(model, "adam"), bucketed_data)
    bucketed_batches = iter(bucketed_data.repeat())
    widths_seen = set()
    while len(widths_seen) < len(date_setup.BUCKETS) + 1:
        inputs, tgt_out_ids = next(bucketed_batches)
        float(bucketed.step(inputs, tgt_out_ids))
        widths_seen.add(int(inputs[0].shape[1]))
    startup = time.perf_counter() - started
    fixed_batches = iter(task.dataset(seed=1).repeat())
    base_batches = iter(task.seed_style_dataset(seed=1).repeat())
    widths = []

    def reference_block(training_side, batches, record_widths=False):
        def block():
            tokens = 0
            for _ in range(steps):
                inputs, tgt_out_ids = next(batches)
                loss = training_side.step(inputs, tgt_out_ids)
                tokens += np.count_nonzero(tgt_out_ids.numpy())
                if record_widths:
                    widths.append(int(inputs[0].shape[1]))
            float(loss)
            return tokens

        return block

    def baseline_block():
        tokens = 0
        for _ in range(steps):
            src_ids, tgt_in_ids, tgt_out_ids = next(base_batches)
            loss = pair.baseline_step(src_ids, tgt_in_ids, tgt_out_ids)
            tokens += np.count_nonzero(tgt_out_ids.numpy())
        float(loss)
        return tokens

    blocks = (
        reference_block(pair.reference, fixed_batches),
        reference_block(bucketed, bucketed_batches, record_widths=True),
        baseline_block,
    )
    for block in blocks:
        block()  # warm up (pipelines, caches)
    widths.clear()
    fixed, bucket, base = timing.alternate(rounds, *blocks)
    return {
        "fixed": fixed,
        "bucketed": bucket,
        "baseline": base,
        "bucketed_startup": startup,
        "mean_width": float(np.mean(widths)),
    }


def encoder_times(
    task: DateTask, pair: Pair, rounds: int, calls: int = 20
) -> tuple[list[Timing], list[Timing]]:
    """Forward and backward of each side's encoder alone, on one batch.

    Both encoders compute the same function over ``src_len`` positions: the
    baseline's Keras GRU, the reference's ``encoder.gru_over_sequence`` on the
    same weights. The reference's runs under XLA, as in its train step, the
    baseline's without.
    """
    (src_ids, _), _ = next(iter(task.dataset()))

    def gradients(encoder, src_ids, *hidden):
        with tf.GradientTape() as tape:
            values, state = encoder(src_ids, *hidden)[:2]
            total = tf.reduce_sum(values) + tf.reduce_sum(state)
        grads = tape.gradient(total, encoder.trainable_variables)
        return [tf.convert_to_tensor(grad) for grad in grads]

    encoder = pair.baseline.encoder
    reference = tf.function(
        lambda ids: gradients(pair.model.encoder, ids), jit_compile=True
    )
    baseline = tf.function(
        lambda ids: gradients(
            encoder, ids, encoder.initialize_hidden_state(tf.shape(ids)[0])
        )
    )

    def block(function):
        def run():
            for _ in range(calls):
                grads = function(src_ids)
            grads[0].numpy()
            return calls

        return run

    reference(src_ids), baseline(src_ids)  # trace and compile
    return timing.alternate(rounds, block(reference), block(baseline))


@dataclass
class Convergence:
    """One run to the target held-out exact match."""

    steps: int
    train_seconds: float  # every step, the first (XLA compile) included
    startup_seconds: float  # tracing + the first step of each source shape
    step_seconds: float  # median seconds of one step (not a first one)
    val_exact_match: float
    test_exact_match: float
    snapshots: dict = field(default_factory=dict)
    shapes: int = 1  # source widths met (XLA compiles once per width)


def time_to_exact_match(
    task: DateTask,
    seed: int,
    target: float = 0.99,
    check_every: int = 25,
    max_steps: int = 4000,
    snapshot_steps: tuple[int, ...] = (),
    jit_compile: bool = True,
    buckets=None,
) -> tuple[Convergence, object]:
    """Train the reference until greedy exact match on the 500 validation dates
    reaches ``target``, checking every ``check_every`` steps.

    The clock runs during training steps only, not during the checks.
    ``jit_compile`` is the ``Trainer``'s (True, with XLA, is its default);
    ``buckets``, ``make_dataset``'s (None: every batch padded to 40).

    Returns:
        the run, and the trained model.
    """
    model = date_setup.reference_model(task, seed)
    translator = Translator(
        model, task.src_vocab, task.tgt_vocab, date_setup.MAX_SRC_LEN, MAX_TGT_LEN
    )
    dataset = task.dataset(seed, buckets)
    trainer = training.Trainer(model, "adam", seed=seed, jit_compile=jit_compile)
    reference = ReferenceTraining(trainer, dataset)
    durations, snapshots, accuracy = [], {}, 0.0
    compiles = []  # the first step of each source width: XLA compiles there
    widths = set()
    while accuracy < target and len(durations) < max_steps:
        batches = iter(dataset)
        while accuracy < target and len(durations) < max_steps:
            started = time.perf_counter()
            batch = next(batches, None)
            if batch is None:
                break  # end of the epoch: reshuffle
            float(reference.step(*batch))
            durations.append(time.perf_counter() - started)
            width = int(batch[0][0].shape[1])
            if width not in widths:
                widths.add(width)
                compiles.append(len(durations) - 1)
            if len(durations) in snapshot_steps:
                snapshots[len(durations)] = model.get_weights()
            if len(durations) % check_every == 0:
                accuracy = demo.date_exact_match(translator, task.val_pairs)
    plain = [d for i, d in enumerate(durations) if i not in compiles]
    run = Convergence(
        steps=len(durations),
        train_seconds=reference.trace_seconds + sum(durations),
        startup_seconds=reference.trace_seconds + sum(durations[i] for i in compiles),
        step_seconds=timing.median(plain or durations),
        val_exact_match=accuracy,
        test_exact_match=demo.date_exact_match(translator, task.test_pairs),
        snapshots=snapshots,
        shapes=len(widths),
    )
    return run, model


def greedy_throughput(
    task: DateTask, model, rounds: int, sentences: int
) -> tuple[list[Timing], list[Timing], float]:
    """Batched compiled greedy decoding of the 1,000 test dates, against the
    seed's eager decoding of ``sentences`` of them, one at a time.

    Returns:
        both timings and the fraction of the baseline's outputs identical to
        the reference's.
    """
    baseline = date_setup.baseline_like(model, task)
    ids = task.test_ids
    reference = search.greedy_decode(model, ids, MAX_TGT_LEN)  # traced here
    outputs = [
        seed_baseline.evaluate(baseline, row, MAX_TGT_LEN) for row in ids[:sentences]
    ]
    agreement = np.mean(
        [
            search.trim([out]) == search.trim(ref[None])
            for out, ref in zip(outputs, reference.tokens)
        ]
    )

    def reference_block():
        search.greedy_decode(model, ids, MAX_TGT_LEN)
        return len(ids)

    def baseline_block():
        for row in ids[:sentences]:
            seed_baseline.evaluate(baseline, row, MAX_TGT_LEN)
        return sentences

    ref, base = timing.alternate(rounds, reference_block, baseline_block)
    return ref, base, float(agreement)


def beam_throughput(task: DateTask, model, rounds: int, beam_width: int = 4):
    """Batched compiled beam search against batched greedy, on the 1,000 test dates."""
    ids = task.test_ids
    search.beam_search(model, ids, MAX_TGT_LEN, beam_width)  # traced here

    def beam_block():
        search.beam_search(model, ids, MAX_TGT_LEN, beam_width)
        return len(ids)

    def greedy_block():
        search.greedy_decode(model, ids, MAX_TGT_LEN)
        return len(ids)

    return timing.alternate(rounds, beam_block, greedy_block)


def decoding_quality(task: DateTask, model, beam_width: int = 4) -> dict[str, float]:
    """Exact match and character BLEU of greedy and beam search on the test dates."""
    references = [iso for _, iso in task.test_pairs]
    scores = {}
    for name, result in (
        ("greedy", search.greedy_decode(model, task.test_ids, MAX_TGT_LEN)),
        ("beam", search.beam_search(model, task.test_ids, MAX_TGT_LEN, beam_width)),
    ):
        vocab = task.tgt_vocab
        predictions = [vocab.join(vocab.decode(row)) for row in result.tokens]
        scores[f"{name}_exact_match"] = metrics.exact_match(predictions, references)
        scores[f"{name}_char_bleu"] = metrics.corpus_bleu(
            [" ".join(p) for p in predictions], [" ".join(r) for r in references]
        )
    return scores


def peak_memory(kind: str, steps: int = 100, sentences: int = 20) -> float:
    """Train and decode as ``kind`` does, then return this process's peak RSS (MiB).

    ``kind`` is "reference", "baseline", or "idle" (the date task only: what
    importing TensorFlow and building the data costs before any model).
    Run it in a fresh process. The peak is the kernel's ``VmHWM``: unlike
    ``getrusage``'s ``ru_maxrss``, it does not inherit the peak of the process
    that started this one.
    """
    task = date_setup.date_task()
    if kind == "reference":
        model = date_setup.reference_model(task)
        reference = ReferenceTraining(training.Trainer(model, "adam"), task.dataset())
        for batch in task.dataset().take(steps):
            reference.step(*batch)
        search.greedy_decode(model, task.test_ids, MAX_TGT_LEN)
    elif kind == "baseline":
        baseline = seed_baseline.SeedSeq2Seq(
            task.src_vocab.size,
            task.tgt_vocab.size,
            date_setup.EMBEDDING_DIM,
            date_setup.UNITS,
        )
        baseline.build(date_setup.MAX_SRC_LEN)
        step = seed_baseline.make_train_step(baseline, training.make_optimizer("adam"))
        for batch in task.seed_style_dataset().take(steps):
            step(*batch)
        for row in task.test_ids[:sentences]:
            seed_baseline.evaluate(baseline, row, MAX_TGT_LEN)
    elif kind != "idle":
        raise ValueError(f"kind must be reference, baseline or idle; received {kind!r}")
    status = Path("/proc/self/status").read_text()
    return int(re.search(r"^VmHWM:\s+(\d+) kB", status, re.MULTILINE)[1]) / 1024
