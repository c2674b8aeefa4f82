"""Lesson 04's checks: the reference passes, the stub is not attempted, every wrong
answer of the decoder step, the unroll and encode + decode is diagnosed as itself (a
property or a named mistake, never another one), and correct but unusually written
answers pass."""

import numpy as np
import pytest
import tensorflow as tf
from checktools import assert_diagnosed, assert_passes_unusual, outcome, stub
from checktools import assert_round_trip as assert_roundtrip_judges_the_same
from keras import ops

from s2s_helpers import checks
from s2s_helpers.checks import framework, lesson04

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
    token="given",
    context="attention",
    invert=False,
    squash=False,
):
    """A decoder step with one mistake switched on (all off: the solution)."""

    def decoder_step(decoder, token_ids, state, values, keys, mask):
        query_state = {
            "zeros": tf.zeros_like(state),
            "values": tf.reduce_mean(values, axis=1),
        }.get(query, state)
        if invert:
            mask = tf.logical_not(mask)
        context_, weights = decoder.attention(
            query_state, values, keys=keys, mask=mask if use_mask else None
        )
        if context == "mean":
            context_ = tf.reduce_mean(values, axis=1)
        if token == "zeros":
            embedded = decoder.embedding(tf.zeros_like(token_ids))
        elif token == "column":
            embedded = decoder.embedding(token_ids[:, None])
        else:
            embedded = decoder.embedding(token_ids)
        parts = [embedded, context_] if swap else [context_, embedded]
        inputs = ops.concatenate(parts, axis=concat_axis)
        output, new_state = decoder.cell(
            inputs, state if carry else tf.zeros_like(state)
        )
        features = {
            "output": [output, context_],
            "swapped": [context_, output],
            "state": [state, context_],
        }.get(logits_from)
        if logits_from == "alone":  # the classic layer: the cell's output only
            logits = decoder.output_layer(output)
        else:
            logits = decoder.output_layer(ops.concatenate(features, axis=-1))
        if squash:
            logits = tf.tanh(logits)
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
        "*new* state as the attention query",
    ),
    "query is zeros": (make_step(query="zeros"), "all-zeros attention query"),
    "concat order": (make_step(swap=True), "wrong order"),
    "concat axis": (make_step(concat_axis=0), "differ along axis 1"),
    "output and context swapped": (
        make_step(logits_from="swapped"),
        "reads the cell's output first",
    ),
    "logits from previous state": (make_step(logits_from="state"), "previous state"),
    "softmax": (make_step(softmax=True), "probabilities"),
    "no mask": (make_step(use_mask=False), "an attention given no mask"),
    "state unchanged": (make_step(keep_state=True), "previous state, unchanged"),
    "returns two things": (lambda *args: (1, 2), "(logits, new_state, weights)"),
    # not in the catalogue: found by the properties, or shown as a plain error
    "ignores the token": (
        make_step(token="zeros"),
        "`new_state` stays the same when `token_ids` change",
    ),
    "mean of the values as the context": (
        make_step(context="mean"),
        "not the GRU cell's new state for [context, embedded token]",
    ),
    "inverted mask": (make_step(invert=True), "all the weight on padding"),
    "tanh on the logits": (make_step(squash=True), "not `decoder.output_layer`"),
    "logits from the output alone (the classic layer)": (
        make_step(logits_from="alone"),
        "layer `output_layer` expects 12 features on the last axis",
    ),
    "the token as a column": (
        make_step(token="column"),
        "Ranks of all input tensors should match",
    ),
    "query is the mean of the values": (
        make_step(query="values"),
        "`weights` stays the same when `state` changes",
    ),
}


@pytest.mark.parametrize("name", sorted(STEP_MISTAKES))
def test_step_mistakes_are_diagnosed(name):
    message = assert_diagnosed("4.1", STEP_MISTAKES, name)
    assert "Hint" in message


def test_a_batch_mismatch_is_not_blamed_on_a_concatenation():
    """Issue 13: an error names a concatenation only when one raised it."""

    def one_row_of_state(decoder, token_ids, state, values, keys, mask):
        context, weights = decoder.attention(state[0], values, keys=keys, mask=mask)
        return decoder.step(token_ids, state, values, keys, mask)

    status, message = outcome("4.1", one_row_of_state)
    assert status == "error" and "concatenat" not in message, message
    assert "decoder.attention(state[0], values" in message, message


def step_returning_numpy(decoder, token_ids, state, values, keys, mask):
    return tuple(
        np.asarray(x) for x in decoder.step(token_ids, state, values, keys, mask)
    )


def step_with_keys_recomputed_and_state_as_output(
    decoder, token_ids, state, values, keys, mask
):
    """Lets the layer compute the keys again (the same here) and uses h for o."""
    context, weights = decoder.attention(state, values, mask=mask)
    inputs = tf.concat([context, decoder.embedding(token_ids)], -1)
    _, new_state = decoder.cell(inputs, [state])
    new_state = new_state[0] if isinstance(new_state, list) else new_state
    logits = decoder.output_layer(tf.concat([new_state, context], -1))
    return logits, new_state, weights


@pytest.mark.parametrize(
    "function",
    [
        step_returning_numpy,
        step_with_keys_recomputed_and_state_as_output,
        tf.function(make_step()),
    ],
    ids=["numpy", "keys recomputed, state as output", "tf.function"],
)
def test_step_unusual_answers_pass(function):
    assert_passes_unusual("4.1", function)


# --- Exercise 4.2: the teacher-forced unroll ---------------------------------------------


def make_unroll(
    carry=True,
    feed="true",
    start=0,
    stop=None,
    axis=1,
    zero_start=False,
    order=1,
    use_mask=True,
):
    def teacher_forced_unroll(decoder, tgt_in_ids, values, state, mask):
        keys = decoder.precompute_keys(values)
        mask = mask if use_mask else None
        initial = tf.zeros_like(state) if zero_start else state
        current = initial
        all_logits, all_weights = [], []
        for t in list(range(start, stop or tgt_in_ids.shape[1]))[::order]:
            if feed == "predicted" and all_logits:
                token_ids = tf.argmax(all_logits[-1], axis=-1, output_type=tf.int32)
            elif feed == "shifted":
                token_ids = tgt_in_ids[:, max(t - 1, 0)]
            elif feed == "start":
                token_ids = tgt_in_ids[:, 0]
            elif feed == "row":
                token_ids = tgt_in_ids[t]
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
    "no mask": (make_unroll(use_mask=False), "an attention given no mask"),
    # not in the catalogue: found by the properties, or shown as a plain error
    "[START] at every step": (
        make_unroll(feed="start"),
        "at step 2 stay the same when tgt_in_ids[:, 2] changes",
    ),
    "loop runs backwards": (make_unroll(order=-1), "a step must not see"),
    "stacked along the last axis": (make_unroll(axis=-1), "tgt_len is 11, expected 4"),
    "a row instead of a column": (make_unroll(feed="row"), "differ along axis 0"),
    "ignores the initial state": (
        lambda decoder, tgt, values, state, mask: make_unroll()(
            decoder, tgt, values, tf.ones_like(state), mask
        ),
        "at step 0 stay the same when the initial `state` changes",
    ),
}


@pytest.mark.parametrize("name", sorted(UNROLL_MISTAKES))
def test_unroll_mistakes_are_diagnosed(name):
    assert_diagnosed("4.2", UNROLL_MISTAKES, name)


def test_a_row_of_ids_is_not_blamed_on_the_concatenation_axis():
    """Issue 13: `tgt_in_ids[t]` gets the plain error and the learner's line."""
    message = assert_diagnosed("4.2", UNROLL_MISTAKES, "a row instead of a column")
    assert "along the last axis" not in message and "not axis 0" not in message


def unroll_time_major_then_transposed(decoder, tgt_in_ids, values, state, mask):
    keys = decoder.precompute_keys(values)
    all_logits, all_weights = [], []
    for token_ids in tf.unstack(tgt_in_ids, axis=1):
        logits, state, weights = decoder.step(token_ids, state, values, keys, mask)
        all_logits.append(logits)
        all_weights.append(weights)
    return (
        tf.transpose(tf.stack(all_logits), [1, 0, 2]),
        tf.transpose(tf.stack(all_weights), [1, 0, 2]),
    )


def unroll_with_a_tensor_array(decoder, tgt_in_ids, values, state, mask):
    keys = decoder.precompute_keys(values)
    logits_ta = tf.TensorArray(tf.float32, size=tgt_in_ids.shape[1])
    weights_ta = tf.TensorArray(tf.float32, size=tgt_in_ids.shape[1])
    for t in range(tgt_in_ids.shape[1]):
        logits, state, weights = decoder.step(
            tgt_in_ids[:, t], state, values, keys, mask
        )
        logits_ta, weights_ta = logits_ta.write(t, logits), weights_ta.write(t, weights)
    return (
        np.swapaxes(logits_ta.stack().numpy(), 0, 1),
        np.swapaxes(weights_ta.stack().numpy(), 0, 1),
    )


@pytest.mark.parametrize(
    "function",
    [unroll_time_major_then_transposed, unroll_with_a_tensor_array],
    ids=["unstack, stack, transpose", "TensorArray, numpy"],
)
def test_unroll_unusual_answers_pass(function):
    assert_passes_unusual("4.2", function)


# --- Exercise 4.3: encode, then decode -----------------------------------------------


def make_forward(
    mask_from="src", state="encoder", invert=False, training=None, encode="src"
):
    def encode_decode(model, src_ids, tgt_in_ids):
        encoded = {"src": src_ids, "tgt": tgt_in_ids}[encode]
        values, final_state, _ = model.encoder(encoded, training=training)
        initial = {
            "encoder": final_state,
            "zeros": tf.zeros_like(final_state),
            "last_output": values[:, -1, :],
            "mean": tf.reduce_mean(values, axis=1),
        }[state]
        ids = {"src": src_ids, "tgt": tgt_in_ids}.get(mask_from)
        mask = None if ids is None else (ids == 0 if invert else ids != 0)
        return model.decoder(tgt_in_ids, values, initial, mask=mask)

    return encode_decode


def test_forward_reference_passes(capsys):
    assert outcome("4.3", make_forward())[0] == "passed"
    checks.check_encode_decode(make_forward())
    assert "passed" in capsys.readouterr().out
    assert_roundtrip_judges_the_same("4.3", make_forward())


def test_forward_stub_is_not_attempted():
    assert outcome("4.3", stub)[0] == "not_attempted"


FORWARD_MISTAKES = {
    "mask from the target": (make_forward(mask_from="tgt"), "made from `tgt_in_ids`"),
    "no mask": (make_forward(mask_from=None), "an attention given no mask"),
    "inverted mask": (make_forward(invert=True), "inverted"),
    "zero state": (make_forward(state="zeros"), "started from zeros"),
    "last output as state": (make_forward(state="last_output"), "values[:, -1]"),
    "logits only": (lambda model, src, tgt: model((src, tgt)), "(logits, weights)"),
    # not in the catalogue: found by the properties
    "dropout left on": (make_forward(training=True), "give different `logits`"),
    "mean of the outputs as the state": (
        make_forward(state="mean"),
        "change when a padding column (id 0) is added at the end",
    ),
    "encodes the target": (
        make_forward(encode="tgt"),
        "stays the same when the source tokens change",
    ),
    "decodes the source": (
        lambda model, src, tgt: make_forward()(model, src, src),
        "stays the same when `tgt_in_ids` changes",
    ),
    "keeps only ids above 4": (
        lambda model, src, tgt: model.decoder(
            tgt, *model.encoder(src)[:2], mask=src > 4
        ),
        "gives zero weight to real source tokens",
    ),
}


@pytest.mark.parametrize("name", sorted(FORWARD_MISTAKES))
def test_forward_mistakes_are_diagnosed(name):
    assert_diagnosed("4.3", FORWARD_MISTAKES, name)


def encode_with_the_models_encode(model, src_ids, tgt_in_ids):
    values, state, _, mask = model.encode(src_ids)
    return model.decoder(tgt_in_ids, values, state, mask=mask)


def encode_with_the_encoders_mask(model, src_ids, tgt_in_ids):
    values, state, mask = model.encoder(src_ids)  # the lesson's solution
    return model.decoder(tgt_in_ids, values, state, mask=mask)


def encode_with_a_numpy_mask(model, src_ids, tgt_in_ids):
    values, state, _ = model.encoder(src_ids, training=False)
    mask = np.asarray(src_ids) > 0
    logits, weights = model.decoder(tgt_in_ids, values, state, mask)
    return logits.numpy(), weights.numpy()


@pytest.mark.parametrize(
    "function",
    [
        lambda model, src, tgt: model.call_with_attention((src, tgt)),
        encode_with_the_models_encode,
        encode_with_the_encoders_mask,
        encode_with_a_numpy_mask,
    ],
    ids=[
        "call_with_attention",
        "model.encode",
        "the encoder's mask",
        "numpy mask, training=False",
    ],
)
def test_forward_unusual_answers_pass(function):
    assert_passes_unusual("4.3", function)


def test_checks_are_quiet(capfd):
    """Checks never write to stderr."""
    for exercise_id, function in [
        ("4.1", make_step()),
        ("4.2", make_unroll()),
        ("4.3", make_forward()),
    ]:
        framework.outcome(exercise_id, framework.observe(exercise_id, function))
    assert capfd.readouterr().err == ""


def test_probe_inputs_make_the_mistakes_distinct():
    assert np.any(lesson04.STATE != 0)
    assert (lesson04.SRC_IDS.shape[1]) == lesson04.SEQ_TGT_IN_IDS.shape[1]


@pytest.mark.parametrize("exercise_id", ["4.1", "4.2", "4.3"])
def test_hints_come_in_at_least_two_levels(exercise_id):
    exercise = checks.get(exercise_id)
    assert len(exercise.hints) >= 2
    assert len(set(exercise.hints)) == len(exercise.hints)


def test_every_axis_of_the_step_and_unroll_inputs_has_its_own_size():
    sizes = list(checks.get("4.1").axes.values())
    assert len(set(sizes)) == len(sizes)
    assert lesson04.SRC_VOCAB_SIZE not in sizes


def test_encode_decode_shares_only_the_two_lengths_on_purpose():
    axes = checks.get("4.3").axes
    assert axes["src_len"] == axes["tgt_len"]
    others = [size for name, size in axes.items() if name != "tgt_len"]
    assert len(set(others)) == len(others)
