"""Reference vs seed-style baseline on the date task: one command, one table.

    python -m benchmarks.run            # the full run; rewrites its docs/BENCHMARKS.md section
    python -m benchmarks.run --quick    # a smoke run of every measurement; prints only

Both sides run in this process, alternating, so their ratios share the
machine's load; peak memory is measured in fresh subprocesses
(``--memory-probe``). The table goes to the "## Reference vs seed-style
baseline" section of docs/BENCHMARKS.md; the other sections are left as they are.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

from benchmarks import harness, measure

ROOT = Path(__file__).resolve().parents[1]
SECTION = "Reference vs seed-style baseline"
EARLY_STEPS = 150  # an under-trained checkpoint, where beam search has room to help
FULL = {"rounds": 5, "steps": 30, "sentences": 40, "seeds": (0, 1, 2),
        "loss_steps": 50, "max_steps": 4000, "probes": 3, "probe_steps": 100}  # fmt: skip
QUICK = {"rounds": 2, "steps": 5, "sentences": 5, "seeds": (0,),
         "loss_steps": 10, "max_steps": 50, "probes": 1, "probe_steps": 5}  # fmt: skip


def memory(kind: str, probes: int, steps: int) -> float:
    """Median peak RSS (MiB) of ``probes`` fresh processes measuring ``kind``."""
    values = []
    for _ in range(probes):
        command = [sys.executable, "-m", "benchmarks.run", "--memory-probe", kind]
        command += ["--probe-steps", str(steps)]
        output = subprocess.run(
            command, cwd=ROOT, check=True, capture_output=True, text=True
        ).stdout
        values.append(json.loads(output.strip().splitlines()[-1])["max_rss_mib"])
    return harness.median(values)


def measure_all(settings: dict) -> dict:
    """Every measurement, in the order of the table."""
    rounds, results = settings["rounds"], {"load_start": os.getloadavg()[0]}
    task = harness.date_task()
    say("loss curves from the same weights (tracing and compiling both)")
    pair = measure.loss_curves(task, settings["loss_steps"])
    results["pair"] = pair
    say("training throughput")
    results["train"] = measure.training_throughput(
        task, pair, rounds, settings["steps"]
    )
    runs, model = [], None
    for seed in settings["seeds"]:
        say(f"time to 99% held-out exact match, seed {seed}")
        run, trained = measure.time_to_exact_match(
            task, seed, max_steps=settings["max_steps"], snapshot_steps=(EARLY_STEPS,)
        )
        runs.append(run)
        model = model or trained
    results["runs"] = runs
    say("greedy decoding")
    results["greedy"] = measure.greedy_throughput(
        task, model, rounds, settings["sentences"]
    )
    say("beam search")
    results["beam"] = measure.beam_throughput(task, model, rounds)
    results["quality"] = measure.decoding_quality(task, model)
    early = harness.reference_model(task)
    if EARLY_STEPS in runs[0].snapshots:
        early.set_weights(runs[0].snapshots[EARLY_STEPS])
        results["early_quality"] = measure.decoding_quality(task, early)
    say("peak memory (fresh processes)")
    results["memory"] = {
        kind: memory(kind, settings["probes"], settings["probe_steps"])
        for kind in ("idle", "reference", "baseline")
    }
    results["load_end"] = os.getloadavg()[0]
    return results


def say(message: str) -> None:
    print(f"[benchmarks] {message}", file=sys.stderr, flush=True)


def table(results: dict, settings: dict) -> list[str]:
    """The Markdown rows of the section's table."""
    med, pair, runs = harness.median, results["pair"], results["runs"]
    train_ref, train_base = results["train"]
    greedy_ref, greedy_base, agreement = results["greedy"]
    beam, greedy_again = results["beam"]
    q, mem = results["quality"], results["memory"]
    train_ratio = harness.ratio_of_rates(train_ref, train_base)
    greedy_ratio = harness.ratio_of_rates(greedy_ref, greedy_base)
    steps = settings["steps"]
    ref_step = med([t.wall / steps for t in train_ref])
    base_step = med([t.wall / steps for t in train_base])
    ref_cpu = med([1000 * t.cpu / steps for t in train_ref])
    base_cpu = med([1000 * t.cpu / steps for t in train_base])
    to99 = med([r.train_seconds for r in runs])
    to99_steps = med([r.steps for r in runs])
    steps_only = med([r.train_seconds - r.startup_seconds for r in runs])
    base_to99 = to99_steps * base_step + pair.base_first_step
    reached = all(r.val_exact_match >= 0.99 for r in runs)
    sentences = settings["sentences"]

    def check(ok: bool) -> str:
        return "yes" if ok else "**no**"

    def spread(values, fmt="{:.1f}") -> str:
        return f"{fmt.format(med(values))} ({fmt.format(min(values))}-{fmt.format(max(values))})"

    rows = [
        "| Measure | Reference | Seed-style baseline | Ratio | Target | Met |",
        "|---|---|---|---|---|---|",
        f"| Loss curves, {len(pair.ref_losses)} steps from the same initial weights "
        f"and batches | max abs difference {pair.max_loss_difference:.1e} "
        f"| (same steps) | | equal functions | {check(pair.max_loss_difference < 1e-3)} |",
        f"| Training throughput, target tokens/s (wall) "
        f"| {med([harness.rate(t) for t in train_ref]):,.0f} "
        f"| {med([harness.rate(t) for t in train_base]):,.0f} "
        f"| {train_ratio:.2f}x | >= 3x | {check(train_ratio >= 3)} |",
        f"| Training, ms per step of 64 (wall / process CPU) "
        f"| {1000 * ref_step:.1f} / {ref_cpu:.1f} | {1000 * base_step:.1f} / {base_cpu:.1f} "
        f"| {base_cpu / ref_cpu:.2f}x (CPU) | | |",
        f"| Training start-up: tracing + first step (XLA compile), s "
        f"| {pair.ref_first_step:.1f} | {pair.base_first_step:.1f} | | | |",
        f"| Greedy decoding, sentences/s | {med([harness.rate(t) for t in greedy_ref]):,.0f} "
        f"(batch of 1,000, compiled) | {med([harness.rate(t) for t in greedy_base]):.1f} "
        f"(one at a time, eager) | {greedy_ratio:,.0f}x | >= 100x "
        f"| {check(greedy_ratio >= 100)} |",
        f"| Greedy outputs identical to the reference's | | "
        f"{round(agreement * sentences)}/{sentences} | | all | {check(agreement == 1)} |",
        f"| Beam search (beam 4), sentences/s | {med([harness.rate(t) for t in beam]):,.0f} "
        f"(batch of 1,000, compiled; {harness.ratio_of_rates(beam, greedy_again):.2f}x "
        f"greedy's speed) | | | | |",
        f"| Test exact match, greedy -> beam 4 (model at 99%) "
        f"| {q['greedy_exact_match']:.3f} -> {q['beam_exact_match']:.3f} "
        f"({q['beam_exact_match'] - q['greedy_exact_match']:+.3f}) | | | | |",
        f"| Test character BLEU, greedy -> beam 4 (model at 99%) "
        f"| {q['greedy_char_bleu']:.2f} -> {q['beam_char_bleu']:.2f} "
        f"({q['beam_char_bleu'] - q['greedy_char_bleu']:+.2f}) | | | | |",
    ]
    if "early_quality" in results:
        e = results["early_quality"]
        rows.append(
            f"| Same, model after {EARLY_STEPS} steps: exact match; character BLEU "
            f"| {e['greedy_exact_match']:.3f} -> {e['beam_exact_match']:.3f} "
            f"({e['beam_exact_match'] - e['greedy_exact_match']:+.3f}); "
            f"{e['greedy_char_bleu']:.2f} -> {e['beam_char_bleu']:.2f} "
            f"({e['beam_char_bleu'] - e['greedy_char_bleu']:+.2f}) | | | | |"
        )
    rows += [
        f"| Time to 99% held-out exact match: training s, start-up included "
        f"| {spread([r.train_seconds for r in runs])}, {to99_steps:.0f} steps"
        f"{'' if reached else ' (99% NOT reached)'} "
        f"| ~{base_to99:.0f} (extrapolated) | {base_to99 / to99:.1f}x "
        f"| <= 30 s | {check(reached and to99 <= 30)} |",
        f"| Same, steps only (start-up excluded), s | {spread([r.train_seconds - r.startup_seconds for r in runs])} "
        f"| ~{to99_steps * base_step:.0f} (extrapolated) "
        f"| {to99_steps * base_step / steps_only:.1f}x | | |",
        f"| Test exact match (1,000 unseen dates) when 99% was reached "
        f"| {spread([r.test_exact_match for r in runs], '{:.3f}')} | | | >= 0.99 "
        f"| {check(med([r.test_exact_match for r in runs]) >= 0.99)} |",
        f"| Peak memory (peak RSS of a fresh process), MiB "
        f"| {mem['reference']:.0f} | {mem['baseline']:.0f} "
        f"| {mem['baseline'] / mem['reference']:.2f}x | | |",
    ]
    return rows


def section(results: dict, settings: dict, command: str) -> str:
    info = harness.machine()
    rounds, seeds = settings["rounds"], len(settings["seeds"])
    lines = [
        f"## {SECTION}",
        "",
        "The course's reference (`s2s_helpers`) against a baseline written the "
        "classic tutorial's way (`benchmarks/seed_baseline.py`: a Keras GRU *layer* "
        "called on a length-1 sequence at each step, attention keys recomputed at "
        "every step, a Python-unrolled loop in `tf.function` without XLA, eager "
        "one-sentence greedy decoding). Both compute the same function (seed bug 1 "
        "fixed in the baseline, masks and loss as the reference's) and start from "
        "the same weights; date task at the date lessons' settings "
        "(`demo.train_date_translator`: 20,000 dates, embedding_dim 32, units 64, "
        "batch 64, Adam).",
        "",
        *table(results, settings),
        "",
        f"Medians over {rounds} alternating rounds (reference and baseline take turns, "
        f"ABBA order), {settings['steps']} training steps or "
        f"{settings['sentences']} baseline sentences per round; time to 99%: median "
        f"(min-max) over {seeds} seeds, greedy exact match on the 500 validation "
        "dates checked every 25 steps (checks not timed). The baseline's time to "
        "99% is extrapolated (its loss curve matches the reference's, so it needs "
        "the same steps): steps x its measured seconds per step + its start-up. "
        "Peak memory: peak resident set size (`VmHWM` of /proc/self/status; "
        "`getrusage`'s `ru_maxrss` would inherit the parent's peak) of fresh "
        f"processes (median of {settings['probes']}) that build the data, train "
        f"{settings['probe_steps']} steps and decode (reference: the 1,000 test "
        "dates batched; baseline: 20 one at a time); importing TensorFlow and "
        f"building the data alone peaks at {results['memory']['idle']:.0f} MiB. "
        "Beam gain: test exact match and character BLEU (sacrebleu on "
        "space-separated characters).",
        "",
        f"Machine: {info['cpu']}, nproc {info['nproc']} ({info['usable_cores']} "
        f"usable), TensorFlow threads intra-op {info['intra_op_threads']} / inter-op "
        f"{info['inter_op_threads']} (0: TensorFlow's default, one per core), "
        f"Python {info['python']}, TensorFlow {info['tensorflow']}, Keras "
        f"{info['keras']}, {info['date']}. Load average (1 min) "
        f"{results['load_start']:.1f} at the start and {results['load_end']:.1f} at "
        "the end (2 cores: above 2 the machine was shared and wall times are "
        "longer; the ratios are measured under the same load).",
        "",
        "No GPU was available (CPU only), so there is no GPU table.",
        "",
        f"Reproduce: `{command}` (it rewrites this section).",
    ]
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke run; prints only")
    parser.add_argument("--no-write", action="store_true", help="print only")
    parser.add_argument(
        "--memory-probe",
        choices=("idle", "reference", "baseline"),
        help=argparse.SUPPRESS,
    )
    parser.add_argument("--probe-steps", type=int, default=100, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.memory_probe:
        peak = measure.peak_memory(args.memory_probe, args.probe_steps)
        print(json.dumps({"max_rss_mib": peak}))
        return 0
    settings = QUICK if args.quick else FULL
    results = measure_all(settings)
    text = section(results, settings, "python -m benchmarks.run")
    print(text)
    if not (args.quick or args.no_write):
        harness.write_section(ROOT / "docs" / "BENCHMARKS.md", SECTION, text)
        print(f"updated docs/BENCHMARKS.md (## {SECTION})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
