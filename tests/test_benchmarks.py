"""``python -m benchmarks``: one entry point that lists and runs every benchmark.

The benchmarks themselves take minutes to hours; these check the entry point,
that every file of ``benchmarks/`` belongs to a listed benchmark, that the
reproducing commands in the docs are the entry point's, and how sections of
docs/BENCHMARKS.md are rewritten.
"""

import ast
import re
from pathlib import Path

import pytest

from benchmarks import __main__ as entry
from benchmarks import reporting

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "benchmarks"


def test_the_list_names_every_benchmark_with_a_line_each(capsys):
    for argv in ([], ["--list"]):
        assert entry.main(argv) == 0
        lines = capsys.readouterr().out.splitlines()
        for name in [*entry.BENCHMARKS, "all"]:
            assert sum(line.split()[:1] == [name] for line in lines) == 1, name


@pytest.mark.parametrize("name", list(entry.BENCHMARKS))
def test_each_benchmark_takes_its_own_options_under_its_name(name, capsys):
    with pytest.raises(SystemExit) as stop:
        entry.main([name, "--help"])
    assert stop.value.code == 0
    assert f"usage: python -m benchmarks {name}" in capsys.readouterr().out


def test_unknown_names_and_options_say_what_is_expected(capsys):
    assert entry.main(["run"]) == 2
    error = capsys.readouterr().err
    assert "unknown benchmark 'run'" in error and "date_vs_seed" in error
    assert entry.main(["all", "--quick"]) == 2
    assert "only --no-write" in capsys.readouterr().err


def test_all_runs_every_benchmark_in_order_and_reports_a_failure(monkeypatch):
    calls = []

    def fake_run(name, argv):
        calls.append((name, argv))
        if name == "lesson_claims":
            raise RuntimeError("broken")
        return 0

    monkeypatch.setattr(entry, "run", fake_run)
    assert entry.main(["all", "--no-write"]) == 1
    assert calls == [(name, ["--no-write"]) for name in entry.BENCHMARKS]


def _imports(module: Path) -> set[str]:
    """The ``benchmarks`` modules that ``module`` imports."""
    names = set()
    for node in ast.walk(ast.parse(module.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module == "benchmarks":
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            if node.module.startswith("benchmarks."):
                names.add(node.module.split(".")[1])
    return names


def test_every_file_belongs_to_a_listed_benchmark():
    files = {p.stem for p in PACKAGE.glob("*.py")} - {"__init__", "__main__"}
    assert set(entry.BENCHMARKS) <= files
    reached, todo = set(), list(entry.BENCHMARKS)
    while todo:
        name = todo.pop()
        if name not in reached:
            reached.add(name)
            todo += _imports(PACKAGE / f"{name}.py")
    assert files - reached == set(), "files no benchmark uses"


def _documents():
    yield from (ROOT / "docs").glob("*.md")
    yield from (ROOT / "README.md", ROOT / "Makefile")
    yield from PACKAGE.glob("*.py")
    yield from (ROOT / "tests").glob("test_*.py")
    for folder in ("solutions", "lessons"):
        yield from (ROOT / folder).glob("*.ipynb")


def test_reproducing_commands_use_the_entry_point():
    old = re.compile(
        r"python -m benchmarks\.\w|python benchmarks/|benchmarks/\w+\.py\b \w"
    )
    for path in _documents():
        found = [m.group(0) for m in old.finditer(path.read_text())]
        assert path == Path(__file__) or not found, (
            path,
            found,
        )  # this file: the regex
    text = (ROOT / "docs" / "BENCHMARKS.md").read_text()
    named = set(re.findall(r"Reproduce: `python -m benchmarks (\w+)", text))
    assert named == set(entry.BENCHMARKS)
    assert "python -m benchmarks all" in (ROOT / "Makefile").read_text()


def test_a_subsection_is_replaced_or_added_in_its_place(tmp_path):
    doc = tmp_path / "BENCHMARKS.md"
    doc.write_text("# Benchmarks\n\n## Other\n\nkept\n")
    order = ["A", "B", "C"]
    for title, body in (("C", "c1"), ("A", "a1"), ("B", "b1"), ("A", "a2")):
        lines = [f"### {title}", "", body, ""]
        reporting.write_subsection(doc, "Apps", "The intro.", title, lines, order)
    text = doc.read_text()
    assert text.count("## Apps\n\nThe intro.\n") == 1 and "kept" in text
    assert re.findall(r"### (\w)\n\n(\w+)", text) == [
        ("A", "a2"),
        ("B", "b1"),
        ("C", "c1"),
    ]
    reporting.write_section(doc, "Other", "## Other\n\nnew\n")
    assert "kept" not in doc.read_text() and "### B\n\nb1" in doc.read_text()


def test_step_flops_are_three_times_the_forward_matrix_products():
    from benchmarks import step_efficiency
    from benchmarks.step_efficiency import Shapes

    # batch 2, src_len 5, tgt_len 6, embedding 3, units 4, vocab 7, one direction
    shapes = Shapes("tiny", 10, 7, 3, 4, False, 2, 5, 6)
    by_hand = (
        2 * 2 * 3 * 12 * 5  # encoder input: (2, 3) @ (3, 12), 5 steps
        + 2 * 2 * 4 * 12 * 5  # encoder recurrent: (2, 4) @ (4, 12), 5 steps
        + 2 * 10 * 4 * 4  # keys: (10, 4) @ (4, 4)
        + 2 * 2 * 4 * 4 * 6  # query: (2, 4) @ (4, 4), 6 steps
        + 2 * 2 * 7 * 12 * 6  # decoder input: (2, 4 + 3) @ (7, 12), 6 steps
        + 2 * 2 * 4 * 12 * 6  # decoder recurrent: (2, 4) @ (4, 12), 6 steps
        + 2 * 12 * 8 * 7  # projection: (2 * 6, 4 + 4) @ (8, 7)
    )
    assert by_hand == 6896
    assert shapes.step_flops() == 3 * by_hand
    # the attention's part: keys (10, 4) @ (4, 4) once, query (2, 4) @ (4, 4) 6 times
    assert step_efficiency.training_flops(shapes.attention_gemms()) == 3 * (320 + 384)


def test_step_efficiency_rows_time_the_seed_style_step_at_the_model_sizes():
    from benchmarks import step_efficiency

    shapes = step_efficiency.Shapes(
        "tiny", 11, 9, 4, 8, True, 4, 5, 6, dropout_rate=0.1
    )
    row = step_efficiency.measure(shapes, repeats=1, inner=1)
    seconds = row["seconds"]
    assert seconds["seed_style"] > 0 and seconds["same_function"] > 0
    best = min(seconds["step"], seconds["step_xla"])
    assert row["vs_seed"] == pytest.approx(seconds["seed_style"] / best)
    text = step_efficiency.render([row], "0.0")
    assert "| tiny | 4 x 5 x 6 |" in text and "seed-style step" in text
    assert text.count("|---") == 16  # one separator per column
    assert 0 < seconds["attention"] < seconds["gradients"] and seconds["step_while"] > 0
    assert row["bound"] > 0
