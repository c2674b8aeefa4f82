"""How fast ``s2s-course grade`` grades a class: 30 students x lesson 00.

The class mixes what real submissions look like: correct, untouched, wrong,
syntax errors, raising cells, and kernels that exit or segfault (those are
restarted, so they cost a second kernel). It is graded with ``-j 1`` and
``-j 2``; notebooks per second are printed and written to the "## Grading"
section of docs/BENCHMARKS.md (the other sections are left as they are).

    .venv/bin/python benchmarks/bench_grading.py            # 30 students, -j 1 and 2
    .venv/bin/python benchmarks/bench_grading.py --no-write --students 6 --jobs 2
"""

from __future__ import annotations

import argparse
import copy
import datetime
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks import reporting  # noqa: E402
from s2s_helpers import grading  # noqa: E402

NAME = "00_orientation.ipynb"
COUNT = "def count_real_tokens(ids):\n    return (ids != 0).sum(axis=1)\n"
# (case, source of the exercise 0.1 cell or None, use the lesson instead)
CASES = [
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


def build_class(folder: Path, students: int) -> dict[str, int]:
    solution = json.loads((ROOT / "solutions" / NAME).read_text())
    lesson = json.loads((ROOT / "lessons" / NAME).read_text())
    mix: dict[str, int] = {}
    for number in range(students):
        case, source, untouched = CASES[number % len(CASES)]
        notebook = copy.deepcopy(lesson if untouched else solution)
        if source is not None:
            cell = next(c for c in notebook["cells"] if c["id"] == "exercise-0-1")
            cell["source"] = source
        student = folder / f"student{number:02d}_{case}"
        student.mkdir(parents=True)
        (student / NAME).write_text(json.dumps(notebook))
        mix[case] = mix.get(case, 0) + 1
    return mix


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=30)
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--no-write", action="store_true", help="only print")
    args = parser.parse_args(argv)

    limits = grading.Limits(timeout=300, cell_timeout=120)
    load = os.getloadavg()[0]
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-grading-") as tmp:
        mix = build_class(Path(tmp) / "submissions", args.students)
        for jobs in args.jobs:
            started = time.perf_counter()
            summary = grading.grade_submissions(
                Path(tmp) / "submissions",
                Path(tmp) / f"out-j{jobs}",
                jobs=jobs,
                limits=limits,
                progress=False,
            )
            seconds = time.perf_counter() - started
            assert len(summary["graded"]) == args.students, summary
            rate = args.students / seconds
            rows.append((jobs, seconds, rate))
            print(
                f"-j {jobs}: {args.students} notebooks in {seconds:.1f} s, "
                f"{rate:.2f} notebooks/s"
            )
    if args.no_write:
        return 0

    cores = os.cpu_count()
    command = "python benchmarks/bench_grading.py"
    if args.students != 30 or args.jobs != [1, 2]:
        jobs = " ".join(map(str, args.jobs))
        command += f" --students {args.students} --jobs {jobs}"
    lines = [
        "## Grading",
        "",
        f"`s2s-course grade` on {args.students} students x lesson 00 "
        f"({', '.join(f'{n} {case}' for case, n in sorted(mix.items()))}).",
        "Each notebook runs in a fresh kernel that imports TensorFlow (through "
        "`s2s_helpers`); kernels that exit or segfault are restarted once. "
        "Measured wall time, default limits except `--timeout 300 --cell-timeout "
        "120`.",
        "",
        "| jobs (`-j`) | notebooks | seconds | notebooks / second |",
        "|---|---|---|---|",
    ]
    lines += [f"| {j} | {args.students} | {s:.1f} | {r:.2f} |" for j, s, r in rows]
    lines += [
        "",
        f"Machine: {reporting.cpu_model()}, {cores} cores, load average {load:.1f} at the "
        f"start (the machine was shared), Python {platform.python_version()}, "
        f"{datetime.date.today().isoformat()}.",
        "",
        f"Reproduce: `{command}` (it rewrites this section).",
        "",
    ]
    reporting.write_section(
        ROOT / "docs" / "BENCHMARKS.md", "Grading", "\n".join(lines)
    )
    print("updated docs/BENCHMARKS.md (## Grading)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
