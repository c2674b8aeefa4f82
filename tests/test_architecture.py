"""The teaching modules follow the lesson order: none imports a later lesson's module.

Each module of ``s2s_helpers`` that a lesson teaches ends its docstring with
"Taught in: lessons/NN_...". A lesson then never needs a module it has not
met yet (lesson 04's decoder must not depend on lesson 06's training). A
module listed for several lessons is previewed in the earlier ones and taught
in the last one, so its lesson is the last. Imports are read with ``ast``
(those inside functions included), so nothing is imported to run this test.
"""

import ast
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "s2s_helpers"
TAUGHT_IN = re.compile(
    r"Taught in: (lessons/\d\d_\w+\.ipynb(?:, lessons/\d\d_\w+\.ipynb)*)"
)


def teaching_modules(package: Path) -> dict[str, int]:
    """Module name -> the lesson number that teaches it, from the docstrings."""
    lessons = {}
    for path in sorted(package.glob("*.py")):
        docstring = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")))
        found = TAUGHT_IN.search(docstring or "")
        if found:
            numbers = re.findall(r"lessons/(\d\d)_", found.group(1))
            lessons[path.stem] = max(int(number) for number in numbers)
    return lessons


def imported_modules(path: Path) -> set[str]:
    """The ``s2s_helpers`` modules a file imports, anywhere in it."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            parts = [alias.name.split(".") for alias in node.names]
            names |= {p[1] for p in parts if p[0] == "s2s_helpers" and len(p) > 1}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            parts = node.module.split(".")
            if parts[0] != "s2s_helpers":
                continue
            if len(parts) > 1:
                names.add(parts[1])
            else:  # from s2s_helpers import data, search
                names |= {alias.name for alias in node.names}
    return names


def later_imports(package: Path) -> list[str]:
    """Every import of a module taught in a later lesson than the importer's."""
    lessons = teaching_modules(package)
    found = []
    for module, lesson in sorted(lessons.items()):
        for name in sorted(imported_modules(package / f"{module}.py")):
            if name in lessons and lessons[name] > lesson:
                found.append(
                    f"{module} (lesson {lesson:02d}) imports {name} "
                    f"(lesson {lessons[name]:02d})"
                )
    return found


def test_the_teaching_modules_are_found_with_their_lessons():
    lessons = teaching_modules(PACKAGE)
    expected = {
        "data": 1,
        "encoder": 2,
        "attention": 3,
        "decoder": 4,
        "seq2seq": 4,
        "losses": 5,
        "scheduled_sampling": 6,
        "training": 6,
        "search": 7,
        "translator": 7,
        "speech": 10,
    }
    assert {name: lessons.get(name) for name in expected} == expected


def test_no_module_imports_a_module_of_a_later_lesson():
    assert later_imports(PACKAGE) == [], (
        "A module needs a concept the lessons teach later; move the concept to "
        "the module of the earlier lesson, or the code that needs it to the later one."
    )


@pytest.mark.parametrize(
    "source, expected",
    [
        ("from s2s_helpers.training import mix_tokens", {"training"}),
        ("from s2s_helpers import data, search", {"data", "search"}),
        ("import s2s_helpers.losses as losses", {"losses"}),
        ("def f():\n    from s2s_helpers.plotting import plot\n", {"plotting"}),
        ("from . import data\nimport numpy", set()),
    ],
)
def test_imports_are_read_in_every_form(tmp_path, source, expected):
    path = tmp_path / "module.py"
    path.write_text(source)
    assert imported_modules(path) == expected


def test_a_later_import_is_reported(tmp_path):
    """An early module importing a later one (the decoder importing training's
    ``mix_tokens``, as it once did) is reported."""
    (tmp_path / "decoder.py").write_text(
        '"""Taught in: lessons/04_decoder.ipynb"""\n'
        "from s2s_helpers.training import mix_tokens\n"
    )
    (tmp_path / "training.py").write_text(
        '"""Taught in: lessons/06_teacher_forcing.ipynb"""\n'
    )
    assert later_imports(tmp_path) == [
        "decoder (lesson 04) imports training (lesson 06)"
    ]
