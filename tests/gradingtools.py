"""What the grader's tests share: a synthetic class of lesson 00, the sandbox
requirement, and a look for processes that kernels left behind."""

import copy
import csv
import io
import json
import os
from pathlib import Path

import pytest

from s2s_helpers.instructor import sandbox
from s2s_helpers.instructor.kernels import Limits

ROOT = Path(__file__).resolve().parents[1]
SOLUTION = json.loads((ROOT / "solutions" / "00_orientation.ipynb").read_text())
LESSON = json.loads((ROOT / "lessons" / "00_orientation.ipynb").read_text())
NAME = "00_orientation.ipynb"
COUNT = "def count_real_tokens(ids):\n    return (ids != 0).sum(axis=1)\n"
WRONG_COUNT = "def count_real_tokens(ids):\n    return (ids == 0).sum(axis=1)\n"
MASK = "def padding_mask(ids):\n    return ids != 0\n"

# Generous for a busy 2-core machine (a kernel imports TensorFlow in ~5-15 s),
# short enough for the infinite loop and the memory hog to be stopped quickly.
LIMITS = Limits(timeout=150, cell_timeout=40, memory_mb=1600)

_REASON = sandbox.unavailable_reason()
# Skips only where no sandbox can be made, and never in CI (it must run there).
needs_sandbox = pytest.mark.skipif(
    _REASON is not None and os.environ.get("CI") != "true",
    reason=f"no OS sandbox on this machine: {_REASON}",
)


def notebook(base=SOLUTION, **sources):
    """A copy of ``base`` whose cells (by id, '-' for '_') get new sources."""
    result = copy.deepcopy(base)
    for cell_id, source in sources.items():
        find(result, cell_id.replace("_", "-"))["source"] = source
    return result


def find(nb, cell_id):
    return next(cell for cell in nb["cells"] if cell["id"] == cell_id)


def write_submissions(folder: Path, students: dict) -> None:
    """One folder per student with its files (a dict is written as JSON)."""
    for student, (files, *_) in students.items():
        (folder / student).mkdir(parents=True)
        for name, content in files.items():
            text = content if isinstance(content, str) else json.dumps(content)
            (folder / student / name).write_text(text)


def read_grades(out: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO((out / "grades.csv").read_text())))


def processes_under(folder: Path, marker: str = "") -> list[str]:
    """Command lines of live processes whose HOME is under ``folder`` (every
    kernel process has its private folder as HOME) or that show ``marker``."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
        except OSError:
            continue
        home = next((v[5:] for v in environ if v.startswith(b"HOME=")), b"")
        if home.startswith(str(folder).encode()) or (
            marker and marker.encode() in cmdline
        ):
            found.append(f"{pid}: {cmdline.decode(errors='replace')[:200]}")
    return found


def duplicated_cells():
    """Copies keep their grade id (and here their cell id): the last one counts."""
    nb = copy.deepcopy(SOLUTION)
    cells = nb["cells"]
    for exercise_id, first, last in [
        (
            "0-1",
            "def count_real_tokens(ids):\n    return (ids == 0).sum(axis=1)",
            COUNT,
        ),
        ("0-2", MASK, "def padding_mask(ids):\n    return ids == 0"),
    ]:
        exercise, check = (
            find(nb, f"exercise-{exercise_id}"),
            find(nb, f"check-{exercise_id}"),
        )
        exercise["source"] = first
        copy_of_exercise = copy.deepcopy(exercise)
        copy_of_exercise["source"] = last
        position = cells.index(check) + 1
        cells[position:position] = [copy_of_exercise, copy.deepcopy(check)]
    return nb
