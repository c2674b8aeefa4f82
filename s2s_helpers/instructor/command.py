"""The ``s2s-course grade`` command: options, messages, exit status.

``s2s-course grade SUBMISSIONS --out DIR [-j N] [--scheduler ADDRESS] ...``
grades a class with ``classroom.grade_submissions``. The exit status is 0 when
every student was graded, 1 when some could not be (run again), 2 for a usage
error or when no sandbox can be made (unless ``--no-sandbox``).

Taught in: docs/INSTRUCTORS.md (grading a class)
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path
from typing import Iterable

from s2s_helpers.instructor import notebooks, sandbox
from s2s_helpers.instructor.classroom import grade_submissions
from s2s_helpers.instructor.feedback import plain_text
from s2s_helpers.instructor.kernels import Limits

# --- the command line ---------------------------------------------------------------


def _megabytes(text: str) -> int:
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMGT]?)i?B?\s*", text, re.IGNORECASE)
    if not match:
        raise argparse.ArgumentTypeError(f"not a memory size: {text!r} (e.g. 4G, 512M)")
    scale = {"": 1, "K": 1 / 1024, "M": 1, "G": 1024, "T": 1024**2}
    return int(float(match.group(1)) * scale[match.group(2).upper()])


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="s2s-course grade",
        description="Grade one folder (or .ipynb file) per student with the course's "
        "checks; writes OUT/grades.csv and OUT/students/<student>.json and .md. "
        "Students already graded with unchanged files are skipped; changed "
        "submissions are regraded; --force regrades everyone.",
    )
    parser.add_argument("submissions", help="folder with one entry per student")
    parser.add_argument("--out", required=True, help="folder for grades and feedback")
    parser.add_argument(
        "--solutions", default=None, help="solution notebooks (default: the course's)"
    )
    parser.add_argument("--lessons", default=None, help="grade only these, e.g. 00,03")
    parser.add_argument(
        "-j",
        "--jobs",
        type=int,
        default=1,
        help="notebooks graded at once: local worker processes (default 1)",
    )
    parser.add_argument(
        "--scheduler",
        default=None,
        help="grade on Dask: a scheduler address (tcp://host:8786), or 'local' "
        "for a LocalCluster of -j workers (default: a local process pool)",
    )
    parser.add_argument(
        "--no-sandbox",
        action="store_true",
        help="run student code without the OS sandbox, with your rights (only "
        "where none can be made; recorded in the feedback and grades.csv)",
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="regrade everyone, also students whose files are unchanged",
    )
    parser.add_argument(
        "--timeout", type=float, default=600, help="seconds per notebook (600)"
    )
    parser.add_argument(
        "--cell-timeout", type=float, default=300, help="seconds per cell (300)"
    )
    parser.add_argument(
        "--memory-limit",
        type=_megabytes,
        default=4096,
        help="resident memory per kernel, e.g. 4G (default 4G)",
    )
    parser.add_argument(
        "--full", action="store_true", help="run without S2S_QUICK=1 (full training)"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


def grade_main(argv: Iterable[str] | None = None) -> int:
    """``s2s-course grade SUBMISSIONS --out DIR [-j N] [--scheduler ADDRESS] ...``."""
    args = _parser().parse_args(list(argv) if argv is not None else None)
    limits = Limits(
        timeout=args.timeout,
        cell_timeout=min(args.cell_timeout, args.timeout),
        memory_mb=args.memory_limit,
        quick=not args.full,
    )
    if not Path(args.submissions).is_dir():
        print(f"error: {args.submissions} is not a folder")
        return 2
    try:
        summary = grade_submissions(
            args.submissions,
            args.out,
            solutions_dir=args.solutions,
            lessons=args.lessons.split(",") if args.lessons else None,
            jobs=args.jobs,
            scheduler=args.scheduler,
            force=args.force,
            limits=limits,
            sandboxed=not args.no_sandbox,
            progress=not args.quiet,
        )
    except (ValueError, notebooks.NotebookError, sandbox.SandboxUnavailable) as error:
        print(f"error: {error}")
        return 2
    for note in summary["ignored"] + summary["distrusted"]:
        print(f"note: {plain_text(note)}")
    print(
        f"graded {len(summary['graded'])} student(s), skipped "
        f"{len(summary['skipped'])} already graded; grades in {summary['grades']}"
    )
    if summary["incomplete"]:
        names = ", ".join(plain_text(name) for name in summary["incomplete"])
        print(f"could not finish: {names} (run again)")
        return 1
    return 0
