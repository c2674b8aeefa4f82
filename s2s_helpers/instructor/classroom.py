"""Grade a whole class: every student's notebooks, records written by one process.

``grade_submissions`` finds the students and each one's notebook of each
lesson (``submissions``: links refused, hidden and odd names reported, every
notebook size-checked and parsed once), feeds one task per (student, notebook)
to a local process pool or a Dask cluster (``scheduling``; each task runs in
its own OS sandbox, ``grading``), and as each student's tasks come back writes
that student's signed record and feedback (``records``) under ``OUT``, which
no sandbox can see; ``grades.csv`` is written from the records held in memory.
Without a sandbox it refuses unless told ``sandboxed=False`` (``--no-sandbox``).

On a re-run, students whose record the grader wrote (its keyed digest
matches) for unchanged files are skipped; changed submissions and edited or
forged records are regraded; ``force`` regrades everyone. So an interrupted
run resumes where it stopped.

Used by: s2s-course grade (docs/INSTRUCTORS.md)
"""

from __future__ import annotations

import datetime
import shutil
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from s2s_helpers.instructor import records, sandbox, scheduling
from s2s_helpers.instructor.feedback import plain_text, score_text
from s2s_helpers.instructor.grading import Task
from s2s_helpers.instructor.judging import result
from s2s_helpers.instructor.kernels import Limits
from s2s_helpers.instructor.submissions import (
    LessonSpec,
    Student,
    choose_notebooks,
    find_students,
    load_course,
)

DEFAULT_LIMITS = Limits()
CSV_EVERY_SECONDS = 60.0


@dataclass
class _Pending:
    """A student being graded: the results of the notebooks graded so far."""

    student: Student
    lessons: list[str]  # graded lessons, in order
    chosen: dict  # {lesson: (path, notebook)}
    notes: list[str]
    waiting: set = field(default_factory=set)  # lessons whose task runs
    done: dict = field(default_factory=dict)  # {lesson: task result}


def _record(pending: _Pending, course, lessons, limits, sandboxed) -> dict:
    """A student's record, as saved in ``OUT/students/<student>.json``."""
    student, exercises, graded, complete = pending.student, {}, {}, True
    for lesson in pending.lessons:
        spec = course[lesson]
        if lesson not in pending.chosen:
            message = f"No notebook of lesson {lesson} ({spec.filename}) was submitted."
            exercises.update(
                {e.id: result(e, "not_attempted", message) for e in spec.exercises}
            )
            continue
        outcome = pending.done[lesson]
        if isinstance(outcome, Exception):
            outcome = _grader_failure(spec, outcome)
        complete &= outcome["complete"]
        exercises.update({e.id: outcome["results"][e.id] for e in spec.exercises})
        graded[lesson] = {
            "notebook": pending.chosen[lesson][0].name,
            "seconds": outcome.get("seconds", 0.0),
            "timings": outcome.get("timings", {}),
            "notes": [plain_text(note) for note in outcome["notes"]],
        }
    notes = [plain_text(note) for note in pending.notes]
    if not student.files:
        notes.append("No notebook (.ipynb file) was found in your submission.")
    elif not pending.chosen:
        notes.append("None of your files is a notebook of the lessons being graded.")
    return {
        "student": student.name,
        "fingerprint": student.fingerprint(lessons),
        "complete": complete,
        "sandboxed": sandboxed,
        "graded_at": datetime.datetime.now(datetime.timezone.utc).isoformat(
            timespec="seconds"
        ),
        "lessons": graded,
        "notes": notes,
        "exercises": exercises,
        "total": sum(r["points"] for r in exercises.values()),
        "max_total": sum(r["max_points"] for r in exercises.values()),
        "limits": asdict(limits),
    }


def _grader_failure(spec: LessonSpec, error: Exception) -> dict:
    """The outcome of a task that failed in the grader (not the student's fault)."""
    message = f"not checked: the grader failed ({plain_text(error)!s:.300}); run again."
    return {
        "results": {e.id: result(e, "error", message) for e in spec.exercises},
        "notes": [f"The grader could not grade this notebook: {error!r:.300}"],
        "complete": False,
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
        name, text = plain_text(name).replace("\n", " "), plain_text(text)
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


def _saved_records(out, students, lessons, key, force):
    """Trusted saved records by key, students to grade, names skipped, notes.

    A student is skipped when the grader's own complete record of the same
    files and lessons is saved, unless ``force``; a record whose digest does
    not match is reported and graded again.
    """
    saved, todo, skipped, distrusted = {}, [], [], []
    for path in sorted((out / "students").glob("*.json")):
        record, why = records.read_student(out, path.stem, key)
        if record is not None:
            saved[path.stem] = record
        else:
            distrusted.append(f"{path.name}: {why}; graded again")
    for student in students:
        record = saved.get(student.key)
        if (
            not force
            and record is not None
            and record.get("complete")
            and record.get("fingerprint") == student.fingerprint(lessons)
        ):
            skipped.append(student.name)
        else:
            todo.append(student)
    return saved, todo, skipped, distrusted


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
    scheduler: str | None = None,
    force: bool = False,
    limits: Limits = DEFAULT_LIMITS,
    sandboxed: bool = True,
    progress: bool = True,
) -> dict:
    """Grade every student of ``submissions`` into ``out``.

    Args:
        jobs: local worker processes (or ``LocalCluster`` workers).
        scheduler: None (local pool), ``"local"`` or a Dask scheduler address.
        sandboxed: False only for an explicit ``--no-sandbox``.

    Returns:
        {"graded", "skipped", "incomplete": [names], "ignored": [notes on
        entries that are no student], "distrusted": [records regraded],
        "grades": path of grades.csv}.

    Raises:
        SandboxUnavailable: no sandbox can be made here and ``sandboxed``.
    """
    course = load_course(solutions_dir)
    lessons = _known_lessons(lessons, course)
    if sandboxed:
        sandbox.require()  # fail closed, before anything is written
    out = Path(out)
    key = records.prepare_output(out)
    students, ignored = find_students(submissions, exclude=[out])
    saved, todo, skipped, distrusted = _saved_records(
        out, students, lessons, key, force
    )
    summary: dict = {"graded": [], "skipped": skipped, "incomplete": []}
    summary.update(ignored=ignored, distrusted=distrusted)
    hidden = tuple(
        str(p) for p in (out, Path(submissions), solutions_dir or _default_solutions())
    )
    run = _ClassRun(out, key, course, lessons, limits, sandboxed, hidden, saved)
    bar = _Progress(len(todo), progress)
    pool = scheduling.make_pool(jobs, scheduler)
    try:
        for name, record in run.grade(pool, todo):
            bar.update(name, score_text(record) if record else "not graded")
            summary["graded" if record else "incomplete"].append(name)
            if record and not record["complete"]:
                summary["incomplete"].append(name)
    finally:
        pool.close()
        summary["grades"] = run.write_csv()
    return summary


def _default_solutions() -> Path:
    from s2s_helpers.checks import framework

    return framework.solutions_dir()


class _ClassRun:
    """Feeds the pool one task per notebook, collects results, writes records."""

    def __init__(self, out, key, course, lessons, limits, sandboxed, hidden, saved):
        self.out, self.key, self.course, self.lessons = out, key, course, lessons
        self.limits, self.sandboxed, self.hidden = limits, sandboxed, hidden
        self.saved = saved  # {key: record}: what grades.csv is written from
        self.finished: list = []  # (name, record) of students done, to report
        self.csv_written = time.monotonic()

    def grade(self, pool, students: list[Student]):
        """Yield (student name, record or None) as each student is done."""
        pending: dict[str, _Pending] = {}
        tasks = self._tasks(students, pending)
        for task, outcome in scheduling.run_all(pool, tasks):
            yield from self._drain()
            state = pending[task.student]
            lesson = task.spec.lesson
            state.waiting.discard(lesson)
            state.done[lesson] = outcome
            if not state.waiting:
                del pending[task.student]
                self._finish(state)
            yield from self._drain()
        yield from self._drain()

    def _tasks(self, students: list[Student], pending: dict):
        for student in students:
            chosen, notes = choose_notebooks(student, self.course, self.lessons)
            order = self.lessons if self.lessons is not None else sorted(chosen)
            state = _Pending(student, list(order), chosen, notes)
            state.waiting = set(chosen)
            if not chosen:
                self._finish(state)
                continue
            pending[student.key] = state
            for lesson, (path, notebook) in chosen.items():
                yield self._task(student, lesson, path, notebook)

    def _task(self, student: Student, lesson: str, path: Path, notebook) -> Task:
        readable = isinstance(notebook, dict)
        error = "" if readable else str(notebook)
        cells = notebook["cells"] if readable else None
        spec = self.course[lesson]
        return Task(
            student.key,
            path.name,
            spec,
            cells,
            error,
            self.limits,
            self.sandboxed,
            self.hidden,
        )

    def _finish(self, state: _Pending) -> None:
        try:
            record = _record(
                state, self.course, self.lessons, self.limits, self.sandboxed
            )
            record = records.write_student(
                self.out, state.student.key, record, self.key
            )
        except Exception as error:  # a grader failure must not stop the class
            print(
                f"error: {plain_text(state.student.name)}: {error!r}", file=sys.stderr
            )
            record = None
        if record is not None:
            self.saved[state.student.key] = record
        self.finished.append((state.student.name, record))
        if time.monotonic() - self.csv_written > CSV_EVERY_SECONDS:
            self.write_csv()

    def _drain(self):
        while self.finished:
            yield self.finished.pop(0)

    def write_csv(self) -> Path:
        self.csv_written = time.monotonic()
        return records.write_grades_csv(
            self.out, self.course, self.lessons, list(self.saved.values())
        )
