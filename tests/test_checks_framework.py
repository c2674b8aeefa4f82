"""The check machinery itself: outcomes, safe observations, hints, solutions."""

import json
import re

import numpy as np
import pytest

from s2s_helpers import checks
from s2s_helpers.checks import framework, learner_errors


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
    assert "for Exercise 0.1" in capsys.readouterr().out
    monkeypatch.setenv("S2S_SOLUTIONS_DIR", str(tmp_path / "missing"))
    with pytest.raises(FileNotFoundError, match="kept by your instructor"):
        checks.show_solution("0.1")
    monkeypatch.setenv("S2S_SOLUTIONS_DIR", str(tmp_path))
    monkeypatch.setenv("S2S_GRADING", "1")
    checks.show_solution("0.1")
    shown = capsys.readouterr().out
    assert "not available while grading" in shown and "a = 1" not in shown
    with pytest.raises(PermissionError):
        framework.solution_source("0.1")


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


# --- calm output, the learner's own line, hints in levels ------------------------


def _count_with_a_shape_bug(ids):
    import tensorflow as tf

    mask = tf.cast(tf.not_equal(ids, 0), tf.int32)
    return mask + tf.ones((2, 3), tf.int32)  # (batch, src_len) + (2, 3): no broadcast


def test_a_learner_error_is_plain_and_points_at_the_learners_line():
    observation = framework.observe("0.1", _count_with_a_shape_bug)
    assert observation["status"] == "error"
    assert observation["error_type"] == "InvalidArgumentError"
    assert re.fullmatch(
        r"shapes \(\d+, \d+\) and \(2, 3\) do not broadcast", observation["error"]
    ), observation["error"]
    assert "function_node" not in observation["error"]
    assert observation["where"].startswith("test_checks_framework.py, line ")
    assert observation["where"].endswith("# (batch, src_len) + (2, 3): no broadcast")
    status, message = framework.outcome("0.1", observation)
    assert status == "error" and "at test_checks_framework.py" in message


def test_shapes_are_named_with_the_exercises_axes():
    error = ValueError(
        "{{function_node __wrapped__AddV2_device_/job:localhost/replica:0/task:0/"
        "device:CPU:0}} Incompatible shapes: [2,3] vs. [2,5,3] [Op:AddV2] name: "
    )
    names = {2: "batch", 5: "src_len", 3: "units"}
    assert learner_errors.plain_message(error, names) == (
        "shapes (2, 3) (batch, units) and (2, 5, 3) (batch, src_len, units) "
        "do not broadcast"
    )
    assert learner_errors.plain_message(error) == (
        "shapes (2, 3) and (2, 5, 3) do not broadcast"
    )
    matmul = ValueError(
        "Matrix size-incompatible: In[0]: [2,4], In[1]: [3,5] [Op:MatMul]"
    )
    assert "shapes (2, 4) and (3, 5)" in learner_errors.plain_message(matmul)


def test_not_attempted_and_failed_render_as_a_few_calm_lines():
    with pytest.raises(NotImplementedError) as not_attempted:
        checks.check_count_real_tokens(lambda ids: _raise(NotImplementedError()))
    lines = not_attempted.value._render_traceback_()
    assert len(lines) == 1 and "is not attempted yet" in lines[0]
    with pytest.raises(checks.CheckFailed) as failed:
        checks.check_count_real_tokens(lambda ids: np.sum(np.asarray(ids) == 0, axis=1))
    lines = failed.value._render_traceback_()
    assert 2 <= len(lines) <= 4, lines
    assert "\u2718 Exercise 0.1 (count_real_tokens)" in lines[0]
    assert 'checks.hint("0.1")' in lines[-1]
    assert not any("Traceback" in line or "framework" in line for line in lines)


def _raise(error):
    raise error


def test_hints_come_in_levels_mistake_first(monkeypatch, capsys):
    ex = framework.Exercise(
        "99.1",
        "toy",
        lambda f: {"value": f()},
        _judge_toy,
        ("general nudge", "general strong"),
    )
    monkeypatch.setitem(framework.EXERCISES, "99.1", ex)
    with pytest.raises(checks.CheckFailed, match="value is negative"):
        framework.run("99.1", lambda: -1)
    shown = []
    for _ in range(4):
        checks.hint("99.1")
        shown.append(capsys.readouterr().out)
    assert (
        "Hint 1 of 3" in shown[0]
        and "mistake nudge" in shown[0]
        and "again" in shown[0]
    )
    assert "general nudge" in shown[1] and "general strong" in shown[2]
    assert "last hint" in shown[2] and "show_solution" in shown[2]
    assert "general strong" in shown[3]  # no more levels: the strongest again
    with pytest.raises(checks.CheckFailed, match="value is too large"):
        framework.run("99.1", lambda: 7)  # another mistake: the levels restart
    checks.hint("99.1")
    assert "Hint 1 of 2" in capsys.readouterr().out


def _judge_toy(observation):
    if observation["value"] < 0:
        framework.fail("value is negative", hints=("mistake nudge",))
    if observation["value"] > 5:
        framework.fail("value is too large")
    return "ok"


def test_a_check_called_with_the_wrong_number_of_objects_says_so():
    with pytest.raises(
        TypeError, match=r"takes 1 argument\(s\), \(count_real_tokens\)"
    ):
        checks.check_count_real_tokens(len, len)


def test_calm_output_in_a_real_kernel(tmp_path):
    """In Jupyter, a failed check shows the ✘ line and no course traceback."""
    import nbformat
    from nbclient import NotebookClient

    cells = [
        "from s2s_helpers import checks\nimport numpy as np",
        "checks.check_count_real_tokens(lambda ids: np.sum(np.asarray(ids) == 0, axis=1))",
        "def count(ids):\n    raise NotImplementedError()\nchecks.check_count_real_tokens(count)",
    ]
    notebook = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell(source) for source in cells]
    )
    NotebookClient(notebook, timeout=120, allow_errors=True).execute(cwd=str(tmp_path))
    failed, not_attempted = (notebook.cells[i].outputs[0] for i in (1, 2))
    assert failed["ename"] == "CheckFailed"
    assert "\u2718 Exercise 0.1" in failed["traceback"][0]
    assert len(failed["traceback"]) <= 4
    assert not_attempted["ename"] == "NotImplementedError"
    assert len(not_attempted["traceback"]) == 1
    assert "not attempted yet" in not_attempted["traceback"][0]
    text = "".join(failed["traceback"] + not_attempted["traceback"])
    assert "Traceback" not in text and "framework" not in text
