"""Hints in levels, and solutions as the last resort.

``checks.hint("3.1")`` gives a nudge; calling it again gives a stronger hint,
and so on. When the last run of the check recognised a mistake, the hints
written for that mistake come first, then the exercise's general ones.
``checks.show_solution("3.1")`` prints the solution from ``solutions/``, where
the instructor has made it available (never while a class is graded).

Taught in: lessons/00_orientation.ipynb
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from s2s_helpers.checks.registry import get, grade_id_for

_mistake_hints: dict[str, tuple[str, ...]] = {}  # exercise id -> last failure's hints
_levels: dict[str, int] = {}  # exercise id -> hints already given


def remember_outcome(exercise_id: str, mistake_hints: tuple[str, ...] = ()) -> None:
    """Record the last check run of an exercise; a new mistake restarts the levels."""
    if _mistake_hints.get(exercise_id) != tuple(mistake_hints):
        _levels[exercise_id] = 0
    _mistake_hints[exercise_id] = tuple(mistake_hints)


def hint_levels(exercise_id: str) -> list[str]:
    """Every hint of an exercise in the order ``hint`` gives them."""
    exercise = get(exercise_id)
    levels = list(_mistake_hints.get(exercise.id, ()))
    return levels + [text for text in exercise.hints if text not in levels]


def hint(exercise_id: str) -> None:
    """Print the next hint for an exercise, e.g. ``hint("3.2")``; again for more."""
    exercise = get(exercise_id)
    levels = hint_levels(exercise.id)
    level = min(_levels.get(exercise.id, 0), len(levels) - 1)
    _levels[exercise.id] = level + 1
    print(
        f"Hint {level + 1} of {len(levels)} for Exercise {exercise.id} "
        f"({exercise.title}):\n{levels[level]}"
    )
    if level + 1 < len(levels):
        print(f'(Run `checks.hint("{exercise.id}")` again for a stronger hint.)')
    else:
        print(
            "That was the last hint. Still stuck? "
            f'`checks.show_solution("{exercise.id}")` shows a solution.'
        )


def grading() -> bool:
    """True inside the class grader (``S2S_GRADING=1``)."""
    return os.environ.get("S2S_GRADING", "") not in {"", "0"}


def solutions_dir() -> Path:
    """Where the solution notebooks are: ``$S2S_SOLUTIONS_DIR`` or the repo's."""
    configured = os.environ.get("S2S_SOLUTIONS_DIR")
    if configured:
        return Path(configured)
    return Path(__file__).resolve().parents[2] / "solutions"


def solution_source(exercise_id: str) -> str:
    """The solution code of an exercise, read from ``solutions/`` (the source).

    Raises:
        PermissionError: while grading (``S2S_GRADING=1``).
        FileNotFoundError: no solution notebook holds the exercise.
    """
    get(exercise_id)
    if grading():
        raise PermissionError("Solutions are not available while grading.")
    wanted = grade_id_for(exercise_id, "exercise")
    folder = solutions_dir()
    for path in sorted(folder.glob("*.ipynb")):
        notebook = json.loads(path.read_text(encoding="utf-8"))
        for cell in notebook.get("cells", []):
            nbgrader = cell.get("metadata", {}).get("nbgrader", {})
            if nbgrader.get("grade_id") == wanted:
                source = cell["source"]
                return source if isinstance(source, str) else "".join(source)
    raise FileNotFoundError(
        f"No solution for Exercise {exercise_id} in {folder}: the solution "
        "notebooks are kept by your instructor, or set S2S_SOLUTIONS_DIR."
    )


def show_solution(exercise_id: str) -> None:
    """Print the solution of an exercise (try the hints first!).

    The whole exercise cell is shown, every solution region included, without
    the ``BEGIN SOLUTION`` / ``END SOLUTION`` marker lines.
    """
    if grading():
        get(exercise_id)
        print(f"The solution of Exercise {exercise_id} is not available while grading.")
        return
    lines = solution_source(exercise_id).splitlines()
    body = "\n".join(
        line
        for line in lines
        if "BEGIN SOLUTION" not in line and "END SOLUTION" not in line
    )
    print(f"Solution of Exercise {exercise_id}:\n{body}")
