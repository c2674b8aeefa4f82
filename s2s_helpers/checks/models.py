"""Tiny reference models the checks run learner code against (one definition).

Checks of lessons 04, 06 and 07 need a built ``Seq2Seq`` small enough to run
in milliseconds, with weights that do not depend on Keras' random state; the
inference checks also watch, through ``RecordingModel``, how the learner's
loop calls ``decode_step``.

Taught in: lessons/04_decoder.ipynb
"""

from __future__ import annotations

import numpy as np

from s2s_helpers.checks.codec import to_numpy


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


class TooManySteps(Exception):
    """The learner's loop ran more decoder steps than allowed: the probe stops it."""


class RecordingModel:
    """The check's model as the learner's code sees it; records eager ``decode_step``s.

    Each step records: ``fed`` (the tokens given, `(batch,)`), ``state``
    ("encoder", "previous" (the state the step before returned) or "other"),
    ``mask`` ("encoder", "none" or "other") and ``argmax`` (`(batch,)`, over
    the vocabulary). Steps inside a ``tf.function`` are not recorded
    (``compiled`` becomes True). More than ``step_limit`` eager steps raise
    ``TooManySteps``, so a loop that never ends is stopped.
    """

    def __init__(self, model, step_limit: int = 40):
        self._model = model
        self.step_limit = step_limit
        self.steps: list[dict] = []
        self.compiled = False
        self._encoded = self._previous = None
        self._count = 0

    def __getattr__(self, name):
        return getattr(self.__dict__["_model"], name)

    def __call__(self, *args, **kwargs):
        return self._model(*args, **kwargs)

    def encode(self, *args, **kwargs):
        out = self._model.encode(*args, **kwargs)
        if _eager():
            self._encoded = (to_numpy(out[1]), out[3])
        return out

    def decode_step(self, token_ids, state, values, keys, mask=None, training=None):
        self._count += 1
        if _eager() and self._count > self.step_limit:
            raise TooManySteps(f"more than {self.step_limit} decoder steps")
        out = self._model.decode_step(token_ids, state, values, keys, mask, training)
        self._record(token_ids, state, mask, out)
        return out

    def _record(self, token_ids, state, mask, out) -> None:
        if not _eager():
            self.compiled = True
            return
        state, new_state = to_numpy(state), to_numpy(out[1])
        self.steps.append(
            {
                "fed": to_numpy(token_ids).reshape(-1).astype(np.int64),
                "state": self._source(state),
                "mask": self._mask_kind(mask),
                "argmax": np.argmax(to_numpy(out[0]), axis=-1).reshape(-1),
            }
        )
        self._previous = new_state

    def _source(self, state: np.ndarray) -> str:
        for label, known in (("previous", self._previous), ("encoder", self._state)):
            if known is not None and known.shape == state.shape:
                if np.allclose(known, state, atol=1e-6):
                    return label
        return "other"

    @property
    def _state(self):
        return None if self._encoded is None else self._encoded[0]

    def _mask_kind(self, mask) -> str:
        if mask is None:
            return "none"
        encoded = None if self._encoded is None else self._encoded[1]
        same = encoded is not None and np.array_equal(to_numpy(mask), to_numpy(encoded))
        return "encoder" if same else "other"


def _eager() -> bool:
    import tensorflow as tf

    return tf.executing_eagerly()
