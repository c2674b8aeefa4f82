"""The check machinery itself: outcomes, safe observations, hints, solutions."""

import json

import numpy as np
import pytest

from s2s_helpers import checks
from s2s_helpers.checks import framework


def test_observation_json_round_trip_keeps_arrays_and_types():
    observation = {
        "weights": np.arange(6, dtype="float32").reshape(2, 3),
        "ids": np.array([1, 2], np.int32),
        "n": np.int64(3),
        "ok": True,
        "nested": [{"mask": np.array([True, False])}],
        "text": "é",
    }
    again = framework.loads_observation(framework.dumps_observation(observation))
    assert again["weights"].dtype == np.float32 and again["weights"].shape == (2, 3)
    np.testing.assert_array_equal(again["ids"], observation["ids"])
    assert again["n"] == 3 and again["ok"] is True and again["text"] == "é"
    assert again["nested"][0]["mask"].dtype == bool
    with pytest.raises(ValueError, match="JSON object"):
        framework.loads_observation("[1, 2]")


def test_expect_close_names_the_first_matching_known_mistake():
    expected = np.array([0.2, 0.8])
    framework.expect_close("w", np.array([0.2, 0.8]), expected)
    with pytest.raises(framework.CheckFailed, match="softmax over the wrong axis"):
        framework.expect_close(
            "w",
            np.array([0.5, 0.5]),
            expected,
            known_mistakes={"softmax over the wrong axis": np.array([0.5, 0.5])},
        )
    with pytest.raises(framework.CheckFailed, match="largest difference 0.1"):
        framework.expect_close("w", np.array([0.3, 0.8]), expected)
    with pytest.raises(framework.CheckFailed, match="NaN or inf"):
        framework.expect_close("w", np.array([np.nan, 0.8]), expected)
    with pytest.raises(framework.CheckFailed, match="wrong shape"):
        framework.expect_shape("w", np.zeros((2, 3)), (3, 2), "batch, src_len")


def test_three_outcomes_on_a_registered_exercise(capsys):
    exercise_id = "0.1"
    assert (
        framework.outcome(exercise_id, {"status": "not_attempted"})[0]
        == "not_attempted"
    )
    status, message = framework.outcome(
        exercise_id, {"status": "error", "error": "TypeError: x"}
    )
    assert status == "error" and "TypeError: x" in message and "Hint:" in message
    with pytest.raises(NotImplementedError, match="not attempted yet"):
        framework.verdict(exercise_id, {"status": "not_attempted"})
    assert (
        framework.run(exercise_id, lambda ids: np.sum(np.asarray(ids) != 0, axis=1))
        is None
    )
    assert "\u2714 Exercise 0.1" in capsys.readouterr().out


def test_unknown_exercise_lists_the_known_ones():
    with pytest.raises(KeyError, match="Known exercises: 0.1, 0.2"):
        checks.hint("99.9")


def test_hint_and_show_solution(tmp_path, monkeypatch, capsys):
    cell = {
        "cell_type": "code",
        "metadata": {"nbgrader": {"grade_id": "exercise-0-1"}},
        "source": "def f(ids):\n    # BEGIN SOLUTION\n    a = 1\n    # END SOLUTION\n"
        "    # BEGIN SOLUTION\n    return a\n    # END SOLUTION\n",
    }
    (tmp_path / "00_x.ipynb").write_text(json.dumps({"cells": [cell]}))
    monkeypatch.setenv("S2S_SOLUTIONS_DIR", str(tmp_path))
    checks.show_solution("0.1")
    shown = capsys.readouterr().out
    assert "def f(ids):\n    a = 1\n    return a" in shown and "SOLUTION\n" not in shown
    checks.hint("0.1")
    assert "Hint for Exercise 0.1" in capsys.readouterr().out
    monkeypatch.setenv("S2S_SOLUTIONS_DIR", str(tmp_path / "missing"))
    with pytest.raises(FileNotFoundError, match="kept by your instructor"):
        checks.show_solution("0.1")


def test_every_exercise_shows_its_solution_from_the_repository():
    for exercise_id in framework.EXERCISES:
        assert "def " in framework.solution_source(
            exercise_id
        ) or "=" in framework.solution_source(exercise_id)


def test_grade_ids():
    assert framework.grade_id_for("3.2", "check") == "check-3-2"
    assert framework.parse_grade_id("exercise-10-3") == ("exercise", "10.3")
    with pytest.raises(ValueError):
        framework.grade_id_for("3.2", "answer")
