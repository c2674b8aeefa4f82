"""One notebook, one task (``grading.run_task``), as a worker runs it."""

import pytest
from gradingtools import LESSON, LIMITS, SOLUTION, needs_sandbox, notebook

from s2s_helpers.instructor.grading import Task, run_task
from s2s_helpers.instructor.kernels import Limits
from s2s_helpers.instructor.submissions import load_course

COURSE = load_course()


def task(cells, limits=LIMITS, error=""):
    return Task("ann", "00_orientation.ipynb", COURSE["00"], cells, error, limits)


def statuses(outcome) -> dict:
    return {e: r["status"] for e, r in outcome["results"].items()}


def test_an_unreadable_notebook_is_an_error_without_a_kernel():
    outcome = run_task(task(None, error="not valid notebook JSON"))
    assert statuses(outcome) == {"0.1": "error", "0.2": "error"}
    assert outcome["complete"] and outcome["timings"] == {}
    assert (
        "could not be read: not valid notebook JSON"
        in (outcome["results"]["0.1"]["message"])
    )


def test_a_notebook_with_no_exercise_cells_needs_no_kernel():
    cells = [c for c in LESSON["cells"] if c["cell_type"] == "markdown"]
    outcome = run_task(task(cells))
    assert statuses(outcome) == {"0.1": "not_attempted", "0.2": "not_attempted"}


# Exercise 0.2's cell overwrites what the probe of 0.1 wrote in the sandbox.
OVERWRITE = """\
import glob, os
for path in glob.glob(os.path.expanduser("~/../channel/*.json")):
    open(path, "w").write('{"token": "forged", "observation": "{}"}')
def padding_mask(ids):
    return ids != 0
"""


@pytest.mark.slow
@pytest.mark.timeout(300)
@needs_sandbox
def test_a_tampered_observation_is_rejected_and_graded_again():
    outcome = run_task(task(notebook(SOLUTION, exercise_0_2=OVERWRITE)["cells"]))
    assert statuses(outcome) == {"0.1": "error", "0.2": "passed"}
    assert "rejected" in outcome["results"]["0.1"]["message"]
    assert outcome["complete"] is False  # never saved as complete
    assert set(outcome["timings"]) == {"kernel_start", "imports", "notebook", "judging"}


@pytest.mark.slow
@pytest.mark.timeout(300)
@needs_sandbox
def test_notebook_time_limit_marks_unchecked_exercises_timed_out():
    slow = notebook(exercise_0_1="import time\ntime.sleep(1000)\n")
    outcome = run_task(task(slow["cells"], Limits(timeout=15, cell_timeout=15)))
    assert statuses(outcome) == {"0.1": "timed_out", "0.2": "timed_out"}
    assert outcome["complete"]
