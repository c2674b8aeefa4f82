"""Lesson 00's checks: the reference passes, the stub is not attempted, every wrong
answer is diagnosed (by its catalogued name or by the property it breaks) and
names no other mistake, and unusual correct answers pass."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from checktools import assert_diagnosed, assert_passes_unusual, outcome, stub

from s2s_helpers import checks
from s2s_helpers.checks import framework

# --- Exercise 0.1: count_real_tokens --------------------------------------------------


def reference_counts(ids):
    return np.sum(ids != 0, axis=1)


def test_counts_reference_passes_on_numpy_and_tensorflow(capsys):
    import tensorflow as tf

    assert outcome("0.1", reference_counts)[0] == "passed"
    tf_version = lambda ids: tf.reduce_sum(tf.cast(ids != 0, tf.int32), axis=1)  # noqa: E731
    assert outcome("0.1", tf_version)[0] == "passed"
    checks.check_count_real_tokens(reference_counts)
    assert "passed" in capsys.readouterr().out


def test_counts_stub_is_not_attempted():
    status, message = outcome("0.1", stub)
    assert status == "not_attempted"
    with pytest.raises(NotImplementedError, match="not attempted"):
        checks.check_count_real_tokens(stub)


COUNT_MISTAKES = {
    # catalogued
    "counts padding": (lambda ids: np.sum(ids == 0, axis=1), "counts the padding"),
    "sums ids": (lambda ids: np.sum(ids, axis=1), "adds up the token ids"),
    "every position": (lambda ids: np.full(len(ids), ids.shape[1]), "every position"),
    "first padding": (lambda ids: np.argmax(ids == 0, axis=1), "first padding"),
    "wrong axis": (lambda ids: np.sum(ids != 0, axis=0), "axis 0"),
    "whole batch": (lambda ids: np.sum(ids != 0), "single number"),
    "keepdims": (
        lambda ids: np.sum(ids != 0, axis=1, keepdims=True),
        "extra axis of size 1",
    ),
    "floats": (lambda ids: np.sum(ids != 0, axis=1).astype(np.float32), "float32"),
    "the mask": (lambda ids: ids != 0, "It has 2 axes; expected 1"),
    "a list": (
        lambda ids: [int(n) for n in np.sum(ids != 0, axis=1)],
        "received: list",
    ),
    "raises": (lambda ids: ids.nope, "raised an error"),
    # not in the catalogue: diagnosed by the property they break
    "minus one": (lambda ids: np.sum(ids != 0, axis=1) - 1, "1 too small"),
    "first row's count": (
        lambda ids: np.full(len(ids), np.sum(ids[0] != 0)),
        "the same count",
    ),
    "skips the last position": (
        lambda ids: np.sum(ids[:, :-1] != 0, axis=1),
        "all its tokens are real",
    ),
    "largest id": (lambda ids: np.max(ids, axis=1), "values of the real tokens"),
    "any real token": (lambda ids: np.any(ids != 0, axis=1), "returned booleans"),
    "one per column": (lambda ids: (ids != 0)[0], "not one per row"),
}


@pytest.mark.parametrize("name", sorted(COUNT_MISTAKES))
def test_counts_mistakes_are_diagnosed(name):
    assert_diagnosed("0.1", COUNT_MISTAKES, name)
    with pytest.raises(
        checks.CheckFailed, match=r"checks\.hint\(\"0\.1\"\)` for a hint"
    ):
        checks.check_count_real_tokens(COUNT_MISTAKES[name][0])


def count_in_a_loop(ids):
    return np.array([sum(1 for token in row if token != 0) for row in ids])


def count_with_tf_function(ids):
    import tensorflow as tf

    @tf.function
    def count(ids):
        return tf.math.count_nonzero(ids, axis=1)  # int64

    return count(ids)


@pytest.mark.parametrize(
    "function",
    [
        count_in_a_loop,
        count_with_tf_function,
        lambda ids: np.count_nonzero(ids, axis=1),
        lambda ids: ids.astype(bool).sum(axis=-1, dtype=np.uint8),
        lambda ids: ids.shape[1] - (ids == 0).sum(axis=1),
    ],
)
def test_counts_unusual_correct_answers_pass(function):
    assert_passes_unusual("0.1", function)


# --- Exercise 0.2: padding_mask ----------------------------------------


def test_mask_reference_passes(capsys):
    assert outcome("0.2", lambda ids: ids != 0)[0] == "passed"
    checks.check_padding_mask(lambda ids: np.not_equal(ids, 0))
    assert "passed" in capsys.readouterr().out


def test_mask_stub_is_not_attempted():
    assert outcome("0.2", stub)[0] == "not_attempted"
    with pytest.raises(NotImplementedError):
        checks.check_padding_mask(stub)


MASK_MISTAKES = {
    # catalogued
    "inverted": (lambda ids: ids == 0, "inverted"),
    "0/1 integers": (lambda ids: (ids != 0).astype(np.int32), "as int32"),
    "transposed": (lambda ids: (ids != 0).T, "transposed"),
    "extra axis": (lambda ids: (ids != 0)[..., None], "extra axis"),
    "all true": (lambda ids: np.ones(ids.shape, bool), "True everywhere"),
    "counts instead": (lambda ids: np.sum(ids != 0, axis=1), "It has 1 axes"),
    "specials masked": (lambda ids: ids > 2, "ids [1, 2])"),
    # not in the catalogue: diagnosed by the property they break
    "id 1 masked": (lambda ids: ids > 1, "False at real tokens (ids [1])"),
    "0/1 floats": (lambda ids: (ids != 0).astype(np.float32), "as float32"),
    "first row's mask": (
        lambda ids: np.broadcast_to(ids[:1] != 0, ids.shape),
        "True at padding",
    ),
    "lengths off by one": (
        lambda ids: np.arange(ids.shape[1]) < (np.sum(ids != 0, 1) - 1)[:, None],
        "ids [1, 2, 6]",
    ),
    "drops a position": (lambda ids: ids[:, 1:] != 0, "src_len is 4, expected 5"),
    "a list": (lambda ids: (ids != 0).tolist(), "numpy array or a tensor"),
}


@pytest.mark.parametrize("name", sorted(MASK_MISTAKES))
def test_mask_mistakes_are_diagnosed(name):
    assert_diagnosed("0.2", MASK_MISTAKES, name)


def mask_in_a_loop(ids):
    return np.array([[token != 0 for token in row] for row in ids])


def mask_with_tf_function(ids):
    import tensorflow as tf

    return tf.function(lambda ids: tf.cast(ids, tf.bool))(ids)


@pytest.mark.parametrize(
    "function",
    [mask_in_a_loop, mask_with_tf_function, lambda ids: ids > 0, np.bool_],
)
def test_mask_unusual_correct_answers_pass(function):
    assert_passes_unusual("0.2", function)


# --- both ------------------------------------------------------------------------


@pytest.mark.parametrize("exercise_id", ["0.1", "0.2"])
def test_every_exercise_has_hints_in_levels(exercise_id):
    assert len(framework.get(exercise_id).hints) >= 2


def test_probes_do_not_let_a_learner_change_the_inputs():
    def modifies_its_input(ids):
        ids[:] = 0
        return ids != 0

    outcome("0.2", modifies_its_input)
    assert outcome("0.2", lambda ids: ids != 0)[0] == "passed"


def test_lesson00_checks_do_not_import_tensorflow():
    # Bare packages, so that only framework.py and lesson00.py are imported.
    code = (
        "import sys, types\n"
        "for name in ('s2s_helpers', 's2s_helpers.checks'):\n"
        "    sys.modules[name] = types.ModuleType(name)\n"
        "    sys.modules[name].__path__ = [name.replace('.', '/')]\n"
        "import s2s_helpers.checks.lesson00\n"
        "assert 'tensorflow' not in sys.modules, 'tensorflow was imported'\n"
    )
    root = Path(__file__).resolve().parents[1]
    subprocess.run([sys.executable, "-c", code], cwd=root, check=True)
