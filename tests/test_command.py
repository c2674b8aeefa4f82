"""The ``s2s-course grade`` command: errors are reported, and it fails closed."""

import io
from contextlib import redirect_stdout

from gradingtools import write_submissions

from s2s_helpers.instructor import command, feedback, sandbox


def test_command_line_errors_are_reported_not_raised(tmp_path):
    (tmp_path / "submissions").mkdir()
    out = str(tmp_path / "out")
    with redirect_stdout(io.StringIO()) as printed:
        assert command.grade_main([str(tmp_path / "nowhere"), "--out", out]) == 2
        arguments = [str(tmp_path / "submissions"), "--out", out, "--lessons", "42"]
        assert command.grade_main(arguments) == 2
    assert "unknown lesson" in printed.getvalue()


def test_without_a_sandbox_grade_refuses_unless_no_sandbox(tmp_path, monkeypatch):
    write_submissions(tmp_path / "submissions", {"empty": ({}, None, None)})
    monkeypatch.setattr(sandbox, "unavailable_reason", lambda: "namespaces are off")
    out = tmp_path / "out"
    arguments = [str(tmp_path / "submissions"), "--out", str(out), "--quiet"]
    with redirect_stdout(io.StringIO()) as printed:
        assert command.grade_main(arguments) == 2
    assert "namespaces are off" in printed.getvalue()
    assert "--no-sandbox" in printed.getvalue() and not out.exists()
    with redirect_stdout(io.StringIO()):
        assert command.grade_main([*arguments, "--no-sandbox"]) == 0
    header = (out / "grades.csv").read_text().splitlines()[:2]
    assert header == [f"# {feedback.UNSANDBOXED_NOTE}", "student,total"]
    for suffix in (".md", ".html"):
        text = (out / "students" / f"empty{suffix}").read_text()
        assert "Graded with --no-sandbox" in text
