"""Probes: the plan of a student notebook, the checks loaded fresh in a kernel,
and the validation of what a probe wrote (no kernel needed)."""

import json
import sys
import types

import pytest
from gradingtools import duplicated_cells

from s2s_helpers.instructor import probe_kernel, probes
from s2s_helpers.instructor.submissions import load_course


def test_plan_skips_check_cells_and_probes_after_the_last_exercise_cell():
    course = load_course()
    steps, missing = probes.plan_execution(duplicated_cells()["cells"], course["00"])
    kinds = [(step.kind, step.exercise) for step in steps]
    assert kinds[:2] == [("prelude", None), ("imports", None)]
    assert kinds[-1] == ("probe", "0.2")
    assert kinds.count(("probe", "0.1")) == 1 and missing == {}
    probe = kinds.index(("probe", "0.1"))
    assert kinds[probe - 1] == ("cell", "0.1")
    assert ("cell", "0.1") not in kinds[probe + 1 :]
    check_sources = {
        "checks.check_count_real_tokens(count_real_tokens)",
        "checks.check_padding_mask(padding_mask)",
    }
    assert not check_sources & {step.source for step in steps}


FRAMEWORK = """\
import json
from s2s_helpers.checks import arithmetic

def observe(exercise_id, function):
    return {"status": "observed", "value": arithmetic.double(function(3))}

def dumps_observation(observation):
    return json.dumps(observation)
"""


@pytest.fixture
def checks_dir(tmp_path):
    """A checks package of three modules: framework imports a helper module."""
    (tmp_path / "framework.py").write_text(FRAMEWORK)
    (tmp_path / "arithmetic.py").write_text("def double(x):\n    return 2 * x\n")
    (tmp_path / "lesson99.py").write_text("from s2s_helpers.checks import framework\n")
    return tmp_path


def test_fresh_checks_loads_the_whole_package_and_restores_the_notebooks(checks_dir):
    fake = types.ModuleType("s2s_helpers.checks.arithmetic")
    fake.double = lambda x: 0  # what a notebook could have planted
    planted = {
        "s2s_helpers.checks": types.ModuleType("s2s_helpers.checks"),
        "s2s_helpers.checks.arithmetic": fake,
    }
    saved = {name: sys.modules.get(name) for name in planted}
    sys.modules.update(planted)
    try:
        framework = probe_kernel.fresh_checks(str(checks_dir), "lesson99")
        assert framework.__file__ == str(checks_dir / "framework.py")
        assert framework.observe("9.9", lambda x: x + 1)["value"] == 8
        assert sys.modules["s2s_helpers.checks"] is planted["s2s_helpers.checks"]
        assert sys.modules["s2s_helpers.checks.arithmetic"] is fake
        assert "s2s_helpers.checks.lesson99" not in sys.modules
    finally:
        for name, module in saved.items():
            sys.modules.pop(name) if module is None else sys.modules.update(
                {name: module}
            )


def test_a_probe_writes_an_observation_the_grader_accepts(checks_dir, tmp_path):
    path = tmp_path / "observation.json"
    probe_kernel.probe(
        str(checks_dir), "lesson99", "9.9", str(path), "t0k", lambda: (abs,)
    )
    assert probes.read_observation("t0k", "9.9", path) == {
        "status": "observed",
        "value": 6,
    }
    with pytest.raises(probes.InvalidObservation, match="another probe"):
        probes.read_observation("other", "9.9", path)
    assert probes.read_observation("t0k", "9.9", tmp_path / "missing.json") is None


@pytest.mark.parametrize(
    "content, why",
    [
        ("{not json", "not JSON"),
        ('["a list"]', "keys of an observation"),
        ('{"token": "t", "exercise": "1.1", "observation": "{}", "x": 1}', "keys"),
        ('{"token": "t", "exercise": "2.2", "observation": "{}"}', "another probe"),
        ('{"token": "t", "exercise": "1.1", "observation": 3}', "not a string"),
        ('{"token": "t", "exercise": "1.1", "observation": "[1]"}', "malformed"),
        (
            json.dumps(
                {"token": "t", "exercise": "1.1", "observation": "[" * 99 + "]" * 99}
            ),
            "deeper",
        ),
    ],
)
def test_observations_that_break_the_schema_are_rejected(tmp_path, content, why):
    path = tmp_path / "observation.json"
    path.write_text(content)
    with pytest.raises(probes.InvalidObservation, match=why):
        probes.read_observation("t", "1.1", path)


def test_observations_are_size_limited_before_parsing(tmp_path, monkeypatch):
    monkeypatch.setattr(probes, "MAX_OBSERVATION_BYTES", 100)
    path = tmp_path / "observation.json"
    path.write_text(
        json.dumps({"token": "t", "exercise": "1.1", "observation": "x" * 200})
    )
    with pytest.raises(probes.InvalidObservation, match="larger than"):
        probes.read_observation("t", "1.1", path)
