"""Checks for lesson 04 (decoder): one step, the teacher-forced unroll, encode + decode.

The probes call the learner's function with one tiny seeded ``Seq2Seq``
(``models.tiny_seq2seq``, with dropout, so that ``training`` matters) or its
decoder, on several inputs: the lesson's, the same with one thing changed (the
state, the tokens, one column of ``tgt_in_ids``, the source tokens, a padding
column added) and another seed with padding in other rows. The judges rebuild
the model from its seed and go from cheap to specific: the shapes; a catalogued
mistake, named when its exact output is recognised; the properties every
correct answer has (attention weights that sum to 1 over real source tokens,
outputs that follow the state and tokens they are fed, no step that sees a
later token, a state that carries earlier tokens forward, logits that are the
output layer of the new state, the same result twice, nothing changed by extra
padding); last, the reference ``Decoder.step`` / ``Decoder.call``.

Sizes no two axes share: batch 3, tgt_len 4, src_len 5, units 6, embedding_dim
7, attention_units 8, vocab 11 (source vocab 13). Exercise 4.3 uses src_len =
tgt_len = 9 on purpose, so that a mask made from ``tgt_in_ids`` has the
source's shape and shows in the weights rather than as a crash. TensorFlow is
imported inside the functions that run a model, so that importing the checks
does not load it.

Taught in: lessons/04_decoder.ipynb
"""

from __future__ import annotations

import functools

import numpy as np

from s2s_helpers.checks.expect import (
    close,
    expect_changes,
    expect_finite,
    name_known_mistake,
)
from s2s_helpers.checks.framework import (
    Mistake,
    exercise,
    expect_array,
    expect_close,
    expect_shape,
    fail,
    softmax,
    to_numpy,
)
from s2s_helpers.checks.lesson03 import expect_attention_weights
from s2s_helpers.checks.models import tiny_seq2seq

VOCAB_SIZE, SRC_VOCAB_SIZE = 11, 13
BATCH, TGT_LEN, SRC_LEN = 3, 4, 5
UNITS, EMBEDDING_DIM, ATTENTION_UNITS = 6, 7, 8
AXES = {
    "batch": BATCH,
    "tgt_len": TGT_LEN,
    "src_len": SRC_LEN,
    "units": UNITS,
    "embedding_dim": EMBEDDING_DIM,
    "attention_units": ATTENTION_UNITS,
    "vocab": VOCAB_SIZE,
}

_rng = np.random.default_rng(404)
SRC_MASK = np.array([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0], [1, 1, 0, 0, 0]], bool)
OTHER_MASK = np.array([[1, 1, 0, 0, 0], [1, 1, 1, 1, 1], [1, 1, 1, 1, 0]], bool)
VALUES, OTHER_VALUES = (
    (_rng.normal(size=(BATCH, SRC_LEN, UNITS)) * mask[..., None]).astype(np.float32)
    for mask in (SRC_MASK, OTHER_MASK)
)  # (batch, src_len, units), zeros on padding like the encoder's outputs
STATE, OTHER_STATE, CHANGED_STATE = (
    (0.8 * _rng.normal(size=(BATCH, UNITS))).astype(np.float32) for _ in range(3)
)  # (batch, units)
TOKEN_IDS = np.array([2, 7, 10], np.int32)  # (batch,)
TGT_IN_IDS = np.array(
    [[2, 5, 9, 4], [2, 8, 6, 0], [2, 10, 0, 0]], np.int32
)  # (batch, tgt_len), [START] first, padding 0
OTHER_TGT_IN_IDS = np.array([[2, 4, 0, 0], [2, 9, 3, 7], [2, 6, 8, 0]], np.int32)

MASK_HINTS = ("Which argument tells the attention where the padding is?",)


def _with_column(ids: np.ndarray, t: int, column: list) -> np.ndarray:
    changed = ids.copy()
    changed[:, t] = column
    return changed


@functools.lru_cache(maxsize=1)
def _built_model():
    """The checks' tiny seeded model and its initial weights (built once)."""
    ones = (np.ones((1, SRC_LEN), np.int32), np.ones((1, TGT_LEN), np.int32))
    model = tiny_seq2seq(
        SRC_VOCAB_SIZE,
        VOCAB_SIZE,
        EMBEDDING_DIM,
        UNITS,
        ones,
        seed=404,
        attention_units=ATTENTION_UNITS,
        dropout_rate=0.5,
    )
    return model, model.get_weights()


def _model():
    """The tiny model with its seeded weights (restored: learner code may change
    them). Judges rebuild the same model from the seed in the grader's process."""
    model, weights = _built_model()
    model.set_weights(weights)
    return model


def _tensors(*arrays):
    import tensorflow as tf

    return tuple(tf.constant(array) for array in arrays)


def _unwrap_state(value):
    """``GRUCell`` returns the new state as ``[h]`` when given a list: accept it."""
    if isinstance(value, (list, tuple)) and len(value) == 1:
        return value[0]
    return value


def _as_tuple(value, size: int, name: str, what: str) -> list:
    if not isinstance(value, list) or len(value) != size:
        received = (
            f"a list/tuple of {len(value)}"
            if isinstance(value, list)
            else type(value).__name__
        )
        fail(f"`{name}` should return {what}.", f"a tuple of {size}", received)
    return value


def _checked(name: str, value, shape: tuple, axes: str) -> np.ndarray:
    """``value`` as float64 once its shape is ``shape`` and it is finite."""
    value = expect_shape(name, value, shape, axes)
    expect_finite(name, value)
    return value.astype(np.float64)


def _mask_not_used(weights: np.ndarray) -> dict:
    message = (
        "the weights are those of an attention given no mask: padded source "
        "positions get weight."
    )
    return {message: Mistake(weights, MASK_HINTS)}


# --- Exercise 4.1: one decoder step --------------------------------------------

STEP_NAME = "decoder_step(...)"
QUERY_IS_NEW_STATE = (
    "the weights are those of the *new* state as the attention query; the query "
    "is `state`, what the decoder knew before this step."
)
QUERY_IS_ZERO = (
    "the weights are those of an all-zeros attention query; the query is the "
    "previous decoder state `state`, shape (batch, units)."
)
STATE_NOT_CARRIED = (
    "the new state is the GRU cell's from a zero state, so the state is not "
    "carried (seed bug 1)."
)
CONCAT_ORDER = (
    "the new state is what the cell gives for [embedded token, context]: the "
    "context and the embedded token are joined in the wrong order."
)
STATE_UNCHANGED = "this is the previous state, unchanged, not the cell's new state."
LOGITS_ARE_PROBABILITIES = (
    "these are probabilities (the softmax of the logits); the loss takes logits."
)
LOGITS_OUTPUT_CONTEXT_SWAPPED = (
    "`decoder.output_layer` got [context ; output]: it reads the cell's output "
    "first, then the context."
)
LOGITS_FROM_PREVIOUS_STATE = (
    "the logits come from the previous state, not the cell's new output."
)


def _step_cases() -> dict[str, tuple]:
    """(token_ids, state, values, mask) per case."""
    base = (TOKEN_IDS, STATE, VALUES, SRC_MASK)
    return {
        "base": base,
        "state_changed": (TOKEN_IDS, CHANGED_STATE, VALUES, SRC_MASK),
        "tokens_changed": (np.array([4, 9, 6], np.int32), STATE, VALUES, SRC_MASK),
        "other": (np.array([8, 2, 5], np.int32), OTHER_STATE, OTHER_VALUES, OTHER_MASK),
    }


def _probe_step(decoder_step) -> dict:
    decoder = _model().decoder
    runs = {}
    for case, arrays in _step_cases().items():
        token_ids, state, values, mask = _tensors(*arrays)
        keys = decoder.precompute_keys(values)
        runs[case] = decoder_step(decoder, token_ids, state, values, keys, mask)
    return runs


def _step(decoder, token_ids, state, values, mask):
    """The library's ``Decoder.step`` on these arrays, as numpy float64."""
    token_ids, state, values, mask = _tensors(token_ids, state, values, mask)
    keys = decoder.precompute_keys(values)
    result = decoder.step(token_ids, state, values, keys, mask)
    return tuple(to_numpy(x).astype(np.float64) for x in result)


def _weights(decoder, query, values, mask) -> np.ndarray:
    """The decoder's attention weights for ``query`` (one known mistake's)."""
    query, values = _tensors(query.astype(np.float32), values)
    mask = None if mask is None else _tensors(mask)[0]
    keys = decoder.precompute_keys(values)
    _, weights = decoder.attention(query, values, keys=keys, mask=mask)
    return to_numpy(weights).astype(np.float64)


def _step_result(result) -> tuple[np.ndarray, ...]:
    logits, new_state, weights = _as_tuple(
        result, 3, STEP_NAME, "(logits, new_state, weights)"
    )
    logits = expect_array("logits", logits)
    if logits.shape == (BATCH, UNITS):
        fail(
            "`logits` has `units` columns, (batch, units), not one score per "
            "vocabulary entry (batch, vocab).",
            f"({BATCH}, {VOCAB_SIZE}) (batch, vocab)",
            logits.shape,
        )
    shapes = [((BATCH, VOCAB_SIZE), "batch, vocab"), ((BATCH, UNITS), "batch, units")]
    shapes.append(((BATCH, SRC_LEN), "batch, src_len"))
    values = (logits, _unwrap_state(new_state), weights)
    return tuple(
        _checked(name, value, shape, axes)
        for name, value, (shape, axes) in zip(
            ("logits", "new_state", "weights"), values, shapes
        )
    )


def _step_mistakes(run: tuple, decoder, reference: tuple) -> None:
    """Name a known mistake, each built from the library's sublayers with one
    thing changed (the reference itself is ``Decoder.step``)."""
    if all(map(close, run, reference)):
        return
    token_ids, state, values, mask = _step_cases()["base"]
    logits, new_state, weights = reference
    name_known_mistake(
        "weights",
        run[2],
        weights,
        {
            QUERY_IS_NEW_STATE: _weights(decoder, new_state, values, mask),
            QUERY_IS_ZERO: _weights(decoder, np.zeros_like(state), values, mask),
            **_mask_not_used(_weights(decoder, state, values, None)),
        },
    )
    carried = ("Which state goes into the cell: zeros, or the previous `state`?",)
    zeros = np.zeros_like(state)
    name_known_mistake(
        "new_state",
        run[1],
        new_state,
        {
            STATE_NOT_CARRIED: Mistake(
                _cell_state(decoder, token_ids, zeros, values, weights), carried
            ),
            CONCAT_ORDER: _cell_state(decoder, token_ids, state, values, weights, True),
            STATE_UNCHANGED: STATE,
        },
    )
    context = np.einsum("bs,bsu->bu", weights, values).astype(np.float32)
    name_known_mistake(
        "logits",
        run[0],
        logits,
        {
            LOGITS_ARE_PROBABILITIES: softmax(logits),
            LOGITS_OUTPUT_CONTEXT_SWAPPED: _scores(decoder, context, new_state),
            LOGITS_FROM_PREVIOUS_STATE: _scores(decoder, state, context),
        },
    )


def _scores(decoder, first, second) -> np.ndarray:
    """``decoder.output_layer`` of ``[first ; second]`` (step 4's input)."""
    joined = np.concatenate([first, second], axis=-1).astype(np.float32)
    return to_numpy(decoder.output_layer(_tensors(joined)[0]))


def _cell_state(decoder, token_ids, state, values, weights, swap=False) -> np.ndarray:
    """The cell's new state for [context of ``weights``, embedded token] (or, with
    ``swap``, the other order) and ``state``."""
    from keras import ops

    context = np.einsum("bs,bsu->bu", weights, values).astype(np.float32)
    embedded = decoder.embedding(_tensors(token_ids)[0])
    parts = [embedded, context] if swap else [context, embedded]
    inputs = ops.concatenate(parts, axis=-1)
    state = _tensors(state.astype(np.float32))[0]
    return to_numpy(_unwrap_state(decoder.cell(inputs, state)[1]))


def _step_properties(runs: dict, decoder) -> None:
    cases = _step_cases()
    for case in ("base", "other"):
        expect_attention_weights("weights", runs[case][2], cases[case][3])
    logits, new_state, weights = runs["base"]
    query = "the attention query is the previous decoder state."
    expect_changes(
        "weights", weights, runs["state_changed"][2], "`state` changes", query
    )
    token = "the embedded previous token goes into the GRU cell."
    changed = runs["tokens_changed"][1]
    expect_changes("new_state", new_state, changed, "`token_ids` change", token)
    token_ids, state, values, _ = cases["base"]
    context = np.einsum("bs,bsu->bu", weights, values)
    if not close(new_state, _cell_state(decoder, token_ids, state, values, weights)):
        fail(
            "`new_state` is not the GRU cell's new state for [context, embedded "
            "token] from the previous `state`, with the context the weighted sum "
            "of `values` under the weights you return."
        )
    if not close(logits, _scores(decoder, new_state, context)):
        fail(
            "`logits` are not `decoder.output_layer` of [output ; context]: the "
            "new state you return (a GRU cell's output is its new state) joined "
            "with the context of the weights you return."
        )


def _judge_step(observation: dict) -> str:
    runs = {case: _step_result(observation[case]) for case in _step_cases()}
    decoder = _model().decoder
    cases = _step_cases()
    expected = {case: _step(decoder, *cases[case]) for case in ("base", "other")}
    _step_mistakes(runs["base"], decoder, expected["base"])
    _step_properties(runs, decoder)
    for case in ("base", "other"):
        for index in (2, 1, 0):  # weights, then new_state, then logits
            name = ("logits", "new_state", "weights")[index]
            expect_close(name, runs[case][index], expected[case][index])
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
        "The lesson's four numbered steps, in order: attend, join, one GRU step, "
        "scores over the vocabulary. What does each step take in?",
        "The attention query is the *previous* `state`; the GRU cell gets "
        "[context, embedded token] joined along the last axis and the previous "
        "`state`; the output layer turns [the cell's output ; the context] "
        "into logits.",
        "Follow the four numbered steps: attention with the previous `state` as "
        "the query; `decoder.embedding(token_ids)`; join context and embedding "
        "with `ops.concatenate([...], axis=-1)` (context first) and give that and "
        "the previous `state` to `decoder.cell`; `decoder.output_layer` on "
        "`ops.concatenate([output, context], axis=-1)`.",
    ),
    axes=AXES,
)


# --- Exercise 4.2: the teacher-forced unroll --------------------------------------

UNROLL_STATE_NOT_CARRIED = (
    "the state is not carried from one step to the next: every step starts again "
    "from the initial state."
)
UNROLL_FEEDS_PREDICTIONS = (
    "the decoder was fed its own predictions (argmax), not the true previous "
    "tokens of `tgt_in_ids`."
)
UNROLL_SHIFTED = (
    "the tokens are shifted by one: step t was fed tgt_in_ids[:, t - 1] "
    "([START] twice)."
)
UNROLL_ZERO_START = "the first step started from zeros, not from `state`."


def _unroll_cases() -> dict[str, tuple]:
    """(tgt_in_ids, values, state, mask) per case."""
    base = (TGT_IN_IDS, VALUES, STATE, SRC_MASK)
    return {
        "base": base,
        "column_1_changed": (_with_column(TGT_IN_IDS, 1, [7, 3, 9]), *base[1:]),
        "column_2_changed": (_with_column(TGT_IN_IDS, 2, [4, 10, 5]), *base[1:]),
        "state_changed": (TGT_IN_IDS, VALUES, CHANGED_STATE, SRC_MASK),
        "other": (OTHER_TGT_IN_IDS, OTHER_VALUES, OTHER_STATE, OTHER_MASK),
    }


def _probe_unroll(teacher_forced_unroll) -> dict:
    decoder = _model().decoder
    return {
        case: teacher_forced_unroll(decoder, *_tensors(*arrays))
        for case, arrays in _unroll_cases().items()
    }


def _unroll(decoder, tgt_in_ids, values, state, mask, **mistake):
    """The teacher-forced loop as numpy, or one known mistake: ``carry``,
    ``feed`` ("true", "predicted", "shifted"), ``zero_start``, ``use_mask``."""
    import tensorflow as tf

    tgt_in_ids, values, state, mask = _tensors(tgt_in_ids, values, state, mask)
    keys = decoder.precompute_keys(values)
    initial = tf.zeros_like(state) if mistake.get("zero_start") else state
    mask = mask if mistake.get("use_mask", True) else None
    state, feed, all_logits, all_weights = initial, mistake.get("feed"), [], []
    for t in range(tgt_in_ids.shape[1]):
        token_ids = tgt_in_ids[:, t]
        if feed == "predicted" and t > 0:
            token_ids = tf.argmax(all_logits[-1], axis=-1, output_type=tf.int32)
        elif feed == "shifted":
            token_ids = tgt_in_ids[:, max(t - 1, 0)]
        logits, new_state, weights = decoder.step(token_ids, state, values, keys, mask)
        state = new_state if mistake.get("carry", True) else initial
        all_logits.append(to_numpy(logits))
        all_weights.append(to_numpy(weights))
    return np.stack(all_logits, axis=1), np.stack(all_weights, axis=1)


def _time_major(name: str, value: np.ndarray, shape: tuple, axes: str) -> None:
    if value.shape == (shape[1], shape[0], shape[2]):
        fail(
            f"`{name}` is time-major, (tgt_len, batch, ...): the steps are stacked "
            "along the first axis.",
            f"{shape} ({axes})",
            value.shape,
            hints=("Which axis of the result is tgt_len? The second one.",),
        )


def _unroll_result(result) -> tuple[np.ndarray, np.ndarray]:
    name = "teacher_forced_unroll(...)"
    logits, weights = _as_tuple(result, 2, name, "(logits, weights)")
    logits, weights = expect_array("logits", logits), expect_array("weights", weights)
    expected = (BATCH, TGT_LEN, VOCAB_SIZE)
    _time_major("logits", logits, expected, "batch, tgt_len, vocab")
    if logits.ndim == 3 and logits.shape[::2] == (BATCH, VOCAB_SIZE):
        if logits.shape[1] in (TGT_LEN - 1, TGT_LEN + 1):
            fail(
                f"`logits` has {logits.shape[1]} steps for tgt_len {TGT_LEN}: off by "
                "one.",
                f"{expected} (batch, tgt_len, vocab)",
                logits.shape,
                hints=("One step per position of `tgt_in_ids`, [START] first.",),
            )
    logits = _checked("logits", logits, expected, "batch, tgt_len, vocab")
    shape = (BATCH, TGT_LEN, SRC_LEN)
    _time_major("weights", weights, shape, "batch, tgt_len, src_len")
    return logits, _checked("weights", weights, shape, "batch, tgt_len, src_len")


def _unroll_mistakes(run: tuple, decoder, reference: tuple) -> None:
    if all(map(close, run, reference)):
        return
    args = (decoder, *_unroll_cases()["base"])
    feed = "Which token is fed at step t in teacher forcing? The true one."
    mistakes = {
        UNROLL_STATE_NOT_CARRIED: _unroll(*args, carry=False)[0],
        UNROLL_FEEDS_PREDICTIONS: Mistake(_unroll(*args, feed="predicted")[0], (feed,)),
        UNROLL_SHIFTED: Mistake(_unroll(*args, feed="shifted")[0], (feed,)),
        UNROLL_ZERO_START: _unroll(*args, zero_start=True)[0],
    }
    name_known_mistake("logits", run[0], reference[0], mistakes)
    without_mask = _mask_not_used(_unroll(*args, use_mask=False)[1])
    name_known_mistake("weights", run[1], reference[1], without_mask)


def _changed_steps(before: np.ndarray, after: np.ndarray) -> set[int]:
    return {
        t
        for t in range(before.shape[1])
        if not close(before[:, t], after[:, t], atol=1e-6)
    }


def _unroll_properties(runs: dict, decoder) -> None:
    cases = _unroll_cases()
    for case in ("base", "other"):
        mask = cases[case][3][:, None, :]  # (batch, 1, src_len)
        expect_attention_weights("weights", runs[case][1], mask)
    logits = runs["base"][0]
    changed = _changed_steps(logits, runs["column_2_changed"][0])
    if changed & {0, 1}:
        fail(
            f"`logits` at step(s) {sorted(changed & {0, 1})} change when only "
            "tgt_in_ids[:, 2] changes: a step must not see the tokens of later "
            "positions."
        )
    if 2 not in changed:
        fail(
            "`logits` at step 2 stay the same when tgt_in_ids[:, 2] changes: with "
            "teacher forcing, step t is fed the true token tgt_in_ids[:, t]."
        )
    if not {2, 3} <= _changed_steps(logits, runs["column_1_changed"][0]):
        fail(
            "`logits` at steps 2 and 3 do not both change when tgt_in_ids[:, 1] "
            "changes: what step 1 was fed must reach the later steps through the state."
        )
    if 0 not in _changed_steps(logits, runs["state_changed"][0]):
        fail("`logits` at step 0 stay the same when the initial `state` changes.")
    tgt_in_ids, values, state, mask = cases["base"]
    first = _step(decoder, tgt_in_ids[:, 0], state, values, mask)[0]
    if not close(logits[:, 0], first):
        fail(
            "`logits` at step 0 are not `decoder.step`'s for tgt_in_ids[:, 0] "
            "([START]) from `state`."
        )


def _judge_unroll(observation: dict) -> str:
    runs = {case: _unroll_result(observation[case]) for case in _unroll_cases()}
    decoder = _model().decoder
    cases = _unroll_cases()
    expected = {case: _unroll(decoder, *cases[case]) for case in ("base", "other")}
    _unroll_mistakes(runs["base"], decoder, expected["base"])
    _unroll_properties(runs, decoder)
    for case in ("base", "other"):
        expect_close("weights", runs[case][1], expected[case][1])
        expect_close("logits", runs[case][0], expected[case][0])
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
        "A loop over the positions of `tgt_in_ids`, one `decoder.step` per "
        "position. What does each step need from the one before?",
        "Compute the keys once; at step t feed the column tgt_in_ids[:, t] (a "
        "whole batch of tokens) and the state the previous step returned; stack "
        "the collected logits and weights along tgt_len, the second axis.",
        "`keys = decoder.precompute_keys(values)` once; then for t in "
        "range(tgt_len): `logits, state, weights = decoder.step(tgt_in_ids[:, t], "
        "state, values, keys, mask)` (the new state replaces the old one), collect "
        "logits and weights, and stack each list with `axis=1`.",
    ),
    axes=AXES,
)


# --- Exercise 4.3: encode, then decode ------------------------------------------------

FORWARD_ZERO_STATE = (
    "the decoder started from zeros, not from the encoder's final state."
)
FORWARD_LAST_OUTPUT = (
    "the decoder started from `values[:, -1]`, the output at the last position, "
    "which is padding (zeros) for short sources, not the encoder's final state."
)
FORWARD_TARGET_MASK = (
    "the attention mask was made from `tgt_in_ids`; the attention looks at the "
    "*source*."
)
FORWARD_INVERTED = (
    "the mask is inverted: it is True at padding; it must be True for real tokens."
)

FORWARD_LEN = 9  # src_len = tgt_len in this exercise, on purpose
SRC_IDS = np.array(
    [
        [4, 5, 6, 7, 8, 3, 9, 10, 4],
        [5, 4, 8, 10, 6, 0, 0, 0, 0],
        [7, 6, 9, 0, 0, 0, 0, 0, 0],
    ],
    np.int32,
)  # (batch, src_len), padding 0; ids below 11 so that they are target ids too
SEQ_TGT_IN_IDS = np.array(
    [
        [2, 5, 9, 4, 7, 8, 0, 0, 0],
        [2, 8, 6, 10, 5, 7, 4, 3, 9],
        [2, 10, 4, 3, 0, 0, 0, 0, 0],
    ],
    np.int32,
)  # (batch, tgt_len), other padding than the source's
OTHER_SRC_IDS = np.array(
    [
        [9, 3, 5, 8, 0, 0, 0, 0, 0],
        [6, 7, 4, 5, 9, 10, 3, 8, 6],
        [8, 8, 3, 4, 5, 6, 7, 0, 0],
    ],
    np.int32,
)


def _forward_cases() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """(src_ids, tgt_in_ids) per case; "again" repeats "base"."""
    src, tgt = SRC_IDS, SEQ_TGT_IN_IDS
    swapped = np.where(src != 0, 13 - src, 0).astype(np.int32)  # same padding
    return {
        "base": (src, tgt),
        "again": (src, tgt),
        "src_changed": (swapped, tgt),
        "tgt_changed": (src, _with_column(tgt, 1, [6, 9, 5])),
        "padded_more": (np.pad(src, ((0, 0), (0, 1))), np.pad(tgt, ((0, 0), (0, 1)))),
        "other": (OTHER_SRC_IDS, SEQ_TGT_IN_IDS[::-1].copy()),
    }


def _probe_forward(encode_decode) -> dict:
    model = _model()
    return {
        case: encode_decode(model, *_tensors(src_ids, tgt_in_ids))
        for case, (src_ids, tgt_in_ids) in _forward_cases().items()
    }


def _forward(model, src_ids, tgt_in_ids, **mistake):
    """Encoder then teacher-forced decoder as numpy, or one known mistake:
    ``state`` ("encoder", "zeros", "last_output"), ``mask`` ("src", "tgt",
    "inverted", None)."""
    import tensorflow as tf

    src_ids, tgt_in_ids = _tensors(src_ids, tgt_in_ids)
    values, final_state, encoder_mask = model.encoder(src_ids)
    initial = {
        "encoder": final_state,
        "zeros": tf.zeros_like(final_state),
        "last_output": values[:, -1, :],
    }[mistake.get("state", "encoder")]
    mask = {
        "src": encoder_mask,
        "tgt": tgt_in_ids != 0,
        "inverted": src_ids == 0,
        None: None,
    }[mistake.get("mask", "src")]
    logits, weights = model.decoder(tgt_in_ids, values, initial, mask=mask)
    return to_numpy(logits).astype(np.float64), to_numpy(weights).astype(np.float64)


def _forward_result(result, src_len: int, tgt_len: int) -> tuple[np.ndarray, ...]:
    name = "encode_decode(...)"
    logits, weights = _as_tuple(result, 2, name, "(logits, weights)")
    return (
        _checked(
            "logits", logits, (BATCH, tgt_len, VOCAB_SIZE), "batch, tgt_len, vocab"
        ),
        _checked(
            "weights", weights, (BATCH, tgt_len, src_len), "batch, tgt_len, src_len"
        ),
    )


def _forward_mistakes(run: tuple, model, reference: tuple) -> None:
    if all(map(close, run, reference)):
        return
    args = (model, *_forward_cases()["base"])
    name_known_mistake(
        "weights",
        run[1],
        reference[1],
        {
            FORWARD_TARGET_MASK: Mistake(
                _forward(*args, mask="tgt")[1],
                ("Which sequence do the attention weights run over?",),
            ),
            FORWARD_INVERTED: _forward(*args, mask="inverted")[1],
            **_mask_not_used(_forward(*args, mask=None)[1]),
        },
    )
    state = ("What does `model.encoder(src_ids)` return besides the values?",)
    name_known_mistake(
        "logits",
        run[0],
        reference[0],
        {
            FORWARD_ZERO_STATE: Mistake(_forward(*args, state="zeros")[0], state),
            FORWARD_LAST_OUTPUT: Mistake(
                _forward(*args, state="last_output")[0], state
            ),
        },
    )


def _forward_properties(runs: dict) -> None:
    logits = runs["base"][0]
    if not close(logits, runs["again"][0], atol=1e-6):
        fail(
            "two calls with the same inputs give different `logits`: something "
            "random is active (the model has dropout, which runs only in training).",
            hints=("Is anything in your code switched to training mode?",),
        )
    for case, (src_ids, _) in _forward_cases().items():
        expect_attention_weights("weights", runs[case][1], (src_ids != 0)[:, None, :])
    if not close(logits, runs["padded_more"][0][:, :FORWARD_LEN]):
        fail(
            "`logits` change when a padding column (id 0) is added at the end of "
            "`src_ids` (and of `tgt_in_ids`, which earlier steps do not see): "
            "padding must not change the result."
        )
    source = "the decoder attends to the encoder's outputs for `src_ids`."
    expect_changes(
        "logits", logits, runs["src_changed"][0], "the source tokens change", source
    )
    target = "the decoder is fed the tokens of `tgt_in_ids` (teacher forcing)."
    expect_changes(
        "logits", logits, runs["tgt_changed"][0], "`tgt_in_ids` changes", target
    )


def _judge_forward(observation: dict) -> str:
    cases = _forward_cases()
    runs = {
        case: _forward_result(observation[case], src_ids.shape[1], tgt_ids.shape[1])
        for case, (src_ids, tgt_ids) in cases.items()
    }
    model = _model()
    expected = {case: _forward(model, *cases[case]) for case in ("base", "other")}
    _forward_mistakes(runs["base"], model, expected["base"])
    _forward_properties(runs)
    for case in ("base", "other"):
        expect_close("weights", runs[case][1], expected[case][1])
        expect_close("logits", runs[case][0], expected[case][0])
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
        "Three things: run the encoder, say where the source's padding is, run "
        "the decoder from where the encoder stopped.",
        "The encoder returns the values, its final state and the source mask "
        "(True at the source's real tokens); the decoder takes tgt_in_ids, the "
        "values, the initial state and the mask.",
        "`values, state, mask = model.encoder(src_ids)`; then "
        "`model.decoder(tgt_in_ids, values, state, mask=mask)` returns "
        "(logits, weights).",
    ),
    axes={**AXES, "src_len": FORWARD_LEN, "tgt_len": FORWARD_LEN},
)
