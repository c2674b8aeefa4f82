"""Shared helpers for the tests of the exercise checks (``test_checks_lessonNN.py``).

They run a check the way the grader does: probe, round-trip the observation
through JSON, judge.
"""

import json
import os
from pathlib import Path

from s2s_helpers.checks import framework


def outcome(exercise_id, *learner):
    """(status, message) of a check on the learner's objects."""
    return framework.outcome(exercise_id, framework.observe(exercise_id, *learner))


def stub(*args):
    """An exercise not attempted yet."""
    raise NotImplementedError()


def assert_round_trip(exercise_id, *learner):
    """The grader's JSON round trip gives the same outcome."""
    observation = framework.observe(exercise_id, *learner)
    again = framework.loads_observation(framework.dumps_observation(observation))
    assert framework.outcome(exercise_id, again) == framework.outcome(
        exercise_id, observation
    )


def passing_message(exercise_id, function):
    """The success message, asserting the JSON round trip judges the same."""
    observation = framework.observe(exercise_id, function)
    message = framework.verdict(exercise_id, observation)
    again = framework.loads_observation(framework.dumps_observation(observation))
    assert framework.verdict(exercise_id, again) == message  # what the grader sees
    return message


def failure_message(exercise_id, function):
    """The failure message, asserting the check failed (not errored)."""
    status, message = framework.outcome(
        exercise_id, framework.observe(exercise_id, function)
    )
    assert status == "failed", message
    return message


# --- diagnosing wrong answers ---------------------------------------------------
#
# Every wrong answer in a check's tests goes through `assert_diagnosed`: it must
# fail, with a message that contains its own diagnosis and no other mistake's.
# Each call is logged so that the test run can print a summary (conftest.py).

GENERIC = (
    "differs from the reference",
    "differs from search.",
    "the check could not read your result",
)
LOG_DIR = Path(__file__).resolve().parents[1] / "test-artifacts" / "check-diagnoses"


def _log(record: dict) -> None:
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    with open(LOG_DIR / f"{os.getpid()}.jsonl", "a", encoding="utf-8") as log:
        log.write(json.dumps(record) + "\n")


def kind_of(status: str, message: str) -> str:
    """How a wrong answer was caught: "named", "error", "generic" or "missed"."""
    if status not in {"failed", "error"}:
        return "missed"
    if any(text in message for text in GENERIC):
        return "generic"
    return "error" if status == "error" else "named"


def assert_diagnosed(exercise_id, mistakes, label, *learner):
    """Assert the wrong answer ``mistakes[label]`` is diagnosed, and only as itself.

    Args:
        exercise_id: e.g. "3.2".
        mistakes: {label: (function, says)}: every wrong answer of the exercise
            in the test file, with a fragment of the message it must get.
        label: which one to run.
        *learner: objects passed after the function (for checks taking several).

    The message must contain ``says``, must not be generic ("differs from the
    reference"), and must not contain the ``says`` of any other entry (unless
    that fragment is part of this entry's own): a check never names a mistake
    the learner did not make.
    """
    function, says = mistakes[label]
    status, message = outcome(exercise_id, function, *learner)
    kind = kind_of(status, message)
    _log({"exercise": exercise_id, "label": label, "kind": kind, "wrong": True})
    assert kind in {"named", "error"}, f"{label}: caught as {kind}: {message}"
    assert says in message, f"{label}: expected {says!r} in: {message}"
    for other, (_, other_says) in mistakes.items():
        if other != label and other_says not in says:
            assert other_says not in message, (
                f"{label}: the message names another mistake ({other}): {message}"
            )
    return message


def assert_passes_unusual(exercise_id, function, *learner):
    """Assert a correct but unusually written answer passes (and log it)."""
    status, message = outcome(exercise_id, function, *learner)
    _log({"exercise": exercise_id, "kind": status, "wrong": False})
    assert status == "passed", message
    return message
