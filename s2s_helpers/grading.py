"""Grade a class's notebooks with the course's own checks: ``s2s-course grade``.

``SUBMISSIONS`` holds one folder (or one ``.ipynb`` file) per student, with any
subset of the lesson notebooks. For each student and lesson:

1. ``submissions`` finds the notebook of the lesson (metadata, grade ids, name);
2. ``probes`` plans it: the student's code cells in order, their check cells
   dropped, a probe of the grader's own check after each exercise;
3. ``sandbox`` runs the plan in a fresh kernel under resource limits; a cell
   that kills the kernel or runs past the cell time limit is skipped and the
   kernel restarted, so only the exercises it touches are affected;
4. ``judging`` judges each probe's observation in this process, so whatever
   the notebook rebinds cannot change a verdict; points come from the check
   cells of ``solutions/``;
5. ``feedback`` writes ``OUT/students/<student>.json`` and ``.md`` and
   ``OUT/grades.csv``.

On a re-run, students already graded with unchanged files are skipped; changed
submissions are regraded; ``--force`` regrades everyone. So an interrupted run
resumes where it stopped.

Taught in: docs/INSTRUCTORS.md (grading a class)
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import re
import shutil
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path
from typing import Iterable

from s2s_helpers import feedback, notebooks, probes, sandbox
from s2s_helpers.feedback import write_grades_csv
from s2s_helpers.judging import judge, result, skipped_cell_notes
from s2s_helpers.probes import plan_execution
from s2s_helpers.sandbox import Limits
from s2s_helpers.submissions import (
    LessonSpec,
    Student,
    UnreadableNotebook,
    choose_notebooks,
    find_students,
    load_course,
    read_student_notebook,
)

DEFAULT_LIMITS = Limits()


# --- one notebook, one student ----------------------------------------------------


async def grade_notebook(
    path: Path, lesson: LessonSpec, limits: Limits, checks_dir: Path
) -> tuple[dict, list[str], bool]:
    """Run and judge one notebook.

    Returns:
        ({exercise id: result}, notes, complete). ``complete`` is False when the
        grader itself failed (e.g. no kernel could start): grade it again later.
    """
    notes: list[str] = []
    try:
        cells = read_student_notebook(path)["cells"]
    except UnreadableNotebook as error:
        message = f"Your notebook {path.name} could not be read: {error}."
        return {e.id: result(e, "error", message) for e in lesson.exercises}, [], True
    steps, missing = plan_execution(cells, lesson)
    results = {
        exercise_id: result(lesson.exercise(exercise_id), "not_attempted", message)
        for exercise_id, message in missing.items()
    }
    if not steps:
        return results, notes, True
    work = Path(tempfile.mkdtemp(prefix="s2s-grade-"))
    try:
        (work / "cwd").mkdir()
        (work / "observations").mkdir()
        tokens = probes.write_probes(steps, lesson, checks_dir, work / "observations")
        events, complete = await sandbox.run_steps(steps, limits, work, notes)
        notes += skipped_cell_notes(steps, events, limits)
        for index, step in enumerate(steps):
            if step.kind == "probe":
                exercise = lesson.exercise(step.exercise)
                observation = probes.read_observation(*tokens[step.exercise])
                results[exercise.id] = await asyncio.to_thread(
                    judge, exercise, steps, index, events, observation, limits
                )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return results, notes, complete


async def grade_student(
    student: Student,
    course: dict[str, LessonSpec],
    lessons: list[str] | None,
    limits: Limits,
    checks_dir: Path,
) -> dict:
    """Grade every lesson notebook of one student; the record saved as JSON."""
    chosen, notes = choose_notebooks(student, course, lessons)
    exercises: dict[str, dict] = {}
    graded: dict[str, dict] = {}
    complete = True
    for lesson in lessons if lessons is not None else sorted(chosen):
        spec = course[lesson]
        if lesson not in chosen:
            message = f"No notebook of lesson {lesson} ({spec.filename}) was submitted."
            exercises.update(
                {e.id: result(e, "not_attempted", message) for e in spec.exercises}
            )
            continue
        started = time.monotonic()
        results, lesson_notes, lesson_complete = await grade_notebook(
            chosen[lesson], spec, limits, checks_dir
        )
        complete &= lesson_complete
        exercises.update({e.id: results[e.id] for e in spec.exercises})
        graded[lesson] = {
            "notebook": chosen[lesson].name,
            "seconds": round(time.monotonic() - started, 2),
            "notes": lesson_notes,
        }
    if not student.files:
        notes.append("No notebook (.ipynb file) was found in your submission.")
    elif not chosen:
        notes.append("None of your files is a notebook of the lessons being graded.")
    return _record(student, lessons, complete, graded, notes, exercises, limits)


def _record(student, lessons, complete, graded, notes, exercises, limits) -> dict:
    """A student's record, as saved in ``OUT/students/<student>.json``."""
    return {
        "student": student.name,
        "fingerprint": student.fingerprint(lessons),
        "complete": complete,
        "graded_at": datetime.datetime.now(datetime.timezone.utc).isoformat(
            timespec="seconds"
        ),
        "lessons": graded,
        "notes": notes,
        "exercises": exercises,
        "total": sum(result["points"] for result in exercises.values()),
        "max_total": sum(result["max_points"] for result in exercises.values()),
        "limits": asdict(limits),
    }


# --- the whole class ----------------------------------------------------------------


class _Progress:
    """A one-line progress bar on stderr (one line per student when not a tty)."""

    def __init__(self, total: int, enabled: bool) -> None:
        self.total, self.done, self.enabled = total, 0, enabled
        self.started = time.monotonic()
        self.tty = sys.stderr.isatty()

    def update(self, name: str, text: str) -> None:
        self.done += 1
        if not self.enabled:
            return
        rate = self.done / max(time.monotonic() - self.started, 1e-9)
        width = 24
        filled = int(width * self.done / max(self.total, 1))
        bar = "#" * filled + "." * (width - filled)
        line = (
            f"[{bar}] {self.done}/{self.total} students, {rate:.2f}/s, {name}: {text}"
        )
        if self.tty:
            end = "\n" if self.done == self.total else ""
            sys.stderr.write(
                "\r\x1b[2K" + line[: shutil.get_terminal_size().columns] + end
            )
        else:
            sys.stderr.write(line + "\n")
        sys.stderr.flush()


def _to_grade(students: list, out: Path, lessons, force: bool) -> tuple[list, list]:
    """(students to grade, names skipped). A student is skipped when a complete
    record of the same files and lessons is saved, unless ``force``."""
    todo, skipped = [], []
    for student in students:
        record = feedback.read_student(out, student.key)
        if (
            not force
            and record is not None
            and record.get("complete")
            and record.get("fingerprint") == student.fingerprint(lessons)
        ):
            skipped.append(student.name)
        else:
            todo.append(student)
    return todo, skipped


def _known_lessons(lessons, course: dict[str, LessonSpec]) -> list[str] | None:
    if lessons is None:
        return None
    lessons = [str(lesson).zfill(2) for lesson in lessons]
    unknown = [lesson for lesson in lessons if lesson not in course]
    if unknown:
        raise ValueError(f"unknown lesson(s) {unknown}; known: {sorted(course)}")
    return lessons


def grade_submissions(
    submissions: str | Path,
    out: str | Path,
    *,
    solutions_dir: str | Path | None = None,
    lessons: list[str] | None = None,
    jobs: int = 1,
    force: bool = False,
    limits: Limits = DEFAULT_LIMITS,
    progress: bool = True,
) -> dict:
    """Grade every student of ``submissions`` into ``out``.

    Students already graded with unchanged files are skipped; changed
    submissions are regraded; ``force`` regrades everyone.

    Returns:
        {"graded": [names], "skipped": [names], "incomplete": [names],
        "grades": path of grades.csv}.
    """
    from s2s_helpers import checks

    out = Path(out)
    feedback.prepare_output(out)
    course = load_course(solutions_dir)
    lessons = _known_lessons(lessons, course)
    checks_dir = Path(checks.framework.__file__).resolve().parent
    todo, skipped = _to_grade(
        find_students(submissions, exclude=out), out, lessons, force
    )
    summary: dict = {"graded": [], "skipped": skipped, "incomplete": []}
    bar = _Progress(len(todo), progress)

    async def one(student: Student) -> None:
        try:
            record = await grade_student(student, course, lessons, limits, checks_dir)
            feedback.write_student(out, student.key, record)
            write_grades_csv(out, course, lessons)
        except Exception as error:  # a grader failure must not stop the class
            bar.update(student.name, f"not graded: {error!r}")
            summary["incomplete"].append(student.name)
            return
        summary["graded"].append(student.name)
        if not record["complete"]:
            summary["incomplete"].append(student.name)
        bar.update(student.name, feedback.score_text(record))

    _run_async(_at_most(jobs, one, todo))
    summary["grades"] = write_grades_csv(out, course, lessons)
    return summary


async def _at_most(jobs: int, function, items: list) -> None:
    """Await ``function(item)`` for every item, at most ``jobs`` at a time."""
    semaphore = asyncio.Semaphore(max(1, jobs))

    async def limited(item) -> None:
        async with semaphore:
            await function(item)

    await asyncio.gather(*(limited(item) for item in items))


def _run_async(coroutine) -> None:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        asyncio.run(coroutine)
        return
    import threading  # called from a running loop (e.g. a notebook): own thread

    errors: list = []

    def target() -> None:
        try:
            asyncio.run(coroutine)
        except BaseException as error:  # re-raised in the caller's thread
            errors.append(error)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if errors:
        raise errors[0]


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
        "-j", "--jobs", type=int, default=1, help="students graded at once (default 1)"
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
    """``s2s-course grade SUBMISSIONS --out DIR [-j N] [--force] ...``."""
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
            force=args.force,
            limits=limits,
            progress=not args.quiet,
        )
    except (ValueError, notebooks.NotebookError) as error:
        print(f"error: {error}")
        return 2
    print(
        f"graded {len(summary['graded'])} student(s), skipped "
        f"{len(summary['skipped'])} already graded; grades in {summary['grades']}"
    )
    if summary["incomplete"]:
        print(f"could not finish: {', '.join(summary['incomplete'])} (run again)")
        return 1
    return 0
