"""What is graded and what was handed in: the course's exercises, a class's notebooks.

The course comes from the check cells of ``solutions/``: each gives an
exercise, the expressions its check is called with, and its points. A class is
a folder with one folder (or one ``.ipynb`` file) per student. Each student
notebook is matched to a lesson by its metadata (``s2s_course.lesson``), else
by the grade ids of its cells, else by its file name (``03_*``); of two
notebooks of one lesson, a readable one named like the lesson wins, else the
newest. Students submit what they like, so reading is tolerant: an old
notebook format is converted, and cells that are not objects are dropped.

Used by: s2s-course grade (docs/INSTRUCTORS.md)
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from s2s_helpers.instructor import notebooks

MAX_NOTEBOOK_BYTES = 200 * 2**20


# --- the course: lessons, exercises and points, from solutions/ --------------------


@dataclass(frozen=True)
class ExerciseSpec:
    """One exercise as the grader runs it: where its check lives and its points."""

    id: str
    lesson: str
    title: str
    points: float
    arguments: tuple[str, ...]  # expressions of the check call, e.g. ("fn",)
    module: str  # check module in s2s_helpers/checks, e.g. "lesson03"


@dataclass(frozen=True)
class LessonSpec:
    """One lesson: its solution notebook's file name and its exercises in order."""

    lesson: str
    filename: str
    exercises: tuple[ExerciseSpec, ...]

    @property
    def grade_ids(self) -> set[str]:
        return {
            f"{kind}-{exercise.id.replace('.', '-')}"
            for exercise in self.exercises
            for kind in ("exercise", "check")
        }

    def exercise(self, exercise_id: str) -> ExerciseSpec:
        return next(e for e in self.exercises if e.id == exercise_id)


def load_course(solutions_dir: str | Path | None = None) -> dict[str, LessonSpec]:
    """{lesson: LessonSpec} from the check cells of the solution notebooks."""
    from s2s_helpers import checks

    folder = Path(solutions_dir) if solutions_dir else checks.framework.solutions_dir()
    course: dict[str, LessonSpec] = {}
    for path in sorted(folder.glob("*.ipynb")):
        notebook = notebooks.read_notebook(path)
        notebooks.validate(notebook, path.name)
        lesson = notebooks.lesson_of(notebook, path)
        exercises = [
            _exercise_spec(cell, lesson, f"{path.name}, cell {index}")
            for index, cell in enumerate(notebook.cells)
            if notebooks.cell_role(cell) == "check"
        ]
        if lesson is not None:
            course[lesson] = LessonSpec(lesson, path.name, tuple(exercises))
    return course


def _exercise_spec(cell: dict, lesson: str | None, where: str) -> ExerciseSpec:
    """The exercise of one check cell of a solution notebook."""
    from s2s_helpers import checks

    exercise_id = notebooks.exercise_id_of(cell)
    _, arguments = notebooks.check_call(notebooks.cell_source(cell), where)
    try:
        exercise = checks.get(exercise_id)
    except KeyError as error:
        raise notebooks.NotebookError(f"{where}: {error.args[0]}") from None
    return ExerciseSpec(
        id=exercise_id,
        lesson=lesson,
        title=exercise.title,
        points=float(notebooks.nbgrader_metadata(cell).get("points", 0)),
        arguments=tuple(arguments),
        module=exercise.probe.__module__.rpartition(".")[2],
    )


# --- a student's notebook ---------------------------------------------------------


class UnreadableNotebook(Exception):
    """The file is not a notebook (not JSON, or no cells)."""


def read_student_notebook(path: Path) -> dict:
    """The notebook as a plain dict (nbformat 4), tolerant of what students do.

    The size is checked before parsing (and at most ``MAX_NOTEBOOK_BYTES`` are
    read), so the grader's memory stays bounded; a link is not followed.
    """
    try:
        if path.is_symlink():
            raise ValueError("a symbolic link, not a file")
        with open(path, "rb") as handle:
            data = handle.read(MAX_NOTEBOOK_BYTES + 1)
        if len(data) > MAX_NOTEBOOK_BYTES:
            raise ValueError(f"larger than {MAX_NOTEBOOK_BYTES // 2**20} MiB")
        raw = json.loads(data.decode("utf-8", errors="replace"))
    except (OSError, ValueError) as error:
        raise UnreadableNotebook(f"not valid notebook JSON ({error})") from None
    if not isinstance(raw, dict):
        raise UnreadableNotebook("not a notebook (the JSON is not an object)")
    if raw.get("nbformat") != 4 and "worksheets" in raw:
        import nbformat

        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                raw = nbformat.convert(nbformat.from_dict(raw), 4)
        except Exception as error:  # an old notebook too broken to convert
            raise UnreadableNotebook(f"not a readable notebook ({error})") from None
    cells = raw.get("cells")
    if not isinstance(cells, list):
        raise UnreadableNotebook("not a notebook (no list of cells)")
    raw["cells"] = [cell for cell in cells if isinstance(cell, dict)]
    return raw


def identify_lesson(notebook: dict, path: Path, course: dict[str, LessonSpec]):
    """The lesson of a student notebook: metadata, then grade ids, then file name."""
    lesson = notebooks.lesson_of({"metadata": notebook.get("metadata")})
    if lesson in course:
        return lesson
    present = {
        notebooks.nbgrader_metadata(c).get("grade_id") for c in notebook["cells"]
    }
    overlap = {name: len(spec.grade_ids & present) for name, spec in course.items()}
    best = max(overlap, key=overlap.get, default=None)
    if best is not None and overlap[best] > 0:
        return best
    return lesson_from_filename(path, course)


def lesson_from_filename(path: Path, course: dict[str, LessonSpec]) -> str | None:
    for name, spec in course.items():
        if path.name == spec.filename:
            return name
    lesson = notebooks.lesson_of({}, path)
    return lesson if lesson in course else None


# --- students ---------------------------------------------------------------------


@dataclass
class Student:
    name: str
    key: str  # file-system safe, unique
    files: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # files refused or ignored

    def fingerprint(self, lessons: Iterable[str] | None) -> str:
        """Changes when a file or the graded lessons change: then grade again."""
        digest = hashlib.sha256(repr(sorted(lessons or [])).encode())
        for path in self.files:
            digest.update(path.name.encode("utf-8", "surrogateescape") + b"\0")
            try:
                with open(path, "rb") as handle:
                    for block in iter(lambda: handle.read(2**20), b""):
                        digest.update(block)
            except OSError:
                digest.update(b"<unreadable>")
        return digest.hexdigest()


LINK_NOTE = "{} was not graded: it is a symbolic link; submit the file itself."


def odd_name(name: str) -> bool:
    """Whether a name has characters that are not shown (control characters)."""
    return not name.isprintable()


def find_students(submissions: str | Path, exclude=()) -> tuple[list, list]:
    """One student per folder (its ``*.ipynb`` files) or per top-level ``.ipynb``.

    Args:
        exclude: folders that are no student's (the output).

    Returns:
        (students, notes on top-level entries that are no student: hidden,
        links, other files). Nothing is dropped without a note.
    """
    students, ignored, keys = [], [], set()
    excluded = {Path(path).resolve() for path in exclude}
    for entry in sorted(Path(submissions).iterdir()):
        shown = repr(entry.name) if odd_name(entry.name) else entry.name
        if entry.is_symlink():
            ignored.append(LINK_NOTE.format(shown))
        elif entry.resolve() in excluded:
            continue
        elif entry.name.startswith("."):
            ignored.append(f"{shown} was ignored: hidden (its name starts with '.').")
        elif entry.is_dir() or entry.suffix == ".ipynb":
            key = _unique_key(entry.stem if entry.is_file() else entry.name, keys)
            students.append(_student(entry, key))
        else:
            ignored.append(f"{shown} was ignored: neither a folder nor a notebook.")
    return students, ignored


def _unique_key(name: str, keys: set) -> str:
    """A file-system safe key for ``name``, unique among ``keys`` (added to it)."""
    key = re.sub(r"[^A-Za-z0-9._-]", "_", name).strip(".") or "student"
    if key in keys or key != name:
        raw = name.encode("utf-8", "surrogateescape")
        key = f"{key}-{hashlib.sha256(raw).hexdigest()[:8]}"
    keys.add(key)
    return key


def _student(entry: Path, key: str) -> Student:
    if entry.is_dir():
        files, notes = _notebooks_in(entry)
        student = Student(entry.name, key, files, notes)
    else:
        student = Student(entry.stem, key, [entry])
    if odd_name(student.name):
        student.notes.append(
            f"Your name as submitted, {student.name!r}, has characters that "
            "cannot be shown; they are shown escaped."
        )
    return student


def _notebooks_in(folder: Path) -> tuple[list[Path], list[str]]:
    """(notebooks in ``folder`` and below, notes on links and hidden entries)."""
    files, notes = [], []
    for root, folders, names in os.walk(folder, followlinks=False):
        for name in sorted(folders + names):
            path = Path(root) / name
            relative = path.relative_to(folder).as_posix()
            shown = repr(relative) if odd_name(relative) else relative
            if path.is_symlink():
                notes.append(LINK_NOTE.format(shown))
            elif name.startswith("."):
                notes.append(f"{shown} was ignored: hidden (its name starts with '.').")
            elif path.is_file() and path.suffix == ".ipynb":
                files.append(path)
        folders[:] = [
            name
            for name in folders
            if not name.startswith(".") and not (Path(root) / name).is_symlink()
        ]
    return sorted(files), notes


def choose_notebooks(
    student: Student, course: dict[str, LessonSpec], lessons: list[str] | None
) -> tuple[dict[str, tuple[Path, dict | None]], list[str]]:
    """Each file is read and parsed once.

    Returns:
        ({lesson: (the notebook to grade, its content as a dict, or the
        ``UnreadableNotebook`` error)}, notes on the files that were ignored).
    """
    notes: list[str] = list(student.notes)
    chosen: dict[str, tuple[Path, dict | None]] = {}
    for path in student.files:
        try:
            notebook = read_student_notebook(path)
            lesson = identify_lesson(notebook, path, course)
        except UnreadableNotebook as error:
            notebook, lesson = error, lesson_from_filename(path, course)
            if lesson is None:
                notes.append(f"{path.name} was ignored: {error}.")
                continue
        if lesson is None:
            notes.append(f"{path.name} was ignored: it is not a lesson of this course.")
            continue
        if lessons is not None and lesson not in lessons:
            continue
        if lesson in chosen:
            chosen[lesson], ignored = _prefer(
                chosen[lesson], (path, notebook), course[lesson]
            )
            notes.append(
                f"{ignored.name} was ignored: another notebook of lesson "
                f"{lesson} was graded."
            )
        else:
            chosen[lesson] = (path, notebook)
    return chosen, notes


def _prefer(first, second, spec: LessonSpec):
    """Of two notebooks of one lesson keep a readable one named like the lesson,
    else the newest; return (kept, ignored path)."""

    def rank(item):
        path, notebook = item
        readable = isinstance(notebook, dict)
        return (readable, path.name == spec.filename, path.stat().st_mtime)

    kept, ignored = (first, second) if rank(first) >= rank(second) else (second, first)
    return kept, ignored[0]
