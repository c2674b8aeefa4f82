"""Judging: what happened in the kernel first, then the check's own verdict."""

from s2s_helpers.checks import framework
from s2s_helpers.instructor.judging import judge, result, skipped_cell_notes
from s2s_helpers.instructor.kernels import Limits, Step
from s2s_helpers.instructor.submissions import load_course

EXERCISE = load_course()["00"].exercise("0.1")
STEPS = [Step("cell", "", "0.1", 3), Step("probe", "", "0.1")]
LIMITS = Limits(cell_timeout=40)


def right(ids):
    return (ids != 0).sum(axis=1)


def judged(cell_event, probe_event, observation):
    events = {0: cell_event, 1: probe_event}
    return judge(EXERCISE, STEPS, 1, events, observation, LIMITS)


def test_the_check_decides_when_everything_ran():
    observation = framework.observe("0.1", right)
    outcome = judged(("ok", None), ("ok", None), observation)
    assert outcome["status"] == "passed" and outcome["points"] == EXERCISE.points


def test_what_happened_in_the_kernel_comes_first():
    observation = framework.observe("0.1", right)
    died = judged(
        ("died", "the kernel was stopped by SIGSEGV"), ("ok", None), observation
    )
    assert died["status"] == "error" and "crashed the kernel" in died["message"]
    slow = judged(("ok", None), ("timed_out", None), observation)
    assert slow["status"] == "timed_out" and "40 s" in slow["message"]
    assert slow["points"] == 0.0


def test_a_stub_is_not_attempted_and_a_missing_observation_an_error():
    stub = framework.observe(
        "0.1", lambda ids: (_ for _ in ()).throw(NotImplementedError())
    )
    cell = ("error", "NotImplementedError: ")
    assert judged(cell, ("ok", None), stub)["status"] == "not_attempted"
    missing = judged(("ok", None), ("ok", None), None)
    assert missing["status"] == "error" and "could not record" in missing["message"]


def test_messages_are_shortened_and_cleaned():
    outcome = result(EXERCISE, "error", "\x1b[31m" + "x" * 5000)
    assert outcome["message"].startswith("xxx") and outcome["message"].endswith("[...]")
    assert len(outcome["message"]) < 2100


def test_skipped_cells_get_a_note():
    events = {0: ("died", "the kernel exited with code 1"), 1: ("not_run", None)}
    [note] = skipped_cell_notes(STEPS, events, LIMITS)
    assert note.startswith("Cell 3 of your notebook was skipped (the kernel exited")
