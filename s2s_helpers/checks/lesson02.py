"""Checks for lesson 02 (encoder): the encoder layer, the last real output, both ways.

The probes give the learner's layers fixed random weights (large enough that
different mistakes give clearly different numbers) and record them; the judges
recompute the encoder with an independent numpy GRU from those weights, so
nothing depends on how Keras happens to be called.

Each judge reports, from cheap to specific: what was returned and its shapes
(which axis is wrong), a catalogued mistake when the result is exactly what it
gives, then the first property of a correct encoder that fails (outputs 0 at
padding and only there, nothing changes when padding is appended, the state is
the output after the last real token, each half of a bidirectional state is its
direction's state), and last the values against the numpy GRU.

Taught in: lessons/02_encoder.ipynb
"""

from __future__ import annotations

import numpy as np

from s2s_helpers.checks.framework import exercise, expect_array, expect_shape, fail

# Every size differs from every other: vocab 11, embedding_dim 7, units 5 (8 for
# the bidirectional encoder, 4 per direction), batch 3, src_len 6 (9 padded).
VOCAB_SIZE, EMBEDDING_DIM, UNITS, HALF_UNITS = 11, 7, 5, 4

# (batch=3, src_len=6), padding id 0 at the end of some rows but not all; id 1
# is a real token. The same ids with 3 more padding positions must encode the same.
PROBE_IDS = np.array(
    [
        [4, 7, 2, 9, 0, 0],
        [5, 3, 0, 0, 0, 0],
        [8, 6, 10, 1, 4, 9],
    ],
    dtype=np.int32,
)
EXTRA_PADDING = 3
PADDED_IDS = np.pad(PROBE_IDS, [(0, 0), (0, EXTRA_PADDING)])
REAL = PROBE_IDS != 0
LENGTHS = REAL.sum(axis=1)


# --- an independent GRU in numpy ---------------------------------------------------


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def gru_numpy(inputs, mask, kernel, recurrent_kernel, bias, reverse=False):
    """Keras' GRU (gates z, r, h) over `(batch, steps, features)`, in numpy.

    Where ``mask`` is False the state is carried unchanged and the output is 0.
    ``reverse`` runs from the last step to the first (the backward direction);
    its outputs stay aligned with the input positions.

    Returns:
        outputs `(batch, steps, units)` (0 at masked steps), the state
        `(batch, units)` and the carried state at every step `(batch, steps, units)`.
    """
    inputs = np.asarray(inputs, np.float64)
    batch, steps, _ = inputs.shape
    units = recurrent_kernel.shape[0]
    bias = np.asarray(bias, np.float64)
    input_bias, recurrent_bias = (bias[0], bias[1]) if bias.ndim == 2 else (bias, None)
    state = np.zeros((batch, units))
    outputs = np.zeros((batch, steps, units))
    carried = np.zeros((batch, steps, units))
    order = range(steps - 1, -1, -1) if reverse else range(steps)
    for t in order:
        x = inputs[:, t] @ kernel + input_bias  # (batch, 3 * units)
        x_z, x_r, x_h = np.split(x, 3, axis=-1)
        if recurrent_bias is not None:  # reset_after=True, the Keras default
            h = state @ recurrent_kernel + recurrent_bias
            h_z, h_r, h_h = np.split(h, 3, axis=-1)
            z, r = _sigmoid(x_z + h_z), _sigmoid(x_r + h_r)
            candidate = np.tanh(x_h + r * h_h)
        else:
            u_z, u_r, u_h = np.split(recurrent_kernel, 3, axis=-1)
            z, r = _sigmoid(x_z + state @ u_z), _sigmoid(x_r + state @ u_r)
            candidate = np.tanh(x_h + (r * state) @ u_h)
        new_state = z * state + (1.0 - z) * candidate
        real = np.asarray(mask[:, t], bool)[:, None]
        state = np.where(real, new_state, state)
        outputs[:, t] = np.where(real, new_state, 0.0)
        carried[:, t] = state
    return outputs, state, carried


def _random_weights(shapes, seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.normal(0.0, 0.7, size=shape).astype(np.float32) for shape in shapes]


# --- judging helpers shared by the three exercises -----------------------------------


def _close(a, b) -> bool:
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return a.shape == b.shape and np.allclose(a, b, atol=1e-4, rtol=1e-4)


def _named(name: str, received, known: dict, expected=None) -> None:
    """Fail with a catalogued mistake's message if ``received`` is what it gives.

    A mistake that gives ``expected`` on these inputs is never named.
    """
    for message, (wrong, hints) in known.items():
        if _close(received, wrong) and not _close(wrong, expected):
            fail(f"{name} {message}", hints=hints)


def _positions(where: np.ndarray) -> str:
    """ "row 0, position 4; row 1, position 2" for the first few of a boolean grid."""
    found = np.argwhere(where)[:3]
    return "; ".join(f"row {r}, position {c}" for r, c in found)


def _record_result(result) -> dict:
    """A returned (outputs, state) as plain data, whatever came back."""
    if isinstance(result, (tuple, list)):
        items = list(result)
        if all(hasattr(item, "shape") for item in items):
            return {"kind": f"{len(items)} tensors", "items": items}
        return {"kind": f"{type(result).__name__} of {len(items)}"}
    if hasattr(result, "shape"):
        return {"kind": "1 tensor", "items": [result]}
    return {"kind": type(result).__name__}


def _how_many(name: str, items, shapes, full: tuple, vector: tuple) -> None:
    """Fail unless exactly two tensors came back, saying what came instead."""
    if items is None or len(items) == 2:
        return
    extra = ""
    if len(items) == 1 and shapes[0] == full:
        extra = " It returned only the outputs, no state."
    elif len(items) == 1 and shapes[0] == vector:
        extra = " It returned only a state, no outputs."
    elif len(items) == 3 and shapes[0] == full:
        extra = " It returned 3 tensors: the outputs and two separate states."
    fail(
        f"`{name}` should return two tensors, (outputs, state).{extra}",
        "2 tensors",
        f"{len(items)} tensor(s) of shape(s) {shapes}",
    )


def _outputs_and_state(name: str, record: dict, batch: int, src_len: int, units: int):
    """Unpack a recorded result, naming what its shapes show."""
    full, vector = (batch, src_len, units), (batch, units)
    items = record.get("items")
    if items is None:
        fail(
            f"`{name}` should return two tensors, (outputs, state).",
            "2",
            record["kind"],
        )
    shapes = [tuple(np.shape(item)) for item in items]
    _how_many(name, items, shapes, full, vector)
    outputs, state = (np.asarray(item, np.float64) for item in items)
    if outputs.shape == vector and state.shape == full:
        fail(
            f"`{name}` returned (state, outputs), in that order.",
            "(outputs, state)",
            shapes,
        )
    if outputs.shape == vector:
        fail(
            f"`{name}`: `outputs` has one vector per sequence, not one per position: "
            "the decoder would have nothing to attend to.",
            f"{full} (batch, src_len, units)",
            outputs.shape,
        )
    if state.shape == full:
        fail(
            f"`{name}`: `state` has a src_len axis: one vector per position, not "
            "the final state.",
            f"{vector} (batch, units)",
            state.shape,
        )
    expect_shape("outputs", outputs, full, "batch, src_len, units")
    return outputs, state


def _padding_properties(outputs, padded_outputs) -> None:
    """Outputs are 0 at padding and only there; appending padding changes nothing."""
    zero = np.all(np.abs(outputs) < 1e-6, axis=-1)  # (batch, src_len)
    if np.any(~zero & ~REAL):
        fail(
            f"`outputs` are not 0 at padding ({_positions(~zero & ~REAL)}).",
            hints=("Which positions of the outputs hold padding? Set them to 0.",),
        )
    if np.any(zero & REAL):
        fail(
            f"`outputs` are 0 at real tokens ({_positions(zero & REAL)}), not only "
            f"at padding (ids {PROBE_IDS.tolist()})."
        )
    if not _close(padded_outputs[:, : PROBE_IDS.shape[1]], outputs):
        fail(f"`outputs` change {APPENDED}.")


APPENDED = f"when only padding is appended ({EXTRA_PADDING} more positions per row)"


def _state_unchanged(state, padded_state) -> None:
    if not _close(padded_state, state):
        fail(f"`state` changes {APPENDED}.")


# --- Exercise 2.1: the encoder layer -------------------------------------------------


def _probe_encoder(encoder_class) -> dict:
    import tensorflow as tf

    layer = encoder_class(VOCAB_SIZE, EMBEDDING_DIM, UNITS)
    layer(tf.constant(PROBE_IDS))  # builds the sublayers
    shapes = [tuple(w.shape) for w in layer.get_weights()]
    weights = _random_weights(shapes, seed=21)
    layer.set_weights(weights)
    return {
        "weights": weights,
        "result": _record_result(layer(tf.constant(PROBE_IDS))),
        "padded": _record_result(layer(tf.constant(PADDED_IDS))),
    }


WANTED_WEIGHTS = {
    "embedding": (VOCAB_SIZE, EMBEDDING_DIM),
    "kernel": (EMBEDDING_DIM, 3 * UNITS),
    "recurrent_kernel": (UNITS, 3 * UNITS),
}


def _weights_problem(shapes: list) -> str:
    """What the layer's weight shapes show, when they are not an Embedding + GRU."""
    if (EMBEDDING_DIM, 4 * UNITS) in shapes:
        return (
            f"its recurrent layer has a kernel of shape {(EMBEDDING_DIM, 4 * UNITS)}: "
            "4 x units columns is an LSTM's (a GRU's has 3 x units)"
        )
    rows = [s for s in shapes if len(s) == 2 and s[0] == VOCAB_SIZE]
    if rows and WANTED_WEIGHTS["embedding"] not in shapes:
        return f"its embedding has shape {rows[0]}, not (vocab_size, embedding_dim)"
    if not rows and WANTED_WEIGHTS["embedding"] not in shapes:
        return "it holds no embedding weights of shape (vocab_size, embedding_dim)"
    if len(shapes) > 4:
        return "it holds more weights than exactly an Embedding and a GRU"
    return "its weights are not those of an Embedding(vocab_size, embedding_dim) and a GRU(units)"


def _find_encoder_weights(weights: list) -> dict:
    found = {}
    for weight in weights:
        shape = tuple(np.shape(weight))
        key = next((k for k, s in WANTED_WEIGHTS.items() if s == shape), None)
        if key is None and shape in [(2, 3 * UNITS), (3 * UNITS,)]:
            key = "bias"
        if key and key not in found:
            found[key] = np.asarray(weight, np.float64)
    shapes = [tuple(np.shape(w)) for w in weights]
    if len(found) != 4 or len(weights) != 4:
        fail(
            f"the layer's weights do not fit: {_weights_problem(shapes)}.",
            expected=f"embedding {WANTED_WEIGHTS['embedding']}, GRU kernel "
            f"{WANTED_WEIGHTS['kernel']}, recurrent kernel "
            f"{WANTED_WEIGHTS['recurrent_kernel']}, bias",
            received=shapes,
            hints=(
                "Create the sublayers in __init__ from the constructor's arguments: "
                "an Embedding(vocab_size, embedding_dim) and a GRU(units).",
            ),
        )
    return found


def _encoder_reference(weights: dict, ids: np.ndarray, mask=None):
    embedded = weights["embedding"][ids]  # (batch, src_len, embedding_dim)
    mask = ids != 0 if mask is None else mask
    return gru_numpy(
        embedded, mask, weights["kernel"], weights["recurrent_kernel"], weights["bias"]
    )


def _encoder_mistakes(weights: dict) -> tuple[dict, dict]:
    """Catalogued mistakes of Exercise 2.1: ({state ones}, {outputs ones})."""
    outputs, _, carried = _encoder_reference(weights, PROBE_IDS)
    nm_outputs, nm_state, _ = _encoder_reference(weights, PROBE_IDS, np.ones_like(REAL))
    _, inverted_state, _ = _encoder_reference(weights, PROBE_IDS, ~REAL)
    mask_hint = ("How does the GRU learn which positions are padding?",)
    return {
        "the GRU also read the padding: it is the state after the last position, "
        "not after the last real token.": (nm_state, mask_hint),
        "the mask is inverted: True at padding.": (inverted_state, mask_hint),
        "it is the output at the last position, which is padding (0) for shorter "
        "rows.": (outputs[:, -1], ("Use the GRU's own final state.",)),
    }, {
        "not 0 at padding: they repeat the last real output there.": (
            carried,
            ("A masked Keras GRU repeats its last output at padding: zero it.",),
        ),
        "the GRU also read the padding, and they are not 0 there.": (
            nm_outputs,
            mask_hint,
        ),
    }


def _judge_encoder(observation: dict) -> str:
    weights = _find_encoder_weights(observation["weights"])
    batch, src_len = PROBE_IDS.shape
    name = "encoder(src_ids)"
    outputs, state = _outputs_and_state(
        name, observation["result"], batch, src_len, UNITS
    )
    expect_shape("state", state, (batch, UNITS), "batch, units")
    padded = _outputs_and_state(
        name, observation["padded"], batch, PADDED_IDS.shape[1], UNITS
    )
    state_mistakes, output_mistakes = _encoder_mistakes(weights)
    ref_outputs, ref_state, _ = _encoder_reference(weights, PROBE_IDS)
    _named("`outputs`:", outputs, output_mistakes, ref_outputs)
    _named("`state`:", state, state_mistakes, ref_state)
    _padding_properties(outputs, padded[0])
    last_real = outputs[np.arange(batch), LENGTHS - 1]
    if not _close(state, last_real):
        fail("`state` is not the output at the last real token of each row.")
    _state_unchanged(state, padded[1])
    if not _close(outputs, ref_outputs):
        wrong = np.any(np.abs(outputs - ref_outputs) > 1e-3, axis=-1)
        fail(
            "`outputs` at real tokens are not those of a GRU reading the embedded "
            f"ids from left to right ({_positions(wrong)}; largest difference "
            f"{np.abs(outputs - ref_outputs).max():.3g}).",
            hints=("Embed, then run the GRU forwards over the whole sequence.",),
        )
    return (
        "outputs (batch, src_len, units) are 0 at padding, the state is the one after "
        "the last real token, and appending padding changes neither (checked against "
        "a numpy GRU)."
    )


check_encoder_layer = exercise(
    "2.1",
    "the encoder layer",
    arguments=("encoder_class",),
    probe=_probe_encoder,
    judge=_judge_encoder,
    hints=(
        "Two sublayers, created in __init__: an embedding and a GRU that gives "
        "both the whole sequence of outputs and its final state. In call: the "
        "mask, the GRU given the mask, then the outputs at padding set to 0.",
        "The GRU needs `return_sequences=True` and `return_state=True`; pass "
        "`mask=` (True for real tokens) when you call it; a masked GRU repeats "
        "its last output at padding, so multiply the outputs by the mask.",
        "In __init__: `keras.layers.Embedding(vocab_size, embedding_dim)` and "
        "`keras.layers.GRU(units, return_sequences=True, return_state=True)`. In "
        "call: `mask = ops.not_equal(src_ids, 0)`, "
        "`outputs, state = self.gru(self.embedding(src_ids), mask=mask)`, then "
        "`outputs * ops.cast(mask, outputs.dtype)[..., None]`.",
    ),
    axes={
        "batch": 3,
        "src_len": 6,
        "embedding_dim": EMBEDDING_DIM,
        "units": UNITS,
        "vocab": VOCAB_SIZE,
    },
)


# --- Exercise 2.2: the last real output -----------------------------------------------

# (ids, units): batch, src_len and units differ within each; rows with and
# without padding, one row with a single real token.
LAST_PROBES = (
    (PROBE_IDS, 4),
    (np.array([[3, 3, 3, 0, 0], [2, 0, 0, 0, 0]], dtype=np.int64), 7),
)


def _last_outputs(ids: np.ndarray, seed: int, units: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    values = rng.normal(size=(*ids.shape, units)).round(2)  # (batch, src_len, units)
    return (values * (ids != 0)[..., None]).astype(np.float32)


def _probe_last(last_real_output) -> dict:
    results = []
    for seed, (ids, units) in enumerate(LAST_PROBES):
        results.append(last_real_output(_last_outputs(ids, seed, units), ids.copy()))
    return {"results": results}


def _last_mistakes(outputs: np.ndarray, lengths: np.ndarray) -> dict:
    batch = len(outputs)
    return {
        "takes the last position: for a row with padding that is padding (zeros).": (
            outputs[:, -1],
            ("Where is the last real token of a row with padding?",),
        ),
        "takes the first position: the state after the whole sequence is at its "
        "last real token.": (outputs[:, 0], ()),
        "averages the real positions: we want the last one, where the GRU has "
        "read the whole sequence.": (outputs.sum(1) / lengths[:, None], ()),
        "averages over all positions, padding included.": (outputs.mean(axis=1), ()),
        "is off by one: one position before the last real token.": (
            outputs[np.arange(batch), np.maximum(lengths - 2, 0)],
            ("A row of length n has its last token at index n - 1.",),
        ),
    }


def _which_output(outputs: np.ndarray, vector: np.ndarray) -> tuple[int, int] | None:
    """(row, position) of ``outputs`` equal to ``vector``, or None."""
    matches = np.argwhere(np.all(np.abs(outputs - vector) < 1e-4, axis=-1))
    real = [(r, p) for r, p in matches if np.any(outputs[r, p] != 0)]
    return tuple(int(i) for i in real[0]) if real else None


def _last_shape(name: str, got: np.ndarray, outputs: np.ndarray, lengths) -> None:
    batch, _, units = outputs.shape
    if got.shape == (batch, 1, units):
        fail(f"`{name}` kept the src_len axis with size 1.", (batch, units), got.shape)
    picked = outputs[:, lengths - 1]  # (batch, batch, units): every row's position
    if batch > 1 and got.shape == picked.shape and _close(got, picked):
        fail(
            f"`{name}` has shape (batch, batch, units): every row's position was "
            "applied to every row, not each row's to its own.",
            (batch, units),
            got.shape,
        )
    expect_shape(name, got, (batch, units), "batch, units")


def _judge_last(observation: dict) -> str:
    name = "last_real_output(outputs, src_ids)"
    for seed, ((ids, units), result) in enumerate(
        zip(LAST_PROBES, observation["results"], strict=True)
    ):
        outputs = _last_outputs(ids, seed, units).astype(np.float64)
        lengths = (ids != 0).sum(axis=1)
        got = expect_array(name, result).astype(np.float64)
        _last_shape(name, got, outputs, lengths)
        _named(f"`{name}`", got, _last_mistakes(outputs, lengths))
        for row, length in enumerate(lengths):
            if _close(got[row], outputs[row, length - 1]):
                continue
            found = _which_output(outputs, got[row])
            what = (
                "is none of the outputs of any row"
                if found is None
                else f"is the output of row {found[0]} at position {found[1]}"
            )
            fail(
                f"`{name}`: for src_ids {ids.tolist()}, row {row} {what}; its last "
                f"real token is at position {length - 1}.",
                hints=("Count the real tokens of each row, then index with it.",),
            )
    return "picks outputs[i, length_i - 1] for every row, on 2 padded batches."


check_last_real_output = exercise(
    "2.2",
    "last_real_output",
    arguments=("last_real_output",),
    probe=_probe_last,
    judge=_judge_last,
    hints=(
        "Row i of the answer is one vector of `outputs[i]`: the one at the "
        "position of row i's last real token. How many real tokens does row i have?",
        "lengths = the number of `src_ids != 0` per row; the last real token is "
        "at position length - 1. Pick one position per row (not the same one for "
        "every row).",
        "`tf.gather(outputs, lengths - 1, batch_dims=1)`, or in numpy "
        "`outputs[np.arange(batch), lengths - 1]`.",
    ),
    axes={"batch": 3, "src_len": 6, "units": 4},
)


# --- Exercise 2.3: bidirectional encoding ---------------------------------------


def _probe_bidirectional(encode_bidirectional) -> dict:
    import keras
    import tensorflow as tf

    embedding = keras.layers.Embedding(VOCAB_SIZE, EMBEDDING_DIM)
    gru = keras.layers.GRU(HALF_UNITS, return_sequences=True, return_state=True)
    bidirectional = keras.layers.Bidirectional(gru, merge_mode="concat")
    embedding.build((None, None))
    bidirectional.build((None, None, EMBEDDING_DIM))
    weights = _random_weights(
        [(VOCAB_SIZE, EMBEDDING_DIM)]
        + [tuple(w.shape) for w in bidirectional.get_weights()],
        seed=23,
    )
    embedding.set_weights(weights[:1])
    bidirectional.set_weights(weights[1:])
    results = {
        key: _record_result(
            encode_bidirectional(embedding, bidirectional, tf.constant(ids))
        )
        for key, ids in (("result", PROBE_IDS), ("padded", PADDED_IDS))
    }
    return {"weights": weights, **results}


def _directions(weights: list, mask) -> tuple:
    """((forward outputs, state), (backward outputs, state)) of the numpy GRUs."""
    embedding, *gru_weights = (np.asarray(w, np.float64) for w in weights)
    embedded = embedding[PROBE_IDS]
    forward = gru_numpy(embedded, mask, *gru_weights[:3])
    backward = gru_numpy(embedded, mask, *gru_weights[3:], reverse=True)
    return forward[:2], backward[:2]


def _half_state(state: np.ndarray, directions) -> None:
    """Fail on the first half of ``state`` (forward, backward) that is wrong."""
    (_, forward), (_, backward) = directions
    halves = {"forward": forward, "backward": backward}
    for index, (which, wanted) in enumerate(halves.items()):
        half = state[:, index * HALF_UNITS : (index + 1) * HALF_UNITS]
        if _close(half, wanted):
            continue
        other = "backward" if which == "forward" else "forward"
        what = (
            f"is the {other} state"
            if _close(half, halves[other])
            else f"is not the {which} GRU's state after the whole sequence"
        )
        fail(f"the {['first', 'second'][index]} half of `state` ({which}) {what}.")


def _bidirectional_state_shape(state: np.ndarray, directions) -> None:
    (_, forward), (_, backward) = directions
    batch, units = len(PROBE_IDS), 2 * HALF_UNITS
    expected = f"({batch}, {units}) (batch, units)"
    if state.shape == (batch, HALF_UNITS):
        _named(
            "`state`",
            state,
            {
                "is only the forward state.": (forward, ()),
                "is only the backward state.": (backward, ()),
                "adds the two directions: it has half the units.": (
                    forward + backward,
                    (),
                ),
                "averages the two directions: it has half the units.": (
                    (forward + backward) / 2,
                    (),
                ),
            },
        )
    if state.shape == (2 * batch, HALF_UNITS):
        fail(
            "`state` has the two directions one below the other, along the batch "
            "axis, not side by side along the last axis.",
            expected,
            state.shape,
        )
    if state.shape == (2, batch, HALF_UNITS):
        fail("`state` stacks the two directions on a new axis.", expected, state.shape)
    expect_shape("state", state, (batch, units), "batch, units")


def _bidirectional_mistakes(weights: list, directions) -> tuple[dict, dict]:
    """Catalogued mistakes of Exercise 2.3: ({state ones}, {outputs ones})."""
    (fwd_out, fwd), (bwd_out, bwd) = directions
    (nm_fwd_out, nm_fwd), (nm_bwd_out, nm_bwd) = _directions(
        weights, np.ones_like(REAL)
    )
    mask_hint = ("How does each GRU learn which positions are padding?",)
    return {
        "has the backward state first: the outputs are [forward, backward], so "
        "the state must be too.": (np.concatenate([bwd, fwd], -1), ()),
        "comes from GRUs that also read the padding (no mask): the backward "
        "direction then starts on padding.": (
            np.concatenate([nm_fwd, nm_bwd], -1),
            mask_hint,
        ),
        "is the output at the last position: for the backward direction that "
        "is its *first* step (and padding for short rows).": (
            np.concatenate([fwd_out, bwd_out], axis=-1)[:, -1],
            ("Use the two states the layer returns.",),
        ),
    }, {
        "come from GRUs that also read the padding.": (
            np.concatenate([nm_fwd_out, nm_bwd_out], -1),
            mask_hint,
        )
    }


def _judge_bidirectional(observation: dict) -> str:
    name = "encode_bidirectional(embedding, bidirectional_gru, src_ids)"
    batch, src_len = PROBE_IDS.shape
    units = 2 * HALF_UNITS
    outputs, state = _outputs_and_state(
        name, observation["result"], batch, src_len, units
    )
    directions = _directions(observation["weights"], REAL)
    _bidirectional_state_shape(state, directions)
    (fwd_out, fwd), (bwd_out, bwd) = directions
    ref_outputs = np.concatenate([fwd_out, bwd_out], axis=-1)
    ref_state = np.concatenate([fwd, bwd], axis=-1)
    state_known, outputs_known = _bidirectional_mistakes(
        observation["weights"], directions
    )
    _named("`state`", state, state_known, ref_state)
    _named("`outputs`", outputs, outputs_known, ref_outputs)
    padded = _outputs_and_state(
        name, observation["padded"], batch, PADDED_IDS.shape[1], units
    )
    _padding_properties(outputs, padded[0])
    _state_unchanged(state, padded[1])
    _half_state(state, directions)
    if not _close(outputs, ref_outputs):
        fail("`outputs` are not the bidirectional GRU's outputs over the real tokens.")
    return (
        "outputs (batch, src_len, units) and state = [forward, backward] "
        "(batch, units), with the padding masked (checked against a numpy GRU)."
    )


check_encode_bidirectional = exercise(
    "2.3",
    "encode_bidirectional",
    arguments=("encode_bidirectional",),
    probe=_probe_bidirectional,
    judge=_judge_bidirectional,
    hints=(
        "Called on the embedded ids with a mask, a bidirectional GRU that returns "
        "its state gives three tensors: the outputs and one state per direction.",
        "The encoder's state is the forward and the backward state side by side, "
        "forward first, joined along the last axis (units).",
        "`outputs, forward, backward = bidirectional_gru(embedding(src_ids), "
        "mask=src_ids != 0)`; the state is `ops.concatenate([forward, backward], "
        "axis=-1)`.",
    ),
    axes={
        "batch": 3,
        "src_len": 6,
        "embedding_dim": EMBEDDING_DIM,
        "units": 2 * HALF_UNITS,
    },
)
