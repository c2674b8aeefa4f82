"""Checks for lesson 04 (decoder): one step, the teacher-forced unroll, encode + decode.

The probes build a small reference ``Decoder`` (or ``Seq2Seq``), call the
learner's function with it on fixed inputs and record the results together with
the layer's weights. The judges rebuild the same layer from those weights and
compare with ``Decoder.step`` / ``Decoder.call``, and with what each known
mistake would have produced (computed with the same sublayers).

Taught in: lessons/04_decoder.ipynb
"""

from __future__ import annotations

import traceback

import numpy as np

from s2s_helpers.checks import framework
from s2s_helpers.checks.framework import (
    CheckFailed,
    exercise,
    expect_close,
    expect_shape,
    fail,
)

# Sizes chosen all different, so an answer along the wrong axis has a shape of
# its own: batch 3, src_len 5, tgt_len 4, embedding_dim 4, units 6, vocab 12.
VOCAB_SIZE, EMBEDDING_DIM, UNITS, ATTENTION_UNITS = 12, 4, 6, 5
BATCH, SRC_LEN, TGT_LEN = 3, 5, 4

_rng = np.random.default_rng(404)
SRC_MASK = np.array(
    [[1, 1, 1, 1, 1], [1, 1, 1, 0, 0], [1, 1, 0, 0, 0]], dtype=bool
)  # (batch, src_len), True for real tokens
VALUES = (_rng.normal(size=(BATCH, SRC_LEN, UNITS)) * SRC_MASK[..., None]).astype(
    np.float32
)  # (batch, src_len, units), zeros on padding like the encoder's outputs
STATE = (0.8 * _rng.normal(size=(BATCH, UNITS))).astype(np.float32)  # (batch, units)
TOKEN_IDS = np.array([2, 7, 11], dtype=np.int32)  # (batch,)
TGT_IN_IDS = np.array(
    [[2, 5, 9, 4], [2, 8, 6, 0], [2, 10, 0, 0]], dtype=np.int32
)  # (batch, tgt_len), [START] first, padding 0


def _tensors():
    import tensorflow as tf

    return (
        tf.constant(VALUES),
        tf.constant(STATE),
        tf.constant(SRC_MASK),
        tf.constant(TGT_IN_IDS),
    )


def _new_decoder():
    """A built reference ``Decoder`` of the check's sizes (fresh random weights)."""
    from s2s_helpers.decoder import Decoder

    values, state, mask, tgt_in_ids = _tensors()
    layer = Decoder(VOCAB_SIZE, EMBEDDING_DIM, UNITS, ATTENTION_UNITS)
    layer(tgt_in_ids, values, state, mask=mask)
    return layer


def _decoder_from(weights):
    """The decoder the probe used, rebuilt from its recorded weights."""
    layer = _new_decoder()
    layer.set_weights([np.asarray(w) for w in weights])
    return layer


def _raised(error: BaseException) -> str:
    return traceback.format_exception_only(type(error), error)[-1].strip()


def _call_learner(function, *args) -> dict:
    """Call learner code; keep what it returned, or the last line of its error."""
    try:
        return {"result": function(*args)}
    except NotImplementedError:
        raise
    except Exception as error:  # the learner's code may raise anything
        return {"raised": _raised(error)}


def _judge_raised(observation: dict, name: str) -> None:
    message = observation.get("raised")
    if message is None:
        return
    if "concat" in message.lower():
        fail(
            f"`{name}` raised an error while concatenating: join the context "
            "`(batch, units)` and the embedded token `(batch, embedding_dim)` along "
            "the last axis, `axis=-1`, not axis 0 (the batch).",
            received=message,
        )
    fail(f"`{name}` raised an error on the check's inputs.", received=message)


def _as_tuple(value, size: int, name: str, what: str) -> list:
    if not isinstance(value, list) or len(value) != size:
        received = (
            f"a list/tuple of {len(value)}"
            if isinstance(value, list)
            else type(value).__name__
        )
        fail(f"`{name}` should return {what}.", f"a tuple of {size}", received)
    return value


def _unwrap_state(value):
    """``GRUCell`` returns the new state as ``[h]`` when given a list: accept it."""
    if isinstance(value, list) and len(value) == 1:
        return value[0]
    return value


def _expect_padding_zero(name: str, weights: np.ndarray, mask: np.ndarray) -> None:
    """Weights on padded source positions must be exactly 0 (rows sum to 1)."""
    real = np.broadcast_to(mask, weights.shape)
    padding = ~real
    # real positions of the rows that have padding: zero there means inverted
    real_beside_padding = real & padding.any(axis=-1, keepdims=True)
    if np.all(np.isfinite(weights)) and np.allclose(
        weights[real_beside_padding], 0.0, atol=1e-6
    ):
        fail(
            f"`{name}` puts all the attention on padding and none on real tokens: "
            "the mask is inverted. It must be True for real tokens (`src_ids != 0`)."
        )
    if np.max(np.abs(weights[padding]), initial=0.0) > 1e-6:
        fail(
            f"`{name}` gives padded source positions non-zero attention: pass "
            "`mask` (True for real source tokens) to the attention.",
            "0.0 on every padded position",
            f"up to {np.max(np.abs(weights[padding])):.3g}",
        )
    sums = weights.sum(axis=-1)
    if not np.allclose(sums, 1.0, atol=1e-4):
        fail(
            f"the rows of `{name}` should sum to 1 over src_len.",
            "1.0",
            np.round(sums, 4).tolist(),
        )


# --- the reference step and its known mistakes, built from the same sublayers ------


def _step(
    layer,
    token_ids,
    state,
    values,
    keys,
    mask,
    *,
    carry_state: bool = True,
    swap_concat: bool = False,
    logits_from: str = "output",
):
    """``Decoder.step`` with one of the known mistakes switched on, as numpy."""
    from keras import ops

    context, weights = layer.attention(state, values, keys=keys, mask=mask)
    embedded = layer.embedding(token_ids)  # (batch, embedding_dim)
    parts = [embedded, context] if swap_concat else [context, embedded]
    inputs = ops.concatenate(parts, axis=-1)  # (batch, units + embedding_dim)
    previous = state if carry_state else ops.zeros_like(state)
    output, new_state = layer.cell(inputs, previous)
    new_state = _unwrap_state(new_state)
    source = {"output": output, "context": context, "state": state}[logits_from]
    logits = layer.output_layer(source)  # (batch, vocab)
    return tuple(framework.to_numpy(x) for x in (logits, new_state, weights))


def _softmax(x: np.ndarray) -> np.ndarray:
    shifted = np.exp(x - x.max(axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)


# --- Exercise 4.1: one decoder step --------------------------------------------

QUERY_IS_NEW_STATE = (
    "the attention query is the *new* state. Attend with the previous state "
    "`state` first: the query is what the decoder knew before this step."
)
QUERY_IS_ZERO = (
    "the attention query is all zeros. The query is the previous decoder state "
    "`state`, shape (batch, units)."
)
STATE_NOT_CARRIED = (
    "the GRU cell started from zeros, so the state is not carried (seed bug 1). "
    "Call `decoder.cell(inputs, state)` with the previous state."
)
CONCAT_ORDER = (
    "the context and the embedded token are concatenated in the wrong order: "
    "`concatenate([context, embedded], axis=-1)`."
)
STATE_UNCHANGED = (
    "this is the previous state, unchanged. Return the state that "
    "`decoder.cell(...)` returns."
)
LOGITS_ARE_PROBABILITIES = (
    "these are probabilities (softmax was applied). Return the raw scores of "
    "`decoder.output_layer`: the loss takes logits."
)
LOGITS_FROM_CONTEXT = (
    "the logits come from the context vector. Pass the GRU cell's output through "
    "`decoder.output_layer`."
)
LOGITS_FROM_PREVIOUS_STATE = (
    "the logits come from the previous state. Pass the GRU cell's *new* output "
    "through `decoder.output_layer`."
)


def _attend(layer, query, values, keys, mask) -> np.ndarray:
    """The attention weights for ``query``, as numpy."""
    import tensorflow as tf

    _, weights = layer.attention(tf.constant(query), values, keys=keys, mask=mask)
    return framework.to_numpy(weights)


def _probe_step(decoder_step) -> dict:
    import tensorflow as tf

    layer = _new_decoder()
    values, state, mask, _ = _tensors()
    keys = layer.precompute_keys(values)
    observation = _call_learner(
        decoder_step, layer, tf.constant(TOKEN_IDS), state, values, keys, mask
    )
    return {**observation, "decoder_weights": layer.get_weights()}


def _judge_step(observation: dict) -> str:
    name = "decoder_step(...)"
    _judge_raised(observation, name)
    logits, new_state, weights = _as_tuple(
        observation["result"], 3, name, "(logits, new_state, weights)"
    )
    new_state = _unwrap_state(new_state)
    logits = framework.expect_array("logits", logits)
    if logits.shape == (BATCH, UNITS):
        fail(
            "`logits` has `units` columns, not `vocab`: that is the cell output or "
            "the state. Pass the cell output through `decoder.output_layer`.",
            f"({BATCH}, {VOCAB_SIZE}) (batch, vocab)",
            logits.shape,
        )
    expect_shape("logits", logits, (BATCH, VOCAB_SIZE), "batch, vocab")
    new_state = expect_shape("new_state", new_state, (BATCH, UNITS), "batch, units")
    weights = expect_shape("weights", weights, (BATCH, SRC_LEN), "batch, src_len")
    _expect_padding_zero("weights", weights, SRC_MASK)

    import tensorflow as tf

    layer = _decoder_from(observation["decoder_weights"])
    values, state, mask, _ = _tensors()
    keys = layer.precompute_keys(values)
    args = (layer, tf.constant(TOKEN_IDS), state, values, keys, mask)
    ref_logits, ref_state, ref_weights = _step(*args)
    stateless = _step(*args, carry_state=False)
    swapped = _step(*args, swap_concat=True)
    next_weights = _attend(layer, ref_state, values, keys, mask)
    zero_weights = _attend(layer, np.zeros_like(STATE), values, keys, mask)
    expect_close(
        "weights",
        weights,
        ref_weights,
        known_mistakes={QUERY_IS_NEW_STATE: next_weights, QUERY_IS_ZERO: zero_weights},
    )
    expect_close(
        "new_state",
        new_state,
        ref_state,
        known_mistakes={
            STATE_NOT_CARRIED: stateless[1],
            CONCAT_ORDER: swapped[1],
            STATE_UNCHANGED: STATE,
        },
    )
    expect_close(
        "logits",
        logits,
        ref_logits,
        known_mistakes={
            LOGITS_ARE_PROBABILITIES: _softmax(ref_logits),
            LOGITS_FROM_CONTEXT: _step(*args, logits_from="context")[0],
            LOGITS_FROM_PREVIOUS_STATE: _step(*args, logits_from="state")[0],
        },
    )
    return (
        "logits (batch, vocab), new state (batch, units) and weights (batch, src_len) "
        "match Decoder.step; the state is carried and padding gets 0 weight."
    )


check_decoder_step = exercise(
    "4.1",
    "one decoder step",
    arguments=("decoder_step",),
    probe=_probe_step,
    judge=_judge_step,
    hints=(
        "Follow the four numbered steps: attention with the previous `state` as "
        "the query; `decoder.embedding(token_ids)`; join context and embedding "
        "with `ops.concatenate([...], axis=-1)` (context first) and give that and "
        "the previous `state` to `decoder.cell`; `decoder.output_layer` on the "
        "cell's output.",
    ),
)


# --- Exercise 4.2: the teacher-forced unroll --------------------------------------

UNROLL_STATE_NOT_CARRIED = (
    "the state is not carried from one step to the next: every step starts again "
    "from the initial state. Feed each step the `new_state` of the previous one."
)
UNROLL_FEEDS_PREDICTIONS = (
    "the decoder was fed its own predictions (argmax). Teacher forcing feeds the "
    "true previous token, `tgt_in_ids[:, t]`."
)
UNROLL_SHIFTED = (
    "the tokens are shifted by one: step t must be fed `tgt_in_ids[:, t]` "
    "([START] at t = 0, once)."
)
UNROLL_ZERO_START = (
    "the first step started from zeros. Start from `state`, the encoder's final state."
)


def _unroll(
    layer,
    tgt_in_ids,
    values,
    state,
    mask,
    *,
    carry_state=True,
    feed="true",
    zero_start=False,
):
    """The teacher-forced loop, or one of its known mistakes, as numpy."""
    import tensorflow as tf

    keys = layer.precompute_keys(values)
    initial = tf.zeros_like(state) if zero_start else state
    state = initial
    all_logits, all_weights = [], []
    for t in range(tgt_in_ids.shape[1]):
        if feed == "true" or t == 0:
            token_ids = tgt_in_ids[:, t]
        elif feed == "predicted":
            token_ids = tf.argmax(all_logits[-1], axis=-1, output_type=tf.int32)
        else:  # "shifted": the previous position's token, [START] twice
            token_ids = tgt_in_ids[:, t - 1]
        logits, new_state, weights = layer.step(token_ids, state, values, keys, mask)
        state = new_state if carry_state else initial
        all_logits.append(framework.to_numpy(logits))
        all_weights.append(framework.to_numpy(weights))
    return np.stack(all_logits, axis=1), np.stack(all_weights, axis=1)


def _probe_unroll(teacher_forced_unroll) -> dict:
    layer = _new_decoder()
    values, state, mask, tgt_in_ids = _tensors()
    observation = _call_learner(
        teacher_forced_unroll, layer, tgt_in_ids, values, state, mask
    )
    return {**observation, "decoder_weights": layer.get_weights()}


def _expect_logits_and_weights(logits, weights, reference, mistakes) -> None:
    """Compare ``(logits, weights)`` with the reference pair; each known mistake
    is a wrong pair whose logits name it."""
    expect_close(
        "logits",
        logits,
        reference[0],
        known_mistakes={message: wrong[0] for message, wrong in mistakes.items()},
    )
    expect_close("weights", weights, reference[1])


def _judge_unroll(observation: dict) -> str:
    name = "teacher_forced_unroll(...)"
    _judge_raised(observation, name)
    logits, weights = _as_tuple(observation["result"], 2, name, "(logits, weights)")
    logits = framework.expect_array("logits", logits)
    expected = (BATCH, TGT_LEN, VOCAB_SIZE)
    if logits.shape == (TGT_LEN, BATCH, VOCAB_SIZE):
        fail(
            "`logits` is time-major (tgt_len, batch, vocab): stack the steps along "
            "axis 1, `ops.stack(all_logits, axis=1)`.",
            f"{expected} (batch, tgt_len, vocab)",
            logits.shape,
        )
    if logits.ndim == 3 and logits.shape[0] == BATCH and logits.shape[2] == VOCAB_SIZE:
        steps = logits.shape[1]
        if steps in (TGT_LEN - 1, TGT_LEN + 1):
            fail(
                f"`logits` has {steps} steps for tgt_len {TGT_LEN}: off by one. Run one "
                "step per position of `tgt_in_ids`, t = 0 .. tgt_len - 1, feeding "
                "`tgt_in_ids[:, t]` ([START] first).",
                f"{expected} (batch, tgt_len, vocab)",
                logits.shape,
            )
    expect_shape("logits", logits, expected, "batch, tgt_len, vocab")
    weights = expect_shape(
        "weights", weights, (BATCH, TGT_LEN, SRC_LEN), "batch, tgt_len, src_len"
    )
    _expect_padding_zero("weights", weights, SRC_MASK[:, None, :])

    layer = _decoder_from(observation["decoder_weights"])
    values, state, mask, tgt_in_ids = _tensors()
    args = (layer, tgt_in_ids, values, state, mask)
    reference = _unroll(*args)
    mistakes = {
        UNROLL_STATE_NOT_CARRIED: _unroll(*args, carry_state=False),
        UNROLL_FEEDS_PREDICTIONS: _unroll(*args, feed="predicted"),
        UNROLL_SHIFTED: _unroll(*args, feed="shifted"),
        UNROLL_ZERO_START: _unroll(*args, zero_start=True),
    }
    _expect_logits_and_weights(logits, weights, reference, mistakes)
    return (
        "logits (batch, tgt_len, vocab) and weights (batch, tgt_len, src_len) match "
        "Decoder.call: true tokens fed, state carried across all tgt_len steps."
    )


check_teacher_forced_unroll = exercise(
    "4.2",
    "the teacher-forced unroll",
    arguments=("teacher_forced_unroll",),
    probe=_probe_unroll,
    judge=_judge_unroll,
    hints=(
        "`keys = decoder.precompute_keys(values)` once; then for t in "
        "range(tgt_len): `logits, state, weights = decoder.step(tgt_in_ids[:, t], "
        "state, values, keys, mask)` (the new state replaces the old one), collect "
        "logits and weights, and stack each list with `axis=1`.",
    ),
)


# --- Exercise 4.3: encode, then decode ------------------------------------------------

FORWARD_ZERO_STATE = (
    "the decoder started from zeros. Its initial state is the encoder's final "
    "state, the second thing `model.encoder(src_ids)` returns."
)
FORWARD_LAST_OUTPUT = (
    "the decoder started from `values[:, -1]`, the output at the last position, "
    "which is padding (zeros) for short sources. Use the encoder's returned state."
)

SRC_VOCAB_SIZE = 9
SRC_IDS = np.array(
    [[4, 5, 6, 7, 8, 3], [5, 4, 8, 0, 0, 0], [7, 6, 0, 0, 0, 0]], dtype=np.int32
)  # (batch, src_len), padding 0
SEQ_TGT_IN_IDS = np.array(
    [[2, 5, 9, 4, 0, 0], [2, 8, 6, 11, 5, 7], [2, 10, 4, 0, 0, 0]], dtype=np.int32
)  # (batch, tgt_len): as long as src_ids, with other padding


def _new_model():
    import tensorflow as tf

    from s2s_helpers.seq2seq import Seq2Seq

    model = Seq2Seq(SRC_VOCAB_SIZE, VOCAB_SIZE, EMBEDDING_DIM, UNITS, ATTENTION_UNITS)
    model((tf.constant(SRC_IDS), tf.constant(SEQ_TGT_IN_IDS)))
    return model


def _forward(model, *, mask_from="src", state="encoder"):
    """Encoder then teacher-forced decoder, or a known mistake, as numpy."""
    import tensorflow as tf

    src_ids, tgt_in_ids = tf.constant(SRC_IDS), tf.constant(SEQ_TGT_IN_IDS)
    values, final_state = model.encoder(src_ids)
    initial = {
        "encoder": final_state,
        "zeros": tf.zeros_like(final_state),
        "last_output": values[:, -1, :],
    }[state]
    mask = {"src": src_ids != 0, "tgt": tgt_in_ids != 0}[mask_from]
    logits, weights = model.decoder(tgt_in_ids, values, initial, mask=mask)
    return framework.to_numpy(logits), framework.to_numpy(weights)


def _probe_forward(encode_decode) -> dict:
    import tensorflow as tf

    model = _new_model()
    observation = _call_learner(
        encode_decode, model, tf.constant(SRC_IDS), tf.constant(SEQ_TGT_IN_IDS)
    )
    return {**observation, "model_weights": model.get_weights()}


def _judge_forward(observation: dict) -> str:
    name = "encode_decode(...)"
    _judge_raised(observation, name)
    logits, weights = _as_tuple(observation["result"], 2, name, "(logits, weights)")
    batch, tgt_len = SEQ_TGT_IN_IDS.shape
    src_len = SRC_IDS.shape[1]
    logits = expect_shape(
        "logits", logits, (batch, tgt_len, VOCAB_SIZE), "batch, tgt_len, vocab"
    )
    weights = expect_shape(
        "weights", weights, (batch, tgt_len, src_len), "batch, tgt_len, src_len"
    )
    src_mask = (SRC_IDS != 0)[:, None, :]
    tgt_mask = (SEQ_TGT_IN_IDS != 0)[:, None, :]
    padding_of_target = np.broadcast_to(~tgt_mask, weights.shape)
    if (
        np.all(np.isfinite(weights))
        and np.allclose(weights[padding_of_target], 0.0)
        and (np.max(weights[np.broadcast_to(~src_mask, weights.shape)]) > 1e-6)
    ):
        raise CheckFailed(
            "`weights`: the attention mask was made from `tgt_in_ids`. The "
            "attention looks at the *source*: `mask = src_ids != 0`."
        )
    _expect_padding_zero("weights", weights, src_mask)

    from s2s_helpers.seq2seq import Seq2Seq

    model = Seq2Seq(SRC_VOCAB_SIZE, VOCAB_SIZE, EMBEDDING_DIM, UNITS, ATTENTION_UNITS)
    import tensorflow as tf

    model((tf.constant(SRC_IDS), tf.constant(SEQ_TGT_IN_IDS)))
    model.set_weights([np.asarray(w) for w in observation["model_weights"]])
    reference = _forward(model)
    mistakes = {
        FORWARD_ZERO_STATE: _forward(model, state="zeros"),
        FORWARD_LAST_OUTPUT: _forward(model, state="last_output"),
    }
    _expect_logits_and_weights(logits, weights, reference, mistakes)
    return (
        "logits (batch, tgt_len, vocab) and weights (batch, tgt_len, src_len) match "
        "Seq2Seq.call_with_attention: encoder state handed over, source mask used."
    )


check_encode_decode = exercise(
    "4.3",
    "encode, then decode",
    arguments=("encode_decode",),
    probe=_probe_forward,
    judge=_judge_forward,
    hints=(
        "`values, state = model.encoder(src_ids)`; the mask is `src_ids != 0` "
        "(the source's padding); then `model.decoder(tgt_in_ids, values, state, "
        "mask=mask)` returns (logits, weights).",
    ),
)
