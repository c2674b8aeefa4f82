"""Running a check: probe the learner's code, judge the observation, show it.

A check is split in two so that a grader can run it safely:

* ``probe(*learner_objects) -> observation`` calls the learner's code on small,
  fixed inputs and records what came back as plain data;
* ``judge(observation) -> str`` compares with the reference, from cheap to
  specific, and returns the success message or raises ``CheckFailed``. It never
  touches learner code, so the grader runs it in its own process.

Three outcomes: passed (a green ✔ line), failed (``CheckFailed``: a red ✘ line
naming what is wrong), not attempted (the stub still raises
``NotImplementedError``: one neutral line).

Taught in: lessons/00_orientation.ipynb
"""

from __future__ import annotations

from typing import Any

from s2s_helpers.checks import display, hints, learner_errors
from s2s_helpers.checks.codec import dumps_observation, loads_observation
from s2s_helpers.checks.expect import CheckFailed, last_line
from s2s_helpers.checks.registry import get


def observe(exercise_id: str, *learner_objects: Any) -> dict:
    """Run the probe; return its observation, tagged with a ``status``.

    ``status`` is "observed", "not_attempted" (the stub raised
    ``NotImplementedError``) or "error" (the learner's code raised something
    else; ``error_type``, ``error`` (one plain line) and ``where`` (the
    learner's line that raised) say what).

    The observation is returned as it would come back from a grader: encoded to
    JSON and decoded again, so a judge sees the same data in a notebook and in
    ``s2s-course grade``.
    """
    exercise = get(exercise_id)
    try:
        observation = exercise.probe(*learner_objects)
    except NotImplementedError:
        return {"status": "not_attempted"}
    except Exception as error:  # the learner's code may raise anything
        return {
            "status": "error",
            **learner_errors.describe(error, exercise.axis_names),
        }
    try:
        return loads_observation(
            dumps_observation({**observation, "status": "observed"})
        )
    except Exception as error:  # e.g. a result of an unexpected type
        return {
            "status": "error",
            "error": f"the result could not be recorded: {last_line(error)}",
        }


def _error_message(observation: dict) -> str:
    kind = observation.get("error_type")
    text = f"{kind}: {observation.get('error')}" if kind else observation.get("error")
    message = f"your code raised an error on the check's inputs:\n    {text}"
    if observation.get("where"):
        message += f"\n    at {observation['where']}"
    return message


def verdict(exercise_id: str, observation: dict) -> str:
    """Judge an observation: return the success message or raise.

    Raises:
        NotImplementedError: the exercise was not attempted (shown as one line).
        CheckFailed: the observation shows a mistake (or the code raised).
    """
    exercise = get(exercise_id)
    status = observation.get("status")
    prefix = f"Exercise {exercise.id} ({exercise.title})"
    if status == "not_attempted":
        raise display.not_attempted(
            f"{prefix} is not attempted yet: replace `raise NotImplementedError()` "
            "in the exercise cell with your code, run it, then run this check."
        )
    if status == "error":
        failure = CheckFailed(f"{prefix}: {_error_message(observation)}")
    else:
        try:
            return f"{prefix} passed: {exercise.judge(observation)}"
        except CheckFailed as found:
            failure = CheckFailed(f"{prefix}: {found}", found.hints)
    failure.exercise_id = exercise.id
    if hasattr(failure, "add_note"):  # Python >= 3.11: shown after a terminal traceback
        failure.add_note(display.hint_pointer(exercise.id))
    raise failure


def run(exercise_id: str, *learner_objects: Any) -> None:
    """Probe and judge in one go and print the green line.

    Returns None, so a check cell shows the green line once (no ``Out[]`` echo).
    """
    try:
        message = verdict(exercise_id, observe(exercise_id, *learner_objects))
    except CheckFailed as failure:
        hints.remember_outcome(exercise_id, failure.hints)
        raise failure.with_traceback(None) from None
    except NotImplementedError as error:
        raise error.with_traceback(None) from None
    hints.remember_outcome(exercise_id)
    print(display.passed_line(message))


def outcome(exercise_id: str, observation: dict) -> tuple[str, str]:
    """(status, message) for a grader: passed / failed / not_attempted / error.

    A failure's message ends with the exercise's first hint (a nudge): the
    learner reads it in the feedback, away from the notebook.

    Never raises for a registered exercise: an observation the judge cannot
    read (a result of a shape or type nobody foresaw) is a failure too.
    """
    try:
        return "passed", verdict(exercise_id, observation)
    except NotImplementedError as error:
        return "not_attempted", str(error)
    except CheckFailed as error:
        kind = "error" if observation.get("status") == "error" else "failed"
        return kind, f"{error}\nHint: {get(exercise_id).hint}"
    except Exception as error:  # the judge met a result it did not expect
        exercise = get(exercise_id)
        return "failed", (
            f"Exercise {exercise.id} ({exercise.title}): the check could not "
            f"read your result ({last_line(error)}).\nHint: {exercise.hint}"
        )
