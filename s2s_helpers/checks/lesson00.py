"""Checks for lesson 00 (orientation): counting real tokens and padding masks.

Both exercises work on a padded batch of token ids, shape `(batch, src_len)`,
where id 0 is padding. The inputs below are small enough to check by hand, and
their expected answers are written out, not computed by a second implementation.

Taught in: lessons/00_orientation.ipynb
"""

from __future__ import annotations

import numpy as np

from s2s_helpers.checks.framework import CheckFailed, exercise, fail

# Hand-made padded batches, shape (batch, src_len), batch != src_len so that an
# answer along the wrong axis has a shape of its own.
PROBE_IDS = (
    np.array(
        [
            [5, 8, 2, 0, 0],
            [7, 1, 0, 0, 0],
            [4, 4, 9, 3, 6],
        ],
        dtype=np.int32,
    ),
    np.array(
        [
            [12, 3, 0, 0],
            [2, 0, 0, 0],
        ],
        dtype=np.int32,
    ),
    np.array([[9, 9, 9, 9, 9, 9, 0]], dtype=np.int64),
)

# Real tokens per row, counted by hand.
EXPECTED_COUNTS = ([3, 2, 5], [2, 1], [6])


def _count_mistakes(ids: np.ndarray) -> dict[str, np.ndarray]:
    """What the known mistakes of Exercise 0.1 return on ``ids``."""
    return {
        "counts the padding (id 0) instead of the real tokens. Count `ids != 0`.": (
            ids == 0
        ).sum(axis=1),
        "adds up the token ids instead of counting the tokens. Compare with 0 "
        "first, then sum the booleans.": ids.sum(axis=1),
        "counts every position, padding included: that is `src_len` for each row. "
        "Only ids different from 0 are real tokens.": np.full(
            ids.shape[0], ids.shape[1]
        ),
        "returns the position of the first padding token, which is 0 for a row "
        "without padding. Count the real tokens instead.": np.argmax(ids == 0, axis=1),
    }


def _probe_many(function, inputs) -> list:
    """Call ``function`` on copies of each input (a learner may modify them)."""
    return [function(ids.copy()) for ids in inputs]


def _check_returned_array(name: str, results: list, index: int) -> np.ndarray:
    value = results[index]
    if isinstance(value, (bool, int, float)):
        # numpy scalars arrive as Python numbers; a 0-d array is the same mistake
        value = np.asarray(value)
    if not isinstance(value, np.ndarray):
        fail(
            f"`{name}` should return a numpy array or a tensor.",
            expected="an array / tensor",
            received=type(value).__name__,
        )
    return value


# --- Exercise 0.1: count_real_tokens -------------------------------------------


def _probe_counts(count_real_tokens) -> dict:
    return {"results": _probe_many(count_real_tokens, PROBE_IDS)}


def _judge_counts(observation: dict) -> str:
    results = observation["results"]
    name = "count_real_tokens(ids)"
    for index, (ids, expected) in enumerate(
        zip(PROBE_IDS, EXPECTED_COUNTS, strict=True)
    ):
        counts = _check_returned_array(name, results, index)
        batch, src_len = ids.shape
        if counts.shape != (batch,):
            if counts.shape == ():
                fail(
                    f"`{name}` returned a single number: it counted over the whole "
                    "batch. Count each row separately with `axis=1`.",
                    expected=f"shape ({batch},) (batch,)",
                    received="shape ()",
                )
            if counts.shape == (src_len,):
                fail(
                    f"`{name}` counted along axis 0 (down the batch) instead of "
                    "axis 1 (along src_len).",
                    expected=f"shape ({batch},) (batch,)",
                    received=f"shape ({src_len},) (src_len,)",
                )
            if counts.shape == (batch, 1):
                fail(
                    f"`{name}` kept the summed axis (keepdims): drop it so the "
                    "result has one number per sequence.",
                    expected=f"shape ({batch},) (batch,)",
                    received=f"shape {counts.shape}",
                )
            fail(
                f"`{name}` has the wrong shape for ids of shape {ids.shape} "
                "(batch, src_len).",
                expected=f"({batch},) (batch,)",
                received=counts.shape,
            )
        if counts.dtype.kind == "b":
            fail(
                f"`{name}` returned booleans: that is the mask, not the counts. "
                "Sum it along axis 1.",
                expected="integer counts",
                received=counts.dtype,
            )
        for message, wrong in _count_mistakes(ids).items():
            wrong = np.asarray(wrong)
            if not np.array_equal(wrong, expected) and np.array_equal(counts, wrong):
                raise CheckFailed(f"`{name}` {message}")
        if not np.array_equal(np.asarray(counts, dtype=np.float64), expected):
            fail(
                f"`{name}` returned the wrong counts for ids {ids.tolist()}.",
                expected=expected,
                received=counts.tolist(),
            )
        if counts.dtype.kind not in "iu":
            fail(
                f"`{name}` returned {counts.dtype} values: counts are whole numbers. "
                "Sum the boolean mask directly, or cast it to an integer dtype, "
                "not to a float.",
                expected="an integer dtype",
                received=counts.dtype,
            )
    return "one integer count of real tokens per row, shape (batch,), on 3 batches."


check_count_real_tokens = exercise(
    "0.1",
    "count_real_tokens",
    arguments=("count_real_tokens",),
    probe=_probe_counts,
    judge=_judge_counts,
    hints=(
        "`ids != 0` is a boolean array that is True on real tokens; summing "
        "booleans counts the True values. Sum along axis 1 (src_len).",
    ),
)


# --- Exercise 0.2: padding_mask ------------------------------------------------


def _probe_mask(padding_mask) -> dict:
    return {"results": _probe_many(padding_mask, PROBE_IDS)}


def _judge_mask(observation: dict) -> str:
    results = observation["results"]
    name = "padding_mask(ids)"
    for index, ids in enumerate(PROBE_IDS):
        mask = _check_returned_array(name, results, index)
        expected = ids != 0
        batch, src_len = ids.shape
        if mask.shape != ids.shape:
            if mask.shape == (src_len, batch):
                fail(
                    f"`{name}` is transposed: it should have the same shape as "
                    "`ids`, one row per sequence.",
                    expected=f"{ids.shape} (batch, src_len)",
                    received=f"{mask.shape} (src_len, batch)",
                )
            if mask.shape == (batch, src_len, 1):
                fail(
                    f"`{name}` has an extra axis at the end: return the mask with "
                    "the shape of `ids`.",
                    expected=f"{ids.shape} (batch, src_len)",
                    received=mask.shape,
                )
            fail(
                f"`{name}` has the wrong shape.",
                expected=f"{ids.shape} (batch, src_len)",
                received=mask.shape,
            )
        values = np.asarray(mask, dtype=np.float64)
        if np.array_equal(values, ~expected):
            raise CheckFailed(
                f"`{name}` is inverted: it is True on padding. The mask must be "
                "True for real tokens (id != 0) and False for padding."
            )
        if np.array_equal(values, np.ones(ids.shape)):
            raise CheckFailed(
                f"`{name}` is True everywhere: padding (id 0) must be False."
            )
        if not np.array_equal(values, expected):
            fail(
                f"`{name}` has wrong values for ids {ids.tolist()}.",
                expected=expected.tolist(),
                received=mask.tolist(),
            )
        if mask.dtype.kind != "b":
            fail(
                f"`{name}` holds the right 0/1 values but as {mask.dtype}: a mask "
                "is boolean. `ids != 0` already is one; do not cast it.",
                expected="bool",
                received=mask.dtype,
            )
    return "a boolean mask, True for real tokens, shape (batch, src_len), on 3 batches."


check_padding_mask = exercise(
    "0.2",
    "padding_mask",
    arguments=("padding_mask",),
    probe=_probe_mask,
    judge=_judge_mask,
    hints=(
        "Compare the ids with the padding id: `ids != 0` is True exactly on "
        "real tokens and keeps the shape (batch, src_len).",
    ),
)
