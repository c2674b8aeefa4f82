"""Checks for lesson 02 (encoder): the encoder layer, the last real output, both ways.

The probes give the learner's layers fixed random weights (large enough that
different mistakes give clearly different numbers) and record them; the judges
recompute the encoder with an independent numpy GRU from those weights, so
nothing depends on how Keras happens to be called.

Taught in: lessons/02_encoder.ipynb
"""

from __future__ import annotations

import numpy as np

from s2s_helpers.checks import framework
from s2s_helpers.checks.framework import exercise, fail

VOCAB_SIZE, EMBEDDING_DIM, UNITS = 11, 3, 5

# (batch=3, src_len=6), padding id 0 at the end; extra padding for the invariance test.
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


def _outputs_and_state(name: str, record: dict, batch: int, src_len: int, units: int):
    """Unpack a recorded result, naming the usual shape mistakes."""
    full = (batch, src_len, units)
    items = record.get("items")
    if items is None:
        fail(
            f"`{name}` should return two tensors, (outputs, state).",
            "a tuple of 2",
            record["kind"],
        )
    shapes = [tuple(np.shape(item)) for item in items]
    if len(items) == 1:
        extra = ""
        if shapes[0] == full:
            extra = " It returned only the outputs: ask the GRU for its state too "
            extra += "(`return_state=True`) and return both."
        elif shapes[0] == (batch, units):
            extra = " It returned only a state: use `return_sequences=True` and "
            extra += "`return_state=True` and return both."
        fail(
            f"`{name}` should return two tensors, (outputs, state).{extra}",
            "a tuple of 2",
            f"1 tensor of shape {shapes[0]}",
        )
    if len(items) == 3 and shapes[0] == full:
        fail(
            f"`{name}` returned 3 tensors: a bidirectional GRU gives (outputs, "
            "forward_state, backward_state); concatenate the two states into one.",
            "(outputs, state)",
            f"shapes {shapes}",
        )
    if len(items) != 2:
        fail(
            f"`{name}` should return two tensors, (outputs, state).",
            "2 tensors",
            f"{len(items)} tensors of shapes {shapes}",
        )
    outputs, state = (np.asarray(item, np.float64) for item in items)
    if outputs.shape == (batch, units) and state.shape == full:
        fail(
            f"`{name}` returned (state, outputs): return the outputs first, "
            "`return outputs, state`.",
            "(outputs (batch, src_len, units), state (batch, units))",
            f"shapes {outputs.shape}, {state.shape}",
        )
    if outputs.shape == (batch, units) and state.shape == (batch, units):
        fail(
            f"`{name}`: `outputs` has shape (batch, units), one vector per sequence: "
            "the GRU was created without `return_sequences=True`, so the decoder "
            "would have nothing to attend to.",
            f"{full} (batch, src_len, units)",
            outputs.shape,
        )
    if outputs.shape == full and state.shape == full:
        fail(
            f"`{name}`: `state` has a src_len axis; return (outputs, state) in "
            "that order, the state being the GRU's final state.",
            f"({batch}, {units}) (batch, units)",
            state.shape,
        )
    if outputs.shape != full:
        fail(
            f"`{name}`: `outputs` has the wrong shape.",
            f"{full} (batch, src_len, units)",
            outputs.shape,
        )
    return outputs, state


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


def _find_encoder_weights(weights: list) -> dict:
    wanted = {
        "embedding": (VOCAB_SIZE, EMBEDDING_DIM),
        "kernel": (EMBEDDING_DIM, 3 * UNITS),
        "recurrent_kernel": (UNITS, 3 * UNITS),
    }
    found = {}
    for weight in weights:
        shape = tuple(np.shape(weight))
        for key, expected in wanted.items():
            if shape == expected and key not in found:
                found[key] = np.asarray(weight, np.float64)
                break
        else:
            if shape in [(2, 3 * UNITS), (3 * UNITS,)] and "bias" not in found:
                found["bias"] = np.asarray(weight, np.float64)
    missing = [key for key in [*wanted, "bias"] if key not in found]
    if missing or len(weights) != 4:
        fail(
            "the layer should hold exactly an Embedding(vocab_size, embedding_dim) "
            "and a GRU(units); its weights have other shapes (did you pass the "
            "constructor arguments through, e.g. `Embedding(vocab_size, "
            "embedding_dim)`, `GRU(units, ...)`?).",
            expected=f"embedding {wanted['embedding']}, GRU kernel {wanted['kernel']}, "
            f"recurrent kernel {wanted['recurrent_kernel']}, bias",
            received=[tuple(np.shape(w)) for w in weights],
        )
    return found


def _encoder_reference(weights: dict, ids: np.ndarray, mask=None):
    embedded = weights["embedding"][ids]  # (batch, src_len, embedding_dim)
    mask = ids != 0 if mask is None else mask
    return gru_numpy(
        embedded, mask, weights["kernel"], weights["recurrent_kernel"], weights["bias"]
    )


def _judge_encoder(observation: dict) -> str:
    name = "encoder(src_ids)"
    weights = _find_encoder_weights(observation["weights"])
    for key, ids in (("result", PROBE_IDS), ("padded", PADDED_IDS)):
        batch, src_len = ids.shape
        outputs, state = _outputs_and_state(
            name, observation[key], batch, src_len, UNITS
        )
        if state.shape != (batch, UNITS):
            fail(
                f"`{name}`: `state` has the wrong shape.",
                f"({batch}, {UNITS}) (batch, units)",
                state.shape,
            )
        ref_outputs, ref_state, carried = _encoder_reference(weights, ids)
        all_real = np.ones(ids.shape, bool)
        unmasked_outputs, unmasked_state, _ = _encoder_reference(weights, ids, all_real)
        _, inverted_state, _ = _encoder_reference(weights, ids, ids == 0)
        where = (
            ""
            if key == "result"
            else (
                f" (on the same ids with {EXTRA_PADDING} more padding "
                "positions appended)"
            )
        )
        framework.expect_close(
            f"state{where}",
            state,
            ref_state,
            known_mistakes={
                "the GRU also read the padding: pass the mask (`mask=src_ids != 0`, "
                "or `mask_zero=True` in the Embedding) so the state is the one after "
                "the last *real* token.": unmasked_state,
                "the mask is inverted: it must be True for real tokens (id != 0).": (
                    inverted_state
                ),
                "the state is the output at the last position, which is padding for "
                "shorter rows: return the GRU's own final state "
                "(`return_state=True`).": (ref_outputs[:, -1]),
            },
        )
        framework.expect_close(
            f"outputs{where}",
            outputs,
            ref_outputs,
            known_mistakes={
                "are not zero at padding: a masked Keras GRU repeats the last real "
                "output there. Multiply the outputs by the mask "
                "(`mask[..., None]`).": carried,
                "the GRU also read the padding: pass the mask to the GRU.": (
                    unmasked_outputs
                ),
                "the GRU also read the padding, and the outputs are not zeroed there: "
                "pass the mask to the GRU, then multiply the outputs by it.": (
                    unmasked_outputs * (ids != 0)[..., None]
                ),
            },
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
        "In __init__: `keras.layers.Embedding(vocab_size, embedding_dim)` and "
        "`keras.layers.GRU(units, return_sequences=True, return_state=True)`. In "
        "call: `mask = ops.not_equal(src_ids, 0)`, "
        "`outputs, state = self.gru(self.embedding(src_ids), mask=mask)`, then "
        "zero the padding: `outputs * ops.cast(mask, outputs.dtype)[..., None]`.",
    ),
)


# --- Exercise 2.2: the last real output -----------------------------------------------

LAST_IDS = (
    PROBE_IDS,
    np.array([[3, 3, 3, 0], [2, 0, 0, 0]], dtype=np.int64),
)


def _last_outputs(ids: np.ndarray, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    values = rng.normal(size=(*ids.shape, 4)).round(2)  # (batch, src_len, units)
    return (values * (ids != 0)[..., None]).astype(np.float32)


def _probe_last(last_real_output) -> dict:
    results = []
    for seed, ids in enumerate(LAST_IDS):
        results.append(last_real_output(_last_outputs(ids, seed), ids.copy()))
    return {"results": results}


def _judge_last(observation: dict) -> str:
    name = "last_real_output(outputs, src_ids)"
    for seed, (ids, result) in enumerate(
        zip(LAST_IDS, observation["results"], strict=True)
    ):
        outputs = _last_outputs(ids, seed).astype(np.float64)
        batch, src_len, units = outputs.shape
        got = framework.expect_array(name, result)
        lengths = (ids != 0).sum(axis=1)
        if got.shape == (batch, 1, units):
            fail(
                f"`{name}` kept the src_len axis: return one vector per row.",
                f"({batch}, {units}) (batch, units)",
                got.shape,
            )
        framework.expect_shape(name, got, (batch, units), "batch, units")
        expected = outputs[np.arange(batch), lengths - 1]
        framework.expect_close(
            name,
            got,
            expected,
            known_mistakes={
                "takes the last position, `outputs[:, -1]`: for a row with padding "
                "that is padding (zeros). Take position length - 1 of each row, "
                "where length counts `src_ids != 0`.": outputs[:, -1],
                "takes the first position: the state after the whole sequence is "
                "at its last real token.": outputs[:, 0],
                "averages the real positions: we want the last one, where the GRU "
                "has read the whole sequence.": outputs.sum(1) / lengths[:, None],
                "averages over all positions, padding included: take the output at "
                "the last real position.": outputs.mean(axis=1),
                "is off by one: the last real token is at index length - 1.": outputs[
                    np.arange(batch), np.maximum(lengths - 2, 0)
                ],
            },
        )
    return "picks outputs[i, length_i - 1] for every row, on 2 padded batches."


check_last_real_output = exercise(
    "2.2",
    "last_real_output",
    arguments=("last_real_output",),
    probe=_probe_last,
    judge=_judge_last,
    hints=(
        "lengths = number of `src_ids != 0` per row (`axis=1`); then "
        "`tf.gather(outputs, lengths - 1, batch_dims=1)`, or in numpy "
        "`outputs[np.arange(batch), lengths - 1]`.",
    ),
)


# --- Exercise 2.3: bidirectional encoding ---------------------------------------

HALF_UNITS = 3  # each direction; the encoder's units are 2 * HALF_UNITS


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
    result = encode_bidirectional(embedding, bidirectional, tf.constant(PROBE_IDS))
    return {"weights": weights, "result": _record_result(result)}


def _judge_bidirectional(observation: dict) -> str:
    name = "encode_bidirectional(embedding, bidirectional_gru, src_ids)"
    embedding, *gru_weights = (
        np.asarray(w, np.float64) for w in observation["weights"]
    )
    forward_weights, backward_weights = gru_weights[:3], gru_weights[3:]
    batch, src_len = PROBE_IDS.shape
    units = 2 * HALF_UNITS
    outputs, state = _outputs_and_state(
        name, observation["result"], batch, src_len, units
    )

    def directions(mask):
        embedded = embedding[PROBE_IDS]
        fwd = gru_numpy(embedded, mask, *forward_weights)
        bwd = gru_numpy(embedded, mask, *backward_weights, reverse=True)
        return fwd, bwd

    mask = PROBE_IDS != 0
    (fwd_out, fwd_state, _), (bwd_out, bwd_state, _) = directions(mask)
    ref_outputs = np.concatenate([fwd_out, bwd_out], axis=-1)
    ref_state = np.concatenate([fwd_state, bwd_state], axis=-1)
    if state.shape == (batch, HALF_UNITS):
        framework.expect_close(
            "state",
            state,
            ref_state,
            known_mistakes={
                "is only the forward state: concatenate it with the backward state "
                "(`ops.concatenate([forward, backward], axis=-1)`).": fwd_state,
                "is only the backward state: concatenate the forward and the "
                "backward states (forward first).": bwd_state,
                "adds the two directions: concatenate them instead, so the state has "
                "`units` numbers like the outputs.": fwd_state + bwd_state,
                "averages the two directions: concatenate them instead.": (
                    fwd_state + bwd_state
                )
                / 2,
            },
        )
    if state.shape == (2 * batch, HALF_UNITS):
        fail(
            "`state` was concatenated along the batch axis (axis 0): concatenate "
            "along the last axis.",
            f"({batch}, {units}) (batch, units)",
            state.shape,
        )
    if state.shape == (2, batch, HALF_UNITS):
        fail(
            "`state` stacks the two directions on a new axis: concatenate them "
            "along the last axis instead.",
            f"({batch}, {units}) (batch, units)",
            state.shape,
        )
    framework.expect_shape("state", state, (batch, units), "batch, units")
    all_real = np.ones(PROBE_IDS.shape, bool)
    (nm_fwd_out, nm_fwd, _), (nm_bwd_out, nm_bwd, _) = directions(all_real)
    framework.expect_close(
        "state",
        state,
        ref_state,
        known_mistakes={
            "has the backward state first: the outputs are [forward, backward], so "
            "the state must be too.": np.concatenate([bwd_state, fwd_state], -1),
            "the GRUs also read the padding (no mask): the backward direction then "
            "starts on padding. Pass `mask=src_ids != 0`.": np.concatenate(
                [nm_fwd, nm_bwd], -1
            ),
            "is the output at the last position: for the backward direction that "
            "is its *first* step (and padding for short rows). Use the two states "
            "the layer returns.": ref_outputs[:, -1],
        },
    )
    framework.expect_close(
        "outputs",
        outputs,
        ref_outputs,
        known_mistakes={
            "the GRUs also read the padding: pass `mask=src_ids != 0`.": np.concatenate(
                [nm_fwd_out, nm_bwd_out], -1
            ),
        },
    )
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
        "`outputs, forward, backward = bidirectional_gru(embedding(src_ids), "
        "mask=src_ids != 0)`; the state is `ops.concatenate([forward, backward], "
        "axis=-1)`.",
    ),
)
