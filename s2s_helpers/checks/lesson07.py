"""Checks for lesson 07 (inference): greedy decoding (single and batched), a beam step.

* 7.1 ``greedy_translate(model, src_ids, max_length)`` decodes one sentence,
  `(1, src_len)`, and returns its token ids up to and including ``[END]``.
* 7.2 ``greedy_decode_batch(model, src_ids, max_length)`` decodes a batch,
  `(batch, src_len)`, into `(batch, max_length)` ids: ``[END]`` then padding.

Both run on a tiny model with fixed weights whose outputs end at different
steps (one never ends). The judge compares with ``search.greedy_decode`` and
replays the known mistakes (``[START]`` fed at every step, the state not
carried, no stop at ``[END]``, argmax over the batch axis...) with its own
loop, so each one is named. The batch has as many rows as the target
vocabulary, so an argmax over the wrong axis still runs and can be recognised.

* 7.3 ``beam_step(scores, log_probs)`` is compared with a numpy computation.

Taught in: lessons/07_inference.ipynb
"""

from __future__ import annotations

import functools

import numpy as np

from s2s_helpers.checks import framework
from s2s_helpers.checks.framework import CheckFailed, exercise, expect_shape, fail
from s2s_helpers.data import END_ID, PAD_ID, START_ID

# --- a tiny model with fixed weights (7.1, 7.2) ------------------------------------

SRC_VOCAB, TGT_VOCAB, EMBEDDING_DIM, UNITS = 9, 8, 4, 6
MAX_LENGTH = 7
# (batch=8, src_len=6): batch == TGT_VOCAB on purpose (see the module docstring).
SRC_IDS = np.array(
    [
        [4, 5, 6, 7, 8, 0],
        [5, 4, 0, 0, 0, 0],
        [8, 7, 6, 0, 0, 0],
        [6, 6, 6, 6, 0, 0],
        [7, 0, 0, 0, 0, 0],
        [4, 8, 4, 8, 4, 8],
        [5, 6, 7, 0, 0, 0],
        [8, 8, 0, 0, 0, 0],
    ],
    np.int32,
)
ENDING_ROWS = [1, 4, 5, 7]  # rows whose outputs end, by step 5 at the latest
SINGLE_ROWS = [0, 1, 4, 5]  # never ends, ends at steps 3, 5 and 2
ENDING_MAX_LENGTH = 9


def tiny_model():
    """A built ``Seq2Seq`` with fixed weights; its greedy outputs end at steps
    2, 3, 5 or never, and padding, [START] and [UNK] are never the argmax."""
    from s2s_helpers import seq2seq

    model = seq2seq.Seq2Seq(SRC_VOCAB, TGT_VOCAB, EMBEDDING_DIM, UNITS)
    model((SRC_IDS[:1], SRC_IDS[:1, :3]))
    rng = np.random.default_rng(26)
    weights = [
        rng.normal(0.0, 1.5, w.shape).astype(np.float32) for w in model.get_weights()
    ]
    bias = weights[-1]  # the output layer's bias, (vocab,)
    bias[[PAD_ID, 1, START_ID]] -= 30.0
    bias[END_ID] -= 1.0
    weights[-2] *= 10.0  # sharper logits: the same argmax, wide margins between ties
    weights[-1] *= 10.0
    model.set_weights(weights)
    return model


def _decode_variant(
    model,
    src_ids,
    *,
    feed_start=False,
    carry_state=True,
    stop=True,
    keep_end=True,
    argmax_axis=-1,
    stop_all=False,
    end_again=False,
) -> np.ndarray:
    """Greedy decoding written plainly, with switches that replay known mistakes."""
    import tensorflow as tf

    values, state, keys, mask = model.encode(tf.constant(src_ids))
    initial = state
    batch = src_ids.shape[0]
    token = np.full([batch], START_ID, np.int32)
    done = np.zeros(batch, bool)
    tokens = np.zeros((batch, MAX_LENGTH), np.int64)
    for t in range(MAX_LENGTH):
        logits, new_state, _ = model.decoder.step(
            tf.constant(token), state, values, keys, mask
        )
        chosen = np.argmax(logits.numpy(), axis=argmax_axis).astype(
            np.int32
        )  # (batch,)
        if stop:
            chosen = np.where(done, END_ID if end_again else PAD_ID, chosen)
        tokens[:, t] = (
            chosen if keep_end else np.where(chosen == END_ID, PAD_ID, chosen)
        )
        done = done | (chosen == END_ID)
        token = np.full([batch], START_ID, np.int32) if feed_start else chosen
        state = new_state if carry_state else initial
        if stop_all and done.any():
            break
    return tokens


GREEDY_MISTAKES = {
    "it feeds [START] at every step: after the first step, feed the token just "
    "chosen.": dict(feed_start=True),
    "it does not carry the state: every step starts again from the encoder's "
    "state. Feed the `state` returned by `decoder.step` into the next step.": dict(
        carry_state=False
    ),
    "it takes the argmax over the batch axis (axis 0): choose over the vocabulary, "
    "`axis=-1`.": dict(argmax_axis=0),
    "it does not stop at [END]: a finished sequence must emit padding (0) after "
    "its [END].": dict(stop=False),
    "it writes [END] again after a sequence has finished: write padding (0) "
    "after the first [END].": dict(end_again=True),
    "it stops the whole batch as soon as *one* sequence emits [END]: keep going "
    "until every sequence has finished (or max_length).": dict(stop_all=True),
    "it drops [END]: keep the [END] token in the output, then padding.": dict(
        keep_end=False
    ),
}


@functools.lru_cache(maxsize=1)
def _greedy_references() -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """``search.greedy_decode`` on the check's batch and every mistake's output."""
    from s2s_helpers import search

    model = tiny_model()
    expected = search.greedy_decode(model, SRC_IDS, MAX_LENGTH, compiled=False).tokens
    mistakes = {
        m: _decode_variant(model, SRC_IDS, **kw) for m, kw in GREEDY_MISTAKES.items()
    }
    return expected.astype(np.int64), mistakes


@functools.lru_cache(maxsize=1)
def _ending_reference() -> np.ndarray:
    """``search.greedy_decode`` on rows that all end before ``ENDING_MAX_LENGTH``."""
    from s2s_helpers import search

    src_ids = SRC_IDS[ENDING_ROWS]
    return search.greedy_decode(tiny_model(), src_ids, ENDING_MAX_LENGTH).tokens


def _row_tokens(row: np.ndarray, stop: bool = True) -> list[int]:
    """One output row as the single-sentence decoder returns it (up to [END])."""
    out = []
    for token in row:
        token = int(token)
        if stop and token == PAD_ID:
            break
        out.append(token)
        if stop and token == END_ID:
            break
    return out


def _as_ids(value) -> np.ndarray:
    """A list of ids / scalar tensors, or a tensor, as a flat numpy array."""
    if isinstance(value, (list, tuple)):
        return np.array([framework.to_numpy(v).reshape(()) for v in value], np.int64)
    return framework.to_numpy(value).reshape(-1)


# --- Exercise 7.1: greedy decoding of one sentence ------------------------------------


def _probe_greedy_one(greedy_translate) -> dict:
    import tensorflow as tf

    model = tiny_model()
    results = []
    for row in SINGLE_ROWS:
        out = greedy_translate(model, tf.constant(SRC_IDS[row : row + 1]), MAX_LENGTH)
        results.append(_as_ids(out))
    return {"results": results}


def _judge_greedy_one(obs: dict) -> str:
    name = "greedy_translate(model, src_ids, max_length)"
    expected_rows, mistakes = _greedy_references()
    per_row = {
        m: [_row_tokens(r, stop=kw.get("stop", True)) for r in out]
        for (m, out), kw in zip(mistakes.items(), GREEDY_MISTAKES.values())
    }
    results = [np.asarray(r) for r in obs["results"]]
    for row, result in zip(SINGLE_ROWS, results):
        expected_row = expected_rows[row]
        if result.dtype.kind not in "iu":
            fail(
                f"`{name}` should return token ids (integers).",
                "integers",
                result.dtype,
            )
        got = [int(t) for t in result]
        expected = _row_tokens(expected_row)
        if got == expected:
            continue
        if got == expected[:-1] and expected[-1:] == [END_ID]:
            raise CheckFailed(
                f"`{name}` drops [END]: return the tokens up to *and including* "
                f"[END] (id {END_ID}).\n    expected: {expected}\n    received: {got}"
            )
        if got and got[0] == START_ID:
            raise CheckFailed(
                f"`{name}` returns [START] (id {START_ID}) as its first token: return "
                "only the tokens the decoder chose."
            )
        if got[: len(expected)] == expected and len(got) > len(expected):
            raise CheckFailed(
                f"`{name}` does not stop at [END]: it kept decoding until max_length. "
                f"Stop the loop once the chosen token is [END] (id {END_ID}).\n"
                f"    expected: {expected}\n    received: {got}"
            )
        wrongs = [
            m
            for m, rows in per_row.items()
            if rows[row] == got and rows[row] != expected
        ]
        if wrongs:
            raise CheckFailed(f"`{name}` {wrongs[0]}")
        fail(
            f"`{name}` decoded sentence {row} of the check's batch differently.",
            expected=expected,
            received=got,
        )
    return (
        f"{len(results)} sentences decoded like `search.greedy_decode`: state carried, "
        "each chosen token fed back, stopped right after [END]."
    )


check_greedy_translate = exercise(
    "7.1",
    "greedy_translate",
    arguments=("greedy_translate",),
    probe=_probe_greedy_one,
    judge=_judge_greedy_one,
    hints=(
        "`values, state, keys, mask = model.encode(src_ids)`, `token = "
        "tf.constant([data.START_ID])`. In a loop of max_length steps: `logits, "
        "state, _ = model.decoder.step(token, state, values, keys, mask)`, "
        "`token = tf.argmax(logits, axis=-1, output_type=tf.int32)`, append "
        "`int(token[0])`, and `break` once it is `data.END_ID`.",
    ),
)


# --- Exercise 7.2: batched greedy decoding --------------------------------------------


def _probe_greedy_batch(greedy_decode_batch) -> dict:
    import tensorflow as tf

    model = tiny_model()
    tokens = greedy_decode_batch(model, tf.constant(SRC_IDS), MAX_LENGTH)
    observation = {"tokens": framework.to_numpy(tokens), "ending_error": None}
    try:  # a smaller batch whose sequences all end before max_length
        ending = greedy_decode_batch(
            model, tf.constant(SRC_IDS[ENDING_ROWS]), ENDING_MAX_LENGTH
        )
        observation["ending"] = framework.to_numpy(ending)
    except NotImplementedError:
        raise
    except Exception as error:  # judged after the first batch, which may say why
        observation["ending_error"] = framework.last_line(error)
    return observation


def _judge_greedy_batch(obs: dict) -> str:
    name = "greedy_decode_batch(model, src_ids, max_length)"
    expected, mistakes = _greedy_references()
    tokens = framework.expect_array("tokens", obs["tokens"])
    batch = len(SRC_IDS)
    if tokens.shape == (MAX_LENGTH, batch):
        fail(
            f"`{name}` is time-major, (max_length, batch): stack the steps on "
            "axis 1 (or transpose) to get (batch, max_length).",
            expected=f"({batch}, {MAX_LENGTH}) (batch, max_length)",
            received=tokens.shape,
        )
    expect_shape("tokens", tokens, (batch, MAX_LENGTH), "batch, max_length")
    if tokens.dtype.kind not in "iu":
        fail("`tokens` should hold token ids (integers).", "integers", tokens.dtype)
    if not np.array_equal(tokens, expected):
        for message, wrong in mistakes.items():
            if not np.array_equal(wrong, expected) and np.array_equal(tokens, wrong):
                raise CheckFailed(f"`{name}` {message}")
        _fail_rows(name, tokens, expected)
    if obs["ending_error"]:
        fail(
            f"`{name}` raised an error on a batch of {len(ENDING_ROWS)} sentences "
            f"with max_length={ENDING_MAX_LENGTH}.",
            received=obs["ending_error"],
        )
    ending = framework.expect_array("tokens", obs["ending"])
    expected = _ending_reference()
    if ending.ndim == 2 and ending.shape[1] < ENDING_MAX_LENGTH:
        fail(
            f"`{name}` stopped once every sequence had finished (good) but did not "
            "pad: return (batch, max_length), padded with 0, without padding the "
            "shape would change from batch to batch.",
            expected=f"{expected.shape} (batch, max_length)",
            received=ending.shape,
        )
    expect_shape("tokens", ending, expected.shape, "batch, max_length")
    if not np.array_equal(ending, expected):
        _fail_rows(name, ending, expected)
    return (
        "whole batches decoded like `search.greedy_decode`: argmax over the "
        "vocabulary, state carried, [END] then padding, shape (batch, max_length)."
    )


def _fail_rows(name: str, tokens: np.ndarray, expected: np.ndarray) -> None:
    rows = [int(r) for r in np.nonzero(np.any(tokens != expected, axis=1))[0]]
    fail(
        f"`{name}` differs from `search.greedy_decode` in rows {rows}.",
        expected=expected[rows[0]].tolist(),
        received=tokens[rows[0]].tolist(),
    )


check_greedy_decode_batch = exercise(
    "7.2",
    "greedy_decode_batch",
    arguments=("greedy_decode_batch",),
    probe=_probe_greedy_batch,
    judge=_judge_greedy_batch,
    hints=(
        "Like 7.1 with a `(batch,)` token and a `done` mask, `(batch,)` booleans. "
        "Each step: `chosen = tf.argmax(logits, axis=-1, output_type=tf.int32)`, "
        "`chosen = tf.where(done, 0, chosen)`, collect it, then `done = done | "
        "(chosen == data.END_ID)`. Stack the steps on axis 1 and pad to "
        "max_length with 0.",
    ),
)


# --- Exercise 7.3: one beam search step -----------------------------------------------


def _log_softmax(x: np.ndarray) -> np.ndarray:
    x = x - x.max(axis=-1, keepdims=True)
    return x - np.log(np.exp(x).sum(axis=-1, keepdims=True))


def _beam_cases() -> list[tuple[np.ndarray, np.ndarray]]:
    """(scores (batch, beam), log_probs (batch, beam, vocab)) with no ties."""
    rng = np.random.default_rng(7)
    middle = np.array([[-0.4, -1.1, -2.3], [-0.2, -0.9, -3.0]], np.float32)
    middle_log_probs = _log_softmax(rng.normal(0, 2.0, (2, 3, 5))).astype(np.float32)
    first = np.array([[0.0, -1e9, -1e9, -1e9]], np.float32)  # the first step
    first_log_probs = _log_softmax(rng.normal(0, 2.0, (1, 4, 6))).astype(np.float32)
    return [(middle, middle_log_probs), (first, first_log_probs)]


def beam_step_reference(scores: np.ndarray, log_probs: np.ndarray):
    """Numpy: the ``beam`` best (score, parent, token) of all beam x vocab choices."""
    batch, beam, vocab = log_probs.shape
    candidates = (scores[:, :, None] + log_probs).reshape(batch, beam * vocab)
    best = np.argsort(-candidates, axis=1, kind="stable")[:, :beam]  # (batch, beam)
    return np.take_along_axis(candidates, best, axis=1), best // vocab, best % vocab


def _beam_mistakes(scores, log_probs) -> dict[str, tuple]:
    batch, beam, vocab = log_probs.shape
    new, parent, token = beam_step_reference(scores, log_probs)
    candidates = (scores[:, :, None] + log_probs).reshape(batch, beam * vocab)
    best = np.argsort(-candidates, axis=1, kind="stable")[:, :beam]
    per_beam_token = np.argmax(log_probs, axis=-1)  # (batch, beam)
    per_beam = (
        scores + np.max(log_probs, axis=-1),
        np.tile(np.arange(beam), (batch, 1)),
        per_beam_token,
    )
    only_new = beam_step_reference(np.zeros_like(scores), log_probs)
    mixed = (scores[:, :, None] + np.exp(log_probs)).reshape(batch, beam * vocab)
    mixed_best = np.argsort(-mixed, axis=1, kind="stable")[:, :beam]
    probs = (np.exp(scores)[:, :, None] + np.exp(log_probs)).reshape(
        batch, beam * vocab
    )
    probs_best = np.argsort(-probs, axis=1, kind="stable")[:, :beam]
    return {
        "chooses per beam (the best token of each beam) instead of the best `beam` "
        "of all beam x vocab candidates: flatten them to (batch, beam * vocab) "
        "before `top_k`.": per_beam,
        "parents and tokens are swapped: `parent = index // vocab`, `token = index "
        "% vocab`.": (new, token, parent),
        "divides the flat index by `beam` instead of `vocab`: candidate `i` of the "
        "flat (beam * vocab) axis comes from beam `i // vocab`, token `i % vocab`.": (
            new,
            best // beam,
            best % beam,
        ),
        "forgets the beams' scores: a candidate's score is the beam's score *plus* "
        "the token's log-probability.": only_new,
        "adds a probability to a log-probability: add log-probabilities (`scores + "
        "log_probs`), never `exp(...)`.": (
            np.take_along_axis(mixed, mixed_best, 1),
            mixed_best // vocab,
            mixed_best % vocab,
        ),
        "adds probabilities: the score of a sequence is the *sum of log-probabilities* "
        "(the log of the product of probabilities).": (
            np.take_along_axis(probs, probs_best, 1),
            probs_best // vocab,
            probs_best % vocab,
        ),
    }


def _probe_beam_step(beam_step) -> dict:
    import tensorflow as tf

    results = []
    for scores, log_probs in _beam_cases():
        out = beam_step(tf.constant(scores), tf.constant(log_probs))
        if not isinstance(out, (tuple, list)):
            return {"results": None, "returned": type(out).__name__}
        results.append([framework.to_numpy(x) for x in out])
    return {"results": results, "returned": "tuple"}


def _judge_beam_step(obs: dict) -> str:
    name = "beam_step(scores, log_probs)"
    if obs["results"] is None or any(len(r) != 3 for r in obs["results"]):
        fail(
            f"`{name}` should return three tensors: (new_scores, parents, tokens).",
            received=obs["returned"]
            if obs["results"] is None
            else f"{[len(r) for r in obs['results']]} values",
        )
    for (scores, log_probs), result in zip(_beam_cases(), obs["results"]):
        batch, beam, vocab = log_probs.shape
        axes = "batch, beam"
        new = expect_shape("new_scores", result[0], (batch, beam), axes)
        parents = expect_shape("parents", result[1], (batch, beam), axes)
        tokens = expect_shape("tokens", result[2], (batch, beam), axes)
        for label, ids in (("parents", parents), ("tokens", tokens)):
            if ids.dtype.kind not in "iu":
                fail(f"`{label}` should be integer indices.", "integers", ids.dtype)
        got = (new.astype(np.float64), parents, tokens)
        expected = beam_step_reference(scores, log_probs)

        def same(a, b) -> bool:
            return np.allclose(a[0], b[0], rtol=1e-5, atol=1e-4) and all(
                np.array_equal(x, y) for x, y in zip(a[1:], b[1:])
            )

        if same(got, expected):
            continue
        for message, wrong in _beam_mistakes(scores, log_probs).items():
            if not same(wrong, expected) and same(got, wrong):
                raise CheckFailed(f"`{name}` {message}")
        order = np.argsort(-got[0], axis=1, kind="stable")
        resorted = tuple(np.take_along_axis(x, order, axis=1) for x in got)
        if same(resorted, expected):
            raise CheckFailed(
                f"`{name}` finds the right candidates but not best first: sort them "
                "by score, highest first (`tf.math.top_k` does)."
            )
        fail(
            f"`{name}` differs from the reference for scores {scores.tolist()}.",
            expected=f"scores {np.round(expected[0], 3).tolist()}, parents "
            f"{expected[1].tolist()}, tokens {expected[2].tolist()}",
            received=f"scores {np.round(got[0], 3).tolist()}, parents "
            f"{got[1].tolist()}, tokens {got[2].tolist()}",
        )
    return (
        "the best `beam` of all beam x vocab candidates by summed log-probability, "
        "best first, with the right parents and tokens (also at the first step)."
    )


check_beam_step = exercise(
    "7.3",
    "beam_step",
    arguments=("beam_step",),
    probe=_probe_beam_step,
    judge=_judge_beam_step,
    hints=(
        "`candidates = scores[:, :, None] + log_probs` is (batch, beam, vocab); "
        "reshape it to (batch, beam * vocab), take `tf.math.top_k(candidates, "
        "k=beam)`; its indices give `parents = index // vocab` and `tokens = "
        "index % vocab`.",
    ),
)
