"""The machinery behind every exercise check: three outcomes, hints, solutions.

A check is split in two so that a grader can run it safely:

* ``probe(*learner_objects) -> observation``: calls the learner's code on small,
  fixed inputs and records what came back as plain data (numpy arrays, numbers,
  strings, lists, dicts). It runs wherever the learner's code lives.
* ``judge(observation) -> str``: pure comparison with the reference, from cheap
  to specific (type, shape, dtype, invariants, values), naming the known
  mistakes. It returns the one-line success message or raises ``CheckFailed``.
  It never touches learner code, so the grader runs it in its own process.

In a notebook both run together: ``checks.check_masked_softmax(fn)``.

Three outcomes:

* passed: one green line saying what was verified;
* failed: ``CheckFailed`` (an ``AssertionError``) with what was expected, what
  was received and a hint;
* not attempted: the stub still raises ``NotImplementedError``; the check
  raises ``NotImplementedError`` again with a friendly message.

Taught in: lessons/00_orientation.ipynb
"""

from __future__ import annotations

import json
import os
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

GREEN = "\x1b[32m"
RESET = "\x1b[0m"


class CheckFailed(AssertionError):
    """An exercise check found a mistake; the message says which and what to try."""


@dataclass(frozen=True)
class Exercise:
    """One exercise: its id ("3.2"), a title, the probe, the judge and a hint."""

    id: str
    title: str
    probe: Callable[..., dict]
    judge: Callable[[dict], str]
    hint: str

    @property
    def grade_id(self) -> str:
        """The nbgrader ``grade_id`` of the exercise's check cell."""
        return grade_id_for(self.id, "check")


EXERCISES: dict[str, Exercise] = {}


def grade_id_for(exercise_id: str, kind: str) -> str:
    """nbgrader grade id of an exercise's cell: ``kind`` is "exercise" or "check"."""
    if kind not in {"exercise", "check"}:
        raise ValueError(f"kind must be 'exercise' or 'check', received {kind!r}")
    return f"{kind}-{exercise_id.replace('.', '-')}"


def parse_grade_id(grade_id: str) -> tuple[str, str]:
    """Inverse of :func:`grade_id_for`: "check-3-2" -> ("check", "3.2").

    Raises:
        ValueError: ``grade_id`` is not an exercise or check cell's grade id.
    """
    kind, _, rest = str(grade_id).partition("-")
    parts = rest.split("-")
    if kind not in {"exercise", "check"} or not all(p.isdigit() for p in parts):
        raise ValueError(
            f"not an exercise grade id: {grade_id!r} (expected e.g. 'check-3-2')"
        )
    return kind, ".".join(parts)


def register(exercise: Exercise) -> Exercise:
    """Add ``exercise`` to the course-wide registry; ids must be unique."""
    if exercise.id in EXERCISES and EXERCISES[exercise.id] is not exercise:
        raise ValueError(f"Exercise {exercise.id} is registered twice.")
    EXERCISES[exercise.id] = exercise
    return exercise


def get(exercise_id: str) -> Exercise:
    """The registered exercise with this id, or a ``KeyError`` listing the ids."""
    try:
        return EXERCISES[str(exercise_id)]
    except KeyError:
        known = ", ".join(sorted(EXERCISES, key=_sort_key)) or "none"
        raise KeyError(
            f"No exercise {exercise_id!r}. Known exercises: {known}."
        ) from None


def _sort_key(exercise_id: str) -> tuple[int, ...]:
    return tuple(int(part) for part in exercise_id.split("."))


# --- running a check ---------------------------------------------------------


def observe(exercise_id: str, *learner_objects: Any) -> dict:
    """Run the probe; return its observation, tagged with a ``status``.

    ``status`` is "observed", "not_attempted" (the stub raised
    ``NotImplementedError``) or "error" (the learner's code raised something
    else; ``error`` holds the exception's last line).

    The observation is returned as it would come back from a grader: encoded to
    JSON and decoded again (tuples become lists, tensors numpy arrays). So a
    judge sees exactly the same data in a notebook and in ``s2s-course grade``.
    """
    exercise = get(exercise_id)
    try:
        observation = exercise.probe(*learner_objects)
    except NotImplementedError:
        return {"status": "not_attempted"}
    except Exception as error:  # the learner's code may raise anything
        return {"status": "error", "error": _last_line(error)}
    try:
        return loads_observation(
            dumps_observation({**observation, "status": "observed"})
        )
    except Exception as error:  # e.g. a result of an unexpected type
        return {
            "status": "error",
            "error": f"the result could not be recorded: {_last_line(error)}",
        }


def _last_line(error: BaseException) -> str:
    return traceback.format_exception_only(type(error), error)[-1].strip()


def verdict(exercise_id: str, observation: dict) -> str:
    """Judge an observation: return the success message or raise.

    Raises:
        NotImplementedError: the exercise was not attempted.
        CheckFailed: the observation shows a mistake (or the code raised).
    """
    exercise = get(exercise_id)
    status = observation.get("status")
    prefix = f"Exercise {exercise.id} ({exercise.title})"
    if status == "not_attempted":
        raise NotImplementedError(
            f"{prefix} is not attempted yet: replace `raise NotImplementedError` "
            "in the exercise cell with your code, run it, then run this check."
        )
    if status == "error":
        raise CheckFailed(
            f"{prefix}: your code raised an error when called on the check's "
            f"inputs:\n    {observation.get('error')}\n"
            f"Hint: {exercise.hint}"
        )
    try:
        message = exercise.judge(observation)
    except CheckFailed as failure:
        raise CheckFailed(f"{prefix}: {failure}\nHint: {exercise.hint}") from None
    return f"{prefix} passed: {message}"


def run(exercise_id: str, *learner_objects: Any) -> None:
    """Probe and judge in one go and print the green line.

    Returns None, so a check cell shows the green line once (no ``Out[]`` echo).
    """
    message = verdict(exercise_id, observe(exercise_id, *learner_objects))
    print(f"{GREEN}\u2714 {message}{RESET}")


def outcome(exercise_id: str, observation: dict) -> tuple[str, str]:
    """(status, message) for a grader: passed / failed / not_attempted / error.

    Never raises for a registered exercise: an observation the judge cannot
    read (a result of a shape or type nobody foresaw) is a failure too.
    """
    try:
        return "passed", verdict(exercise_id, observation)
    except NotImplementedError as error:
        return "not_attempted", str(error)
    except CheckFailed as error:
        kind = "error" if observation.get("status") == "error" else "failed"
        return kind, str(error)
    except Exception as error:  # the judge met a result it did not expect
        exercise = get(exercise_id)
        return "failed", (
            f"Exercise {exercise.id} ({exercise.title}): the check could not "
            f"read your result ({_last_line(error)}).\nHint: {exercise.hint}"
        )


# --- observations as plain, safe data -----------------------------------------


def to_numpy(value: Any) -> np.ndarray:
    """Convert a tensor / array / list to a numpy array (for probes)."""
    if hasattr(value, "numpy"):
        value = value.numpy()
    return np.asarray(value)


def _encode(value: Any) -> Any:
    if isinstance(value, np.ndarray) or hasattr(value, "numpy"):
        array = to_numpy(value)
        if array.dtype == object:
            raise TypeError("object arrays cannot be stored in an observation")
        return {
            "__ndarray__": array.tolist(),
            "dtype": str(array.dtype),
            "shape": list(array.shape),
        }
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, dict):
        return {str(key): _encode(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_encode(item) for item in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return repr(value)


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        if "__ndarray__" in value:
            array = np.array(value["__ndarray__"], dtype=value["dtype"])
            return array.reshape(value["shape"])
        return {key: _decode(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_decode(item) for item in value]
    return value


def dumps_observation(observation: dict) -> str:
    """Serialise an observation to JSON (no pickle: safe to load anywhere)."""
    return json.dumps(_encode(observation))


def loads_observation(text: str) -> dict:
    """Inverse of :func:`dumps_observation`."""
    observation = _decode(json.loads(text))
    if not isinstance(observation, dict):
        raise ValueError("an observation must be a JSON object")
    return observation


# --- judging helpers: cheap to specific ---------------------------------------


def fail(what: str, expected: Any = None, received: Any = None) -> None:
    """Raise ``CheckFailed`` saying what is wrong, expected vs received."""
    lines = [what]
    if expected is not None:
        lines.append(f"    expected: {expected}")
    if received is not None:
        lines.append(f"    received: {received}")
    raise CheckFailed("\n".join(lines))


def expect_array(name: str, value: Any) -> np.ndarray:
    """Fail unless ``value`` is an array (a probe stores tensors as arrays)."""
    if not isinstance(value, np.ndarray):
        fail(
            f"`{name}` should be a tensor or array.",
            expected="a tensor",
            received=type(value).__name__,
        )
    return value


def expect_shape(name: str, value: Any, shape: tuple, axes: str = "") -> np.ndarray:
    """Fail unless ``value`` has exactly ``shape``; ``axes`` names the axes."""
    array = expect_array(name, value)
    if tuple(array.shape) != tuple(shape):
        label = f" ({axes})" if axes else ""
        fail(f"`{name}` has the wrong shape.", f"{tuple(shape)}{label}", array.shape)
    return array


def expect_dtype(name: str, value: np.ndarray, kind: str) -> np.ndarray:
    """Fail unless the dtype's kind matches: "f" float, "i" integer, "b" bool."""
    kinds = {"f": "floating point", "i": "integer", "b": "boolean"}
    got = value.dtype.kind
    if kind == "i" and got == "u":
        got = "i"
    if got != kind:
        fail(f"`{name}` has the wrong dtype.", kinds.get(kind, kind), value.dtype)
    return value


def expect_close(
    name: str,
    received: np.ndarray,
    expected: np.ndarray,
    *,
    known_mistakes: dict[str, np.ndarray] | None = None,
    atol: float = 1e-4,
    rtol: float = 1e-4,
) -> None:
    """Fail unless ``received`` matches ``expected``, naming a known mistake.

    ``known_mistakes`` maps a message ("softmax over the batch axis instead of
    src_len") to what that mistake would have produced; the first one that
    matches is the failure message.
    """
    received = np.asarray(received, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    if received.shape == expected.shape and np.allclose(
        received, expected, atol=atol, rtol=rtol, equal_nan=False
    ):
        return
    for message, wrong in (known_mistakes or {}).items():
        wrong = np.asarray(wrong, dtype=np.float64)
        if wrong.shape == received.shape and np.allclose(
            received, wrong, atol=atol, rtol=rtol
        ):
            raise CheckFailed(f"`{name}`: {message}")
    if received.shape != expected.shape:
        fail(f"`{name}` has the wrong shape.", expected.shape, received.shape)
    if not np.all(np.isfinite(received)):
        fail(f"`{name}` contains NaN or inf.", "finite values", _preview(received))
    difference = float(np.max(np.abs(received - expected)))
    fail(
        f"`{name}` differs from the reference (largest difference {difference:.3g}).",
        _preview(expected),
        _preview(received),
    )


def _preview(array: np.ndarray) -> str:
    return np.array2string(
        np.asarray(array), precision=4, threshold=12, edgeitems=2, separator=", "
    ).replace("\n", " ")


# --- hints and solutions -------------------------------------------------------


def hint(exercise_id: str) -> None:
    """Print the hint for an exercise, e.g. ``hint("3.2")``."""
    exercise = get(exercise_id)
    print(f"Hint for Exercise {exercise.id} ({exercise.title}):\n{exercise.hint}")


def solutions_dir() -> Path:
    """Where the solution notebooks are: ``$S2S_SOLUTIONS_DIR`` or the repo's."""
    configured = os.environ.get("S2S_SOLUTIONS_DIR")
    if configured:
        return Path(configured)
    return Path(__file__).resolve().parents[2] / "solutions"


def solution_source(exercise_id: str) -> str:
    """The solution code of an exercise, read from ``solutions/`` (the source)."""
    get(exercise_id)
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
    """Print the solution of an exercise (try the hint first!).

    The whole exercise cell is shown, every solution region included, without
    the ``BEGIN SOLUTION`` / ``END SOLUTION`` marker lines.
    """
    lines = solution_source(exercise_id).splitlines()
    body = "\n".join(
        line
        for line in lines
        if "BEGIN SOLUTION" not in line and "END SOLUTION" not in line
    )
    print(f"Solution of Exercise {exercise_id}:\n{body}")
