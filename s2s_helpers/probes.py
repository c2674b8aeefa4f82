"""Probes: the grader's own checks, run inside a student's kernel.

The student's check cells are not run: a notebook can rebind anything they
use. Instead ``plan_execution`` drops them and puts a *probe* right after the
student's last exercise cell of each exercise. A probe is built from the
grader's copy of that exercise's check cell (``solutions/``): it loads the
check code fresh from its files under the names it has in the package, calls
the student's objects, and writes the observation (plain JSON, with a secret
token) to a file the grader chose. The grader reads it back with
``read_observation`` and judges it in its own process (``judging``).

Used by: s2s-course grade (docs/INSTRUCTORS.md)
"""

from __future__ import annotations

import json
import secrets
from pathlib import Path

from s2s_helpers import notebooks
from s2s_helpers.sandbox import Step
from s2s_helpers.submissions import ExerciseSpec, LessonSpec

MAX_OBSERVATION_BYTES = 20 * 2**20


# --- which cells run, and where the probes go --------------------------------------


def plan_execution(cells: list[dict], lesson: LessonSpec) -> tuple[list[Step], dict]:
    """The steps to run for a student notebook, and the exercises with no cells.

    Check cells are dropped. The probe of an exercise goes right after the
    student's last exercise cell for it, else where its first check cell was.
    Nothing after the last probe is run: it cannot change a grade.
    """
    steps: list[Step] = []
    last_exercise_cell: dict[str, int] = {}
    check_position: dict[str, int] = {}
    for index, cell in enumerate(cells):
        if cell.get("cell_type") != "code":
            continue
        role = notebooks.cell_role(cell)
        exercise_id = notebooks.exercise_id_of(cell)
        if role == "check" or (role is None and exercise_id and _is_check_id(cell)):
            if exercise_id:
                check_position.setdefault(exercise_id, len(steps))
            continue
        source = notebooks.cell_source(cell)
        if not source.strip():
            continue
        if role == "exercise" and exercise_id:
            last_exercise_cell[exercise_id] = len(steps)
        steps.append(Step("cell", source, exercise_id if role else None, index))
    inserts, missing = _probe_positions(lesson, last_exercise_cell, check_position)
    for position, _, exercise in sorted(
        inserts, key=lambda item: item[:2], reverse=True
    ):
        steps.insert(position, Step("probe", "", exercise.id))
    probes = [i for i, step in enumerate(steps) if step.kind == "probe"]
    steps = steps[: probes[-1] + 1] if probes else []
    return [Step("prelude", _PRELUDE)] + steps if steps else [], missing


def _probe_positions(lesson: LessonSpec, last_exercise_cell: dict, check_position):
    """([(step position, order, exercise)], {exercise id: why it has no probe})."""
    inserts: list[tuple[int, int, ExerciseSpec]] = []
    missing = {}
    for order, exercise in enumerate(lesson.exercises):
        if exercise.id in last_exercise_cell:
            inserts.append((last_exercise_cell[exercise.id] + 1, order, exercise))
        elif exercise.id in check_position:
            inserts.append((check_position[exercise.id], order, exercise))
        else:
            missing[exercise.id] = (
                f"No exercise cell for Exercise {exercise.id} ({exercise.title}) was "
                "found in your notebook: was it deleted?"
            )
    return inserts, missing


def _is_check_id(cell: dict) -> bool:
    return str(notebooks.nbgrader_metadata(cell).get("grade_id", "")).startswith(
        "check-"
    )


# --- code that runs inside the student's kernel ----------------------------------

# Discards the notebook's output at the source: the grader only needs errors.
_PRELUDE = """\
def __s2s_quiet():
    import sys

    class Sink:
        def __init__(self, stream):
            self._stream = stream

        def write(self, text):
            return len(text)

        def writelines(self, lines):
            pass

        def flush(self):
            pass

        def __getattr__(self, name):
            return getattr(self._stream, name)

    sys.stdout, sys.stderr = Sink(sys.stdout), Sink(sys.stderr)
    shell = get_ipython()
    shell.ast_node_interactivity = "none"
    shell.display_pub.publish = lambda *args, **kwargs: None


__s2s_quiet()
del __s2s_quiet
"""

# Loaded into a fresh namespace by every probe cell. It imports the grader's
# framework and the exercise's check module from their files, under the names
# they have in the package, then puts the notebook's modules back: whatever the
# notebook did to `s2s_helpers.checks` is not used, and is left as it was.
_PROBE_HELPER = """
import importlib
import json
import os
import sys
import traceback
import types


def _last_line(error):
    return traceback.format_exception_only(type(error), error)[-1].strip()


def _fresh_framework(checks_dir, lesson_module):
    prefix = "s2s_helpers.checks"
    saved = {n: m for n, m in sys.modules.items() if n == prefix or n.startswith(prefix + ".")}
    try:
        for name in saved:
            del sys.modules[name]
        package = types.ModuleType(prefix)
        package.__path__ = [checks_dir]
        sys.modules[prefix] = package
        framework = importlib.import_module(prefix + ".framework")
        importlib.import_module(prefix + "." + lesson_module)
        return framework
    finally:
        for name in [n for n in sys.modules if n == prefix or n.startswith(prefix + ".")]:
            del sys.modules[name]
        sys.modules.update(saved)


def probe(checks_dir, lesson_module, exercise_id, out_path, token, get_arguments):
    try:
        framework = _fresh_framework(checks_dir, lesson_module)
        try:
            arguments = get_arguments()
            observation = framework.observe(exercise_id, *arguments)
        except BaseException as error:
            observation = {"status": "error", "error": _last_line(error)}
        text = framework.dumps_observation(observation)
    except BaseException as error:
        text = json.dumps(
            {"status": "error", "error": "the check failed: " + _last_line(error)}
        )
    with open(out_path + ".part", "w", encoding="utf-8") as handle:
        json.dump({"token": token, "observation": text}, handle)
    os.replace(out_path + ".part", out_path)
"""


def _probe_source(exercise: ExerciseSpec, checks_dir: Path, out_path: Path, token: str):
    arguments = "".join(f"({argument}), " for argument in exercise.arguments)
    return (
        "import builtins as __s2s_builtins\n"
        "__s2s_namespace = {'__name__': '__s2s_grader__', "
        "'__builtins__': __s2s_builtins}\n"
        f"__s2s_builtins.exec(__s2s_builtins.compile({_PROBE_HELPER!r}, "
        "'<s2s-course grader>', 'exec'), __s2s_namespace)\n"
        f"__s2s_namespace['probe']({str(checks_dir)!r}, {exercise.module!r}, "
        f"{exercise.id!r}, {str(out_path)!r}, {token!r}, lambda: ({arguments}))\n"
        "del __s2s_builtins, __s2s_namespace\n"
    )


def write_probes(
    steps: list[Step], lesson: LessonSpec, checks_dir: Path, folder: Path
) -> dict[str, tuple[str, Path]]:
    """Fill in the source of every probe step; {exercise id: (token, out path)}."""
    tokens = {}
    for step in steps:
        if step.kind == "probe":
            token = secrets.token_hex(16)
            out_path = folder / f"{token}.json"
            tokens[step.exercise] = (token, out_path)
            step.source = _probe_source(
                lesson.exercise(step.exercise), checks_dir, out_path, token
            )
    return tokens


# --- reading what a probe observed ------------------------------------------------


def read_observation(token: str, path: Path) -> dict | None:
    """The probe's observation, or None when none was written with this token."""
    try:
        if path.stat().st_size > MAX_OBSERVATION_BYTES:
            return {
                "status": "error",
                "error": "your code returned a result too large to record",
            }
        payload = json.loads(path.read_text(encoding="utf-8"))
        if payload.get("token") != token:
            return None
        from s2s_helpers.checks import framework

        return framework.loads_observation(payload["observation"])
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return None
