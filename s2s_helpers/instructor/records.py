"""The grader's records: ``OUT/students/<student>.json``, feedback and ``grades.csv``.

Only the grader writes here, and no sandbox can reach ``OUT``. Each record
carries a keyed digest (HMAC-SHA256 with ``OUT/.grader-key``, made on the first
run and readable by the instructor only), so a re-run trusts only records the
grader wrote: one that was edited, forged or truncated is graded again.

Every file is written atomically (a temporary file, then a rename), and a
student's JSON is written after the feedback, so an interrupted run leaves
either a student's complete record or none. ``grades.csv`` is written from the
records held in memory (read once at the start of a run): one row per
student, one column per exercise, a total.

Used by: s2s-course grade (docs/INSTRUCTORS.md)
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import json
import os
import secrets
from pathlib import Path

from s2s_helpers.instructor.feedback import (
    UNSANDBOXED_NOTE,
    csv_text,
    feedback_html,
    feedback_markdown,
    format_points,
)
from s2s_helpers.instructor.submissions import LessonSpec

KEY_FILE = ".grader-key"
MAX_RECORD_BYTES = 16 * 2**20


def write_atomic(path: Path, text: str) -> None:
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


def prepare_output(out: Path) -> bytes:
    """Create ``OUT/students``, remove an interrupted run's temporary files.

    Returns:
        the key of the records' digests (made on the first run).
    """
    (out / "students").mkdir(parents=True, exist_ok=True)
    for stale in (out / "students").glob(".*.tmp"):
        stale.unlink(missing_ok=True)
    path = out / KEY_FILE
    if not path.exists():
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_hex(32))
    return bytes.fromhex(path.read_text().strip())


def digest(record: dict, key: bytes) -> str:
    """The keyed digest of a record (every field but ``digest``)."""
    fields = {name: value for name, value in record.items() if name != "digest"}
    text = json.dumps(fields, sort_keys=True, separators=(",", ":"))
    return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()


def write_student(out: Path, name: str, record: dict, key: bytes) -> dict:
    """``<name>.md`` and ``.html``, then the signed ``<name>.json`` (means done)."""
    record = {**record, "digest": digest(record, key)}
    folder = out / "students"
    write_atomic(folder / f"{name}.md", feedback_markdown(record))
    write_atomic(folder / f"{name}.html", feedback_html(record))
    write_atomic(folder / f"{name}.json", json.dumps(record, indent=1))
    return record


def read_student(out: Path, name: str, key: bytes) -> tuple[dict | None, str]:
    """(the saved record, "") or (None, why it is not trusted: "missing", ...)."""
    path = out / "students" / f"{name}.json"
    try:
        if path.is_symlink():
            return None, "not a regular file"
        with open(path, "rb") as handle:
            raw = handle.read(MAX_RECORD_BYTES + 1)
    except FileNotFoundError:
        return None, "missing"
    except OSError as error:
        return None, f"unreadable ({error.strerror})"
    try:
        record = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None, "not valid JSON (an interrupted run?)"
    if not isinstance(record, dict) or not isinstance(record.get("digest"), str):
        return None, "not a record of this grader"
    if not hmac.compare_digest(record["digest"], digest(record, key)):
        return None, "its digest does not match: it was changed after grading"
    return record, ""


def write_grades_csv(
    out: Path, course: dict[str, LessonSpec], lessons, records: list[dict]
) -> Path:
    """``grades.csv`` of these records: a column per exercise, a total.

    A class graded without the sandbox (any record) starts with a comment line
    saying so.
    """
    shown = (
        lessons
        if lessons is not None
        else sorted(
            {r["lesson"] for record in records for r in record["exercises"].values()}
        )
    )
    columns = [
        e.id for lesson in shown if lesson in course for e in course[lesson].exercises
    ]
    buffer = io.StringIO()
    if any(not record.get("sandboxed", True) for record in records):
        buffer.write(f"# {UNSANDBOXED_NOTE}\n")
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["student", *columns, "total"])
    for record in sorted(records, key=lambda record: record["student"]):
        points = [record["exercises"].get(c, {}).get("points", 0.0) for c in columns]
        row = [csv_text(record["student"]), *map(format_points, points)]
        writer.writerow(row + [format_points(sum(points))])
    path = out / "grades.csv"
    write_atomic(path, buffer.getvalue())
    return path
