"""The grader's feedback to a student, in Markdown and HTML, and text made safe.

Everything a student controls (their folder and file names, error messages,
notes) is data: ANSI escape sequences and other control characters are
stripped (``plain_text``), Markdown and HTML are escaped where the text is
shown (``markdown_text``, ``html.escape``) and code blocks cannot be closed
early; a CSV cell that a spreadsheet would run as a formula is neutralised
(``csv_text``).

Used by: s2s-course grade (docs/INSTRUCTORS.md)
"""

from __future__ import annotations

import html
import re

LABELS = {
    "passed": "passed",
    "failed": "failed",
    "not_attempted": "not attempted",
    "error": "error",
    "timed_out": "timed out",
}
# CSI and OSC sequences, other escapes, then every control character but \n, \t
_ANSI = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-_]?|\x9b[0-?]*[ -/]*[@-~]"
)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~>])")
UNSANDBOXED_NOTE = (
    "Graded with --no-sandbox: student code ran with the grader's rights, "
    "without the operating-system sandbox."
)


def plain_text(text) -> str:
    """``text`` without ANSI escape sequences and control characters (but ``\\n``)."""
    text = _ANSI.sub("", str(text))
    return _CONTROL.sub("", text.replace("\r\n", "\n").replace("\t", "    "))


def markdown_text(text) -> str:
    """Plain text that Markdown shows as written: HTML and Markdown escaped, one line."""
    text = html.escape(plain_text(text).replace("\n", " "), quote=True)
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


def csv_text(text) -> str:
    """A CSV cell a spreadsheet shows as text: no leading ``= + - @`` formula."""
    text = plain_text(text).replace("\n", " ")
    return "'" + text if text[:1] in {"=", "+", "-", "@", "\t", "\r"} else text


def format_points(value: float) -> str:
    """Points as people write them: ``2``, ``0.5``."""
    return f"{value:g}"


def score_text(record: dict) -> str:
    """A student's total out of the maximum, e.g. ``3/4``."""
    return f"{format_points(record['total'])}/{format_points(record['max_total'])}"


def feedback_markdown(record: dict) -> str:
    """The readable feedback of one student (Markdown, student text escaped)."""
    lines = [
        f"# Feedback for {markdown_text(record['student'])}",
        "",
        f"**Total: {format_points(record['total'])} / "
        f"{format_points(record['max_total'])} points.** "
        f"Graded {record['graded_at']}.",
        "",
    ]
    if not record.get("sandboxed", True):
        lines += [f"- {UNSANDBOXED_NOTE}"]
    lines += [f"- {markdown_text(note)}" for note in record["notes"]]
    for lesson, items in _by_lesson(record).items():
        lines += _lesson_markdown(lesson, record["lessons"].get(lesson, {}), items)
    return "\n".join(lines) + "\n"


def _by_lesson(record: dict) -> dict[str, list]:
    by_lesson: dict[str, list] = {}
    for exercise_id, result in record["exercises"].items():
        by_lesson.setdefault(result["lesson"], []).append((exercise_id, result))
    return by_lesson


def _lesson_markdown(lesson: str, info: dict, items: list) -> list[str]:
    """A lesson's section: its notes, a table of its exercises, then each message."""
    notebook = f" ({markdown_text(info['notebook'])})" if info else " (not submitted)"
    lines = ["", f"## Lesson {lesson}{notebook}", ""]
    lines += [f"- {markdown_text(note)}" for note in info.get("notes", [])]
    lines += ["| exercise | points | result |", "|---|---|---|"]
    for exercise_id, result in items:
        lines.append(
            f"| {exercise_id} {markdown_text(result['title'])} | "
            f"{format_points(result['points'])} / "
            f"{format_points(result['max_points'])} | {LABELS[result['status']]} |"
        )
    for exercise_id, result in items:
        fence = "`" * max(3, _longest_backticks(result["message"]) + 1)
        lines += [
            "",
            f"### Exercise {exercise_id} ({markdown_text(result['title'])}): "
            f"{LABELS[result['status']]}",
            "",
            f"{fence}text",
            plain_text(result["message"]),
            fence,
        ]
    return lines


def _longest_backticks(text: str) -> int:
    return max((len(run) for run in re.findall(r"`+", text)), default=0)


def feedback_html(record: dict) -> str:
    """The same feedback as a standalone HTML page; every text is escaped."""

    def e(text) -> str:
        return html.escape(plain_text(text), quote=True)

    parts = [
        "<!DOCTYPE html>",
        f"<html><head><meta charset='utf-8'><title>Feedback for "
        f"{e(record['student'])}</title></head><body>",
        f"<h1>Feedback for {e(record['student'])}</h1>",
        f"<p><strong>Total: {e(score_text(record))} points.</strong> "
        f"Graded {e(record['graded_at'])}.</p>",
    ]
    notes = list(record["notes"])
    if not record.get("sandboxed", True):
        notes.insert(0, UNSANDBOXED_NOTE)
    parts += [f"<ul>{''.join(f'<li>{e(note)}</li>' for note in notes)}</ul>"]
    for lesson, items in _by_lesson(record).items():
        info = record["lessons"].get(lesson, {})
        parts.append(
            f"<h2>Lesson {e(lesson)} ({e(info.get('notebook', 'not submitted'))})</h2>"
        )
        parts += [f"<p>{e(note)}</p>" for note in info.get("notes", [])]
        for exercise_id, result in items:
            parts.append(
                f"<h3>Exercise {e(exercise_id)} ({e(result['title'])}): "
                f"{e(LABELS[result['status']])}, {e(format_points(result['points']))} / "
                f"{e(format_points(result['max_points']))}</h3>"
                f"<pre>{e(result['message'])}</pre>"
            )
    return "\n".join(parts + ["</body></html>"]) + "\n"
