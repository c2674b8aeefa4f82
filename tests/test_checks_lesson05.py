"""Lesson 05's checks: the reference passes, the stub is not attempted, every wrong
answer (catalogued or not) is diagnosed as itself, and unusual correct answers pass."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from checktools import (
    assert_diagnosed,
    assert_passes_unusual,
    assert_round_trip,
    outcome,
    stub,
)
from keras import ops

from s2s_helpers import checks, losses
from s2s_helpers.checks import framework, lesson05


def per_token(tgt_out_ids, logits, from_logits=True):
    return keras.losses.sparse_categorical_crossentropy(
        tgt_out_ids, logits, from_logits=from_logits
    )


def real(tgt_out_ids, pad_id=0):
    return ops.cast(ops.not_equal(tgt_out_ids, pad_id), "float32")


def test_every_exercise_has_hint_levels():
    for exercise_id in ("5.1", "5.2", "5.3"):
        assert len(framework.get(exercise_id).hints) >= 2


def test_the_check_inputs_separate_axes_and_are_what_the_docstring_says():
    assert np.array_equal(np.argmax(lesson05.LOGITS, -1), lesson05.PREDICTED)
    mask = lesson05.TGT_OUT_IDS != 0
    assert (
        mask.sum() == 9
        and ((lesson05.PREDICTED == lesson05.TGT_OUT_IDS) & mask).sum() == 6
    )
    for ids, logits in lesson05.CASES.values():  # batch, tgt_len, vocab all differ
        assert len(set(logits.shape)) == 3 and logits.shape[:2] == ids.shape
    padded_rows = (lesson05.TGT_OUT_IDS == 0).any(axis=1)
    assert padded_rows.any() and not padded_rows.all()


@pytest.mark.parametrize(
    "mistakes, reference",
    [
        (lesson05._loss_mistakes, lesson05._reference_loss),
        (lesson05._accuracy_mistakes, lesson05._reference_accuracy),
    ],
)
def test_named_mistakes_have_distinct_signatures(mistakes, reference):
    """No two known mistakes (nor a mistake and the answer) give the same values on
    the batches a mistake is named on: a single scalar could coincide."""
    cases = [lesson05.CASES[case] for case in lesson05.NAMED_CASES]
    signatures = {"reference": np.array([reference(*case) for case in cases])}
    for message in mistakes(*cases[0]):
        signatures[message] = np.array([mistakes(*c)[message].output for c in cases])
    names = list(signatures)
    for i, first in enumerate(names):
        for second in names[i + 1 :]:
            assert not np.allclose(signatures[first], signatures[second], atol=1e-4), (
                first,
                second,
            )


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
    assert_passes_unusual("5.1", lambda y, p: keras_way(y, p, sample_weight=real(y)))
    checks.check_masked_loss(solution_loss)
    assert "passed" in capsys.readouterr().out
    assert_round_trip("5.1", solution_loss)


def numpy_loss(tgt_out_ids, logits):
    ids, logits = np.asarray(tgt_out_ids), np.asarray(logits, np.float64)
    log_probs = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    picked = np.take_along_axis(log_probs, ids[..., None], -1)[..., 0]
    return -(picked * (ids != 0)).sum() / max((ids != 0).sum(), 1)


def loop_loss(tgt_out_ids, logits):
    total, count = 0.0, 0
    for row_ids, row_logits in zip(tgt_out_ids.numpy(), logits.numpy()):
        for label, position in zip(row_ids, row_logits):
            if label != 0:
                total += float(per_token(label[None], position[None])[0])
                count += 1
    return total / count if count else 0.0


@pytest.mark.parametrize(
    "function", [numpy_loss, loop_loss, tf.function(solution_loss)]
)
def test_loss_unusual_correct_answers_pass(function):
    assert_passes_unusual("5.1", function)


def test_loss_stub_is_not_attempted():
    assert outcome("5.1", stub)[0] == "not_attempted"
    with pytest.raises(NotImplementedError, match="not attempted"):
        checks.check_masked_loss(stub)


def keras_default_reduction(y, logits):
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    return loss(y, logits, sample_weight=real(y))


def smoothed_loss(y, logits):
    one_hot = ops.one_hot(y, ops.shape(logits)[-1])
    values = keras.losses.categorical_crossentropy(
        one_hot, logits, from_logits=True, label_smoothing=0.1
    )
    return ops.sum(values * real(y)) / ops.maximum(ops.sum(real(y)), 1.0)


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
    # not in the catalogue: diagnosed by the property that fails
    "padding id 1": (
        lambda y, p: (
            ops.sum(per_token(y, p) * real(y, 1)) / ops.maximum(ops.sum(real(y, 1)), 1)
        ),
        "0.0 for a batch of padding only",
    ),
    "divided by the batch size": (
        lambda y, p: ops.sum(per_token(y, p) * real(y)) / ops.shape(y)[0],
        "weighted by their numbers",
    ),
    "label smoothing": (smoothed_loss, "make the right token certain"),
    "log base 2": (lambda y, p: solution_loss(y, p) / np.log(2.0), "log(vocab)"),
    "mean of the row sums": (
        lambda y, p: ops.mean(ops.sum(per_token(y, p) * real(y), axis=1)),
        "weighted by their numbers",
    ),
}


@pytest.mark.parametrize("label", sorted(LOSS_MISTAKES))
def test_loss_wrong_answers_are_diagnosed(label):
    assert_diagnosed("5.1", LOSS_MISTAKES, label)


def test_loss_mistake_hints_come_first(capsys):
    with pytest.raises(framework.CheckFailed):
        checks.check_masked_loss(losses.padded_mean_loss)
    checks.hint("5.1")
    assert "denominator" in capsys.readouterr().out


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


def loop_accuracy(tgt_out_ids, logits):
    pairs = [
        (int(label), int(np.argmax(position)))
        for row_ids, row_logits in zip(tgt_out_ids.numpy(), logits.numpy())
        for label, position in zip(row_ids, row_logits)
        if label != 0
    ]
    return sum(label == guess for label, guess in pairs) / max(len(pairs), 1)


def test_accuracy_reference_passes(capsys):
    assert outcome("5.2", solution_accuracy)[0] == "passed"
    assert outcome("5.2", losses.masked_accuracy)[0] == "passed"
    checks.check_masked_accuracy(solution_accuracy)
    assert "6/9" in capsys.readouterr().out
    assert_round_trip("5.2", solution_accuracy)


@pytest.mark.parametrize(
    "function", [numpy_accuracy, loop_accuracy, tf.function(solution_accuracy)]
)
def test_accuracy_unusual_correct_answers_pass(function):
    assert_passes_unusual("5.2", function)


def test_accuracy_stub_is_not_attempted():
    assert outcome("5.2", stub)[0] == "not_attempted"


def correct(y, p):
    return ops.cast(ops.equal(ops.cast(ops.argmax(p, -1), y.dtype), y), "float32")


def integer_accuracy(y, p):
    right = ops.cast(correct(y, p) * real(y), "int32")
    return ops.sum(right) // ops.maximum(ops.sum(ops.cast(real(y), "int32")), 1)


def shifted_accuracy(y, p):  # compares the prediction at t with the label at t + 1
    right = ops.cast(
        ops.equal(ops.cast(ops.argmax(p[:, :-1], -1), y.dtype), y[:, 1:]), "float32"
    )
    mask = real(y[:, 1:])
    return ops.sum(right * mask) / ops.maximum(ops.sum(mask), 1.0)


ACCURACY_MISTAKES = {
    "counts padding": (lambda y, p: ops.mean(correct(y, p)), "counts the padding"),
    "plain mean": (lambda y, p: ops.mean(correct(y, p) * real(y)), "divides by every"),
    "wrong axis": (
        lambda y, p: solution_accuracy(y, p, axis=1),
        "(batch, vocab) and (3, 5) (batch, tgt_len) do not broadcast",
    ),
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
    # not in the catalogue: diagnosed by the property that fails
    "padding id 1": (
        lambda y, p: ops.sum(correct(y, p) * real(y, 1)) / ops.sum(real(y, 1)),
        "0.0 for a batch of padding only",
    ),
    "divided by the batch size": (
        lambda y, p: ops.sum(correct(y, p) * real(y)) / ops.shape(y)[0],
        "not a fraction",
    ),
    "integer division": (integer_accuracy, "weighted by their numbers"),
    "labels shifted by one": (shifted_accuracy, "expected 1.0"),
}


@pytest.mark.parametrize("label", sorted(ACCURACY_MISTAKES))
def test_accuracy_wrong_answers_are_diagnosed(label):
    assert_diagnosed("5.2", ACCURACY_MISTAKES, label)


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
    assert_round_trip("5.3", solution_token_losses)


def numpy_token_losses(tgt_out_ids, logits):
    ids, logits = np.asarray(tgt_out_ids), np.asarray(logits, np.float64)
    top = logits.max(-1, keepdims=True)
    log_sum = top[..., 0] + np.log(np.exp(logits - top).sum(-1))
    return log_sum - np.take_along_axis(logits, ids[..., None], -1)[..., 0]


def tf_nn_token_losses(tgt_out_ids, logits):
    return tf.nn.sparse_softmax_cross_entropy_with_logits(tgt_out_ids, logits)


def gather_token_losses(tgt_out_ids, logits):
    log_probs = tf.nn.log_softmax(logits)
    return -tf.gather(log_probs, tgt_out_ids, batch_dims=2)


@pytest.mark.parametrize(
    "function", [numpy_token_losses, tf_nn_token_losses, gather_token_losses]
)
def test_token_losses_unusual_correct_answers_pass(function):
    assert_passes_unusual("5.3", function)


def test_token_losses_stub_is_not_attempted():
    assert outcome("5.3", stub)[0] == "not_attempted"


def global_max_token_losses(y, p):
    shifted = p - ops.max(p)  # the largest logit of the whole batch
    log_probs = shifted - ops.log(ops.sum(ops.exp(shifted), axis=-1, keepdims=True))
    return -ops.take_along_axis(log_probs, ops.expand_dims(y, -1), axis=-1)[..., 0]


def whole_batch_token_losses(y, p):
    shifted = p - ops.max(p, axis=-1, keepdims=True)
    log_probs = shifted - ops.log(ops.sum(ops.exp(shifted)))  # over every axis
    return -ops.take_along_axis(log_probs, ops.expand_dims(y, -1), axis=-1)[..., 0]


def no_exp_token_losses(y, p):
    shifted = p - ops.max(p, axis=-1, keepdims=True)
    log_probs = shifted - ops.log(ops.sum(shifted, axis=-1, keepdims=True))  # no exp
    return -ops.take_along_axis(log_probs, ops.expand_dims(y, -1), axis=-1)[..., 0]


def mean_over_vocab_token_losses(y, p):
    shifted = p - ops.max(p, axis=-1, keepdims=True)
    log_probs = shifted - ops.log(ops.sum(ops.exp(shifted), axis=-1, keepdims=True))
    return -ops.mean(log_probs, axis=-1)


TOKEN_MISTAKES = {
    "overflow": (
        lambda y, p: solution_token_losses(y, p, stable=False),
        "logits in the hundreds",
    ),
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
    # not in the catalogue: diagnosed by the property that fails
    "largest logit of the whole batch": (
        global_max_token_losses,
        "logits in the hundreds",
    ),
    "normalised over every axis": (whole_batch_token_losses, "do not sum to 1"),
    "log of a sum without exp": (no_exp_token_losses, "for ordinary logits"),
    "mean over the vocabulary": (
        mean_over_vocab_token_losses,
        "does not depend on the label",
    ),
    "every log-probability": (
        lambda y, p: -tf.nn.log_softmax(p),
        "It has 3 axes; expected 2 (batch, tgt_len)",
    ),
}


@pytest.mark.parametrize("label", sorted(TOKEN_MISTAKES))
def test_token_losses_wrong_answers_are_diagnosed(label):
    assert_diagnosed("5.3", TOKEN_MISTAKES, label)
