import itertools

import keras
import numpy as np
import pytest

from s2s_helpers import data, search, seq2seq


def _bias_towards(model, token_id, amount=50.0):
    """Make the output layer strongly prefer one token."""
    kernel, bias = model.decoder.output_layer.get_weights()
    bias = bias.copy()
    bias[token_id] += amount
    model.decoder.output_layer.set_weights([kernel, bias])


def test_compiled_equals_eager_and_beam_one_equals_greedy(tiny_model, src_ids):
    compiled = search.greedy_decode(tiny_model, src_ids, 6)
    eager = search.greedy_decode(tiny_model, src_ids, 6, compiled=False)
    beam_one = search.beam_search(tiny_model, src_ids, 6, beam_width=1)
    np.testing.assert_array_equal(compiled.tokens, eager.tokens)
    np.testing.assert_allclose(compiled.weights, eager.weights, atol=1e-6)
    np.testing.assert_array_equal(compiled.tokens, beam_one.tokens)
    np.testing.assert_allclose(compiled.weights, beam_one.weights, atol=1e-6)
    assert compiled.tokens.shape == (2, 6) and compiled.weights.shape == (2, 6, 5)


@pytest.mark.parametrize("forbidden", [data.PAD_ID, data.START_ID, data.UNK_ID])
def test_never_emits_padding_start_or_unknown(tiny_model, src_ids, forbidden):
    _bias_towards(tiny_model, forbidden)
    for result in (
        search.greedy_decode(tiny_model, src_ids, 6),
        search.beam_search(tiny_model, src_ids, 6, beam_width=3),
        search.sample_decode(tiny_model, src_ids, 6, temperature=2.0, seed=1),
    ):
        real = result.tokens[:, :1]  # the first token is always a real choice
        assert forbidden not in real
        for row in result.tokens:
            ended = list(row).index(data.END_ID) if data.END_ID in row else len(row)
            assert not set(row[:ended]) & {data.PAD_ID, data.START_ID, data.UNK_ID}


def test_stops_at_end_then_pads(tiny_model, src_ids):
    _bias_towards(tiny_model, data.END_ID)
    for result in (
        search.greedy_decode(tiny_model, src_ids, 6),
        search.beam_search(tiny_model, src_ids, 6, beam_width=2),
    ):
        assert (result.tokens[:, 0] == data.END_ID).all()
        assert (result.tokens[:, 1:] == 0).all()
        assert (result.weights[:, 1:] == 0).all()
        np.testing.assert_allclose(result.weights[:, 0].sum(-1), 1.0, rtol=1e-5)


def test_extra_source_padding_changes_no_prediction(tiny_model, src_ids):
    result = search.greedy_decode(tiny_model, src_ids, 6)
    padded = search.greedy_decode(tiny_model, np.pad(src_ids, [[0, 0], [0, 3]]), 6)
    np.testing.assert_array_equal(result.tokens, padded.tokens)
    np.testing.assert_allclose(padded.weights[:, :, :5], result.weights, atol=1e-6)


def test_sampling_is_seeded_and_cold_sampling_is_greedy(tiny_model, src_ids):
    a = search.sample_decode(tiny_model, src_ids, 6, temperature=1.5, seed=3)
    b = search.sample_decode(tiny_model, src_ids, 6, temperature=1.5, seed=3)
    np.testing.assert_array_equal(a.tokens, b.tokens)
    cold = search.sample_decode(tiny_model, src_ids, 6, temperature=1e-6, seed=3)
    np.testing.assert_array_equal(
        cold.tokens, search.greedy_decode(tiny_model, src_ids, 6).tokens
    )


def _sequence_log_prob(model, src_ids, tokens):
    values, state, keys, mask = model.encode(src_ids)
    previous, total = data.START_ID, 0.0
    for token in tokens:
        logits, state, _ = model.decode_step(
            np.array([previous], np.int32), state, values, keys, mask
        )
        logits = search._forbid(logits)
        total += float(keras.ops.log_softmax(logits)[0, token])
        previous = token
    return total


def test_wide_beam_equals_exhaustive_search():
    """With a beam wider than every hypothesis, beam search is exhaustive."""
    keras.utils.set_random_seed(11)
    model = seq2seq.Seq2Seq(10, 6, 4, 8)  # target ids 3 ([END]), 4, 5 are allowed
    src = np.array([[4, 5, 6, 0]], np.int32)
    max_length, alpha = 3, 0.6
    candidates = [[3]] + [[a, 3] for a in (4, 5)]
    candidates += [
        [a, b, c] for a, b in itertools.product((4, 5), repeat=2) for c in (3, 4, 5)
    ]
    best = max(
        candidates,
        key=lambda seq: (
            _sequence_log_prob(model, src, seq) / ((5 + len(seq)) / 6) ** alpha
        ),
    )
    result = search.beam_search(
        model, src, max_length, beam_width=16, length_penalty=alpha
    )
    assert search.trim(result.tokens)[0] == [t for t in best if t != 3]
    expected = _sequence_log_prob(model, src, best) / ((5 + len(best)) / 6) ** alpha
    assert result.scores[0] == pytest.approx(expected, rel=1e-4)
    # and it keeps every one of the 15 hypotheses, each scored as by hand
    every = search.beam_hypotheses(
        model, src, max_length, beam_width=16, length_penalty=alpha
    )
    kept = {}
    rows = zip(every.tokens[0], every.log_probabilities[0], every.scores[0],
               every.lengths[0], every.finished[0])  # fmt: skip
    for ids, total, score, length, finished in rows:
        if total > search.NEG_INF / 2:
            kept[tuple(ids[:length])] = (total, score, finished)
    assert sorted(kept) == sorted(map(tuple, candidates))
    for seq, (total, score, finished) in kept.items():
        by_hand = _sequence_log_prob(model, src, list(seq))
        assert total == pytest.approx(by_hand, rel=1e-4, abs=1e-4)
        assert score == pytest.approx(by_hand / ((5 + len(seq)) / 6) ** alpha, rel=1e-4)
        assert finished == (seq[-1] == 3)
    assert list(every.scores[0]) == sorted(every.scores[0], reverse=True)
    np.testing.assert_array_equal(every.tokens[0, 0], result.tokens[0])


def test_bad_inputs_are_explained(tiny_model, src_ids):
    with pytest.raises(ValueError, match=r"ids\[None, :\]"):
        search.greedy_decode(tiny_model, src_ids[0], 5)
    with pytest.raises(ValueError, match="integer ids"):
        search.greedy_decode(tiny_model, src_ids.astype("float32"), 5)
    with pytest.raises(ValueError, match="max_length must be >= 1"):
        search.greedy_decode(tiny_model, src_ids, 0)
    with pytest.raises(ValueError, match="beam_width must be >= 1"):
        search.beam_search(tiny_model, src_ids, 5, beam_width=0)
    with pytest.raises(ValueError, match="use greedy_decode"):
        search.sample_decode(tiny_model, src_ids, 5, temperature=0)


def test_trim():
    assert search.trim(np.array([[5, 6, 3, 0], [3, 0, 0, 0], [4, 4, 4, 4]])) == [
        [5, 6],
        [],
        [4, 4, 4, 4],
    ]
