"""Lesson 00's checks: the reference passes, the stub is not attempted, and each
known mistake fails with its own message."""

import numpy as np
import pytest

from s2s_helpers import checks
from s2s_helpers.checks import framework


def outcome(exercise_id, function):
    return framework.outcome(exercise_id, framework.observe(exercise_id, function))


def stub(ids):
    raise NotImplementedError()


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
    "counts padding": (lambda ids: np.sum(ids == 0, axis=1), "counts the padding"),
    "sums ids": (lambda ids: np.sum(ids, axis=1), "adds up the token ids"),
    "every position": (lambda ids: np.full(len(ids), ids.shape[1]), "every position"),
    "first padding": (lambda ids: np.argmax(ids == 0, axis=1), "first padding"),
    "wrong axis": (lambda ids: np.sum(ids != 0, axis=0), "axis 0"),
    "whole batch": (lambda ids: np.sum(ids != 0), "single number"),
    "keepdims": (lambda ids: np.sum(ids != 0, axis=1, keepdims=True), "keepdims"),
    "floats": (lambda ids: np.sum(ids != 0, axis=1).astype(np.float32), "float"),
    "the mask": (lambda ids: ids != 0, "wrong shape"),
    "a list": (lambda ids: [int(n) for n in np.sum(ids != 0, axis=1)], "list"),
    "raises": (lambda ids: ids.nope, "raised an error"),
}


@pytest.mark.parametrize("name", sorted(COUNT_MISTAKES))
def test_counts_known_mistakes_are_named(name):
    function, expected_text = COUNT_MISTAKES[name]
    status, message = outcome("0.1", function)
    assert status in {"failed", "error"}
    assert expected_text in message
    with pytest.raises(
        checks.CheckFailed, match=r"checks\.hint\(\"0\.1\"\)` for a hint"
    ):
        checks.check_count_real_tokens(function)


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
    "inverted": (lambda ids: ids == 0, "inverted"),
    "0/1 integers": (lambda ids: (ids != 0).astype(np.int32), "bool"),
    "transposed": (lambda ids: (ids != 0).T, "transposed"),
    "extra axis": (lambda ids: (ids != 0)[..., None], "extra axis"),
    "all true": (lambda ids: np.ones(ids.shape, bool), "True everywhere"),
    "counts instead": (lambda ids: np.sum(ids != 0, axis=1), "wrong shape"),
    "specials masked": (lambda ids: ids > 2, "wrong values"),
}


@pytest.mark.parametrize("name", sorted(MASK_MISTAKES))
def test_mask_known_mistakes_are_named(name):
    function, expected_text = MASK_MISTAKES[name]
    status, message = outcome("0.2", function)
    assert status == "failed"
    assert expected_text in message


def test_probes_do_not_let_a_learner_change_the_inputs():
    def modifies_its_input(ids):
        ids[:] = 0
        return ids != 0

    outcome("0.2", modifies_its_input)
    assert outcome("0.2", lambda ids: ids != 0)[0] == "passed"


def test_lesson00_checks_do_not_import_tensorflow():
    import subprocess
    import sys
    from pathlib import Path

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
