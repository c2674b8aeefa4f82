"""Reference vs seed-style baseline on the date task: one command, one table.

    python -m benchmarks date_vs_seed           # the full run; rewrites its section
    python -m benchmarks date_vs_seed --quick   # a smoke run of every measurement; prints only

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

from benchmarks import date_setup, reporting, timing
from benchmarks import date_vs_seed_measure as measure
from benchmarks import date_vs_seed_report as report

ROOT = Path(__file__).resolve().parents[1]
COMMAND = "python -m benchmarks date_vs_seed"
FULL = {"rounds": 7, "steps": 40, "sentences": 40, "seeds": (0, 1, 2),
        "loss_steps": 50, "max_steps": 4000, "probes": 3, "probe_steps": 100}  # fmt: skip
QUICK = {"rounds": 2, "steps": 5, "sentences": 5, "seeds": (0,),
         "loss_steps": 10, "max_steps": 50, "probes": 1, "probe_steps": 5}  # fmt: skip


def memory(kind: str, probes: int, steps: int) -> float:
    """Median peak RSS (MiB) of ``probes`` fresh processes measuring ``kind``."""
    values = []
    for _ in range(probes):
        command = [sys.executable, "-m", "benchmarks", "date_vs_seed"]
        command += ["--memory-probe", kind]
        command += ["--probe-steps", str(steps)]
        output = subprocess.run(
            command, cwd=ROOT, check=True, capture_output=True, text=True
        ).stdout
        values.append(json.loads(output.strip().splitlines()[-1])["max_rss_mib"])
    return timing.median(values)


def measure_all(settings: dict) -> dict:
    """Every measurement, in the order of the table."""
    rounds, results = settings["rounds"], {"load_start": os.getloadavg()[0]}
    task = date_setup.date_task()
    say("loss curves from the same weights (tracing and compiling both)")
    pair = measure.loss_curves(task, settings["loss_steps"])
    results["pair"] = pair
    say("training throughput")
    results["train"] = measure.training_throughput(
        task, pair, rounds, settings["steps"]
    )
    results["encoder"] = measure.encoder_times(task, pair, rounds)
    runs, model = [], None
    for seed in settings["seeds"]:
        say(f"time to 99% held-out exact match, seed {seed}")
        run, trained = measure.time_to_exact_match(
            task,
            seed,
            max_steps=settings["max_steps"],
            snapshot_steps=(report.EARLY_STEPS,),
        )
        runs.append(run)
        model = model or trained
    results["runs"] = runs
    say("the same without XLA (Trainer(jit_compile=False))")
    results["runs_without_xla"] = [
        measure.time_to_exact_match(
            task, seed, max_steps=settings["max_steps"], jit_compile=False
        )[0]
        for seed in settings["seeds"]
    ]
    say(f"the same with length buckets {date_setup.BUCKETS}")
    results["runs_bucketed"] = [
        measure.time_to_exact_match(
            task, seed, max_steps=settings["max_steps"], buckets=date_setup.BUCKETS
        )[0]
        for seed in settings["seeds"]
    ]
    say("greedy decoding")
    results["greedy"] = measure.greedy_throughput(
        task, model, rounds, settings["sentences"]
    )
    say("beam search")
    results["beam"] = measure.beam_throughput(task, model, rounds)
    results["quality"] = measure.decoding_quality(task, model)
    if report.EARLY_STEPS in runs[0].snapshots:
        early = date_setup.reference_model(task)
        early.set_weights(runs[0].snapshots[report.EARLY_STEPS])
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


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog=COMMAND, description=__doc__.splitlines()[0])
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
    text = report.section(results, settings, COMMAND)
    print(text)
    if not (args.quick or args.no_write):
        reporting.write_section(reporting.DOC, report.SECTION, text)
        print(f"updated docs/BENCHMARKS.md (## {report.SECTION})")
    return 0
