"""Lesson notebooks are generated from the solution notebooks.

``solutions/NN_topic.ipynb`` is the single source of a lesson. Its exercise
cells carry nbgrader schema-3 metadata and mark the solution code with
``# BEGIN SOLUTION`` / ``# END SOLUTION`` lines; its check cells (one call such
as ``checks.check_masked_softmax(masked_softmax)``) carry the points.
``make_lessons`` writes ``lessons/NN_topic.ipynb`` from it, replacing every
solution region exactly as ``nbgrader generate_assignment`` does::

    def masked_softmax(scores, mask):          def masked_softmax(scores, mask):
        # BEGIN SOLUTION                  ->        # YOUR CODE HERE
        ...                                         raise NotImplementedError()
        # END SOLUTION

and tagging check cells ``raises-exception`` (a learner's unfinished check
raises, and nbval accepts that). Outputs and execution counts are cleared and
the JSON is written deterministically, so regenerating is idempotent and a test
can tell when ``lessons/`` is out of date.

Taught in: lessons/00_orientation.ipynb
"""

from __future__ import annotations

import argparse
import ast
import copy
import re
from pathlib import Path
from typing import Iterable

import nbformat

from s2s_helpers.checks.framework import parse_grade_id

BEGIN_SOLUTION = "BEGIN SOLUTION"
END_SOLUTION = "END SOLUTION"
CODE_STUB = "# YOUR CODE HERE\nraise NotImplementedError()"
CHECK_TAG = "raises-exception"


class NotebookError(ValueError):
    """A solution notebook breaks the course's conventions; says where and how."""


# --- reading cells --------------------------------------------------------------


def read_notebook(path: str | Path) -> nbformat.NotebookNode:
    """Read a notebook as nbformat 4."""
    return nbformat.read(str(path), as_version=4)


def notebook_text(notebook: nbformat.NotebookNode) -> str:
    """The exact text ``write_notebook`` stores: sorted keys, trailing newline."""
    text = nbformat.writes(notebook)
    return text if text.endswith("\n") else text + "\n"


def write_notebook(notebook: nbformat.NotebookNode, path: str | Path) -> bool:
    """Write ``notebook`` to ``path`` unless it already holds that text.

    Returns:
        True when the file was (re)written.
    """
    path = Path(path)
    text = notebook_text(notebook)
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return True


def cell_source(cell: dict) -> str:
    """A cell's source as one string (stored notebooks may hold a list of lines)."""
    source = cell.get("source", "")
    return source if isinstance(source, str) else "".join(source)


def nbgrader_metadata(cell: dict) -> dict:
    """The cell's ``nbgrader`` metadata, or an empty dict."""
    metadata = cell.get("metadata") or {}
    nbgrader = metadata.get("nbgrader") if isinstance(metadata, dict) else None
    return nbgrader if isinstance(nbgrader, dict) else {}


def cell_role(cell: dict) -> str | None:
    """ "exercise" (a solution cell), "check" (a graded cell) or None."""
    nbgrader = nbgrader_metadata(cell)
    if cell.get("cell_type") != "code" or not nbgrader:
        return None
    if nbgrader.get("solution"):
        return "exercise"
    if nbgrader.get("grade"):
        return "check"
    return None


def exercise_id_of(cell: dict) -> str | None:
    """The exercise id ("3.2") of an exercise or check cell, from its grade id."""
    try:
        return parse_grade_id(nbgrader_metadata(cell).get("grade_id", ""))[1]
    except ValueError:
        return None


def lesson_of(notebook: dict, path: str | Path | None = None) -> str | None:
    """The lesson ("03") from notebook metadata, else from the file name ``03_*``."""
    metadata = notebook.get("metadata") or {}
    course = metadata.get("s2s_course") if isinstance(metadata, dict) else None
    if isinstance(course, dict) and course.get("lesson") is not None:
        return str(course["lesson"]).zfill(2)
    if path is not None:
        match = re.match(r"(\d\d)_", Path(path).name)
        if match:
            return match.group(1)
    return None


def check_call(source: str, where: str = "check cell") -> tuple[str, list[str]]:
    """Parse a check cell: ``checks.check_x(a, b)`` -> ("check_x", ["a", "b"]).

    Raises:
        NotebookError: the cell is not one call of a ``check_*`` function with
            positional arguments.
    """
    try:
        tree = ast.parse(source)
    except SyntaxError as error:
        raise NotebookError(f"{where}: invalid Python ({error.msg})") from None
    body = tree.body
    call = body[0].value if len(body) == 1 and isinstance(body[0], ast.Expr) else None
    if not isinstance(call, ast.Call):
        raise NotebookError(
            f"{where}: a check cell must be one call such as "
            f"`checks.check_masked_softmax(masked_softmax)`; received {source!r}"
        )
    func = call.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
    if not name.startswith("check_") or call.keywords:
        raise NotebookError(
            f"{where}: expected a `checks.check_*(...)` call with positional "
            f"arguments; received {source!r}"
        )
    arguments = [ast.get_source_segment(source, argument) for argument in call.args]
    return name, [str(argument) for argument in arguments]


# --- solution regions ---------------------------------------------------------------


def clear_solutions(source: str, where: str = "cell") -> str:
    """Replace each BEGIN..END SOLUTION region with the nbgrader code stub.

    Mirrors nbgrader's ``ClearSolutions`` for code cells: the source is split on
    "\\n"; a line containing ``BEGIN SOLUTION`` becomes the stub lines indented
    like it; lines up to and including the one containing ``END SOLUTION`` go.

    Raises:
        NotebookError: no region, a nested BEGIN, an END without BEGIN or a
            BEGIN without END.
    """
    new_lines: list[str] = []
    in_solution = False
    replaced = False
    for number, line in enumerate(source.split("\n"), start=1):
        if BEGIN_SOLUTION in line:
            if in_solution:
                raise NotebookError(f"{where}: nested '{BEGIN_SOLUTION}' line {number}")
            in_solution = replaced = True
            indent = re.match(r"\s*", line).group(0)
            new_lines.extend(indent + stub for stub in CODE_STUB.split("\n"))
        elif END_SOLUTION in line:
            if not in_solution:
                raise NotebookError(
                    f"{where}: '{END_SOLUTION}' without '{BEGIN_SOLUTION}' "
                    f"line {number}"
                )
            in_solution = False
        elif not in_solution:
            new_lines.append(line)
    if in_solution:
        raise NotebookError(f"{where}: '{BEGIN_SOLUTION}' without '{END_SOLUTION}'")
    if not replaced:
        raise NotebookError(
            f"{where}: an exercise cell needs a '# {BEGIN_SOLUTION}' line and a "
            f"'# {END_SOLUTION}' line around the solution code"
        )
    return "\n".join(new_lines)


# --- validation and generation --------------------------------------------------------


def _where(name: str, index: int, cell: dict) -> str:
    grade_id = nbgrader_metadata(cell).get("grade_id")
    label = f", {grade_id}" if grade_id else ""
    return f"{name}, cell {index}{label}"


def validate(notebook: dict, name: str) -> None:
    """Check one solution notebook's exercise and check cells.

    Raises:
        NotebookError: naming the notebook and the cell.
    """
    seen: dict[str, int] = {}
    for index, cell in enumerate(notebook.get("cells", [])):
        where = _where(name, index, cell)
        source = cell_source(cell)
        role = cell_role(cell)
        grade_id = nbgrader_metadata(cell).get("grade_id")
        if grade_id is not None:
            if grade_id in seen:
                raise NotebookError(
                    f"{where}: grade id {grade_id!r} repeats cell {seen[grade_id]}"
                )
            seen[grade_id] = index
        if role == "exercise":
            clear_solutions(source, where)
        elif cell.get("cell_type") == "code" and (
            BEGIN_SOLUTION in source or END_SOLUTION in source
        ):
            raise NotebookError(
                f"{where}: solution delimiters in a cell that is not an exercise "
                "cell (its nbgrader metadata needs solution: true)"
            )
        if role == "check":
            check_call(source, where)
            if exercise_id_of(cell) is None:
                raise NotebookError(f"{where}: check cells need a grade id 'check-N-M'")


def to_lesson(solution: nbformat.NotebookNode, name: str) -> nbformat.NotebookNode:
    """The learner's version of a solution notebook (a new object)."""
    validate(solution, name)
    lesson = copy.deepcopy(solution)
    lesson.metadata.pop("celltoolbar", None)
    for index, cell in enumerate(lesson.cells):
        _clear_cell_outputs(cell)
        role = cell_role(cell)
        if role == "exercise":
            cell.source = clear_solutions(cell_source(cell), _where(name, index, cell))
        elif role == "check":
            cell.metadata.nbgrader["locked"] = True
            tags = list(cell.metadata.get("tags", []))
            if CHECK_TAG not in tags:
                tags.append(CHECK_TAG)
            cell.metadata["tags"] = tags
    return lesson


def _clear_cell_outputs(cell: dict) -> bool:
    changed = False
    if cell.get("cell_type") == "code":
        changed = bool(cell.get("outputs")) or cell.get("execution_count") is not None
        cell["outputs"] = []
        cell["execution_count"] = None
    metadata = cell.get("metadata", {})
    for key in ("execution", "ExecuteTime"):
        if key in metadata:
            del metadata[key]
            changed = True
    return changed


def strip_outputs(path: str | Path) -> bool:
    """Clear a stored notebook's outputs and execution counts in place.

    Returns:
        True when the file changed.
    """
    notebook = read_notebook(path)
    for cell in notebook.cells:
        _clear_cell_outputs(cell)
    return write_notebook(notebook, path)


def _check_course_grade_ids(solutions: dict[str, nbformat.NotebookNode]) -> None:
    owners: dict[str, str] = {}
    for name, notebook in solutions.items():
        for index, cell in enumerate(notebook.cells):
            grade_id = nbgrader_metadata(cell).get("grade_id")
            if grade_id is None:
                continue
            if grade_id in owners:
                raise NotebookError(
                    f"{_where(name, index, cell)}: grade id {grade_id!r} is also "
                    f"used in {owners[grade_id]}; grade ids are unique in the course"
                )
            owners[grade_id] = f"{name}, cell {index}"


def _solution_paths(solutions_dir: str | Path) -> list[Path]:
    return sorted(Path(solutions_dir).glob("*.ipynb"))


def generate_lessons(solutions_dir: str | Path) -> dict[str, str]:
    """{file name: lesson notebook text} for every solution notebook.

    Raises:
        NotebookError: a solution breaks a convention (nothing is written).
    """
    solutions = {
        path.name: read_notebook(path) for path in _solution_paths(solutions_dir)
    }
    _check_course_grade_ids(solutions)
    return {name: notebook_text(to_lesson(nb, name)) for name, nb in solutions.items()}


def make_lessons(solutions_dir: str | Path, lessons_dir: str | Path) -> list[Path]:
    """Write ``lessons/<name>`` for every ``solutions/*.ipynb``.

    Returns:
        the lesson files that were created or changed (empty when in sync).
    """
    lessons_dir = Path(lessons_dir)
    written = []
    for name, text in generate_lessons(solutions_dir).items():
        path = lessons_dir / name
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            lessons_dir.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            written.append(path)
    return written


def lessons_in_sync(solutions_dir: str | Path, lessons_dir: str | Path) -> list[str]:
    """Lesson files that regenerating would create or change, or that have no
    solution any more. Empty when ``lessons/`` is up to date."""
    lessons_dir = Path(lessons_dir)
    expected = generate_lessons(solutions_dir)
    differing = [
        name
        for name, text in expected.items()
        if not (lessons_dir / name).exists()
        or (lessons_dir / name).read_text(encoding="utf-8") != text
    ]
    stale = [
        p.name for p in sorted(lessons_dir.glob("*.ipynb")) if p.name not in expected
    ]
    return differing + stale


def make_lessons_main(argv: Iterable[str] | None = None) -> int:
    """``s2s-course make-lessons [--solutions DIR] [--lessons DIR] [--check]``."""
    parser = argparse.ArgumentParser(
        prog="s2s-course make-lessons",
        description="Generate the learner notebooks in lessons/ from solutions/.",
    )
    parser.add_argument("--solutions", default="solutions", help="source notebooks")
    parser.add_argument("--lessons", default="lessons", help="generated notebooks")
    parser.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 and list the lessons that are out of sync",
    )
    args = parser.parse_args(list(argv) if argv is not None else None)
    try:
        if args.check:
            differing = lessons_in_sync(args.solutions, args.lessons)
            for name in differing:
                print(f"out of sync: {Path(args.lessons) / name}")
            if differing:
                print("Run `s2s-course make-lessons` to regenerate them.")
                return 1
            print(f"{args.lessons}/ is in sync with {args.solutions}/.")
            return 0
        written = make_lessons(args.solutions, args.lessons)
    except NotebookError as error:
        print(f"error: {error}")
        return 1
    for path in written:
        print(f"wrote {path}")
    print(f"{len(written)} lesson(s) written, the others were up to date.")
    return 0
