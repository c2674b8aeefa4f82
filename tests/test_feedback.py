"""Feedback: student-controlled text is shown as data in Markdown, HTML and CSV."""

import html

import pytest

from s2s_helpers.instructor import feedback

RECORD = {
    "student": "<b>eve</b> **x** \x1b[31m",
    "total": 0.0,
    "max_total": 2.0,
    "graded_at": "2026-01-01T00:00:00+00:00",
    "sandboxed": True,
    "notes": ["file <script>.ipynb was ignored\x1b]0;title\x07"],
    "lessons": {"00": {"notebook": "`x`.ipynb", "notes": [], "seconds": 1.0}},
    "exercises": {
        "0.1": {
            "lesson": "00",
            "title": "Count",
            "status": "error",
            "points": 0.0,
            "max_points": 2.0,
            "message": "ValueError: ```\n<img src=x>\x1b[2J",
        }
    },
}


@pytest.mark.parametrize(
    "text, expected",
    [
        ("red \x1b[31mtext\x1b[0m", "red text"),
        ("title \x1b]0;pwned\x07 done", "title  done"),
        ("bell\x07 and nul\x00 and \x9b2J c1", "bell and nul and  c1"),
        ("two\nlines\ttab", "two\nlines    tab"),
    ],
)
def test_plain_text_strips_escape_sequences_and_controls(text, expected):
    assert feedback.plain_text(text) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("=1+2", "'=1+2"),
        ("+SUM(A1)", "'+SUM(A1)"),
        ("-2", "'-2"),
        ("@cmd", "'@cmd"),
        ("\x1b[0m=1", "'=1"),
        ("alice", "alice"),
        ("a=b", "a=b"),
    ],
)
def test_csv_cells_that_start_a_formula_are_neutralised(text, expected):
    assert feedback.csv_text(text) == expected


def test_markdown_feedback_escapes_every_student_text():
    markdown = feedback.feedback_markdown(RECORD)
    assert "<b>" not in markdown and "<script>" not in markdown
    assert "\x1b" not in markdown and "\x07" not in markdown
    assert "&lt;b&gt;eve&lt;/b&gt; \\*\\*x\\*\\*" in markdown
    # the message's own ``` cannot close the code block it is shown in
    fence = "````"
    assert f"{fence}text\nValueError: ```\n<img src=x>\n{fence}" in markdown


def test_html_feedback_escapes_every_student_text():
    page = feedback.feedback_html(RECORD)
    assert "<b>eve" not in page and "<img" not in page and "<script>" not in page
    assert "\x1b" not in page
    assert html.escape("<img src=x>") in page and "&lt;script&gt;.ipynb" in page


def test_feedback_records_a_class_graded_without_the_sandbox():
    unsandboxed = {**RECORD, "sandboxed": False}
    assert feedback.UNSANDBOXED_NOTE in feedback.feedback_markdown(unsandboxed)
    assert feedback.UNSANDBOXED_NOTE not in feedback.feedback_markdown(RECORD)
    assert "--no-sandbox" in feedback.feedback_html(unsandboxed)
