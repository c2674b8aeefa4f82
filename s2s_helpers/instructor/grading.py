"""Grade one student's notebook of one lesson: the task a worker runs.

``run_task`` is what the local process pool or a Dask worker runs for one
(student, notebook) pair (``scheduling``); it needs only the task (the
notebook's cells, read and parsed once by the grader) and the course
installed, so it runs on any machine of a cluster. For one notebook:

1. ``probes`` plans it: the student's code cells in order, their check cells
   dropped, a probe of the grader's own check after each exercise;
2. ``kernels`` runs the plan in a fresh kernel inside the OS sandbox
   (``sandbox``) under memory and time limits; a cell that kills the kernel
   or runs past the cell time limit is skipped and the kernel restarted;
3. after the kernel and its sandbox are gone, each probe's observation is read
   from the sandbox's private folder, validated (``probes.read_observation``)
   and judged outside the kernel (``judging``), so nothing a notebook rebinds
   can change a verdict.

Used by: s2s-course grade (docs/INSTRUCTORS.md)
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from s2s_helpers.instructor import kernels, probes, sandbox
from s2s_helpers.instructor.judging import judge, result, skipped_cell_notes
from s2s_helpers.instructor.kernels import Box, Limits
from s2s_helpers.instructor.submissions import LessonSpec


@dataclass(frozen=True)
class Task:
    """One (student, notebook) to grade; small enough to send to a worker."""

    student: str  # the student's key
    notebook: str  # the notebook's file name, for the feedback
    spec: LessonSpec
    cells: list | None  # None when the notebook could not be read
    error: str  # why it could not be read
    limits: Limits
    sandboxed: bool = True
    hidden: tuple[str, ...] = ()  # folders to hide should a mount hold them


def run_task(task: Task) -> dict:
    """Grade one notebook (a worker's whole job).

    Returns:
        {"results": {exercise id: result}, "notes": [...], "complete": bool
        (False when the grader itself failed: grade it again later),
        "seconds": wall time, "timings": {phase: seconds}}.
    """
    if task.sandboxed:
        sandbox.require()  # each worker checks its own machine
    started = time.monotonic()
    results, notes, complete, timings = _run_async(grade_notebook(task))
    return {
        "results": results,
        "notes": notes,
        "complete": complete,
        "seconds": round(time.monotonic() - started, 3),
        "timings": {phase: round(value, 3) for phase, value in timings.items()},
    }


async def grade_notebook(task: Task) -> tuple[dict, list[str], bool, dict]:
    """Run and judge one notebook: (results, notes, complete, timings)."""
    lesson = task.spec
    if task.cells is None:
        message = f"Your notebook {task.notebook} could not be read: {task.error}."
        return (
            {e.id: result(e, "error", message) for e in lesson.exercises},
            [],
            True,
            {},
        )
    steps, missing = probes.plan_execution(task.cells, lesson)
    results = {
        exercise_id: result(lesson.exercise(exercise_id), "not_attempted", message)
        for exercise_id, message in missing.items()
    }
    if not steps:
        return results, [], True, {}
    notes: list[str] = []
    work = Path(tempfile.mkdtemp(prefix="s2s-grade-", dir=_short_temporary_folder()))
    try:
        box = _box(work, task)
        checks_dir = _checks_dir(task.sandboxed)
        tokens = probes.write_probes(steps, lesson, checks_dir, work / "channel")
        events, complete = await kernels.run_steps(steps, task.limits, box, notes)
        notes += skipped_cell_notes(steps, events, task.limits)
        started = time.monotonic()  # every kernel of this notebook is gone now
        for index, step in enumerate(steps):
            if step.kind != "probe":
                continue
            exercise = lesson.exercise(step.exercise)
            token, path = tokens[step.exercise]
            try:
                observation = probes.read_observation(token, exercise.id, path)
            except probes.InvalidObservation as error:
                notes.append(
                    f"Exercise {exercise.id}: the check's result was rejected "
                    f"({error}); it will be graded again."
                )
                results[exercise.id] = result(
                    exercise, "error", f"the check's result was rejected: {error}"
                )
                complete = False
                continue
            results[exercise.id] = judge(
                exercise, steps, index, events, observation, task.limits
            )
        box.add_time("judging", started)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return results, notes, complete, box.timings


def _box(work: Path, task: Task) -> Box:
    """The notebook's private folder (scratch, channel) and how its kernels run."""
    (work / "scratch").mkdir()
    (work / "channel").mkdir()
    env = sandbox.environment(work / "scratch", task.limits.quick, task.sandboxed)
    command = sandbox.sandbox_command(work, task.hidden) if task.sandboxed else []
    return Box(command, env, work)


def _short_temporary_folder() -> str:
    """The temporary folder, or /tmp when it is too long for the kernel's Unix
    socket paths (at most 107 bytes on Linux)."""
    folder = tempfile.gettempdir()
    return folder if len(folder) <= 60 else "/tmp"


def _checks_dir(sandboxed: bool) -> str:
    """The checks package's folder as the kernel sees it."""
    if sandboxed:
        return f"{sandbox.COURSE_ROOT}/{sandbox.package_dir().name}/checks"
    return str(sandbox.package_dir() / "checks")


def _run_async(coroutine):
    """``asyncio.run`` that also works when called from a running event loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    outcome: dict = {}

    def target() -> None:  # e.g. called from a notebook: run in a thread of its own
        try:
            outcome["value"] = asyncio.run(coroutine)
        except BaseException as error:  # re-raised in the caller's thread
            outcome["error"] = error

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]
