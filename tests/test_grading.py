"""``s2s-course grade`` on a synthetic class built from lesson 00.

Every student below breaks something different; the grades table of the whole
class is asserted exactly, so one student's crash visibly leaves the others'
grades alone (they are graded two at a time, next to each other).
"""

import copy
import csv
import io
import json
from contextlib import redirect_stdout
from pathlib import Path

import pytest

from s2s_helpers import grading

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

ROOT = Path(__file__).resolve().parents[1]
SOLUTION = json.loads((ROOT / "solutions" / "00_orientation.ipynb").read_text())
LESSON = json.loads((ROOT / "lessons" / "00_orientation.ipynb").read_text())
NAME = "00_orientation.ipynb"

# Generous for a busy 2-core machine (a kernel imports TensorFlow in ~5-15 s),
# short enough for the infinite loop and the memory hog to be stopped quickly.
LIMITS = grading.Limits(timeout=150, cell_timeout=40, memory_mb=1600)


def notebook(base=SOLUTION, **sources):
    """A copy of ``base`` whose cells (by id, '-' for '_') get new sources."""
    result = copy.deepcopy(base)
    for cell_id, source in sources.items():
        cell = find(result, cell_id.replace("_", "-"))
        cell["source"] = source
    return result


def find(nb, cell_id):
    return next(cell for cell in nb["cells"] if cell["id"] == cell_id)


def code_cell(source, cell_id):
    return {
        "cell_type": "code",
        "id": cell_id,
        "metadata": {},
        "source": source,
        "outputs": [],
        "execution_count": None,
    }


COUNT = "def count_real_tokens(ids):\n    return (ids != 0).sum(axis=1)\n"
MASK = "def padding_mask(ids):\n    return ids != 0\n"


def deleted_and_reordered():
    nb = copy.deepcopy(SOLUTION)
    exercise = find(nb, "exercise-0-1")
    drop = {"check-0-1", "check-0-2", "exercise-0-2", "exercise-0-1"}
    nb["cells"] = [cell for cell in nb["cells"] if cell["id"] not in drop]
    nb["cells"].append(exercise)  # moved to the very end of the notebook
    return nb


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


def renamed_without_metadata():
    nb = copy.deepcopy(SOLUTION)
    del nb["metadata"]["s2s_course"]
    return nb


TAMPERING = """\
import numpy as np
import s2s_helpers.checks as real_checks
import s2s_helpers.checks.framework as framework
import s2s_helpers.checks.lesson00 as lesson00

def count_real_tokens(ids):
    return (ids == 0).sum(axis=1)  # wrong: counts the padding

def padding_mask(ids):
    return ids == 0  # wrong: inverted

class Anything(Exception):
    pass

np.allclose = np.array_equal = lambda *args, **kwargs: True
CheckFailed = Anything
real_checks.CheckFailed = framework.CheckFailed = Anything
real_checks.check_count_real_tokens = lambda *args: print("passed")
framework.verdict = lambda *args: "passed"
framework.outcome = lambda *args: ("passed", "passed")
framework.observe = lambda exercise_id, *args: {"status": "observed"}
lesson00._judge_counts = lesson00._judge_mask = lambda observation: "passed"
lesson00.EXPECTED_COUNTS = ([1, 1, 1], [1, 1], [1])
checks = type("FakeChecks", (), {"__getattr__": lambda self, name: print})()
"""

SUBMISSIONS = {
    # student: (files, expected (0.1 points, 0.2 points, total), statuses)
    "perfect": ({NAME: SOLUTION}, ("2", "2", "4"), ("passed", "passed")),
    "not_attempted": ({NAME: LESSON}, ("0", "0", "0"), ("not_attempted",) * 2),
    "wrong_answer": (
        {NAME: notebook(exercise_0_2="def padding_mask(ids):\n    return ids == 0")},
        ("2", "0", "2"),
        ("passed", "failed"),
    ),
    "syntax_error": (
        {NAME: notebook(exercise_0_1="def count_real_tokens(ids)\n    return 0")},
        ("0", "2", "2"),
        ("error", "passed"),
    ),
    "raising_cell": (
        {NAME: notebook(exercise_0_1="raise ValueError('I give up')\n" + COUNT)},
        ("0", "2", "2"),
        ("error", "passed"),
    ),
    "kernel_exit": (
        {
            NAME: notebook(
                exercise_0_1="import os\ndef count_real_tokens(ids):\n    os._exit(1)\n"
            )
        },
        ("0", "2", "2"),
        ("error", "passed"),
    ),
    "segfault": (
        {NAME: notebook(exercise_0_2="import ctypes\nctypes.string_at(0)\n" + MASK)},
        ("2", "0", "2"),
        ("passed", "error"),
    ),
    "infinite_loop": (
        {
            NAME: notebook(
                exercise_0_1="import time\ndef count_real_tokens(ids):\n"
                "    while True:\n        time.sleep(0.05)\n"
            )
        },
        ("0", "2", "2"),
        ("timed_out", "passed"),
    ),
    "memory_hog": (
        {
            NAME: notebook(
                exercise_0_1="import numpy as np\nhoard = []\n"
                "def count_real_tokens(ids):\n"
                "    hoard.append(np.ones(2_500_000_000, np.uint8))\n"
                "    return (ids != 0).sum(axis=1)\n"
            )
        },
        ("0", "2", "2"),
        ("error", "passed"),
    ),
    "enormous_output": (
        {
            NAME: notebook(
                exercise_0_1="print('x' * 100_000_000)\n"
                "for i in range(300_000):\n    print(i)\n"
                "from IPython.display import HTML, display\n"
                "display(HTML('<b>' * 10_000_000))\n"
                + COUNT
                + "list(range(5_000_000))\n"
            )
        },
        ("2", "2", "4"),
        ("passed", "passed"),
    ),
    "deleted_reordered": (
        {NAME: deleted_and_reordered()},
        ("2", "0", "2"),
        ("passed", "not_attempted"),
    ),
    "duplicate_ids": (
        {NAME: duplicated_cells()},
        ("2", "0", "2"),
        ("passed", "failed"),
    ),
    "renamed": (
        {"my homework (copy).ipynb": renamed_without_metadata()},
        ("2", "2", "4"),
        ("passed", "passed"),
    ),
    "not_json": ({NAME: "{this is not JSON"}, ("0", "0", "0"), ("error", "error")),
    "empty_folder": ({}, ("0", "0", "0"), None),
    "tampering": (
        {NAME: notebook(exercise_0_1=TAMPERING, exercise_0_2="pass  # see above")},
        ("0", "0", "0"),
        ("failed", "failed"),
    ),
}

MESSAGES = {  # a substring of each exercise's feedback message
    ("wrong_answer", "0.2"): "inverted",
    ("syntax_error", "0.1"): "SyntaxError",
    ("raising_cell", "0.1"): "ValueError: I give up",
    ("kernel_exit", "0.1"): "exited with code 1",
    ("segfault", "0.2"): "SIGSEGV",
    ("infinite_loop", "0.1"): "time limit",
    ("memory_hog", "0.1"): "memory limit",
    ("deleted_reordered", "0.2"): "deleted",
    ("duplicate_ids", "0.2"): "inverted",
    ("not_json", "0.1"): "could not be read",
    ("tampering", "0.1"): "counts the padding",
    ("tampering", "0.2"): "inverted",
}


def write_submissions(folder: Path, students: dict) -> None:
    for student, (files, _, _) in students.items():
        (folder / student).mkdir(parents=True)
        for name, content in files.items():
            text = content if isinstance(content, str) else json.dumps(content)
            (folder / student / name).write_text(text)


def read_grades(out: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO((out / "grades.csv").read_text())))


@pytest.fixture(scope="module")
def graded_class(tmp_path_factory):
    folder = tmp_path_factory.mktemp("class")
    write_submissions(folder / "submissions", SUBMISSIONS)
    out = folder / "out"
    summary = grading.grade_submissions(
        folder / "submissions", out, jobs=2, limits=LIMITS, progress=False
    )
    return folder, out, summary


def test_grades_table_is_exact(graded_class):
    _, out, summary = graded_class
    assert summary["incomplete"] == []
    expected = [["student", "0.1", "0.2", "total"]] + [
        [student, *points] for student, (_, points, _) in sorted(SUBMISSIONS.items())
    ]
    assert read_grades(out) == expected


def test_feedback_statuses_and_messages(graded_class):
    _, out, _ = graded_class
    for student, (_, _, statuses) in SUBMISSIONS.items():
        record = json.loads((out / "students" / f"{student}.json").read_text())
        got = tuple(record["exercises"][e]["status"] for e in record["exercises"])
        assert got == (statuses or ()), (student, record["exercises"])
        markdown = (out / "students" / f"{student}.md").read_text()
        assert markdown.startswith(f"# Feedback for {student}")
    for (student, exercise_id), text in MESSAGES.items():
        record = json.loads((out / "students" / f"{student}.json").read_text())
        assert text in record["exercises"][exercise_id]["message"], (student, record)


def test_notes_explain_empty_and_renamed(graded_class):
    _, out, _ = graded_class
    empty = json.loads((out / "students" / "empty_folder.json").read_text())
    assert "No notebook" in empty["notes"][0]
    renamed = json.loads((out / "students" / "renamed.json").read_text())
    assert renamed["lessons"]["00"]["notebook"] == "my homework (copy).ipynb"


def test_rerun_skips_everyone_already_graded(graded_class):
    folder, out, _ = graded_class
    before = {p.name: p.stat().st_mtime_ns for p in (out / "students").iterdir()}
    summary = grading.grade_submissions(
        folder / "submissions", out, limits=LIMITS, progress=False
    )
    assert summary["graded"] == [] and len(summary["skipped"]) == len(SUBMISSIONS)
    assert before == {
        p.name: p.stat().st_mtime_ns for p in (out / "students").iterdir()
    }


def test_resume_force_and_changed_submissions(tmp_path):
    small = {
        name: SUBMISSIONS[name] for name in ("perfect", "not_json", "empty_folder")
    }
    write_submissions(tmp_path / "submissions", small)
    out = tmp_path / "out"
    arguments = [
        str(tmp_path / "submissions"),
        "--out",
        str(out),
        "-j",
        "2",
        "--timeout",
        "150",
        "--cell-timeout",
        "40",
        "--quiet",
    ]
    with redirect_stdout(io.StringIO()):
        assert grading.grade_main(arguments) == 0
    table = read_grades(out)
    assert table[1:] == [
        ["empty_folder", "0", "0", "0"],
        ["not_json", "0", "0", "0"],
        ["perfect", "2", "2", "4"],
    ]

    # An interrupted run: a half-written record, a leftover temporary file, no CSV.
    students = out / "students"
    record = students / "not_json.json"
    record.write_text(record.read_text()[:100])
    (students / ".perfect.json.1234.tmp").write_text("{")
    (out / "grades.csv").unlink()
    perfect_mtime = (students / "perfect.json").stat().st_mtime_ns
    summary = grading.grade_submissions(
        tmp_path / "submissions", out, progress=False, limits=LIMITS
    )
    assert summary["graded"] == ["not_json"]
    assert sorted(summary["skipped"]) == ["empty_folder", "perfect"]
    assert (students / "perfect.json").stat().st_mtime_ns == perfect_mtime
    assert not list(students.glob(".*.tmp"))
    assert read_grades(out) == table

    # A changed submission is graded again; --force regrades everyone.
    (tmp_path / "submissions" / "empty_folder" / "notes.ipynb").write_text("[]")
    summary = grading.grade_submissions(
        tmp_path / "submissions", out, progress=False, limits=LIMITS
    )
    assert summary["graded"] == ["empty_folder"]
    record = json.loads((students / "empty_folder.json").read_text())
    assert "notes.ipynb was ignored" in record["notes"][0]
    with redirect_stdout(io.StringIO()):
        assert grading.grade_main([*arguments, "--force"]) == 0
    assert (students / "perfect.json").stat().st_mtime_ns != perfect_mtime
    assert read_grades(out) == table


def test_notebook_time_limit_marks_unchecked_exercises_timed_out(tmp_path):
    slow = notebook(exercise_0_1="import time\ntime.sleep(1000)\n" + COUNT)
    write_submissions(tmp_path / "submissions", {"slow": ({NAME: slow}, None, None)})
    limits = grading.Limits(timeout=15, cell_timeout=15)
    grading.grade_submissions(
        tmp_path / "submissions", tmp_path / "out", limits=limits, progress=False
    )
    record = json.loads((tmp_path / "out" / "students" / "slow.json").read_text())
    assert {r["status"] for r in record["exercises"].values()} == {"timed_out"}
    assert read_grades(tmp_path / "out")[1] == ["slow", "0", "0", "0"]


def test_plan_skips_check_cells_and_probes_after_the_last_exercise_cell():
    course = grading.load_course()
    steps, missing = grading.plan_execution(duplicated_cells()["cells"], course["00"])
    kinds = [(step.kind, step.exercise) for step in steps]
    assert kinds[0] == ("prelude", None)
    assert kinds[-1] == ("probe", "0.2")
    assert kinds.count(("probe", "0.1")) == 1 and missing == {}
    probe = kinds.index(("probe", "0.1"))
    assert kinds[probe - 1] == ("cell", "0.1")
    assert ("cell", "0.1") not in kinds[probe + 1 :]
    check_sources = {
        "checks.check_count_real_tokens(count_real_tokens)",
        "checks.check_padding_mask(padding_mask)",
    }
    assert not check_sources & {step.source for step in steps}


def test_command_line_errors_are_reported_not_raised(tmp_path):
    (tmp_path / "submissions").mkdir()
    out = str(tmp_path / "out")
    with redirect_stdout(io.StringIO()) as printed:
        assert grading.grade_main([str(tmp_path / "nowhere"), "--out", out]) == 2
        arguments = [str(tmp_path / "submissions"), "--out", out, "--lessons", "42"]
        assert grading.grade_main(arguments) == 2
    assert "unknown lesson" in printed.getvalue()
