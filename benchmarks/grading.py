"""What ``s2s-course grade`` costs per notebook, sandboxed, on a local pool and on Dask.

A synthetic class of lesson 00 (correct, untouched, wrong, syntax errors,
raising cells, kernels that exit or segfault: those are restarted, so they
cost a second kernel) is graded in one run, on one machine:

1. on the local process pool (``-j N``), sandboxed;
2. on a Dask ``LocalCluster`` of N workers (``--scheduler local``), sandboxed;
3. a sample of it on the local pool without the sandbox (``--no-sandbox``),
   and the same sample sandboxed, for the sandbox's overhead;

plus the bare cost of starting a sandbox (``bwrap ... /bin/true``) and of the
grader's own start-up. It prints notebooks per second, the cost breakdown of a
notebook (from the records: kernel start, imports, the notebook, judging), the
overheads as ratios and a projection for 5,000 notebooks, and rewrites the
"Grading" section of docs/BENCHMARKS.md.

    python -m benchmarks grading                       # 200 notebooks, -j 2
    python -m benchmarks grading --students 8 --sample 4 --no-write
"""

from __future__ import annotations

import argparse
import copy
import datetime
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks import reporting
from s2s_helpers.instructor import classroom, sandbox
from s2s_helpers.instructor.kernels import Limits

ROOT = Path(__file__).resolve().parents[1]
NAME = "00_orientation.ipynb"
COUNT = "def count_real_tokens(ids):\n    return (ids != 0).sum(axis=1)\n"
CASES = [  # (case, source of the exercise 0.1 cell or None, use the lesson instead)
    ("perfect", None, False),
    ("untouched", None, True),
    (
        "wrong",
        "def count_real_tokens(ids):\n    return (ids == 0).sum(axis=1)\n",
        False,
    ),
    ("perfect", None, False),
    ("syntax_error", "def count_real_tokens(ids)\n    return 0\n", False),
    ("raising_cell", "raise ValueError('no')\n" + COUNT, False),
    ("perfect", None, False),
    ("kernel_exit", "import os\ndef count_real_tokens(ids):\n    os._exit(1)\n", False),
    ("wrong", "def count_real_tokens(ids):\n    return ids.sum(axis=1)\n", False),
    ("segfault", "import ctypes\nctypes.string_at(0)\n" + COUNT, False),
]
PHASES = ("kernel_start", "imports", "notebook", "judging")
LIMITS = Limits(timeout=300, cell_timeout=120)
PARTIAL = Path(tempfile.gettempdir()) / "s2s-bench-grading.json"
COMMAND = "python -m benchmarks grading"


def build_class(folder: Path, students: int) -> dict[str, int]:
    """``students`` folders of one lesson-00 notebook each; {case: count}."""
    solution = json.loads((ROOT / "solutions" / NAME).read_text())
    lesson = json.loads((ROOT / "lessons" / NAME).read_text())
    mix: dict[str, int] = {}
    for number in range(students):
        case, source, untouched = CASES[number % len(CASES)]
        notebook = copy.deepcopy(lesson if untouched else solution)
        if source is not None:
            cell = next(c for c in notebook["cells"] if c["id"] == "exercise-0-1")
            cell["source"] = source
        student = folder / f"student{number:03d}_{case}"
        student.mkdir(parents=True)
        (student / NAME).write_text(json.dumps(notebook))
        mix[case] = mix.get(case, 0) + 1
    return mix


def grade(submissions: Path, out: Path, jobs: int, **options) -> dict:
    """Grade; {"seconds", "notebooks", "rate", "phases": mean seconds, "table"}."""
    started = time.perf_counter()
    summary = classroom.grade_submissions(
        submissions, out, jobs=jobs, limits=LIMITS, progress=False, **options
    )
    seconds = time.perf_counter() - started
    records = [json.loads(p.read_text()) for p in (out / "students").glob("*.json")]
    lessons = [info for record in records for info in record["lessons"].values()]
    phases = {
        phase: sum(info["timings"].get(phase, 0.0) for info in lessons) / len(lessons)
        for phase in PHASES
    }
    phases["total"] = sum(info["seconds"] for info in lessons) / len(lessons)
    assert not summary["incomplete"], summary["incomplete"]
    return {
        "seconds": seconds,
        "notebooks": len(lessons),
        "rate": len(lessons) / seconds,
        "phases": phases,
        "table": (out / "grades.csv").read_text(),
    }


def sandbox_start_seconds(repeats: int = 20) -> float:
    """Mean seconds to start and end an empty sandbox (``bwrap ... /bin/true``)."""
    with tempfile.TemporaryDirectory(prefix="bench-sandbox-") as work:
        (Path(work) / "scratch").mkdir()
        command_line = sandbox.sandbox_command(Path(work), ()) + ["/bin/true"]
        started = time.perf_counter()
        for _ in range(repeats):
            subprocess.run(command_line, check=True)
        return (time.perf_counter() - started) / repeats


def grader_start_seconds() -> float:
    """Seconds for a fresh Python to import the grader (the package included)."""
    started = time.perf_counter()
    code = "import s2s_helpers.instructor.classroom"
    subprocess.run([sys.executable, "-c", code], check=True)
    return time.perf_counter() - started


def measure(students: int, sample: int, jobs: int) -> dict:
    """Every run of the benchmark, in one temporary folder."""
    results: dict = {"load_start": os.getloadavg()}
    results["sandbox_start"] = sandbox_start_seconds()
    results["grader_start"] = grader_start_seconds()
    with tempfile.TemporaryDirectory(prefix="bench-grading-") as tmp:
        tmp = Path(tmp)
        results["mix"] = build_class(tmp / "class", students)
        build_class(tmp / "sample", sample)
        runs = [
            ("pool", tmp / "class", {}),
            ("dask", tmp / "class", {"scheduler": "local"}),
            ("sample_sandboxed", tmp / "sample", {}),
            ("sample_unsandboxed", tmp / "sample", {"sandboxed": False}),
        ]
        for name, submissions, options in runs:
            results[name] = grade(submissions, tmp / f"out-{name}", jobs, **options)
            results[name]["load"] = os.getloadavg()
            PARTIAL.write_text(json.dumps(results, indent=1))  # in case of a stop
            print(
                f"{name}: {results[name]['notebooks']} notebooks in "
                f"{results[name]['seconds']:.1f} s, {results[name]['rate']:.3f}/s",
                flush=True,
            )
    results["same_table"] = results["pool"]["table"] == results["dask"]["table"]
    results["load_end"] = os.getloadavg()
    return results


def report(results: dict, jobs: int, command_line: str) -> str:
    """The "## Grading" section of docs/BENCHMARKS.md.

    ``results`` has "pool" (the whole class) and either "dask" (the whole
    class too) or "compare_pool" and "compare_dask" (a smaller class graded
    both ways, when time allowed no second pass over the whole class).
    """
    pool = results["pool"]
    mix = ", ".join(f"{n} {case}" for case, n in sorted(results["mix"].items()))
    lines = [
        "## Grading",
        "",
        f"`s2s-course grade` on a synthetic class of {pool['notebooks']} notebooks "
        f"of lesson 00 ({mix}), every kernel in its bubblewrap sandbox, `-j {jobs}`; "
        "kernels that exit or segfault are restarted once. Default limits except "
        "`--timeout 300 --cell-timeout 120`. One machine.",
        "",
        "| where | notebooks | seconds | notebooks / second |",
        "|---|---|---|---|",
    ]
    rows = [("local pool", "pool"), ("Dask `LocalCluster`", "dask")]
    rows += [("local pool", "compare_pool"), ("Dask `LocalCluster`", "compare_dask")]
    for label, name in rows:
        if name in results:
            run = results[name]
            lines.append(
                f"| {label} | {run['notebooks']} | {run['seconds']:.1f} | "
                f"{run['rate']:.3f} |"
            )
    lines += ["", *_cost_lines(results), "", *_overhead_lines(results), ""]
    lines += projection(pool, jobs)
    load_start, load_end = results["load_start"], results["load_end"]
    lines += [
        "",
        f"Machine: {reporting.cpu_model()}, {os.cpu_count()} cores, load average "
        f"{load_start[0]:.1f} at the start and {load_end[0]:.1f} at the end (1 min; "
        "the machine was shared with other work, so these are upper bounds), "
        f"Python {platform.python_version()}, {datetime.date.today().isoformat()}.",
        "",
        f"Reproduce: {command_line} (it rewrites this section).",
        "",
    ]
    return "\n".join(lines)


def _cost_lines(results: dict) -> list[str]:
    phases = results["pool"]["phases"]
    return [
        "Cost of one notebook (mean seconds per notebook on the local pool, from "
        "the records; a restarted kernel counts twice):",
        "",
        "| sandbox start | kernel start (sandbox included) | imports (`import "
        "s2s_helpers`: TensorFlow) | the notebook (cells and probes) | judging | "
        "total |",
        "|---|---|---|---|---|---|",
        f"| {results['sandbox_start']:.3f} | {phases['kernel_start']:.2f} | "
        f"{phases['imports']:.2f} | {phases['notebook']:.2f} | "
        f"{phases['judging']:.3f} | {phases['total']:.2f} |",
    ]


def _overhead_lines(results: dict) -> list[str]:
    sandboxed, bare = results["sample_sandboxed"], results["sample_unsandboxed"]
    both = ("dask", "pool") if "dask" in results else ("compare_dask", "compare_pool")
    dask, pool = (results[name] for name in both)
    same = results[both[0]]["table"] == results[both[1]]["table"]
    return [
        "Overheads (ratios of wall time for the same notebooks):",
        "",
        f"- sandbox: {sandboxed['notebooks']} notebooks sandboxed / without "
        f"(`--no-sandbox`): {sandboxed['seconds']:.1f} s / {bare['seconds']:.1f} s "
        f"= **{sandboxed['seconds'] / bare['seconds']:.2f}**; an empty sandbox "
        f"starts and ends in {1000 * results['sandbox_start']:.0f} ms.",
        f"- Dask: `LocalCluster` / local pool on {pool['notebooks']} notebooks: "
        f"{dask['seconds']:.1f} s / {pool['seconds']:.1f} s = "
        f"**{dask['seconds'] / pool['seconds']:.2f}** (start-up of the workers "
        f"included); same grades table: {'yes' if same else 'NO'}.",
        "- grader start-up (a fresh Python importing the grader, TensorFlow "
        f"included): {results['grader_start']:.1f} s, once per run and per worker.",
        "",
        "The runs are one after the other on a shared machine whose load changes, "
        "so a ratio within about 20 % of 1 is noise, not a speed-up. The sandbox "
        "adds its start (tens of milliseconds) to each kernel; the cost of a "
        "notebook is the kernel's TensorFlow import (the imports column), which "
        "every fresh kernel pays.",
    ]


def projection(pool: dict, jobs: int) -> list[str]:
    """Time for 5,000 notebooks on N workers, from the measured worker-seconds."""
    per_notebook = pool["seconds"] * jobs / pool["notebooks"]  # worker-seconds
    lines = [
        f"Projection for 5,000 notebooks: {per_notebook:.1f} worker-seconds per "
        f"notebook (measured: {jobs} workers on {os.cpu_count()} cores), one worker "
        "per core, a kernel's memory limit (4 GiB by default) per worker:",
        "",
        "| workers | hours |",
        "|---|---|",
    ]
    for workers in (2, 16, 64, 256):
        lines.append(f"| {workers} | {5000 * per_notebook / workers / 3600:.2f} |")
    return lines


def combine(whole: dict, small: dict) -> dict:
    """The whole class's pool run with a smaller run's comparisons."""
    last = small.get("load_end") or small["sample_unsandboxed"]["load"]
    results = {**whole, "load_end": last}
    results["compare_pool"], results["compare_dask"] = small["pool"], small["dask"]
    for name in ("sample_sandboxed", "sample_unsandboxed"):
        results[name] = small[name]
    results.pop("dask", None)
    return results


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog=COMMAND, description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=200)
    parser.add_argument("--sample", type=int, default=20, help="for the sandbox ratio")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--no-write", action="store_true", help="only print")
    parser.add_argument(
        "--from-saved",
        metavar="JSON",
        help="write the section from the results an earlier run saved "
        f"(in {PARTIAL.name} of the temporary folder)",
    )
    parser.add_argument(
        "--combine",
        nargs=2,
        metavar=("WHOLE", "SMALL"),
        help="write the section from saved results: the whole class's pool run "
        "and a smaller run's comparisons (JSON saved by earlier runs)",
    )
    args = parser.parse_args(argv)
    if args.from_saved:
        results = json.loads(Path(args.from_saved).read_text())
        results.setdefault("load_end", results["sample_unsandboxed"]["load"])
        command_line = f"`{COMMAND} --students {args.students} "
        command_line += f"--sample {args.sample} --jobs {args.jobs}`"
    elif args.combine:
        whole, small = (json.loads(Path(p).read_text()) for p in args.combine)
        results = combine(whole, small)
        command_line = (
            f"`{COMMAND}` (stopped after the pool's run) and "
            f"`{COMMAND} --students 10 --sample 5`, then "
            "`--combine` of their saved results"
        )
    else:
        results = measure(args.students, args.sample, args.jobs)
        command_line = f"`{COMMAND} --students {args.students} "
        command_line += f"--sample {args.sample} --jobs {args.jobs}`"
    section = report(results, args.jobs, command_line)
    print(section)
    if not args.no_write:
        reporting.write_section(reporting.DOC, "Grading", section)
        print("updated docs/BENCHMARKS.md (## Grading)")
    return 0
