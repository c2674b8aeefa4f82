"""The benchmarks' seed-style baseline computes the reference's function.

``benchmarks/seed_baseline.py`` is a second implementation of the model (the
classic tutorial's structure), so it is also an independent check of the
reference: from the same weights, same loss, same update, same greedy output.
"""

import keras
import numpy as np
import pytest

from benchmarks import seed_baseline
from s2s_helpers import data, search, seq2seq, training

EMBEDDING_DIM, UNITS = 8, 16  # the seed's attention has `units` hidden units


def _pair(src_vocab_size, tgt_vocab_size, src_len):
    keras.utils.set_random_seed(2)
    # the seed design scores tokens from the GRU output alone: the same function
    # needs the classic output layer
    model = seq2seq.Seq2Seq(
        src_vocab_size, tgt_vocab_size, EMBEDDING_DIM, UNITS, output_context=False
    )
    model.build(((None, src_len), (None, 4)))
    baseline = seed_baseline.SeedSeq2Seq(
        src_vocab_size, tgt_vocab_size, EMBEDDING_DIM, UNITS
    )
    baseline.build(src_len)
    seed_baseline.copy_weights(model, baseline)
    return model, baseline


def _batch(rows=16, src_len=6, tgt_len=4):
    """Random ids (specials excluded) with trailing padding of varied lengths."""
    rng = np.random.default_rng(0)
    src = rng.integers(4, 20, (rows, src_len)).astype(np.int32)
    tgt_in = rng.integers(4, 12, (rows, tgt_len)).astype(np.int32)
    tgt_in[:, 0] = data.START_ID
    tgt_out = np.roll(tgt_in, -1, axis=1)
    tgt_out[:, -1] = data.END_ID
    for row in range(rows):
        src[row, 1 + row % src_len :] = 0
        tgt_in[row, 1 + row % tgt_len :] = 0
        tgt_out[row, 1 + row % tgt_len :] = 0
    return src, tgt_in, tgt_out


def test_one_training_step_gives_the_same_loss_and_weights():
    src, tgt_in, tgt_out = _batch()
    model, baseline = _pair(20, 12, src.shape[1])
    dataset = data.make_dataset((src, tgt_in, tgt_out), len(src))
    trainer = training.Trainer(model, keras.optimizers.SGD(0.5), jit_compile=False)
    history = trainer.fit(dataset, 1, verbose=0)
    step = seed_baseline.make_train_step(baseline, keras.optimizers.SGD(0.5))
    loss = step(src, tgt_in, tgt_out)

    assert float(loss) == pytest.approx(history["loss"][0], abs=1e-5)
    updated = seed_baseline.SeedSeq2Seq(20, 12, EMBEDDING_DIM, UNITS)
    updated.build(src.shape[1])
    seed_baseline.copy_weights(model, updated)  # the reference after its step
    for ours, theirs in zip(baseline.trainable_variables, updated.trainable_variables):
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), atol=1e-5)


def test_eager_one_sentence_decoding_equals_batched_greedy(src_ids):
    model, baseline = _pair(20, 12, src_ids.shape[1])
    batched = search.greedy_decode(model, src_ids, 6)
    for row, tokens in zip(src_ids, batched.tokens):
        assert search.trim([seed_baseline.evaluate(baseline, row, 6)]) == search.trim(
            tokens[None]
        )


def test_copy_weights_rejects_other_sizes():
    keras.utils.set_random_seed(2)
    model = seq2seq.Seq2Seq(20, 12, EMBEDDING_DIM, UNITS, output_context=False)
    model.build(((None, 5), (None, 4)))
    baseline = seed_baseline.SeedSeq2Seq(20, 12, EMBEDDING_DIM, 2 * UNITS)
    baseline.build(5)
    with pytest.raises(ValueError, match="kernel"):
        seed_baseline.copy_weights(model, baseline)
