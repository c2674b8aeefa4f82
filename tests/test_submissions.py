"""Submissions: who the students are and which notebook of theirs is graded."""

import json

from gradingtools import NAME, SOLUTION

from s2s_helpers.instructor import submissions
from s2s_helpers.instructor.submissions import find_students


def make(folder, files: dict) -> None:
    for name, text in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def test_links_are_refused_and_hidden_entries_reported(tmp_path):
    make(
        tmp_path,
        {f"ann/{NAME}": "{}", "ann/.secret.ipynb": "{}", ".hidden/x.ipynb": "{}"},
    )
    make(tmp_path, {"ann/.ipynb_checkpoints/y.ipynb": "{}", "readme.txt": "hi"})
    (tmp_path / "bob").mkdir()
    (tmp_path / "bob" / NAME).symlink_to(tmp_path / "ann" / NAME)
    (tmp_path / "bob" / "sub").symlink_to(tmp_path / "ann")
    (tmp_path / "carl").symlink_to(tmp_path / "ann")
    (tmp_path / "dan.ipynb").symlink_to(tmp_path / "ann" / NAME)
    students, ignored = find_students(tmp_path)
    by_name = {student.name: student for student in students}
    assert sorted(by_name) == ["ann", "bob"]
    assert by_name["ann"].files == [tmp_path / "ann" / NAME]
    assert sorted(by_name["ann"].notes) == [
        ".ipynb_checkpoints was ignored: hidden (its name starts with '.').",
        ".secret.ipynb was ignored: hidden (its name starts with '.').",
    ]
    assert by_name["bob"].files == []
    assert [note.split(" ")[0] for note in by_name["bob"].notes] == [NAME, "sub"]
    assert all("symbolic link" in note for note in by_name["bob"].notes)
    assert sorted(note.split(" ")[0] for note in ignored) == [
        ".hidden",
        "carl",
        "dan.ipynb",
        "readme.txt",
    ]


def test_odd_names_get_safe_unique_keys_and_a_note(tmp_path):
    for name in ["a b", "a_b", "eve\x1b[31m", "=1+2"]:
        make(tmp_path, {f"{name}/{NAME}": "{}"})
    students, _ = find_students(tmp_path)
    keys = [student.key for student in students]
    assert len(set(keys)) == 4
    assert all(
        set(key) <= set("abcdefghijklmnopqrstuvwxyz0123456789_-.") for key in keys
    )
    eve = next(student for student in students if student.name.startswith("eve"))
    assert "cannot be shown" in eve.notes[-1] and "\\x1b" in eve.notes[-1]


def test_notebooks_are_size_checked_before_parsing(tmp_path, monkeypatch):
    path = tmp_path / NAME
    path.write_text(json.dumps(SOLUTION))
    assert submissions.read_student_notebook(path)["cells"]
    monkeypatch.setattr(submissions, "MAX_NOTEBOOK_BYTES", 1000)
    parsed = []
    monkeypatch.setattr(submissions.json, "loads", lambda *a: parsed.append(a))
    try:
        submissions.read_student_notebook(path)
    except submissions.UnreadableNotebook as error:
        assert "larger than" in str(error)
    else:
        raise AssertionError("a notebook over the size limit was read")
    assert parsed == []


def test_each_notebook_is_parsed_once(tmp_path, monkeypatch):
    make(tmp_path, {f"ann/{NAME}": json.dumps(SOLUTION), "ann/old.ipynb": "{bad"})
    course = submissions.load_course()
    [student], _ = find_students(tmp_path)
    calls = []
    read = submissions.read_student_notebook
    monkeypatch.setattr(
        submissions, "read_student_notebook", lambda p: calls.append(p) or read(p)
    )
    chosen, notes = submissions.choose_notebooks(student, course, None)
    assert sorted(calls) == sorted(student.files)
    path, notebook = chosen["00"]
    assert path.name == NAME and notebook["cells"]
    assert [note.split(":")[0] for note in notes] == ["old.ipynb was ignored"]
