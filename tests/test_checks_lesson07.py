"""Lesson 07's checks: the reference passes, the stub is not attempted, and each
known mistake fails with its own message (also after a JSON round trip)."""

import numpy as np
import pytest
import tensorflow as tf

from s2s_helpers import checks, search
from s2s_helpers.checks import framework, lesson07
from s2s_helpers.data import END_ID, START_ID


def outcome(exercise_id, *objects):
    return framework.outcome(exercise_id, framework.observe(exercise_id, *objects))


def stub(*args):
    raise NotImplementedError()


def assert_round_trip_judges_the_same(exercise_id, function):
    observation = framework.observe(exercise_id, function)
    again = checks.loads_observation(checks.dumps_observation(observation))
    assert framework.outcome(exercise_id, again) == framework.outcome(
        exercise_id, observation
    )


def test_tiny_model_outputs_end_at_different_steps():
    tokens = search.greedy_decode(
        lesson07.tiny_model(), lesson07.SRC_IDS, lesson07.MAX_LENGTH
    ).tokens
    ends = {list(row).index(END_ID) if END_ID in row else -1 for row in tokens}
    assert -1 in ends and len(ends) >= 3


# --- Exercise 7.1: greedy_translate ---------------------------------------------------


def make_greedy_one(
    feed_start=False, carry_state=True, stop=True, keep_end=True, include_start=False
):
    def greedy_translate(model, src_ids, max_length):
        values, state, keys, mask = model.encode(src_ids)
        initial = state
        token = tf.constant([START_ID])
        out = [START_ID] if include_start else []
        for _ in range(max_length):
            logits, new_state, _ = model.decoder.step(token, state, values, keys, mask)
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
    assert_round_trip_judges_the_same("7.1", make_greedy_one())


def test_greedy_one_accepts_a_tensor_and_the_library():
    def via_search(model, src_ids, max_length):
        row = search.greedy_decode(model, src_ids, max_length).tokens[0]
        return tf.constant([t for t in row if t != 0])

    assert outcome("7.1", via_search)[0] == "passed"


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
}


@pytest.mark.parametrize("name", sorted(GREEDY_ONE_MISTAKES))
def test_greedy_one_known_mistakes_are_named(name):
    function, expected_text = GREEDY_ONE_MISTAKES[name]
    status, message = outcome("7.1", function)
    assert status == "failed", message
    assert expected_text in message


# --- Exercise 7.2: greedy_decode_batch ------------------------------------------------


def make_greedy_batch(
    feed_start=False,
    carry_state=True,
    stop=True,
    axis=-1,
    stop_all=False,
    end_again=False,
    time_major=False,
    pad=True,
):
    def greedy_decode_batch(model, src_ids, max_length):
        values, state, keys, mask = model.encode(src_ids)
        initial = state
        batch = tf.shape(src_ids)[0]
        token = tf.fill([batch], START_ID)
        done = tf.zeros([batch], tf.bool)
        steps = []
        for _ in range(max_length):
            logits, new_state, _ = model.decoder.step(token, state, values, keys, mask)
            chosen = tf.argmax(logits, axis=axis, output_type=tf.int32)
            if stop:
                chosen = tf.where(done, END_ID if end_again else 0, chosen)
            steps.append(chosen)
            done = done | (chosen == END_ID)
            token = tf.fill([batch], START_ID) if feed_start else chosen
            state = new_state if carry_state else initial
            if (stop_all and tf.reduce_any(done)) or (not pad and tf.reduce_all(done)):
                break
        tokens = tf.stack(steps, axis=0 if time_major else 1)
        if pad and not time_major:
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
    assert_round_trip_judges_the_same("7.2", make_greedy_batch())


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
}


@pytest.mark.parametrize("name", sorted(GREEDY_BATCH_MISTAKES))
def test_greedy_batch_known_mistakes_are_named(name):
    function, expected_text = GREEDY_BATCH_MISTAKES[name]
    status, message = outcome("7.2", function)
    assert status == "failed", message
    assert expected_text in message


# --- Exercise 7.3: beam_step ----------------------------------------------------------


def make_beam_step(
    per_beam=False,
    swap=False,
    by_beam=False,
    no_scores=False,
    mixed=False,
    probabilities=False,
    unsorted=False,
):
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
        flat = tf.reshape(candidates, [batch, beam * vocab])
        new_scores, index = tf.math.top_k(flat, k=beam)
        divisor = beam if by_beam else vocab
        parents, tokens = index // divisor, index % divisor
        if swap:
            parents, tokens = tokens, parents
        if unsorted:
            new_scores, parents, tokens = (
                x[:, ::-1] for x in (new_scores, parents, tokens)
            )
        return new_scores, parents, tokens

    return beam_step


def test_beam_step_reference_passes(capsys):
    assert outcome("7.3", make_beam_step())[0] == "passed"
    numpy_version = lambda s, lp: lesson07.beam_step_reference(  # noqa: E731
        s.numpy(), lp.numpy()
    )
    assert outcome("7.3", numpy_version)[0] == "passed"
    checks.check_beam_step(make_beam_step())
    assert "passed" in capsys.readouterr().out
    assert_round_trip_judges_the_same("7.3", make_beam_step())


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
    "swapped": (make_beam_step(swap=True), "swapped"),
    "by beam": (make_beam_step(by_beam=True), "instead of `vocab`"),
    "no scores": (make_beam_step(no_scores=True), "forgets the beams' scores"),
    "mixed": (make_beam_step(mixed=True), "adds a probability to a log-probability"),
    "probabilities": (make_beam_step(probabilities=True), "adds probabilities"),
    "unsorted": (make_beam_step(unsorted=True), "best first"),
    "two values": (lambda s, lp: make_beam_step()(s, lp)[:2], "three tensors"),
}


@pytest.mark.parametrize("name", sorted(BEAM_MISTAKES))
def test_beam_step_known_mistakes_are_named(name):
    function, expected_text = BEAM_MISTAKES[name]
    status, message = outcome("7.3", function)
    assert status == "failed", message
    assert expected_text in message
