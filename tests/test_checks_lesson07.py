"""Lesson 07's checks: the reference and unusual correct answers pass, the stub is
not attempted, and every wrong answer is diagnosed as itself (also after a JSON
round trip)."""

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

from s2s_helpers import checks, search
from s2s_helpers.checks import framework, lesson07
from s2s_helpers.data import END_ID, START_ID


def test_tiny_model_outputs_end_at_different_steps():
    tokens = search.greedy_decode(
        lesson07.tiny_model(), lesson07.SRC_IDS, lesson07.REFERENCE_LENGTH
    ).tokens
    ends = [list(row).index(END_ID) if END_ID in row else -1 for row in tokens]
    assert -1 in ends and len(set(ends)) >= 4
    for row, max_length in lesson07.SINGLE_CASES:  # some stop at max_length first
        assert ends[row] == -1 or ends[row] != max_length - 1
    assert any(ends[row] >= max_length for row, max_length in lesson07.SINGLE_CASES)


@pytest.mark.parametrize("exercise_id", ["7.1", "7.2", "7.3"])
def test_every_exercise_has_hint_levels(exercise_id):
    assert len(framework.get(exercise_id).hints) >= 2


# --- Exercise 7.1: greedy_translate ---------------------------------------------------


def make_greedy_one(feed_start=False, carry_state=True, stop=True, keep_end=True,
                    include_start=False, steps=0, fixed=None, mask=True,
                    first=START_ID):  # fmt: skip
    def greedy_translate(model, src_ids, max_length):
        values, state, keys, encoder_mask = model.encode(src_ids)
        initial = state
        token = tf.constant([first])
        out = [START_ID] if include_start else []
        count = max_length + steps if isinstance(steps, int) else 10**6
        count = fixed or count
        for _ in range(count):
            logits, new_state, _ = model.decode_step(
                token, state, values, keys, encoder_mask if mask else None
            )
            chosen = tf.argmax(logits, axis=-1, output_type=tf.int32)  # (1,)
            if int(chosen[0]) != END_ID or keep_end:
                out.append(int(chosen[0]))
            if stop and int(chosen[0]) == END_ID:
                break
            token = tf.constant([START_ID]) if feed_start else chosen
            state = new_state if carry_state else initial
        return out

    return greedy_translate


def test_greedy_one_reference_passes(capsys):
    assert outcome("7.1", make_greedy_one())[0] == "passed"
    checks.check_greedy_translate(make_greedy_one())
    assert "passed" in capsys.readouterr().out
    assert_round_trip("7.1", make_greedy_one())


def via_search(model, src_ids, max_length):
    row = search.greedy_decode(model, src_ids, max_length).tokens[0]
    return tf.constant([t for t in row if t != 0])


def numpy_while_loop(model, src_ids, max_length):
    values, state, keys, mask = model.encode(src_ids)
    out, token = [], np.array([START_ID], np.int32)
    while len(out) < max_length and END_ID not in out:
        logits, state, _ = model.decode_step(token, state, values, keys, mask)
        token = np.argmax(logits.numpy(), axis=1).astype(np.int32)
        out.append(int(token[0]))
    return np.array(out)


def compiled_step(model, src_ids, max_length):
    values, state, keys, mask = model.encode(src_ids)
    step = tf.function(lambda t, s: model.decode_step(t, s, values, keys, mask))
    token, out = tf.constant([START_ID]), []
    for _ in range(max_length):
        logits, state, _ = step(token, state)
        token = tf.argmax(tf.nn.softmax(logits), axis=-1, output_type=tf.int32)
        out.append(token[0])  # scalar tensors
        if int(token[0]) == END_ID:
            break
    return out


@pytest.mark.parametrize("function", [via_search, numpy_while_loop, compiled_step])
def test_greedy_one_unusual_correct_answers_pass(function):
    assert_passes_unusual("7.1", function)


def test_greedy_one_stub_is_not_attempted():
    assert outcome("7.1", stub)[0] == "not_attempted"


GREEDY_ONE_MISTAKES = {
    "feeds start": (make_greedy_one(feed_start=True), "feeds [START] at every step"),
    "state not carried": (
        make_greedy_one(carry_state=False),
        "does not carry the state",
    ),
    "no stop": (make_greedy_one(stop=False), "does not stop at [END]"),
    "drops end": (make_greedy_one(keep_end=False), "drops [END]"),
    "returns start": (make_greedy_one(include_start=True), "returns [START]"),
    # not in the catalogue of docs/EXERCISES.md before this version:
    "while true": (make_greedy_one(steps="while"), "kept calling"),
    "fixed length": (make_greedy_one(fixed=20), "returned 20 tokens with max_length=7"),
    "one step more": (make_greedy_one(steps=1), "returned 8 tokens with max_len"),
    "one step less": (make_greedy_one(steps=-1), "stops too early"),
    "no mask": (make_greedy_one(mask=False), "gets no mask"),
    "starts from end": (make_greedy_one(first=END_ID), "first token fed"),
}


@pytest.mark.parametrize("name", sorted(GREEDY_ONE_MISTAKES))
def test_greedy_one_mistakes_are_diagnosed(name):
    assert_diagnosed("7.1", GREEDY_ONE_MISTAKES, name)


def test_greedy_one_ignoring_max_length_is_not_called_a_missing_stop():
    for name in ("while true", "fixed length", "one step more"):
        message = outcome("7.1", GREEDY_ONE_MISTAKES[name][0])[1]
        assert "ignores max_length" in message and "[END]" not in message


# --- Exercise 7.2: greedy_decode_batch ------------------------------------------------


def make_greedy_batch(feed_start=False, carry_state=True, stop=True, axis=-1,
                      stop_all=False, end_again=False, time_major=False, pad=True,
                      steps=None, mask=True, flat=False):  # fmt: skip
    def greedy_decode_batch(model, src_ids, max_length):
        values, state, keys, encoder_mask = model.encode(src_ids)
        initial = state
        batch = tf.shape(src_ids)[0]
        token = tf.fill([batch], START_ID)
        done = tf.zeros([batch], tf.bool)
        collected = []
        count = max_length + (steps or 0) if steps != "while" else 10**6
        for _ in range(count):
            logits, new_state, _ = model.decode_step(
                token, state, values, keys, encoder_mask if mask else None
            )
            chosen = tf.argmax(logits, axis=axis, output_type=tf.int32)
            if stop:
                chosen = tf.where(done, END_ID if end_again else 0, chosen)
            collected.append(chosen)
            done = done | (chosen == END_ID)
            token = tf.fill([batch], START_ID) if feed_start else chosen
            state = new_state if carry_state else initial
            if (stop_all and tf.reduce_any(done)) or (not pad and tf.reduce_all(done)):
                break
            if steps == "while" and tf.reduce_all(done):
                break
        if flat:
            return tf.concat(collected, axis=0)
        tokens = tf.stack(collected, axis=0 if time_major else 1)
        if pad and not time_major and tokens.shape[1] < max_length:
            tokens = tf.pad(tokens, [[0, 0], [0, max_length - tokens.shape[1]]])
        return tokens

    return greedy_decode_batch


def test_greedy_batch_reference_passes(capsys):
    assert outcome("7.2", make_greedy_batch())[0] == "passed"

    def library(model, src_ids, max_length):
        return search.greedy_decode(model, src_ids, max_length).tokens

    assert outcome("7.2", library)[0] == "passed"
    checks.check_greedy_decode_batch(make_greedy_batch())
    assert "passed" in capsys.readouterr().out
    assert_round_trip("7.2", make_greedy_batch())


def numpy_rows_loop(model, src_ids, max_length):
    """A loop over the rows, each decoded alone, in numpy."""
    out = np.zeros((src_ids.shape[0], max_length), np.int64)
    for row in range(src_ids.shape[0]):
        values, state, keys, mask = model.encode(src_ids[row : row + 1])
        token = np.array([START_ID], np.int32)
        for t in range(max_length):
            logits, state, _ = model.decode_step(token, state, values, keys, mask)
            token = np.argmax(logits.numpy(), axis=-1).astype(np.int32)
            out[row, t] = token[0]
            if token[0] == END_ID:
                break
    return out


def raw_argmax_fed_back(model, src_ids, max_length):
    """Feeds the unmasked argmax back (finished rows' inputs do not matter)."""
    values, state, keys, mask = model.encode(src_ids)
    token = tf.fill([tf.shape(src_ids)[0]], START_ID)
    done, columns = tf.zeros_like(token, tf.bool), []
    for _ in range(max_length):
        logits, state, _ = model.decode_step(token, state, values, keys, mask)
        token = tf.argmax(logits, axis=-1, output_type=tf.int32)
        columns.append(tf.where(done, tf.zeros_like(token), token))
        done = done | (token == END_ID)
    return tf.stack(columns, axis=1).numpy()


@pytest.mark.parametrize("function", [numpy_rows_loop, raw_argmax_fed_back])
def test_greedy_batch_unusual_correct_answers_pass(function):
    assert_passes_unusual("7.2", function)


def test_greedy_batch_stub_is_not_attempted():
    assert outcome("7.2", stub)[0] == "not_attempted"


GREEDY_BATCH_MISTAKES = {
    "wrong axis": (make_greedy_batch(axis=0), "batch axis"),
    "feeds start": (make_greedy_batch(feed_start=True), "feeds [START]"),
    "state not carried": (make_greedy_batch(carry_state=False), "does not carry"),
    "continues after end": (make_greedy_batch(stop=False), "does not stop at [END]"),
    "end again": (make_greedy_batch(end_again=True), "writes [END] again"),
    "stops all": (make_greedy_batch(stop_all=True), "as soon as *one*"),
    "time major": (make_greedy_batch(time_major=True), "time-major"),
    "not padded": (make_greedy_batch(pad=False), "did not pad"),
    # not in the catalogue of docs/EXERCISES.md before this version:
    "while not done": (make_greedy_batch(steps="while"), "kept calling"),
    "one step more": (make_greedy_batch(steps=1), "returned 8 tokens with max_len"),
    "one step less": (make_greedy_batch(steps=-1), "without an [END]"),
    "no mask": (make_greedy_batch(mask=False), "gets no mask"),
    "concatenated": (make_greedy_batch(flat=True), "has 1 axes"),
}


@pytest.mark.parametrize("name", sorted(GREEDY_BATCH_MISTAKES))
def test_greedy_batch_mistakes_are_diagnosed(name):
    assert_diagnosed("7.2", GREEDY_BATCH_MISTAKES, name)


def test_greedy_batch_floats_are_named():
    floats = lambda m, s, n: tf.cast(make_greedy_batch()(m, s, n), tf.float32)  # noqa: E731
    assert_diagnosed("7.2", {"floats": (floats, "integers")}, "floats")


# --- Exercise 7.3: beam_step ----------------------------------------------------------


def make_beam_step(per_beam=False, swap=False, by_beam=False, no_scores=False,
                   mixed=False, probabilities=False, unsorted=False, extra=0,
                   transposed=False, token_scores=False, divide=False):  # fmt: skip
    def beam_step(scores, log_probs):
        batch, beam, vocab = log_probs.shape
        if per_beam:
            return (
                scores + tf.reduce_max(log_probs, axis=-1),
                tf.tile(tf.range(beam)[None], [batch, 1]),
                tf.argmax(log_probs, axis=-1, output_type=tf.int32),
            )
        if probabilities:
            candidates = tf.exp(scores)[:, :, None] + tf.exp(log_probs)
        elif mixed:
            candidates = scores[:, :, None] + tf.exp(log_probs)
        elif no_scores:
            candidates = log_probs
        else:
            candidates = scores[:, :, None] + log_probs
        if transposed:
            candidates = tf.transpose(candidates, [0, 2, 1])
        flat = tf.reshape(candidates, [batch, beam * vocab])
        new_scores, index = tf.math.top_k(flat, k=beam + extra)
        divisor = beam if by_beam else vocab
        parents, tokens = index // divisor, index % divisor
        if divide:
            parents = tf.cast(index, tf.float32) / vocab
        if swap:
            parents, tokens = tokens, parents
        if token_scores:
            new_scores = tf.gather(tf.reshape(log_probs, [batch, -1]), index,
                                   batch_dims=1)  # fmt: skip
        if unsorted:
            new_scores, parents, tokens = (
                x[:, ::-1] for x in (new_scores, parents, tokens)
            )
        return new_scores, parents, tokens

    return beam_step


def test_beam_step_reference_passes(capsys):
    assert outcome("7.3", make_beam_step())[0] == "passed"
    checks.check_beam_step(make_beam_step())
    assert "passed" in capsys.readouterr().out
    assert_round_trip("7.3", make_beam_step())


def numpy_beam_step(scores, log_probs):
    return lesson07.beam_step_reference(scores.numpy(), log_probs.numpy())


def loop_beam_step(scores, log_probs):
    """Python loops over rows and candidates, np.unravel_index for the split."""
    batch, beam, vocab = log_probs.shape
    outputs = ([], [], [])
    for b in range(batch):
        flat = (scores[b][:, None] + log_probs[b]).numpy().ravel()
        best = sorted(range(beam * vocab), key=lambda i: -flat[i])[:beam]
        parent, token = np.unravel_index(best, (beam, vocab))
        for out, value in zip(outputs, (flat[best], parent, token)):
            out.append(value)
    return tuple(np.stack(out) for out in outputs)


@tf.function
def compiled_beam_step(scores, log_probs):
    vocab = tf.shape(log_probs)[2]
    flat = tf.reshape(scores[:, :, None] + log_probs, [tf.shape(scores)[0], -1])
    values, index = tf.math.top_k(flat, k=tf.shape(scores)[1])
    return values, tf.math.floordiv(index, vocab), tf.math.floormod(index, vocab)


@pytest.mark.parametrize(
    "function", [numpy_beam_step, loop_beam_step, compiled_beam_step]
)
def test_beam_step_unusual_correct_answers_pass(function):
    assert_passes_unusual("7.3", function)


def test_beam_reference_agrees_with_an_exhaustive_search():
    rng = np.random.default_rng(0)
    scores = rng.normal(size=(2, 3))
    log_probs = rng.normal(size=(2, 3, 4))
    new, parents, tokens = lesson07.beam_step_reference(scores, log_probs)
    for b in range(2):
        ranked = sorted(
            (
                (scores[b, i] + log_probs[b, i, v], i, v)
                for i in range(3)
                for v in range(4)
            ),
            reverse=True,
        )[:3]
        assert np.allclose(new[b], [r[0] for r in ranked])
        assert parents[b].tolist() == [r[1] for r in ranked]
        assert tokens[b].tolist() == [r[2] for r in ranked]


def test_beam_step_stub_is_not_attempted():
    assert outcome("7.3", stub)[0] == "not_attempted"


BEAM_MISTAKES = {
    "per beam": (make_beam_step(per_beam=True), "chooses per beam"),
    "swapped": (make_beam_step(swap=True), "swaps parents and tokens"),
    "by beam": (make_beam_step(by_beam=True), "instead of `vocab`"),
    "no scores": (make_beam_step(no_scores=True), "forgets the beams' scores"),
    "mixed": (make_beam_step(mixed=True), "adds a probability to a log-probability"),
    "probabilities": (make_beam_step(probabilities=True), "adds probabilities"),
    "unsorted": (make_beam_step(unsorted=True), "best first"),
    "two values": (lambda s, lp: make_beam_step()(s, lp)[:2], "three tensors"),
    # not in the catalogue of docs/EXERCISES.md before this version:
    "one too many": (make_beam_step(extra=1), "beam is 4, expected 3"),
    "true division": (make_beam_step(divide=True), "integer indices"),
    "transposed flatten": (make_beam_step(transposed=True), "are not sums of log-prob"),
    "token scores": (make_beam_step(token_scores=True), "without their parent's"),
}


@pytest.mark.parametrize("name", sorted(BEAM_MISTAKES))
def test_beam_step_mistakes_are_diagnosed(name):
    assert_diagnosed("7.3", BEAM_MISTAKES, name)


def test_a_recognised_mistake_gives_its_own_hints_first():
    from s2s_helpers.checks import hints

    with pytest.raises(checks.CheckFailed) as failure:
        checks.check_greedy_translate(make_greedy_one(carry_state=False))
    own = failure.value.hints
    assert own and own[0] not in framework.get("7.1").hints
    levels = hints.hint_levels("7.1")
    assert levels[: len(own)] == list(own)
    assert levels[len(own) :] == list(framework.get("7.1").hints)
