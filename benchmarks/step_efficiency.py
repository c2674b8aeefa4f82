"""How close a training step comes to the machine's matrix-product speed.

For the date model (lessons 04-07) and the translation model (lesson 08), at
fixed batch shapes, this measures:

- the training step's time, with and without XLA, and tokens per second;
  for lesson 08 also with lengths unknown to the graph, as its bucketed
  batches run it (the decoder then loops with a ``tf.while_loop``);
- its matrix-product FLOPs, counted analytically from the layer sizes
  (forward; backward counted as twice the forward), per second;
- the ceiling: the same matrix products (every GEMM of the forward pass and
  the two of its gradient, at their own shapes and counts) run back to back in
  one compiled function on the same machine in the same run; the step's
  efficiency is its FLOP/s over the ceiling's;
- where the time goes: the encoder, the attention (its `tgt_len` calls,
  unrolled), the rest of the decoder's loop, the output projection with the
  loss (each forward and backward, timed on its own) and the optimiser (a full
  step minus gradients only);
- a bound: the step's fraction of the ceiling if everything but the attention
  ran at the ceiling and the attention took its measured time.

Elementwise work (gates, tanh, softmax) and the attention's score and context
reductions are not counted as FLOPs: they are what keeps a step from the
ceiling.

Run: ``python -m benchmarks step_efficiency`` (``--quick``: fewer repeats,
print only).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import statistics
import time

from benchmarks import reporting

TITLE = "Training step vs the matrix-product ceiling"


@dataclasses.dataclass(frozen=True)
class Shapes:
    """A model's sizes and its batch: all a FLOP count needs."""

    name: str
    src_vocab: int
    tgt_vocab: int
    embedding_dim: int
    units: int
    bidirectional: bool
    batch: int
    src_len: int
    tgt_len: int
    output_context: bool = True
    dropout_rate: float = 0.0

    def gemms(self) -> list[tuple[int, int, int, int]]:
        """Forward matrix products as (m, k, n, count): x (m, k) @ w (k, n)."""
        b, s, t, e, u = (self.batch, self.src_len, self.tgt_len,
                         self.embedding_dim, self.units)  # fmt: skip
        directions, h = (2, u // 2) if self.bidirectional else (1, u)
        features = 2 * u if self.output_context else u
        return [
            (b, e, 3 * h, s * directions),  # encoder GRU input, per step
            (b, h, 3 * h, s * directions),  # encoder GRU recurrent, per step
            *self.attention_gemms(),  # keys once, query per step
            (b, u + e, 3 * u, t),  # decoder GRU input [context; token]
            (b, u, 3 * u, t),  # decoder GRU recurrent
            (b * t, features, self.tgt_vocab, 1),  # output projection, stacked
        ]

    def attention_gemms(self) -> list[tuple[int, int, int, int]]:
        """The attention's share of ``gemms``: keys once, the query per step."""
        b, s, t, u = self.batch, self.src_len, self.tgt_len, self.units
        return [(b * s, u, u, 1), (b, u, u, t)]

    def step_flops(self) -> float:
        """Matrix-product FLOPs of one training step: 3x the forward's."""
        return training_flops(self.gemms())


def training_flops(gemms) -> float:
    """FLOPs of forward matrix products ``(m, k, n, count)`` and their two gradients."""
    return 3.0 * sum(2 * m * k * n * c for m, k, n, c in gemms)


DATE = Shapes("date (lessons 04-07)", 47, 15, 32, 64, False, 64, 40, 11)
# lesson 08: 4,000 SentencePiece pieces per side; its batches, cut to length
# buckets on both sides, average 26 positions on each side
TRANSLATION = Shapes(
    "translation (lesson 08)", 4000, 4000, 128, 256, True, 64, 26, 26, dropout_rate=0.2
)


def _median_seconds(function, repeats: int, inner: int) -> float:
    function()  # trace / compile / warm up
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        for _ in range(inner):
            function()
        times.append((time.perf_counter() - started) / inner)
    return statistics.median(times)


def ceiling(shapes: Shapes, repeats: int) -> tuple[float, float]:
    """FLOP/s of the step's own GEMMs (forward and both gradients), and their FLOPs.

    Timed as a plain graph and with XLA; the faster counts.
    """
    import tensorflow as tf

    products = []
    for m, k, n, count in shapes.gemms():
        products += [(m, k, n, count), (m, n, k, count), (k, m, n, count)]
    operands = [
        (tf.random.normal([m, k]), tf.random.normal([k, n]), count)
        for m, k, n, count in products
    ]

    def run_all():
        total = tf.constant(0.0)
        for x, w, count in operands:
            for i in range(count):  # distinct inputs: nothing is computed once
                total += tf.reduce_sum(tf.matmul(x + float(i), w))
        return total

    flops = sum(2 * m * k * n * c for m, k, n, c in products)
    seconds = min(  # the faster of a plain graph and XLA, as for the step
        _median_seconds(lambda f=f: f().numpy(), repeats, 1)
        for f in (tf.function(run_all), tf.function(run_all, jit_compile=True))
    )
    return flops / seconds, flops


def _batch(shapes: Shapes):
    import tensorflow as tf

    ids = lambda vocab, length: tf.random.uniform(  # noqa: E731
        [shapes.batch, length], 4, vocab, tf.int32, seed=0
    )
    return (ids(shapes.src_vocab, shapes.src_len),
            ids(shapes.tgt_vocab, shapes.tgt_len)), ids(shapes.tgt_vocab, shapes.tgt_len)  # fmt: skip


def _model(shapes: Shapes):
    import keras

    from s2s_helpers import seq2seq

    keras.utils.set_random_seed(0)
    return seq2seq.Seq2Seq(
        shapes.src_vocab, shapes.tgt_vocab, shapes.embedding_dim, shapes.units,
        bidirectional=shapes.bidirectional, output_context=shapes.output_context,
        dropout_rate=shapes.dropout_rate,
    )  # fmt: skip


def timings(shapes: Shapes, repeats: int, inner: int) -> dict[str, float]:
    """Median seconds: the step with and without XLA, and its parts (no XLA)."""
    import tensorflow as tf

    from s2s_helpers import losses, training

    model = _model(shapes)
    inputs, targets = _batch(shapes)
    model(inputs)
    trainer = training.Trainer(model, "adam", jit_compile=False)
    trainer.optimizer.build(model.trainable_variables)
    args = (inputs, targets, tf.constant(1.0), tf.constant([0, 0], tf.int32))

    def gradients(loss_of, variables):
        def run():
            with tf.GradientTape() as tape:
                loss = loss_of()
            grads = tape.gradient(loss, variables)
            return loss + tf.add_n([tf.reduce_sum(g) for g in grads if g is not None])

        return tf.function(run)

    features = tf.random.normal(
        [shapes.batch, shapes.tgt_len, model.decoder.output_layer.kernel.shape[0]]
    )
    encoder = model.encoder.trainable_variables
    length_unknown = tf.TensorSpec([shapes.batch, None], tf.int32)
    parts = {
        "step": tf.function(trainer.train_step),
        # lengths unknown to the graph, as with lesson 08's bucketed batches:
        # the decoder loops with a tf.while_loop instead of unrolling
        "step_while": tf.function(
            trainer.train_step,
            input_signature=(
                (length_unknown, length_unknown),
                length_unknown,
                tf.TensorSpec([], tf.float32),
                tf.TensorSpec([2], tf.int32),
            ),
        ),
        "step_xla": tf.function(trainer.train_step, jit_compile=True),
        "gradients": gradients(
            lambda: losses.masked_loss(targets, model(inputs, training=True)),
            model.trainable_variables,
        ),
        "encoder": gradients(
            lambda: tf.add_n(
                [
                    tf.reduce_sum(x)
                    for x in model.encode(inputs[0])[:3]
                    if x.dtype.is_floating
                ]
            ),  # fmt: skip
            encoder,
        ),
        "projection": gradients(
            lambda: losses.masked_loss(targets, model.decoder.output_layer(features)),
            model.decoder.output_layer.trainable_variables,
        ),
        "attention": _attention_gradients(model, shapes),
    }
    seconds = {}
    for name, function in parts.items():
        call = (lambda f=function: f(*args)[0].numpy()) if name.startswith("step") else (
            lambda f=function: f().numpy())  # fmt: skip
        seconds[name] = _median_seconds(call, repeats, inner)
    return seconds


def _attention_gradients(model, shapes: Shapes):
    """The decoder's attention, forward and backward, over its ``tgt_len`` calls.

    Gradients flow to the attention's weights, the encoder outputs and the
    queries, as in the step; the calls are unrolled in one ``tf.function``.
    """
    import tensorflow as tf

    attention = model.decoder.attention
    values = tf.Variable(tf.random.normal([shapes.batch, shapes.src_len, shapes.units]))
    queries = tf.Variable(
        tf.random.normal([shapes.tgt_len, shapes.batch, shapes.units])
    )
    mask = tf.ones([shapes.batch, shapes.src_len], tf.bool)
    variables = [values, queries, *attention.trainable_variables]

    def run():
        with tf.GradientTape() as tape:
            keys = attention.precompute_keys(values)
            loss = tf.add_n([
                tf.reduce_sum(attention(queries[i], values, keys=keys, mask=mask)[0])
                for i in range(shapes.tgt_len)
            ])  # fmt: skip
        grads = tape.gradient(loss, variables)
        return loss + tf.add_n([tf.reduce_sum(g) for g in grads])

    return tf.function(run)


def seed_style_seconds(shapes: Shapes, repeats: int, inner: int) -> dict[str, float]:
    """Median step seconds of the seed-style baseline at the model's sizes.

    The baseline (``benchmarks.seed_baseline``) has the seed's unidirectional
    encoder and its output layer on the GRU output alone, so it is timed
    against the reference computing that same function (``same_function``),
    fastest of plain and XLA, as well as against the model itself.
    """
    import keras
    import tensorflow as tf

    from benchmarks import seed_baseline
    from s2s_helpers import seq2seq, training

    (src_ids, tgt_in_ids), tgt_out_ids = _batch(shapes)
    keras.utils.set_random_seed(0)
    baseline = seed_baseline.SeedSeq2Seq(
        shapes.src_vocab, shapes.tgt_vocab, shapes.embedding_dim, shapes.units
    )
    baseline.build(shapes.src_len)
    optimizer = keras.optimizers.Adam()
    optimizer.build(baseline.trainable_variables)
    step = seed_baseline.make_train_step(baseline, optimizer)
    seed_style = _median_seconds(
        lambda: step(src_ids, tgt_in_ids, tgt_out_ids).numpy(), repeats, inner
    )
    same = seq2seq.Seq2Seq(
        shapes.src_vocab, shapes.tgt_vocab, shapes.embedding_dim, shapes.units,
        output_context=False,
    )  # fmt: skip
    same((src_ids, tgt_in_ids))
    trainer = training.Trainer(same, "adam")
    trainer.optimizer.build(same.trainable_variables)
    args = ((src_ids, tgt_in_ids), tgt_out_ids, tf.constant(1.0), tf.constant([0, 0]))
    same_function = min(
        _median_seconds(lambda f=f: f(*args)[0].numpy(), repeats, inner)
        for f in (tf.function(trainer.train_step),
                  tf.function(trainer.train_step, jit_compile=True))
    )  # fmt: skip
    return {"seed_style": seed_style, "same_function": same_function}


def measure(shapes: Shapes, repeats: int, inner: int) -> dict:
    """Every number of one model's row."""
    ceiling_rate, _ = ceiling(shapes, repeats)
    seconds = timings(shapes, repeats, inner)
    seconds.update(seed_style_seconds(shapes, repeats, inner))
    best = min(seconds["step"], seconds["step_xla"])
    flops, tokens = shapes.step_flops(), shapes.batch * shapes.tgt_len
    decoder = seconds["gradients"] - seconds["encoder"] - seconds["projection"]
    attention_flops = training_flops(shapes.attention_gemms())
    # everything but the attention at the ceiling, the attention as measured
    bound_seconds = (flops - attention_flops) / ceiling_rate + seconds["attention"]
    return {
        "shapes": shapes,
        "seconds": seconds,
        "xla": seconds["step_xla"] < seconds["step"],
        "tokens_per_s": tokens / best,
        "flops_per_s": flops / best,
        "ceiling": ceiling_rate,
        "efficiency": flops / best / ceiling_rate,
        "efficiency_while": flops / seconds["step_while"] / ceiling_rate,
        "bound": flops / bound_seconds / ceiling_rate,
        "vs_seed": seconds["seed_style"] / best,
        "same_vs_seed": seconds["seed_style"] / seconds["same_function"],
        "shares": {
            "encoder": seconds["encoder"] / seconds["step"],
            "attention": seconds["attention"] / seconds["step"],
            "decoder loop, rest": (decoder - seconds["attention"]) / seconds["step"],
            "projection + loss": seconds["projection"] / seconds["step"],
            "optimiser": (seconds["step"] - seconds["gradients"]) / seconds["step"],
        },
    }


def _onednn() -> str:
    return "off" if os.environ.get("TF_ENABLE_ONEDNN_OPTS") == "0" else "on"


def render(rows: list[dict], load: str) -> str:
    lines = [
        f"## {TITLE}",
        "",
        "Fixed batches of random token ids (the time of a step depends only on its "
        "shapes). FLOPs: the matrix products of the step, counted from the layer "
        "sizes, backward = 2x forward. Ceiling: those products at their own shapes "
        "and counts, forward and both gradients, run back to back in one "
        "`tf.function` in the same run. Parts: each timed on its own, forward and "
        "backward, without XLA; the attention is its `tgt_len` calls unrolled, "
        "with gradients to its weights, the encoder outputs and the queries; the "
        "rest of the decoder loop is the gradient pass minus the encoder, the "
        "attention and the projection. Bound: the step's fraction of the ceiling "
        "if all but the attention ran at the ceiling and the attention took its "
        "measured time. Seed-style: `benchmarks/seed_baseline.py` "
        "(the classic tutorial's step: a Keras `GRU` layer called per position, "
        "attention keys recomputed at every step, no XLA) at the model's sizes, "
        "timed in the same run; it has a unidirectional encoder and an output "
        "layer on the GRU output alone, so *same function* is the reference "
        "computing exactly that (`bidirectional=False, output_context=False`), "
        f"and *model* is the model of the row. TensorFlow as in the lessons "
        f"(oneDNN {_onednn()}). Load average: {load}. Machine: "
        f"{reporting.cpu_model()}.",
        "",
        "| model | batch x src_len x tgt_len | step (plain / XLA) | tokens/s | "
        "GFLOP/step | GFLOP/s | ceiling GFLOP/s | of ceiling | encoder | attention "
        "| decoder loop, rest | projection + loss | optimiser | bound | seed-style "
        "step | vs seed-style: same function / model |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        s, sec, shares = row["shapes"], row["seconds"], row["shares"]
        lines.append(
            f"| {s.name} | {s.batch} x {s.src_len} x {s.tgt_len} | "
            f"{1e3 * sec['step']:.1f} / {1e3 * sec['step_xla']:.1f} ms | "
            f"{row['tokens_per_s']:.0f} | {s.step_flops() / 1e9:.2f} | "
            f"{row['flops_per_s'] / 1e9:.1f} | {row['ceiling'] / 1e9:.1f} | "
            f"{100 * row['efficiency']:.0f}% | "
            + " | ".join(f"{100 * v:.0f}%" for v in shares.values())
            + f" | {100 * row['bound']:.0f}%"
            + f" | {1e3 * sec['seed_style']:.1f} ms | {row['same_vs_seed']:.1f}x / "
            f"{row['vs_seed']:.1f}x |"
        )
    lesson = next((r for r in rows if r["shapes"] == TRANSLATION), None)
    if lesson is not None:
        met = "met" if lesson["efficiency"] >= 0.6 else "not met"
        lines += [
            "",
            "Lesson 08's batches vary in length, so the lesson's step runs its decoder "
            "as a `tf.while_loop` (the rows above unroll it at their fixed lengths): "
            f"{1e3 * lesson['seconds']['step_while']:.1f} ms at the same shapes, "
            f"{100 * lesson['efficiency_while']:.0f}% of the ceiling.",
            "",
            f"Target: the lesson 08 step at 60% of the ceiling or more: {met} "
            f"({100 * lesson['efficiency']:.0f}% unrolled, "
            f"{100 * lesson['efficiency_while']:.0f}% as the lesson runs it).",
        ]
    lines += ["", "Reproduce: `python -m benchmarks step_efficiency`", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks step_efficiency",
        description="A training step's FLOP/s against the matrix-product ceiling.",
    )
    parser.add_argument("--quick", action="store_true", help="few repeats, print only")
    parser.add_argument("--no-write", action="store_true", help="print only")
    options = parser.parse_args(argv)
    repeats, inner = (3, 2) if options.quick else (7, 5)
    rows = []
    for shapes in (DATE, TRANSLATION):
        row = measure(shapes, repeats, inner)
        rows.append(row)
        print(f"{shapes.name}: {100 * row['efficiency']:.0f}% of the ceiling; XLA "
              f"{'faster' if row['xla'] else 'slower'} for this model "
              f"({1e3 * row['seconds']['step_xla']:.1f} ms vs "
              f"{1e3 * row['seconds']['step']:.1f} ms)", flush=True)  # fmt: skip
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    text = render(rows, load)
    print(text)
    if not (options.quick or options.no_write):
        reporting.write_section(reporting.DOC, TITLE, text)
    return 0
