"""Masked cross-entropy and masked accuracy: padding never counts.

    loss = sum_t mask_t * CE(y_t, logits_t) / sum_t mask_t

Seed bug 3: the classic tutorial multiplied the per-token loss by the mask and
then took ``reduce_mean`` over *all* positions, padding included, so a batch
with more padding got a smaller loss (and smaller gradients). Here we divide by
the number of real tokens. ``padded_mean_loss`` keeps the buggy version for
lesson 05 to measure.

Taught in: lessons/05_loss.ipynb
"""

from __future__ import annotations

import keras
from keras import ops


def _check(tgt_out_ids, logits, name):
    if len(tgt_out_ids.shape) != 2 or len(logits.shape) != 3:
        raise ValueError(
            f"{name} expects tgt_out_ids (batch, tgt_len) and logits (batch, tgt_len, "
            f"vocab); received {tuple(tgt_out_ids.shape)} and {tuple(logits.shape)}."
        )


def token_losses(tgt_out_ids, logits):
    """Per-token cross-entropy from logits: `(batch, tgt_len)` (padding not yet masked)."""
    return keras.losses.sparse_categorical_crossentropy(
        tgt_out_ids, logits, from_logits=True
    )


def masked_loss(tgt_out_ids, logits):
    """Mean cross-entropy over real (non-padding) target tokens.

    Args:
        tgt_out_ids: int `(batch, tgt_len)`, padding id 0.
        logits: `(batch, tgt_len, vocab)`.

    Returns:
        scalar loss; 0.0 for a batch with no real tokens (never NaN).
    """
    _check(tgt_out_ids, logits, "masked_loss")
    losses = token_losses(tgt_out_ids, logits)  # (batch, tgt_len)
    mask = ops.cast(ops.not_equal(tgt_out_ids, 0), losses.dtype)
    return ops.sum(losses * mask) / ops.maximum(ops.sum(mask), 1.0)


def padded_mean_loss(tgt_out_ids, logits):
    """The classic tutorial's loss (seed bug 3): masked, but averaged over padding too."""
    _check(tgt_out_ids, logits, "padded_mean_loss")
    losses = token_losses(tgt_out_ids, logits)
    mask = ops.cast(ops.not_equal(tgt_out_ids, 0), losses.dtype)
    return ops.mean(losses * mask)


def masked_accuracy(tgt_out_ids, logits):
    """Fraction of real target tokens whose argmax prediction is right."""
    _check(tgt_out_ids, logits, "masked_accuracy")
    predicted = ops.cast(ops.argmax(logits, axis=-1), tgt_out_ids.dtype)
    mask = ops.not_equal(tgt_out_ids, 0)
    correct = ops.cast(
        ops.logical_and(ops.equal(predicted, tgt_out_ids), mask), "float32"
    )
    return ops.sum(correct) / ops.maximum(ops.sum(ops.cast(mask, "float32")), 1.0)
