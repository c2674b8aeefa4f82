"""Lessons are generated from solutions: stubs, sync, metadata, no outputs."""

import io
import json
import shutil
import subprocess
import sys
from contextlib import redirect_stdout
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from s2s_helpers import checks
from s2s_helpers.checks import framework
from s2s_helpers.instructor import notebooks

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = ROOT / "solutions"
LESSONS = ROOT / "lessons"
STORED = sorted(SOLUTIONS.glob("*.ipynb")) + sorted(LESSONS.glob("*.ipynb"))


def nbgrader_cell(source, grade_id, *, solution, points=None):
    cell = new_code_cell(source)
    cell.metadata["nbgrader"] = {
        "grade": not solution,
        "grade_id": grade_id,
        "locked": not solution,
        "schema_version": 3,
        "solution": solution,
        "task": False,
    }
    if points is not None:
        cell.metadata["nbgrader"]["points"] = points
    return cell


SYNTHETIC_SOURCE = """\
import numpy as np

def masked_softmax(scores, mask):
    \"\"\"Docstring stays.\"\"\"
    # BEGIN SOLUTION
    scores = np.where(mask, scores, -1e9)
    return np.exp(scores) / np.exp(scores).sum(-1, keepdims=True)
    # END SOLUTION

class Layer:
    def call(self, x):
        if x is not None:
            ### BEGIN SOLUTION
            return x * 2
            ### END SOLUTION
        return x

# BEGIN SOLUTION
CONSTANT = 3
# END SOLUTION
print("after")"""

SYNTHETIC_EXPECTED = """\
import numpy as np

def masked_softmax(scores, mask):
    \"\"\"Docstring stays.\"\"\"
    # YOUR CODE HERE
    raise NotImplementedError()

class Layer:
    def call(self, x):
        if x is not None:
            # YOUR CODE HERE
            raise NotImplementedError()
        return x

# YOUR CODE HERE
raise NotImplementedError()
print("after")"""


def synthetic_solution():
    return new_notebook(
        cells=[
            new_markdown_cell("# Lesson 99"),
            new_code_cell("import numpy as np", execution_count=3),
            nbgrader_cell(SYNTHETIC_SOURCE, "exercise-99-1", solution=True),
            nbgrader_cell(
                "checks.check_masked_softmax(masked_softmax)",
                "check-99-1",
                solution=False,
                points=2,
            ),
        ],
        metadata={"s2s_course": {"lesson": "99"}},
    )


def test_solution_regions_become_stubs_at_their_indentation():
    assert notebooks.clear_solutions(SYNTHETIC_SOURCE) == SYNTHETIC_EXPECTED


def test_stubs_match_nbgrader_clear_solutions_byte_for_byte():
    clear_solutions = pytest.importorskip(
        "nbgrader.preprocessors", reason="nbgrader is not installed ([grading] extra)"
    ).ClearSolutions
    cell = synthetic_solution().cells[2]
    clear_solutions()._replace_solution_region(cell, "python")
    assert cell.source == notebooks.clear_solutions(SYNTHETIC_SOURCE)


@pytest.mark.parametrize(
    "source, problem",
    [
        ("def f():\n    return 1", "needs a '# BEGIN SOLUTION'"),
        ("# BEGIN SOLUTION\nx = 1", "without 'END SOLUTION'"),
        ("x = 1\n# END SOLUTION", "without 'BEGIN SOLUTION'"),
        ("# BEGIN SOLUTION\n# BEGIN SOLUTION\n# END SOLUTION", "nested"),
    ],
)
def test_malformed_exercise_cells_are_reported_with_notebook_and_cell(source, problem):
    notebook = synthetic_solution()
    notebook.cells[2].source = source
    with pytest.raises(notebooks.NotebookError) as error:
        notebooks.to_lesson(notebook, "99_synthetic.ipynb")
    assert problem in str(error.value)
    assert "99_synthetic.ipynb, cell 2, exercise-99-1" in str(error.value)


def test_repeated_grade_ids_are_reported(tmp_path):
    notebook = synthetic_solution()
    notebook.cells.append(notebook.cells[3].copy())
    with pytest.raises(notebooks.NotebookError, match="cell 4, check-99-1.*repeats"):
        notebooks.validate(notebook, "99_synthetic.ipynb")
    solutions = tmp_path / "solutions"
    solutions.mkdir()
    nbformat.write(synthetic_solution(), solutions / "98_a.ipynb")
    nbformat.write(synthetic_solution(), solutions / "99_b.ipynb")
    with pytest.raises(notebooks.NotebookError, match="99_b.ipynb.*also used in 98_a"):
        notebooks.make_lessons(solutions, tmp_path / "lessons")
    assert not (tmp_path / "lessons").exists()


def test_delimiters_outside_exercise_cells_are_rejected():
    notebook = synthetic_solution()
    notebook.cells[1].source = "# BEGIN SOLUTION\nx = 1\n# END SOLUTION"
    with pytest.raises(notebooks.NotebookError, match="cell 1: solution delimiters"):
        notebooks.validate(notebook, "99_synthetic.ipynb")


def test_lesson_cells_checks_tagged_outputs_cleared_and_idempotent(tmp_path):
    solutions, lessons = tmp_path / "solutions", tmp_path / "lessons"
    solutions.mkdir()
    solution = synthetic_solution()
    solution.cells[1].outputs = [nbformat.v4.new_output("stream", text="hi\n")]
    nbformat.write(solution, solutions / "99_synthetic.ipynb")

    assert notebooks.make_lessons(solutions, lessons) == [
        lessons / "99_synthetic.ipynb"
    ]
    text = (lessons / "99_synthetic.ipynb").read_text()
    lesson = nbformat.reads(text, as_version=4)
    assert lesson.cells[2].source == SYNTHETIC_EXPECTED
    assert lesson.cells[3].metadata["tags"] == ["raises-exception"]
    assert lesson.cells[3].metadata["nbgrader"]["locked"] is True
    assert lesson.cells[1].outputs == [] and lesson.cells[1].execution_count is None
    assert text.endswith("}\n") and text == nbformat.writes(lesson) + "\n"

    assert notebooks.make_lessons(solutions, lessons) == []  # idempotent
    assert (lessons / "99_synthetic.ipynb").read_text() == text
    assert notebooks.lessons_in_sync(solutions, lessons) == []

    solution.cells[0].source = "# Lesson 99, edited"
    nbformat.write(solution, solutions / "99_synthetic.ipynb")
    shutil.copy(lessons / "99_synthetic.ipynb", lessons / "42_removed.ipynb")
    assert notebooks.lessons_in_sync(solutions, lessons) == [
        "99_synthetic.ipynb",
        "42_removed.ipynb",
    ]
    arguments = ["--solutions", str(solutions), "--lessons", str(lessons)]
    with redirect_stdout(io.StringIO()) as printed:
        assert notebooks.make_lessons_main([*arguments, "--check"]) == 1
        (lessons / "42_removed.ipynb").unlink()
        assert notebooks.make_lessons_main(arguments) == 0
        assert notebooks.make_lessons_main([*arguments, "--check"]) == 0
    assert "out of sync" in printed.getvalue()


def test_strip_outputs(tmp_path):
    path = tmp_path / "run.ipynb"
    notebook = synthetic_solution()
    notebook.cells[1].outputs = [nbformat.v4.new_output("stream", text="hi\n")]
    notebook.cells[1].metadata["execution"] = {"iopub.status.busy": "2024"}
    nbformat.write(notebook, path)
    assert notebooks.strip_outputs(path) is True
    cell = notebooks.read_notebook(path).cells[1]
    assert cell.outputs == [] and cell.execution_count is None
    assert "execution" not in cell.metadata
    assert notebooks.strip_outputs(path) is False


def test_check_call_parsing():
    assert notebooks.check_call("checks.check_mask(padding_mask)") == (
        "check_mask",
        ["padding_mask"],
    )
    assert notebooks.check_call("checks.check_step(Decoder, attention.Bahdanau)")[
        1
    ] == [
        "Decoder",
        "attention.Bahdanau",
    ]
    for bad in ("x = checks.check_a(f)", "print(f)", "checks.check_a(f)\nf", "f("):
        with pytest.raises(notebooks.NotebookError):
            notebooks.check_call(bad)


# --- the repository's own notebooks ----------------------------------------


def test_lessons_are_in_sync_with_solutions():
    differing = notebooks.lessons_in_sync(SOLUTIONS, LESSONS)
    assert differing == [], (
        f"lessons/ is out of date for {differing}: run `s2s-course make-lessons`"
    )


@pytest.mark.parametrize("path", STORED, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_stored_notebooks_have_no_outputs(path):
    notebook = json.loads(path.read_text(encoding="utf-8"))
    for index, cell in enumerate(notebook["cells"]):
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [], f"{path.name} cell {index} has outputs"
            assert cell["execution_count"] is None, f"{path.name} cell {index}"


def solution_cells():
    """(notebook name, cell index, cell) of every solution notebook's cells."""
    for path in sorted(SOLUTIONS.glob("*.ipynb")):
        for index, cell in enumerate(notebooks.read_notebook(path).cells):
            yield path.name, index, cell


def test_grade_ids_are_unique_across_the_course():
    seen = {}
    for name, _, cell in solution_cells():
        grade_id = notebooks.nbgrader_metadata(cell).get("grade_id")
        if grade_id is not None:
            assert grade_id not in seen, f"{grade_id} in {name} and {seen[grade_id]}"
            seen[grade_id] = name


def test_every_exercise_has_one_exercise_cell_and_one_check_cell_with_points():
    found = {"exercise": {}, "check": {}}
    for name, index, cell in solution_cells():
        role = notebooks.cell_role(cell)
        if role is None:
            continue
        exercise_id = notebooks.exercise_id_of(cell)
        assert exercise_id in checks.EXERCISES, (
            f"{name}, cell {index}: exercise {exercise_id} is not registered in "
            "s2s_helpers.checks"
        )
        found[role].setdefault(exercise_id, []).append(name)
        if role == "check":
            assert notebooks.nbgrader_metadata(cell).get("points", 0) > 0, name
    for exercise_id in checks.EXERCISES:
        for role in ("exercise", "check"):
            assert len(found[role].get(exercise_id, [])) == 1, (
                f"Exercise {exercise_id} needs exactly one {role} cell in solutions/, "
                f"found {found[role].get(exercise_id, [])}"
            )


def test_each_check_cell_checks_the_exercise_of_its_grade_id():
    for name, index, cell in solution_cells():
        if notebooks.cell_role(cell) != "check":
            continue
        exercise_id = notebooks.exercise_id_of(cell)
        function, arguments = notebooks.check_call(notebooks.cell_source(cell))

        def stub(*args, **kwargs):
            raise NotImplementedError()

        with redirect_stdout(io.StringIO()):
            with pytest.raises((NotImplementedError, checks.CheckFailed)) as raised:
                getattr(checks, function)(*[stub] * len(arguments))
        assert f"Exercise {exercise_id} (" in str(raised.value), (
            f"{name}, cell {index}: {function} does not check Exercise {exercise_id}"
        )


def test_check_cell_is_the_next_code_cell_after_its_exercise_cell():
    """The grader probes right after the exercise cell, where the check cell is."""
    for path in sorted(SOLUTIONS.glob("*.ipynb")):
        code = [c for c in notebooks.read_notebook(path).cells if c.cell_type == "code"]
        for cell, following in zip(code, code[1:] + [None], strict=True):
            if notebooks.cell_role(cell) == "exercise":
                exercise_id = notebooks.exercise_id_of(cell)
                assert (
                    following is not None and notebooks.cell_role(following) == "check"
                )
                assert notebooks.exercise_id_of(following) == exercise_id, path.name


def test_registered_grade_ids_match_the_framework():
    for exercise_id in checks.EXERCISES:
        grade_id = framework.grade_id_for(exercise_id, "check")
        assert framework.parse_grade_id(grade_id) == ("check", exercise_id)


def test_nbgrader_generate_assignment_gives_the_lessons(tmp_path):
    pytest.importorskip(
        "nbgrader", reason="nbgrader is not installed ([grading] extra)"
    )
    source = tmp_path / "source" / "course"
    shutil.copytree(SOLUTIONS, source)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "nbgrader",
            "generate_assignment",
            "course",
            f"--CourseDirectory.root={tmp_path}",
            "--no-db",
            "--force",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    for lesson in sorted(LESSONS.glob("*.ipynb")):
        released = notebooks.read_notebook(
            tmp_path / "release" / "course" / lesson.name
        )
        ours = notebooks.read_notebook(lesson)
        code = [
            [c.source for c in nb.cells if c.cell_type == "code"]
            for nb in (released, ours)
        ]
        assert code[0] == code[1], lesson.name


def _private_names_used(source: str) -> list[str]:
    """``module._name`` / ``Class._name`` references to s2s_helpers' private names."""
    import inspect
    import pkgutil
    import re

    import s2s_helpers

    owners = set()
    for info in pkgutil.iter_modules(s2s_helpers.__path__):
        owners.add(info.name)
        module = __import__(f"s2s_helpers.{info.name}", fromlist=["_"])
        owners.update(
            name
            for name, value in vars(module).items()
            if inspect.isclass(value) and value.__module__.startswith("s2s_helpers")
        )
    found = re.findall(r"\b([A-Za-z]\w*)\.(_[A-Za-z]\w*)", source)
    return sorted({f"{owner}.{name}" for owner, name in found if owner in owners})


def test_private_name_detector_finds_module_and_class_attributes():
    source = "k = training._inverse_sigmoid_k(10)\nTrainer._train_step_fn\nx._y\n"
    assert _private_names_used(source) == [
        "Trainer._train_step_fn",
        "training._inverse_sigmoid_k",
    ]
    assert _private_names_used("training.inverse_sigmoid_k(10)") == []


@pytest.mark.parametrize("path", STORED, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_notebooks_use_only_public_names_of_s2s_helpers(path):
    notebook = nbformat.read(path, as_version=4)
    source = "\n".join(cell.source for cell in notebook.cells)
    used = _private_names_used(source)
    assert not used, (
        f"{path.name} names private parts of s2s_helpers: {used}; expected public "
        "names only (learners read them). Use or add a public name instead."
    )


MAX_CELL_LINES = 15  # STYLE.md: a code cell holds one idea


@pytest.mark.parametrize(
    "path", sorted(SOLUTIONS.glob("*.ipynb")), ids=lambda p: p.stem
)
def test_code_cells_are_at_most_fifteen_lines(path):
    notebook = json.loads(path.read_text(encoding="utf-8"))
    long = [
        (cell.get("id"), len("".join(cell["source"]).splitlines()))
        for cell in notebook["cells"]
        if cell["cell_type"] == "code"
        and len("".join(cell["source"]).splitlines()) > MAX_CELL_LINES
    ]
    assert long == [], f"code cells over {MAX_CELL_LINES} lines (id, lines): {long}"
