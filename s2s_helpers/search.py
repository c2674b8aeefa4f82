"""Decoding: batched greedy, temperature sampling and beam search, compiled.

Seed bug 5: the classic ``evaluate()`` decoded one sentence at a time, eagerly,
in a Python loop. Here every search takes a whole batch, runs inside one
``tf.function`` (traced once per model and length) and stops as soon as every
sequence has produced ``[END]``.

Every search works on any ``seq2seq.EncoderDecoder`` (text or speech) through
its public ``encode`` and ``decode_step``. Every search never emits padding, ``[START]`` or ``[UNK]``, writes ``[END]``
and then padding (id 0), and returns the attention weights of what it chose.

Taught in: lessons/07_inference.ipynb
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import tensorflow as tf

from s2s_helpers.attention import NEG_INF
from s2s_helpers.data import END_ID, PAD_ID, START_ID, UNK_ID

FORBIDDEN_IDS = (PAD_ID, START_ID, UNK_ID)


@dataclass
class SearchResult:
    """What a search found, for a batch.

    Attributes:
        tokens: int `(batch, tgt_len)`: ids up to and including ``[END]``, then 0.
        weights: `(batch, tgt_len, src_len)` attention of each emitted token.
        scores: `(batch,)` log-probability of each sequence (length-normalised for beam).
    """

    tokens: np.ndarray
    weights: np.ndarray
    scores: np.ndarray


@dataclass
class BeamResult:
    """Every hypothesis a beam search kept, for a batch, best score first.

    Attributes:
        tokens: int `(batch, beam, tgt_len)`: ids up to and including
            ``[END]``, then 0.
        weights: `(batch, beam, tgt_len, src_len)` attention of each token.
        scores: `(batch, beam)` length-normalised scores (the beam's ranking).
        log_probabilities: `(batch, beam)` summed log-probabilities; a slot
            the beam never filled (fewer hypotheses than its width) holds about
            ``NEG_INF``.
        lengths: int `(batch, beam)` tokens emitted, ``[END]`` included.
        finished: bool `(batch, beam)`: the hypothesis emitted ``[END]``.
    """

    tokens: np.ndarray
    weights: np.ndarray
    scores: np.ndarray
    log_probabilities: np.ndarray
    lengths: np.ndarray
    finished: np.ndarray


def _forbid(logits):
    """Set the logits of padding, [START] and [UNK] to -1e9."""
    vocab = tf.shape(logits)[-1]
    banned = tf.reduce_sum(
        tf.one_hot(list(FORBIDDEN_IDS), vocab, dtype=logits.dtype), 0
    )
    return logits + banned * NEG_INF


def _pad_to(tensor, length, axis=1):
    missing = length - tf.shape(tensor)[axis]
    paddings = [[0, 0]] * len(tensor.shape)
    paddings[axis] = [0, missing]
    return tf.pad(tensor, paddings)


def decode_loop(model, src_ids, max_length: int, temperature: float = 0.0, seed=None):
    """Greedy (temperature 0) or sampled decoding of a batch, as tensors.

    The loop behind ``greedy_decode`` and ``sample_decode``, to call inside a
    ``tf.function`` of your own (``Translator.export_saved_model`` does).

    Args:
        model: a ``seq2seq.EncoderDecoder`` (``encode``, ``decode_step``).
        src_ids: int `(batch, src_len)` (or features `(batch, frames, mels)`).
        max_length: most tokens to emit (``[END]`` included).
        temperature: 0 for the argmax, > 0 to sample from softmax(logits / T).
        seed: int `(2,)` for sampling; ``None`` is ``(0, 0)``.

    Returns:
        tokens int `(batch, max_length)`, weights `(batch, max_length, src_len)`
        and scores `(batch,)`, the log-probabilities of the outputs.
    """
    seed = tf.zeros([2], tf.int32) if seed is None else tf.cast(seed, tf.int32)
    values, state, keys, mask = model.encode(src_ids)
    batch = tf.shape(src_ids)[0]
    token = tf.fill([batch], tf.constant(START_ID, tf.int32))
    done = tf.zeros([batch], tf.bool)
    score = tf.zeros([batch], tf.float32)
    tokens = tf.TensorArray(tf.int32, size=0, dynamic_size=True)
    weights = tf.TensorArray(tf.float32, size=0, dynamic_size=True)
    for t in tf.range(max_length):
        logits, state, step_weights = model.decode_step(
            token, state, values, keys, mask
        )
        logits = _forbid(logits)  # (batch, vocab)
        if temperature == 0:
            chosen = tf.argmax(logits, axis=-1, output_type=tf.int32)
        else:
            chosen = tf.random.stateless_categorical(
                logits / temperature, 1, seed + tf.stack([0, t]), dtype=tf.int32
            )[:, 0]
        log_probs = tf.nn.log_softmax(logits)
        chosen_log_prob = tf.gather(log_probs, chosen, batch_dims=1)  # (batch,)
        chosen = tf.where(done, PAD_ID, chosen)
        score += tf.where(done, 0.0, chosen_log_prob)
        live = tf.cast(tf.logical_not(done), tf.float32)[:, None]
        tokens = tokens.write(t, chosen)
        weights = weights.write(t, step_weights * live)
        done = tf.logical_or(done, tf.equal(chosen, END_ID))
        token = chosen
        if tf.reduce_all(done):
            break
    tokens = _pad_to(tf.transpose(tokens.stack()), max_length)
    weights = _pad_to(tf.transpose(weights.stack(), [1, 0, 2]), max_length)
    return tokens, weights, score


class _Beams(NamedTuple):
    """The beam search's loop state (a NamedTuple: AutoGraph carries it through
    the loop); every field starts `(batch, beam)`."""

    scores: tf.Tensor  # (batch, beam) summed log-probabilities
    finished: tf.Tensor  # (batch, beam) bool: [END] emitted
    lengths: tf.Tensor  # (batch, beam) tokens emitted before [END] included
    sequences: tf.Tensor  # (batch, beam, max_length) int
    history: tf.Tensor  # (batch, beam, max_length, src_len) attention weights


def _start_beams(batch, beam: int, max_length: int, src_len) -> _Beams:
    """Only the first hypothesis is live at the start: the others score -1e9."""
    return _Beams(
        scores=tf.tile(tf.constant([[0.0] + [NEG_INF] * (beam - 1)]), [batch, 1]),
        finished=tf.zeros([batch, beam], tf.bool),
        lengths=tf.zeros([batch, beam], tf.float32),
        sequences=tf.zeros([batch, beam, max_length], tf.int32),
        history=tf.zeros([batch, beam, max_length, src_len], tf.float32),
    )


def _extend(beams: _Beams, logits, batch, beam: int):
    """The ``beam`` best one-token extensions: (scores, parent, chosen), each
    `(batch, beam)`; a finished hypothesis may only go on with padding, free."""
    vocab = tf.shape(logits)[-1]
    log_probs = tf.reshape(tf.nn.log_softmax(_forbid(logits)), [batch, beam, vocab])
    pad_only = tf.one_hot(PAD_ID, vocab, on_value=0.0, off_value=NEG_INF)
    log_probs = tf.where(beams.finished[:, :, None], pad_only[None, None], log_probs)
    candidates = tf.reshape(beams.scores[:, :, None] + log_probs, [batch, -1])
    scores, flat_index = tf.math.top_k(candidates, k=beam)  # (batch, beam)
    return scores, flat_index // vocab, flat_index % vocab


def _advance(beams: _Beams, t, scores, parent, chosen, step_weights) -> _Beams:
    """The hypotheses after step ``t``: each parent's row, the chosen token added."""
    max_length = beams.sequences.shape[-1]
    finished_parent = tf.gather(beams.finished, parent, batch_dims=1)
    live = tf.cast(tf.logical_not(finished_parent), tf.float32)  # (batch, beam)
    column = tf.one_hot(t, max_length, dtype=tf.int32)  # (max_length,)
    step_weights = tf.gather(step_weights, parent, batch_dims=1)
    history = tf.gather(beams.history, parent, batch_dims=1) + (
        (live[:, :, None] * step_weights)[:, :, None, :]
        * tf.cast(column, tf.float32)[:, None]
    )
    return _Beams(
        scores=scores,
        finished=tf.logical_or(finished_parent, tf.equal(chosen, END_ID)),
        lengths=tf.gather(beams.lengths, parent, batch_dims=1) + live,
        sequences=tf.gather(beams.sequences, parent, batch_dims=1)
        + chosen[:, :, None] * column,
        history=history,
    )


def _beam_loop(model, src_ids, max_length: int, beam_width: int, length_penalty: float):
    """Batched beam search; see ``beam_search``."""
    values, state, keys, mask = model.encode(src_ids)
    # static sizes where known keep every loop variable's shape fixed
    batch = src_ids.shape[0] if src_ids.shape[0] is not None else tf.shape(src_ids)[0]
    # attention runs over the encoder's positions: a speech encoder downsamples
    src_len = values.shape[1] if values.shape[1] is not None else tf.shape(values)[1]
    beam = beam_width
    values, state, keys, mask = (
        tf.repeat(x, beam, axis=0) for x in (values, state, keys, mask)
    )  # (batch * beam, ...)
    beams = _start_beams(batch, beam, max_length, src_len)
    token = tf.fill([batch * beam], tf.constant(START_ID, tf.int32))
    for t in tf.range(max_length):
        logits, new_state, step_weights = model.decode_step(
            token, state, values, keys, mask
        )
        scores, parent, chosen = _extend(beams, logits, batch, beam)
        step_weights = tf.reshape(step_weights, [batch, beam, -1])
        beams = _advance(beams, t, scores, parent, chosen, step_weights)
        new_state = tf.reshape(new_state, [batch, beam, -1])
        new_state = tf.gather(new_state, parent, batch_dims=1)
        state = tf.reshape(new_state, tf.shape(state))  # (batch * beam, units)
        token = tf.reshape(chosen, tf.shape(token))  # (batch * beam,)
        if tf.reduce_all(beams.finished):
            break
    normalised = beams.scores / length_normaliser(beams.lengths, length_penalty)
    order = tf.argsort(normalised, axis=-1, direction="DESCENDING", stable=True)
    ranked = (beams.sequences, beams.history, normalised, beams.scores,
              beams.lengths, beams.finished)  # fmt: skip
    return tuple(tf.gather(x, order, batch_dims=1) for x in ranked)


def _compiled(model, key, builder, src_ids, seeded: bool = True):
    """One ``tf.function`` per (model, search settings, source length): traced once.

    The input signature leaves the batch axis free, so a batch of another size
    reuses the traced graph instead of tracing it again.
    """
    src_spec = tf.TensorSpec([None, *src_ids.shape[1:]], src_ids.dtype)
    signature = [src_spec, tf.TensorSpec([2], tf.int32)] if seeded else [src_spec]
    cache = model.__dict__.setdefault("_s2s_search_cache", {})
    key = (*key, src_spec)
    if key not in cache:
        cache[key] = tf.function(builder, input_signature=signature)
    return cache[key]


def _validate(src_ids, max_length):
    """Token ids `(batch, src_len)` as int32, or audio features `(batch, frames, mels)`."""
    src_ids = tf.convert_to_tensor(src_ids)
    if int(max_length) < 1:
        raise ValueError(f"max_length must be >= 1, received {max_length}.")
    if src_ids.shape.rank == 3 and src_ids.dtype.is_floating:
        return tf.cast(src_ids, tf.float32)  # a speech model's features
    if src_ids.shape.rank != 2:
        raise ValueError(
            f"src_ids must have shape (batch, src_len); received {tuple(src_ids.shape)}. "
            "For one sentence use ids[None, :]."
        )
    if not src_ids.dtype.is_integer:
        raise ValueError(
            f"src_ids must be integer ids; received dtype {src_ids.dtype.name}."
        )
    return tf.cast(src_ids, tf.int32)


def _result(tokens, weights, scores) -> SearchResult:
    return SearchResult(tokens.numpy(), weights.numpy(), scores.numpy())


def greedy_decode(
    model, src_ids, max_length: int, compiled: bool = True
) -> SearchResult:
    """Pick the most likely token at every step, for a whole batch at once.

    Args:
        model: a trained ``seq2seq.EncoderDecoder`` (``Seq2Seq``, ...).
        src_ids: int `(batch, src_len)`.
        max_length: most tokens to emit (``[END]`` included).
        compiled: run in a ``tf.function`` (``False``: the same code, eagerly).
    """
    src_ids = _validate(src_ids, max_length)
    seed = tf.zeros([2], tf.int32)
    if not compiled:
        return _result(*decode_loop(model, src_ids, max_length, 0.0, seed))
    run = _compiled(
        model,
        ("greedy", max_length),
        lambda ids, s: decode_loop(model, ids, max_length, 0.0, s),
        src_ids,
    )
    return _result(*run(src_ids, seed))


def sample_decode(
    model, src_ids, max_length: int, temperature: float = 1.0, seed: int = 0
) -> SearchResult:
    """Sample each token from softmax(logits / temperature); same seed, same output.

    Low temperatures approach greedy decoding; high ones give more variety.
    """
    src_ids = _validate(src_ids, max_length)
    if temperature <= 0:
        raise ValueError(
            f"temperature must be > 0 (use greedy_decode for 0); received {temperature}."
        )
    run = _compiled(
        model,
        ("sample", max_length, float(temperature)),
        lambda ids, s: decode_loop(model, ids, max_length, float(temperature), s),
        src_ids,
    )
    return _result(*run(src_ids, tf.constant([seed, 0], tf.int32)))


def length_normaliser(lengths, length_penalty: float):
    """GNMT's ``((5 + length) / 6) ** length_penalty`` (Wu et al. 2016).

    A beam's score is its summed log-probability divided by this, so longer
    outputs are not penalised for every extra token. Works on numbers, numpy
    arrays and tensors of lengths, e.g. `(batch, beam)`.
    """
    return ((5.0 + lengths) / 6.0) ** length_penalty


def beam_search(
    model, src_ids, max_length: int, beam_width: int = 4, length_penalty: float = 0.6
) -> SearchResult:
    """Keep the ``beam_width`` best partial outputs per example; batched.

    Scores are summed log-probabilities; the final choice divides them by the
    GNMT length penalty ``((5 + length) / 6) ** length_penalty`` so longer
    outputs are not unfairly punished. ``beam_width=1`` is greedy decoding.
    The best hypothesis of ``beam_hypotheses`` (the same compiled search).
    """
    found = beam_hypotheses(model, src_ids, max_length, beam_width, length_penalty)
    return SearchResult(found.tokens[:, 0], found.weights[:, 0], found.scores[:, 0])


def beam_hypotheses(
    model, src_ids, max_length: int, beam_width: int = 4, length_penalty: float = 0.6
) -> BeamResult:
    """Every hypothesis the beam search of ``beam_search`` kept, best first.

    Args: as ``beam_search``.

    Returns:
        a ``BeamResult``: ``beam_width`` hypotheses per example, sorted by
        their length-normalised score, highest first.
    """
    src_ids = _validate(src_ids, max_length)
    if int(beam_width) < 1:
        raise ValueError(f"beam_width must be >= 1, received {beam_width}.")
    run = _compiled(
        model,
        ("beam", max_length, int(beam_width), float(length_penalty)),
        lambda ids: _beam_loop(
            model, ids, max_length, int(beam_width), float(length_penalty)
        ),
        src_ids,
        seeded=False,
    )
    tokens, weights, scores, totals, lengths, finished = (
        x.numpy() for x in run(src_ids)
    )
    return BeamResult(tokens, weights, scores, totals, lengths.astype(int), finished)


def trim(tokens: np.ndarray) -> list[list[int]]:
    """Token ids per example up to, not including, ``[END]`` (padding dropped)."""
    rows = []
    for row in np.asarray(tokens):
        out = []
        for token in row:
            if token == END_ID:
                break
            if token != PAD_ID:
                out.append(int(token))
        rows.append(out)
    return rows
