"""Probes: the grader's own checks, run inside a student's kernel, and what they wrote.

The student's check cells are not run: a notebook can rebind anything they
use. Instead ``plan_execution`` drops them and puts a *probe* right after the
student's last exercise cell of each exercise. A probe cell runs the real
module ``probe_kernel`` in a fresh namespace: it loads the checks package
fresh from its files, calls the student's objects and writes the observation
(plain JSON, with a secret token) into the sandbox's private folder. When the
kernel and its sandbox are gone, ``read_observation`` reads it back and
validates it against a schema (size, keys, token, nesting) before it is
judged in the grader's process (``judging``).

Used by: s2s-course grade (docs/INSTRUCTORS.md)
"""

from __future__ import annotations

import json
import secrets
from pathlib import Path

from s2s_helpers.instructor import notebooks, probe_kernel
from s2s_helpers.instructor.kernels import Step
from s2s_helpers.instructor.submissions import ExerciseSpec, LessonSpec

MAX_OBSERVATION_BYTES = 20 * 2**20
MAX_DEPTH = 64


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
    if not steps:
        return [], missing
    return [Step("prelude", PRELUDE), Step("imports", IMPORTS)] + steps, missing


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

_KERNEL_SOURCE = Path(probe_kernel.__file__).read_text(encoding="utf-8")


def _in_fresh_namespace(call: str) -> str:
    """A cell that runs ``probe_kernel`` in a new namespace, then ``call`` in it."""
    return (
        "import builtins as __s2s_builtins\n"
        "__s2s_namespace = {'__name__': '__s2s_grader__', "
        "'__builtins__': __s2s_builtins}\n"
        f"__s2s_builtins.exec(__s2s_builtins.compile({_KERNEL_SOURCE!r}, "
        "'<s2s-course grader>', 'exec'), __s2s_namespace)\n"
        f"__s2s_namespace{call}\n"
        "del __s2s_builtins, __s2s_namespace\n"
    )


PRELUDE = _in_fresh_namespace("['quiet'](get_ipython())")
IMPORTS = "import s2s_helpers\n"  # timed on its own: most of a kernel's start


def _probe_source(exercise: ExerciseSpec, checks_dir: str, out_path: Path, token: str):
    arguments = "".join(f"({argument}), " for argument in exercise.arguments)
    return _in_fresh_namespace(
        f"['probe']({checks_dir!r}, {exercise.module!r}, {exercise.id!r}, "
        f"{str(out_path)!r}, {token!r}, lambda: ({arguments}))"
    )


def write_probes(
    steps: list[Step], lesson: LessonSpec, checks_dir: str, folder: Path
) -> dict[str, tuple[str, Path]]:
    """Fill in the source of every probe step.

    Args:
        checks_dir: the checks package's folder as the kernel sees it.
        folder: where the probes write, as the kernel sees it.

    Returns:
        {exercise id: (token, path of its observation)}.
    """
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


class InvalidObservation(ValueError):
    """An observation file that does not follow the schema (or is too large)."""


def read_observation(token: str, exercise_id: str, path: Path) -> dict | None:
    """The probe's observation, validated; None when the probe wrote none.

    Read after the kernel has ended. The file must be at most
    ``MAX_OBSERVATION_BYTES``, a JSON object with exactly the keys ``token``
    (this probe's), ``exercise`` and ``observation`` (the check's JSON, nested
    at most ``MAX_DEPTH`` deep).

    Raises:
        InvalidObservation: what is wrong with the file.
    """
    from s2s_helpers.checks import framework

    try:
        if path.is_symlink() or not path.exists():
            return None
        with open(path, "rb") as handle:
            raw = handle.read(MAX_OBSERVATION_BYTES + 1)
    except OSError:
        return None
    if len(raw) > MAX_OBSERVATION_BYTES:
        raise InvalidObservation(
            f"larger than {MAX_OBSERVATION_BYTES // 2**20} MiB "
            "(does the exercise return something huge?)"
        )
    try:
        payload = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as error:
        raise InvalidObservation(f"not JSON ({error})") from None
    expected = {"token": token, "exercise": exercise_id}
    if not isinstance(payload, dict) or set(payload) != {*expected, "observation"}:
        raise InvalidObservation("not an object with the keys of an observation")
    if any(payload[key] != value for key, value in expected.items()):
        raise InvalidObservation("written by another probe than this exercise's")
    if not isinstance(payload["observation"], str):
        raise InvalidObservation("the observation is not a string of JSON")
    try:
        _check_depth(json.loads(payload["observation"]), MAX_DEPTH)
        return framework.loads_observation(payload["observation"])
    except (ValueError, TypeError, KeyError, RecursionError) as error:
        raise InvalidObservation(f"the observation is malformed ({error})") from None


def _check_depth(value, depth: int) -> None:
    """Raise ValueError when lists and objects nest deeper than ``depth``."""
    if depth < 0:
        raise ValueError(f"nested deeper than {MAX_DEPTH} levels")
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, list):
        for item in value:
            _check_depth(item, depth - 1)
