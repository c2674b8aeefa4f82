"""Lesson 04's checks: the reference passes, the stub is not attempted, and each
known mistake of the decoder step, the unroll and encode + decode is named."""

import numpy as np
import pytest
import tensorflow as tf
from keras import ops

from s2s_helpers import checks
from s2s_helpers.checks import framework


def outcome(exercise_id, *functions):
    return framework.outcome(exercise_id, framework.observe(exercise_id, *functions))


def assert_roundtrip_judges_the_same(exercise_id, function):
    observation = framework.observe(exercise_id, function)
    again = framework.loads_observation(framework.dumps_observation(observation))
    assert framework.outcome(exercise_id, again) == framework.outcome(
        exercise_id, observation
    )


def stub(*args):
    raise NotImplementedError()


# --- Exercise 4.1: one decoder step -----------------------------------------------------


def make_step(
    carry=True,
    swap=False,
    logits_from="output",
    query="previous",
    use_mask=True,
    concat_axis=-1,
    softmax=False,
    keep_state=False,
    weights_query="same",
):
    """A decoder step with one mistake switched on (all off: the solution)."""

    def decoder_step(decoder, token_ids, state, values, keys, mask):
        query_state = tf.zeros_like(state) if query == "zeros" else state
        context, weights = decoder.attention(
            query_state, values, keys=keys, mask=mask if use_mask else None
        )
        embedded = decoder.embedding(token_ids)
        parts = [embedded, context] if swap else [context, embedded]
        inputs = ops.concatenate(parts, axis=concat_axis)
        output, new_state = decoder.cell(
            inputs, state if carry else tf.zeros_like(state)
        )
        source = {"output": output, "context": context, "state": state}[logits_from]
        logits = decoder.output_layer(source)
        if softmax:
            logits = tf.nn.softmax(logits)
        if weights_query == "new":
            _, weights = decoder.attention(new_state, values, keys=keys, mask=mask)
        return logits, state if keep_state else new_state, weights

    return decoder_step


def test_step_reference_passes(capsys):
    assert outcome("4.1", make_step())[0] == "passed"
    reference = lambda decoder, *args: decoder.step(*args)  # noqa: E731
    assert outcome("4.1", reference)[0] == "passed"
    checks.check_decoder_step(make_step())
    assert "passed" in capsys.readouterr().out
    assert_roundtrip_judges_the_same("4.1", make_step())


def test_step_accepts_the_state_as_a_one_element_list():
    def as_list(decoder, token_ids, state, values, keys, mask):
        logits, new_state, weights = decoder.step(token_ids, state, values, keys, mask)
        return logits, [new_state], weights

    assert outcome("4.1", as_list)[0] == "passed"


def test_step_stub_is_not_attempted():
    assert outcome("4.1", stub)[0] == "not_attempted"
    with pytest.raises(NotImplementedError, match="not attempted"):
        checks.check_decoder_step(stub)


STEP_MISTAKES = {
    "state not carried (seed bug 1)": (
        make_step(carry=False),
        "not carried (seed bug 1)",
    ),
    "query is the new state": (
        make_step(weights_query="new"),
        "query is the *new* state",
    ),
    "query is zeros": (make_step(query="zeros"), "query is all zeros"),
    "concat order": (make_step(swap=True), "wrong order"),
    "concat axis": (make_step(concat_axis=0), "axis=-1"),
    "logits from context": (make_step(logits_from="context"), "come from the context"),
    "logits from previous state": (make_step(logits_from="state"), "previous state"),
    "softmax": (make_step(softmax=True), "probabilities"),
    "no mask": (make_step(use_mask=False), "pass `mask`"),
    "state unchanged": (make_step(keep_state=True), "previous state, unchanged"),
    "returns two things": (lambda *args: (1, 2), "(logits, new_state, weights)"),
}


@pytest.mark.parametrize("name", sorted(STEP_MISTAKES))
def test_step_known_mistakes_are_named(name):
    function, expected_text = STEP_MISTAKES[name]
    status, message = outcome("4.1", function)
    assert status == "failed", message
    assert expected_text in message
    assert "Hint" in message


# --- Exercise 4.2: the teacher-forced unroll ---------------------------------------------


def make_unroll(carry=True, feed="true", start=0, stop=None, axis=1, zero_start=False):
    def teacher_forced_unroll(decoder, tgt_in_ids, values, state, mask):
        keys = decoder.precompute_keys(values)
        initial = tf.zeros_like(state) if zero_start else state
        current = initial
        all_logits, all_weights = [], []
        for t in range(start, stop or tgt_in_ids.shape[1]):
            if feed == "predicted" and all_logits:
                token_ids = tf.argmax(all_logits[-1], axis=-1, output_type=tf.int32)
            elif feed == "shifted":
                token_ids = tgt_in_ids[:, max(t - 1, 0)]
            else:
                token_ids = tgt_in_ids[:, t]
            logits, new_state, weights = decoder.step(
                token_ids, current, values, keys, mask
            )
            current = new_state if carry else initial
            all_logits.append(logits)
            all_weights.append(weights)
        return ops.stack(all_logits, axis=axis), ops.stack(all_weights, axis=axis)

    return teacher_forced_unroll


def test_unroll_reference_passes(capsys):
    assert outcome("4.2", make_unroll())[0] == "passed"
    reference = lambda decoder, tgt, values, state, mask: decoder(  # noqa: E731
        tgt, values, state, mask=mask
    )
    assert outcome("4.2", reference)[0] == "passed"
    checks.check_teacher_forced_unroll(make_unroll())
    assert "passed" in capsys.readouterr().out
    assert_roundtrip_judges_the_same("4.2", make_unroll())


def test_unroll_stub_is_not_attempted():
    assert outcome("4.2", stub)[0] == "not_attempted"


UNROLL_MISTAKES = {
    "state not carried": (make_unroll(carry=False), "state is not carried"),
    "feeds predictions": (make_unroll(feed="predicted"), "its own predictions"),
    "shifted tokens": (make_unroll(feed="shifted"), "shifted by one"),
    "starts at 1": (make_unroll(start=1), "off by one"),
    "one step short": (make_unroll(stop=3), "off by one"),
    "time-major": (make_unroll(axis=0), "time-major"),
    "zero start": (make_unroll(zero_start=True), "started from zeros"),
}


@pytest.mark.parametrize("name", sorted(UNROLL_MISTAKES))
def test_unroll_known_mistakes_are_named(name):
    function, expected_text = UNROLL_MISTAKES[name]
    status, message = outcome("4.2", function)
    assert status == "failed", message
    assert expected_text in message


# --- Exercise 4.3: encode, then decode -----------------------------------------------


def make_forward(mask_from="src", state="encoder", invert=False):
    def encode_decode(model, src_ids, tgt_in_ids):
        values, final_state = model.encoder(src_ids)
        initial = {
            "encoder": final_state,
            "zeros": tf.zeros_like(final_state),
            "last_output": values[:, -1, :],
        }[state]
        ids = {"src": src_ids, "tgt": tgt_in_ids}.get(mask_from)
        mask = None if ids is None else (ids == 0 if invert else ids != 0)
        return model.decoder(tgt_in_ids, values, initial, mask=mask)

    return encode_decode


def test_forward_reference_passes(capsys):
    assert outcome("4.3", make_forward())[0] == "passed"
    reference = lambda model, src, tgt: model.call_with_attention((src, tgt))  # noqa: E731
    assert outcome("4.3", reference)[0] == "passed"
    checks.check_encode_decode(make_forward())
    assert "passed" in capsys.readouterr().out
    assert_roundtrip_judges_the_same("4.3", make_forward())


def test_forward_stub_is_not_attempted():
    assert outcome("4.3", stub)[0] == "not_attempted"


FORWARD_MISTAKES = {
    "mask from the target": (make_forward(mask_from="tgt"), "made from `tgt_in_ids`"),
    "no mask": (make_forward(mask_from=None), "pass `mask`"),
    "inverted mask": (make_forward(invert=True), "inverted"),
    "zero state": (make_forward(state="zeros"), "started from zeros"),
    "last output as state": (make_forward(state="last_output"), "values[:, -1]"),
    "logits only": (lambda model, src, tgt: model((src, tgt)), "(logits, weights)"),
}


@pytest.mark.parametrize("name", sorted(FORWARD_MISTAKES))
def test_forward_known_mistakes_are_named(name):
    function, expected_text = FORWARD_MISTAKES[name]
    status, message = outcome("4.3", function)
    assert status == "failed", message
    assert expected_text in message


def test_checks_are_quiet_and_fast(capfd):
    import time

    started = time.perf_counter()
    for exercise_id, function in [
        ("4.1", make_step()),
        ("4.2", make_unroll()),
        ("4.3", make_forward()),
    ]:
        framework.outcome(exercise_id, framework.observe(exercise_id, function))
    assert time.perf_counter() - started < 15
    assert capfd.readouterr().err == ""


def test_probe_inputs_make_the_mistakes_distinct():
    from s2s_helpers.checks import lesson04

    assert np.any(lesson04.STATE != 0)
    assert (lesson04.SRC_IDS.shape[1]) == lesson04.SEQ_TGT_IN_IDS.shape[1]
