"""The compiled functions are traced once: no retracing as batches and ratios change.

A retrace costs seconds (an XLA compile for the train step), so a step that
retraced on every new batch size or teacher-forcing ratio would make training
and decoding slow without any error. No timing is asserted here: the speed
itself is measured by ``python -m benchmarks date_vs_seed`` (docs/BENCHMARKS.md).
"""

import keras
import numpy as np
import pytest

from s2s_helpers import data, search, seq2seq, training


def _partial_batch_dataset(date_arrays, size=150, batch_size=64):
    """Batches of 64, 64 and a final partial batch of 22."""
    _, _, (src, tgt_in, tgt_out), _, _ = date_arrays
    return data.make_dataset((src[:size], tgt_in[:size], tgt_out[:size]), batch_size)


@pytest.mark.parametrize("jit_compile", [True, False])
def test_train_step_traces_once_across_batches_ratios_and_a_partial_batch(
    date_arrays, jit_compile
):
    src_vocab, tgt_vocab = date_arrays[:2]
    keras.utils.set_random_seed(0)
    model = seq2seq.Seq2Seq(src_vocab.size, tgt_vocab.size, 8, 16)
    trainer = training.Trainer(
        model, "adam", schedule="linear", end_ratio=0.0, jit_compile=jit_compile
    )
    dataset = _partial_batch_dataset(date_arrays)
    sizes = [len(tgt_out) for _, tgt_out in dataset]
    assert sizes == [64, 64, 22]

    history = trainer.fit(dataset, 2, val_data=dataset, verbose=0)

    ratios = history["teacher_forcing_ratio"]
    assert ratios[0] > ratios[1]  # the ratio really changed between steps
    assert int(trainer.step.numpy()) == 6
    assert trainer.trace_count == 1
    assert trainer._train_step.experimental_get_tracing_count() == 1
    assert trainer._eval_step.experimental_get_tracing_count() == 1


def test_train_step_traces_once_across_bucket_shapes(date_arrays):
    """Length buckets give batches of several source widths: still one trace."""
    src_vocab, tgt_vocab, (src, tgt_in, tgt_out), _, _ = date_arrays
    keras.utils.set_random_seed(0)
    model = seq2seq.Seq2Seq(src_vocab.size, tgt_vocab.size, 8, 16)
    trainer = training.Trainer(model, "adam")
    arrays = (src[:400], tgt_in[:400], tgt_out[:400])
    dataset = data.make_dataset(arrays, 64, shuffle=True, buckets=(16, 24))
    widths = {int(batch_src.shape[1]) for (batch_src, _), _ in dataset}
    assert len(widths) >= 2

    padded = data.make_dataset(arrays, 64)  # evaluation data need not be bucketed
    trainer.fit(dataset, 2, val_data=padded, verbose=0)

    assert int(trainer.step.numpy()) == 2 * int(dataset.cardinality())
    assert trainer.evaluate(dataset).keys() == trainer.evaluate(padded).keys()
    assert trainer.trace_count == 1
    assert trainer._train_step.experimental_get_tracing_count() == 1


@pytest.fixture
def count_encodes(tiny_model, monkeypatch):
    """Count calls to ``model.encode``: a compiled search calls it once per trace."""
    calls = []
    encode = tiny_model.encode

    def counting_encode(src_ids, training=None):
        calls.append(tuple(src_ids.shape))
        return encode(src_ids, training=training)

    monkeypatch.setattr(tiny_model, "encode", counting_encode)
    return calls


@pytest.mark.parametrize(
    "decode, deterministic",
    [
        (lambda model, ids: search.greedy_decode(model, ids, 6), True),
        (lambda model, ids: search.beam_search(model, ids, 6, beam_width=4), True),
        (lambda model, ids: search.sample_decode(model, ids, 6, 0.5), False),
    ],
    ids=["greedy", "beam", "sample"],
)
def test_search_does_not_retrace_for_another_batch_size(
    tiny_model, src_ids, count_encodes, decode, deterministic
):
    first = decode(tiny_model, src_ids)  # (batch=2, src_len=5)
    bigger = np.concatenate([src_ids, src_ids[::-1], src_ids[:1]])  # batch=5
    second = decode(tiny_model, bigger)
    single = decode(tiny_model, src_ids[1:])  # batch=1
    assert len(count_encodes) == 1, f"traced for {count_encodes}"
    assert count_encodes[0][0] is None  # the traced batch axis is free
    if not deterministic:
        return  # sampled rows depend on the batch size: no row-by-row comparison
    np.testing.assert_array_equal(second.tokens[:2], first.tokens)
    np.testing.assert_array_equal(single.tokens, first.tokens[1:])


def test_search_traces_once_per_source_length(tiny_model, src_ids, count_encodes):
    search.greedy_decode(tiny_model, src_ids, 6)
    search.greedy_decode(tiny_model, np.pad(src_ids, [[0, 0], [0, 3]]), 6)
    search.greedy_decode(tiny_model, np.pad(src_ids, [[1, 0], [0, 3]]), 6)
    assert [shape[1] for shape in count_encodes] == [5, 8]
