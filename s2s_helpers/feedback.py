"""The grader's output: ``grades.csv`` and each student's feedback (JSON and Markdown).

``OUT/students/<student>.md`` is the feedback to send back; ``<student>.json``
holds the same as data and is what a re-run reads to decide whom to skip.
Every file is written atomically (a temporary file, then a rename), and a
student's JSON is written after the Markdown, so a run that is interrupted
leaves either a student's complete record or none. ``grades.csv`` is rebuilt
from the saved records: one row per student, one column per exercise, a total.

Used by: s2s-course grade (docs/INSTRUCTORS.md)
"""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path

from s2s_helpers.submissions import LessonSpec

LABELS = {
    "passed": "passed",
    "failed": "failed",
    "not_attempted": "not attempted",
    "error": "error",
    "timed_out": "timed out",
}


def format_points(value: float) -> str:
    """Points as people write them: ``2``, ``0.5``."""
    return f"{value:g}"


def score_text(record: dict) -> str:
    """A student's total out of the maximum, e.g. ``3/4``."""
    return f"{format_points(record['total'])}/{format_points(record['max_total'])}"


def write_atomic(path: Path, text: str) -> None:
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


def prepare_output(out: Path) -> None:
    """Create ``OUT/students`` and remove the temporary files of an interrupted run."""
    (out / "students").mkdir(parents=True, exist_ok=True)
    for stale in (out / "students").glob(".*.tmp"):
        stale.unlink(missing_ok=True)


def write_student(out: Path, key: str, record: dict) -> None:
    """``OUT/students/<key>.md``, then ``<key>.json`` (its presence means done)."""
    folder = out / "students"
    write_atomic(folder / f"{key}.md", feedback_markdown(record))
    write_atomic(folder / f"{key}.json", json.dumps(record, indent=1))


def read_student(out: Path, key: str) -> dict | None:
    """The saved record of a student, or None when there is no readable one."""
    try:
        path = out / "students" / f"{key}.json"
        record = json.loads(path.read_text(encoding="utf-8"))
        return record if isinstance(record, dict) and "exercises" in record else None
    except (OSError, ValueError):
        return None


def feedback_markdown(record: dict) -> str:
    """The readable feedback of one student."""
    lines = [
        f"# Feedback for {record['student']}",
        "",
        f"**Total: {format_points(record['total'])} / "
        f"{format_points(record['max_total'])} points.** "
        f"Graded {record['graded_at']}.",
        "",
    ]
    lines += [f"- {note}" for note in record["notes"]]
    by_lesson: dict[str, list] = {}
    for exercise_id, result in record["exercises"].items():
        by_lesson.setdefault(result["lesson"], []).append((exercise_id, result))
    for lesson, items in by_lesson.items():
        lines += _lesson_markdown(lesson, record["lessons"].get(lesson, {}), items)
    return "\n".join(lines) + "\n"


def _lesson_markdown(lesson: str, info: dict, items: list) -> list[str]:
    """A lesson's section: its notes, a table of its exercises, then each message."""
    notebook = f" (`{info['notebook']}`)" if info else " (not submitted)"
    lines = ["", f"## Lesson {lesson}{notebook}", ""]
    lines += [f"- {note}" for note in info.get("notes", [])]
    lines += ["| exercise | points | result |", "|---|---|---|"]
    for exercise_id, result in items:
        lines.append(
            f"| {exercise_id} {result['title']} | "
            f"{format_points(result['points'])} / "
            f"{format_points(result['max_points'])} | {LABELS[result['status']]} |"
        )
    for exercise_id, result in items:
        lines += [
            "",
            f"### Exercise {exercise_id} ({result['title']}): "
            f"{LABELS[result['status']]}",
            "",
            "```text",
            result["message"].replace("```", "'''"),
            "```",
        ]
    return lines


def write_grades_csv(out: Path, course: dict[str, LessonSpec], lessons) -> Path:
    """``grades.csv`` from every saved record: a column per exercise, a total."""
    records = []
    for path in sorted((out / "students").glob("*.json")):
        try:
            records.append(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError):
            continue
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
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["student", *columns, "total"])
    for record in sorted(records, key=lambda record: record["student"]):
        points = [record["exercises"].get(c, {}).get("points", 0.0) for c in columns]
        writer.writerow(
            [record["student"], *map(format_points, points), format_points(sum(points))]
        )
    path = out / "grades.csv"
    write_atomic(path, buffer.getvalue())
    return path
