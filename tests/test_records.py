"""Records: only what the grader wrote is trusted; grades.csv from the records."""

import csv
import io
import json
import os
import stat

from s2s_helpers.instructor import records
from s2s_helpers.instructor.submissions import ExerciseSpec, LessonSpec

EXERCISES = tuple(
    ExerciseSpec(i, "00", f"Exercise {i}", 2.0, ("f",), "lesson00")
    for i in ("0.1", "0.2")
)
COURSE = {"00": LessonSpec("00", "00_orientation.ipynb", EXERCISES)}


def record(student: str, points: tuple, sandboxed: bool = True) -> dict:
    exercises = {
        e.id: {
            "lesson": "00",
            "title": e.title,
            "status": "passed" if p else "failed",
            "points": p,
            "max_points": 2.0,
            "message": "",
        }
        for e, p in zip(EXERCISES, points)
    }
    return {
        "student": student,
        "complete": True,
        "sandboxed": sandboxed,
        "graded_at": "2026-01-01T00:00:00+00:00",
        "lessons": {},
        "notes": [],
        "exercises": exercises,
        "total": sum(points),
        "max_total": 4.0,
    }


def test_the_key_is_made_once_and_kept_private(tmp_path):
    key = records.prepare_output(tmp_path)
    assert len(key) == 32 and records.prepare_output(tmp_path) == key
    mode = stat.S_IMODE(os.stat(tmp_path / records.KEY_FILE).st_mode)
    assert mode == 0o600


def test_a_record_is_trusted_only_as_the_grader_wrote_it(tmp_path):
    key = records.prepare_output(tmp_path)
    written = records.write_student(tmp_path, "ann", record("ann", (2.0, 0.0)), key)
    assert records.read_student(tmp_path, "ann", key) == (written, "")
    path = tmp_path / "students" / "ann.json"

    edited = {**written, "total": 4.0}
    path.write_text(json.dumps(edited))
    assert "digest does not match" in records.read_student(tmp_path, "ann", key)[1]
    unsigned = {k: v for k, v in written.items() if k != "digest"}
    path.write_text(json.dumps(unsigned))
    assert "not a record" in records.read_student(tmp_path, "ann", key)[1]
    path.write_text(json.dumps(written)[:50])
    assert "not valid JSON" in records.read_student(tmp_path, "ann", key)[1]
    other_key = bytes(32)
    path.write_text(json.dumps(written))
    assert records.read_student(tmp_path, "ann", other_key)[0] is None
    assert records.read_student(tmp_path, "bob", key) == (None, "missing")


def test_a_link_in_place_of_a_record_is_not_followed(tmp_path):
    key = records.prepare_output(tmp_path)
    records.write_student(tmp_path, "ann", record("ann", (2.0, 2.0)), key)
    (tmp_path / "students" / "bob.json").symlink_to(tmp_path / "students" / "ann.json")
    assert records.read_student(tmp_path, "bob", key)[0] is None


def test_grades_csv_comes_from_the_records_given(tmp_path):
    records.prepare_output(tmp_path)
    given = [record("zed", (0.0, 2.0)), record("=cmd", (2.0, 2.0))]
    path = records.write_grades_csv(tmp_path, COURSE, None, given)
    rows = list(csv.reader(io.StringIO(path.read_text())))
    assert rows == [
        ["student", "0.1", "0.2", "total"],
        ["'=cmd", "2", "2", "4"],
        ["zed", "0", "2", "2"],
    ]


def test_grades_csv_says_when_the_sandbox_was_off(tmp_path):
    records.prepare_output(tmp_path)
    given = [record("ann", (2.0, 2.0), sandboxed=False)]
    text = records.write_grades_csv(tmp_path, COURSE, ["00"], given).read_text()
    assert text.startswith("# Graded with --no-sandbox")
    assert text.splitlines()[1] == "student,0.1,0.2,total"
