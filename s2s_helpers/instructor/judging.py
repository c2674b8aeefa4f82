"""Judging: one status and one message per exercise, decided in the grader's process.

What happened in the kernel comes first: an exercise cell that crashed the
kernel or ran past the cell time limit, or a probe that died, timed out or was
never run, decides the exercise. Otherwise the probe's observation is judged
with ``framework.outcome``, in the grader's own process, so nothing a notebook
rebinds can change a verdict; an exercise cell that raised turns a failed check
into "error" (or "not attempted" for the stub's ``NotImplementedError``).

Used by: s2s-course grade (docs/INSTRUCTORS.md)
"""

from __future__ import annotations

from s2s_helpers.instructor.feedback import plain_text
from s2s_helpers.instructor.kernels import MAX_MESSAGE, Limits, Step
from s2s_helpers.instructor.submissions import ExerciseSpec

STATUSES = ("passed", "failed", "not_attempted", "error", "timed_out")


def result(exercise: ExerciseSpec, status: str, message: str) -> dict:
    """The record of one exercise: status, points earned and the message
    (escape sequences and control characters removed)."""
    message = plain_text(message)
    if len(message) > MAX_MESSAGE:
        message = message[:MAX_MESSAGE] + " [...]"
    return {
        "lesson": exercise.lesson,
        "title": exercise.title,
        "status": status,
        "points": exercise.points if status == "passed" else 0.0,
        "max_points": exercise.points,
        "message": message,
    }


def judge(
    exercise: ExerciseSpec,
    steps: list[Step],
    probe_index: int,
    events: dict,
    observation: dict | None,
    limits: Limits,
) -> dict:
    """Combine the probe's observation with what happened to the student's cells."""
    from s2s_helpers.checks import framework

    event, detail = events[probe_index]
    cell_event, cell_detail = _exercise_cell_event(exercise, steps, probe_index, events)
    name = f"Exercise {exercise.id} ({exercise.title})"
    stopped = _stopped(name, cell_event, cell_detail, event, detail, limits)
    if stopped is not None:
        return result(exercise, *stopped)
    if observation is None:
        return result(
            exercise,
            "error",
            f"{name}: the check could not record a "
            "result; does your notebook replace Python built-ins or "
            f"modules? {detail or ''}".strip(),
        )
    status, message = framework.outcome(exercise.id, observation)
    if status != "passed" and cell_event == "error":
        if cell_detail.startswith("NotImplementedError"):
            if status != "not_attempted":
                message = f"{name} is not attempted yet."
            return result(exercise, "not_attempted", message)
        return result(
            exercise,
            "error",
            f"{name}: your exercise cell raised an error:\n    {cell_detail}",
        )
    return result(exercise, status, message)


def _exercise_cell_event(exercise, steps, probe_index, events) -> tuple:
    """What happened to the last exercise cell before the probe, if any."""
    for index in range(probe_index - 1, -1, -1):
        if steps[index].kind == "cell" and steps[index].exercise == exercise.id:
            return events.get(index, ("ok", None))
    return "ok", None


def _stopped(name, cell_event, cell_detail, event, detail, limits: Limits):
    """(status, message) when a crash or a time limit decided, else None."""
    if cell_event == "died":
        return (
            "error",
            f"{name}: running your exercise cell crashed the kernel: {cell_detail}.",
        )
    if cell_event == "timed_out":
        return (
            "timed_out",
            f"{name}: your exercise cell ran "
            f"longer than the cell time limit ({limits.cell_timeout:g} s).",
        )
    return {
        "died": (
            "error",
            f"{name}: the kernel died while the check was calling your code: {detail}.",
        ),
        "timed_out": (
            "timed_out",
            f"{name}: your code was still running "
            f"after the cell time limit ({limits.cell_timeout:g} s).",
        ),
        "deadline": (
            "timed_out",
            f"{name}: the notebook's time limit "
            f"({limits.timeout:g} s) was reached before it was checked.",
        ),
        "no_kernel": (
            "error",
            f"{name}: not checked, the grader could "
            "not start a kernel (not your code's fault).",
        ),
        "not_run": (
            "error",
            f"{name}: not checked, the kernel died too many times before it.",
        ),
    }.get(event)


def skipped_cell_notes(steps: list[Step], events: dict, limits: Limits) -> list:
    """A note for every student cell that was skipped after a crash or a timeout."""
    notes = []
    for index, step in enumerate(steps):
        event, detail = events[index]
        if step.kind == "cell" and event in {"died", "timed_out"}:
            why = (
                detail
                if event == "died"
                else (f"it ran longer than {limits.cell_timeout:g} s")
            )
            notes.append(
                f"Cell {step.cell_index} of your notebook was skipped ({why}); the "
                "kernel was restarted and the cells before it were run again."
            )
    return notes
