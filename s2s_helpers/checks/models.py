"""Tiny reference models the checks run learner code against (one definition).

Checks of lessons 04, 06 and 07 need a built ``Seq2Seq`` small enough to run
in milliseconds, with weights that do not depend on Keras' random state.

Taught in: lessons/04_decoder.ipynb
"""

from __future__ import annotations

import numpy as np


def tiny_seq2seq(
    src_vocab_size: int,
    tgt_vocab_size: int,
    embedding_dim: int,
    units: int,
    build_with: tuple[np.ndarray, np.ndarray],
    *,
    seed: int | None = None,
    scale: float = 0.5,
    **options,
):
    """A built ``seq2seq.Seq2Seq``; with ``seed``, weights ~ normal(0, ``scale``).

    Args:
        src_vocab_size, tgt_vocab_size, embedding_dim, units: the model's sizes.
        build_with: ``(src_ids, tgt_in_ids)`` to build it with, e.g. one row each.
        seed: a numpy seed for every weight; None keeps Keras' initialisation.
        scale: standard deviation of the seeded weights.
        **options: more ``Seq2Seq`` arguments (``attention_units``,
            ``dropout_rate``, ...).
    """
    import tensorflow as tf

    from s2s_helpers.seq2seq import Seq2Seq

    model = Seq2Seq(src_vocab_size, tgt_vocab_size, embedding_dim, units, **options)
    model(tuple(tf.constant(ids) for ids in build_with))
    if seed is not None:
        rng = np.random.default_rng(seed)
        model.set_weights(
            [
                rng.normal(0.0, scale, w.shape).astype(np.float32)
                for w in model.get_weights()
            ]
        )
    return model
