"""Lesson 05's checks: the reference passes, the stub is not attempted, and each
known mistake of the masked loss, the masked accuracy and the per-token losses
is named."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import ops

from s2s_helpers import checks, losses
from s2s_helpers.checks import framework


def outcome(exercise_id, function):
    return framework.outcome(exercise_id, framework.observe(exercise_id, function))


def assert_roundtrip_judges_the_same(exercise_id, function):
    observation = framework.observe(exercise_id, function)
    again = framework.loads_observation(framework.dumps_observation(observation))
    assert framework.outcome(exercise_id, again) == framework.outcome(
        exercise_id, observation
    )


def stub(tgt_out_ids, logits):
    raise NotImplementedError()


def per_token(tgt_out_ids, logits, from_logits=True):
    return keras.losses.sparse_categorical_crossentropy(
        tgt_out_ids, logits, from_logits=from_logits
    )


def real(tgt_out_ids):
    return ops.cast(ops.not_equal(tgt_out_ids, 0), "float32")


# --- Exercise 5.1: masked_loss -----------------------------------------------------------


def solution_loss(tgt_out_ids, logits):
    values, mask = per_token(tgt_out_ids, logits), real(tgt_out_ids)
    return ops.sum(values * mask) / ops.maximum(ops.sum(mask), 1.0)


def test_loss_reference_passes(capsys):
    assert outcome("5.1", solution_loss)[0] == "passed"
    assert outcome("5.1", losses.masked_loss)[0] == "passed"
    keras_way = keras.losses.SparseCategoricalCrossentropy(
        from_logits=True, reduction="mean_with_sample_weight"
    )
    assert (
        outcome("5.1", lambda y, p: keras_way(y, p, sample_weight=real(y)))[0]
        == "passed"
    )
    checks.check_masked_loss(solution_loss)
    assert "passed" in capsys.readouterr().out
    assert_roundtrip_judges_the_same("5.1", solution_loss)


def test_loss_stub_is_not_attempted():
    assert outcome("5.1", stub)[0] == "not_attempted"
    with pytest.raises(NotImplementedError, match="not attempted"):
        checks.check_masked_loss(stub)


def keras_default_reduction(y, logits):
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    return loss(y, logits, sample_weight=real(y))


LOSS_MISTAKES = {
    "padded mean (seed bug 3)": (losses.padded_mean_loss, "seed bug 3"),
    "keras default reduction": (keras_default_reduction, "seed bug 3"),
    "no mask": (lambda y, p: ops.mean(per_token(y, p)), "not masked"),
    "sum": (lambda y, p: ops.sum(per_token(y, p) * real(y)), "the sum"),
    "per-sequence mean": (
        lambda y, p: ops.mean(
            ops.sum(per_token(y, p) * real(y), axis=1)
            / ops.maximum(ops.sum(real(y), axis=1), 1.0)
        ),
        "each sequence first",
    ),
    "softmax twice": (lambda y, p: solution_loss(y, tf.nn.softmax(p)), "twice"),
    "from_logits=False": (
        lambda y, p: (
            ops.sum(per_token(y, p, False) * real(y))
            / ops.maximum(ops.sum(real(y)), 1.0)
        ),
        "from_logits=False",
    ),
    "mask from predictions": (
        lambda y, p: (
            ops.sum(per_token(y, p) * real(ops.argmax(p, -1)))
            / ops.sum(real(ops.argmax(p, -1)))
        ),
        "from the predictions",
    ),
    "sign": (lambda y, p: -solution_loss(y, p), "sign"),
    "nan on padding only": (
        lambda y, p: ops.sum(per_token(y, p) * real(y)) / ops.sum(real(y)),
        "divides by zero",
    ),
    "per token": (lambda y, p: per_token(y, p) * real(y), "one value per token"),
    "per sequence": (
        lambda y, p: ops.sum(per_token(y, p) * real(y), axis=1),
        "one value per sequence",
    ),
}


@pytest.mark.parametrize("name", sorted(LOSS_MISTAKES))
def test_loss_known_mistakes_are_named(name):
    function, expected_text = LOSS_MISTAKES[name]
    status, message = outcome("5.1", function)
    assert status == "failed", message
    assert expected_text in message
    assert "Hint" in message


# --- Exercise 5.2: masked_accuracy ------------------------------------------------------------


def solution_accuracy(tgt_out_ids, logits, axis=-1, mask_from="labels"):
    predicted = ops.cast(ops.argmax(logits, axis=axis), tgt_out_ids.dtype)
    mask = ops.not_equal(tgt_out_ids if mask_from == "labels" else predicted, 0)
    right = ops.cast(
        ops.logical_and(ops.equal(predicted, tgt_out_ids), mask), "float32"
    )
    return ops.sum(right) / ops.maximum(ops.sum(ops.cast(mask, "float32")), 1.0)


def numpy_accuracy(tgt_out_ids, logits):
    ids, mask = np.asarray(tgt_out_ids), np.asarray(tgt_out_ids) != 0
    right = (np.argmax(np.asarray(logits), axis=-1) == ids) & mask
    return right.sum() / max(mask.sum(), 1)


def test_accuracy_reference_passes(capsys):
    assert outcome("5.2", solution_accuracy)[0] == "passed"
    assert outcome("5.2", losses.masked_accuracy)[0] == "passed"
    assert outcome("5.2", numpy_accuracy)[0] == "passed"
    checks.check_masked_accuracy(solution_accuracy)
    assert "6/9" in capsys.readouterr().out
    assert_roundtrip_judges_the_same("5.2", solution_accuracy)


def test_accuracy_stub_is_not_attempted():
    assert outcome("5.2", stub)[0] == "not_attempted"


def correct(y, p):
    return ops.cast(ops.equal(ops.cast(ops.argmax(p, -1), y.dtype), y), "float32")


ACCURACY_MISTAKES = {
    "counts padding": (lambda y, p: ops.mean(correct(y, p)), "counts the padding"),
    "plain mean": (lambda y, p: ops.mean(correct(y, p) * real(y)), "every position"),
    "wrong axis": (lambda y, p: solution_accuracy(y, p, axis=1), "wrong axis"),
    "mask from predictions": (
        lambda y, p: solution_accuracy(y, p, mask_from="predictions"),
        "from the predictions",
    ),
    "count": (lambda y, p: ops.sum(correct(y, p) * real(y)), "number of right tokens"),
    "per sequence first": (
        lambda y, p: ops.mean(
            ops.sum(correct(y, p) * real(y), 1) / ops.maximum(ops.sum(real(y), 1), 1.0)
        ),
        "each sequence first",
    ),
    "per token": (lambda y, p: correct(y, p) * real(y), "one value per token"),
    "nan on padding only": (
        lambda y, p: ops.sum(correct(y, p) * real(y)) / ops.sum(real(y)),
        "divides by zero",
    ),
}


@pytest.mark.parametrize("name", sorted(ACCURACY_MISTAKES))
def test_accuracy_known_mistakes_are_named(name):
    function, expected_text = ACCURACY_MISTAKES[name]
    status, message = outcome("5.2", function)
    assert status == "failed", message
    assert expected_text in message


# --- Exercise 5.3: per-token cross-entropy by hand ------------------------------------------


def solution_token_losses(tgt_out_ids, logits, stable=True, axis=-1):
    shifted = logits - ops.max(logits, axis=axis, keepdims=True) if stable else logits
    log_probs = shifted - ops.log(ops.sum(ops.exp(shifted), axis=axis, keepdims=True))
    picked = ops.take_along_axis(log_probs, ops.expand_dims(tgt_out_ids, -1), axis=-1)
    return -picked[..., 0]


def test_token_losses_reference_passes(capsys):
    assert outcome("5.3", solution_token_losses)[0] == "passed"
    assert outcome("5.3", losses.token_losses)[0] == "passed"
    checks.check_token_losses(solution_token_losses)
    assert "passed" in capsys.readouterr().out
    assert_roundtrip_judges_the_same("5.3", solution_token_losses)


def test_token_losses_stub_is_not_attempted():
    assert outcome("5.3", stub)[0] == "not_attempted"


TOKEN_MISTAKES = {
    "overflow": (lambda y, p: solution_token_losses(y, p, stable=False), "overflows"),
    "masked": (lambda y, p: solution_token_losses(y, p) * real(y), "already masked"),
    "sign": (lambda y, p: -solution_token_losses(y, p), "sign"),
    "softmax twice": (lambda y, p: solution_token_losses(y, tf.nn.softmax(p)), "twice"),
    "wrong axis": (
        lambda y, p: solution_token_losses(y, p, axis=1),
        "tgt_len (axis 1)",
    ),
    "probability": (
        lambda y, p: ops.exp(-solution_token_losses(y, p)),
        "probability of the right",
    ),
    "from_logits=False": (lambda y, p: per_token(y, p, False), "as probabilities"),
    "mean": (lambda y, p: ops.mean(solution_token_losses(y, p)), "single number"),
}


@pytest.mark.parametrize("name", sorted(TOKEN_MISTAKES))
def test_token_losses_known_mistakes_are_named(name):
    function, expected_text = TOKEN_MISTAKES[name]
    status, message = outcome("5.3", function)
    assert status == "failed", message
    assert expected_text in message


def test_the_probe_inputs_are_what_the_docstring_says():
    from s2s_helpers.checks import lesson05

    assert np.array_equal(np.argmax(lesson05.LOGITS, -1), lesson05.PREDICTED)
    mask = lesson05.TGT_OUT_IDS != 0
    assert (
        mask.sum() == 9
        and ((lesson05.PREDICTED == lesson05.TGT_OUT_IDS) & mask).sum() == 6
    )
    assert lesson05.LOGITS.shape[1] == lesson05.VOCAB_SIZE
