"""Grading a class (``classroom``, through ``s2s-course grade``): a synthetic class built from lesson 00, sandboxed.

Every student below breaks something different, and the attackers try what a
hostile class would (read the solutions, sabotage the others, forge records
after their kernel ended, kill the grader, leave daemons, inject markup
through names, submit links to another student's file). The grades table of
the whole class is asserted exactly, so one student's crash or attack visibly
leaves the others' grades alone (they are graded two at a time).
"""

import copy
import io
import json
import os
import re
from contextlib import redirect_stdout
from pathlib import Path

import pytest
from attacks import INJECTED_CSV, INJECTED_NAME, LINKER, MARKER, add_links, attackers
from gradingtools import (
    COUNT,
    LESSON,
    LIMITS,
    MASK,
    NAME,
    ROOT,
    SOLUTION,
    duplicated_cells,
    find,
    needs_sandbox,
    notebook,
    processes_under,
    read_grades,
    write_submissions,
)

from s2s_helpers.instructor import classroom, command, records

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]


def deleted_and_reordered():
    nb = copy.deepcopy(SOLUTION)
    exercise = find(nb, "exercise-0-1")
    drop = {"check-0-1", "check-0-2", "exercise-0-2", "exercise-0-1"}
    nb["cells"] = [cell for cell in nb["cells"] if cell["id"] not in drop]
    nb["cells"].append(exercise)  # moved to the very end of the notebook
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


@pytest.fixture(scope="module")
def graded_class(tmp_path_factory):
    """The whole class, attackers included, graded two at a time."""
    folder = tmp_path_factory.mktemp("class")
    scratch = folder / "tmp"  # the workers' TMPDIR: every sandbox's folder is here
    scratch.mkdir()
    submissions, out = folder / "submissions", folder / "out"
    places = dict(
        solutions=str(ROOT / "solutions"),
        out=str(out),
        submissions=str(submissions),
        tmp=str(scratch),
    )
    students = {**SUBMISSIONS, **attackers(places)}
    write_submissions(submissions, students)
    add_links(submissions)
    saved = os.environ.get("TMPDIR")
    os.environ["TMPDIR"] = str(scratch)
    try:
        summary = classroom.grade_submissions(
            submissions, out, jobs=2, limits=LIMITS, progress=False
        )
    finally:
        os.environ.pop("TMPDIR")
        if saved is not None:
            os.environ["TMPDIR"] = saved
    return folder, out, summary, {**students, **LINKER}


def record_of(out: Path, student: str) -> dict:
    """The saved record of a student, by the student's (folder) name."""
    for path in (out / "students").glob("*.json"):
        record = json.loads(path.read_text())
        if record["student"] == student:
            return record
    raise KeyError(student)


@needs_sandbox
def test_grades_table_is_exact(graded_class):
    _, out, summary, students = graded_class
    assert summary["incomplete"] == []
    rows = [[student, *points] for student, (_, points, _) in students.items()]
    for row in rows:
        row[0] = INJECTED_CSV if row[0] == INJECTED_NAME else row[0]
    expected = [["student", "0.1", "0.2", "total"]] + sorted(rows)
    assert read_grades(out) == expected


@needs_sandbox
def test_feedback_statuses_and_messages(graded_class):
    _, out, _, students = graded_class
    for student, (_, _, statuses) in students.items():
        record = record_of(out, student)
        got = tuple(record["exercises"][e]["status"] for e in record["exercises"])
        assert got == (statuses or ()), (student, record["exercises"])
    for student in SUBMISSIONS:
        markdown = (out / "students" / f"{student}.md").read_text()
        assert markdown.startswith(
            f"# Feedback for {student.replace('_', chr(92) + '_')}"
        )
    for (student, exercise_id), text in MESSAGES.items():
        record = record_of(out, student)
        assert text in record["exercises"][exercise_id]["message"], (student, record)


@needs_sandbox
def test_notes_explain_empty_and_renamed(graded_class):
    _, out, _, _ = graded_class
    assert "No notebook" in record_of(out, "empty_folder")["notes"][-1]
    renamed = record_of(out, "renamed")
    assert renamed["lessons"]["00"]["notebook"] == "my homework (copy).ipynb"


# --- the attacks: nothing gained, nobody else changed (the exact table above) ------


@needs_sandbox
def test_no_process_started_by_a_kernel_is_alive(graded_class):
    folder, _, _, _ = graded_class
    assert processes_under(folder / "tmp", MARKER) == []


@needs_sandbox
def test_solutions_are_not_visible_in_the_sandbox(graded_class):
    _, out, _, _ = graded_class
    record = record_of(out, "read_solutions")
    assert "counts the padding" in record["exercises"]["0.1"]["message"]


@needs_sandbox
def test_records_cannot_be_forged_after_the_kernel_ended(graded_class):
    _, out, _, _ = graded_class
    key = records.prepare_output(out)
    for path in (out / "students").glob("*.json"):
        record, why = records.read_student(out, path.stem, key)
        assert record is not None and record["total"] <= 4, (path.name, why)


@needs_sandbox
def test_links_are_refused_with_a_note(graded_class):
    _, out, summary, _ = graded_class
    linker = record_of(out, "linker")
    assert linker["total"] == 0 and "symbolic link" in linker["notes"][0]
    assert any(
        "copycat" in note and "symbolic link" in note for note in summary["ignored"]
    )


@needs_sandbox
def test_names_and_messages_are_data_in_every_output(graded_class):
    _, out, _, _ = graded_class
    record = record_of(out, INJECTED_NAME)
    key = next(
        p.stem
        for p in (out / "students").glob("*.json")
        if json.loads(p.read_text())["student"] == INJECTED_NAME
    )
    message = record["exercises"]["0.1"]["message"]
    assert "<img src=x onerror=alert(1)> ```" in message  # kept as text...
    assert "pwned" not in message and "\x1b" not in message  # ...escapes removed
    page = (out / "students" / f"{key}.html").read_text()
    assert "<img" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    markdown = (out / "students" / f"{key}.md").read_text()
    assert "\\*\\*b\\*\\*" in markdown and "&lt;img" in markdown  # the name
    # the message is shown in a fence longer than any of its own backtick runs
    outside = re.sub(r"^(`{4,})text\n.*?^\1$", "", markdown, flags=re.M | re.S)
    assert "<img" in markdown and "<img" not in outside
    for text in (page, markdown, (out / "grades.csv").read_text()):
        assert "\x1b" not in text


@needs_sandbox
def test_rerun_skips_everyone_already_graded(graded_class):
    folder, out, _, students = graded_class
    before = {p.name: p.stat().st_mtime_ns for p in (out / "students").iterdir()}
    summary = classroom.grade_submissions(
        folder / "submissions", out, limits=LIMITS, progress=False
    )
    assert summary["graded"] == [] and len(summary["skipped"]) == len(students)
    assert before == {
        p.name: p.stat().st_mtime_ns for p in (out / "students").iterdir()
    }


@needs_sandbox
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
        assert command.grade_main(arguments) == 0
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
    summary = classroom.grade_submissions(
        tmp_path / "submissions", out, progress=False, limits=LIMITS
    )
    assert summary["graded"] == ["not_json"]
    assert sorted(summary["skipped"]) == ["empty_folder", "perfect"]
    assert (students / "perfect.json").stat().st_mtime_ns == perfect_mtime
    assert not list(students.glob(".*.tmp"))
    assert read_grades(out) == table

    # A record edited after grading is not trusted: it is graded again.
    forged = json.loads((students / "perfect.json").read_text())
    forged["exercises"]["0.1"]["points"] = 9
    (students / "perfect.json").write_text(json.dumps(forged))
    summary = classroom.grade_submissions(
        tmp_path / "submissions", out, progress=False, limits=LIMITS
    )
    assert summary["graded"] == ["perfect"]
    assert "perfect.json: its digest does not match" in summary["distrusted"][0]
    assert read_grades(out) == table
    perfect_mtime = (students / "perfect.json").stat().st_mtime_ns

    # A changed submission is graded again; --force regrades everyone.
    (tmp_path / "submissions" / "empty_folder" / "notes.ipynb").write_text("[]")
    summary = classroom.grade_submissions(
        tmp_path / "submissions", out, progress=False, limits=LIMITS
    )
    assert summary["graded"] == ["empty_folder"]
    record = json.loads((students / "empty_folder.json").read_text())
    assert "notes.ipynb was ignored" in record["notes"][0]
    with redirect_stdout(io.StringIO()):
        assert command.grade_main([*arguments, "--force"]) == 0
    assert (students / "perfect.json").stat().st_mtime_ns != perfect_mtime
    assert read_grades(out) == table
