"""Checks for lesson 00 (orientation): counting real tokens and padding masks.

Both exercises work on a padded batch of token ids, shape `(batch, src_len)`,
where id 0 is padding. The inputs below are small enough to check by hand, and
their expected answers are written out, not computed by a second implementation.

The judges report, from cheap to specific: the type, the shape (which axis is
wrong), a mistake from the catalogue when every batch shows it for sure, then
the first property a correct answer has that fails (a row without padding
counts every position, the count depends only on where the padding is, the
mask is False exactly at id 0), and last the dtype.

Taught in: lessons/00_orientation.ipynb
"""

from __future__ import annotations

import numpy as np

from s2s_helpers.checks.framework import exercise, expect_shape, fail

# Hand-made padded batches, shape (batch, src_len): every size differs from every
# other (3 x 5, 2 x 4, 1 x 7), so an answer along the wrong axis has a shape of
# its own. Padding is in some rows and not others; ids 1 and 2 are real tokens.
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
# The first batch with other real ids at the same places: a count must not change.
RELABELLED_IDS = np.where(PROBE_IDS[0] != 0, PROBE_IDS[0] + 20, 0).astype(np.int32)

# Real tokens per row, counted by hand.
EXPECTED_COUNTS = ([3, 2, 5], [2, 1], [6])


def _count_mistakes() -> dict[str, tuple[str, list, tuple[str, ...]]]:
    """Catalogued mistakes of Exercise 0.1: message, outputs per batch, hints."""
    return {
        "padding": (
            "counts the padding (id 0) instead of the real tokens.",
            [(ids == 0).sum(axis=1) for ids in PROBE_IDS],
            ("Which ids are padding and which are real? Compare the other way.",),
        ),
        "sum": (
            "adds up the token ids instead of counting the tokens.",
            [ids.sum(axis=1) for ids in PROBE_IDS],
            ("Compare the ids with 0 first; then add up the booleans.",),
        ),
        "every": (
            "counts every position, padding included: src_len for each row.",
            [np.full(len(ids), ids.shape[1]) for ids in PROBE_IDS],
            ("Only ids different from 0 are real tokens.",),
        ),
        "first": (
            "returns the position of the first padding token (0 for a row "
            "without padding), not the number of real tokens.",
            [np.argmax(ids == 0, axis=1) for ids in PROBE_IDS],
            ("A row without padding has no first padding token: count instead.",),
        ),
    }


def _probe_many(function, inputs) -> list:
    """Call ``function`` on copies of each input (a learner may modify them)."""
    return [function(ids.copy()) for ids in inputs]


def _returned_array(name: str, value) -> np.ndarray:
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


def _plain(values) -> list:
    """Values as a list, whole numbers without a trailing ``.0``."""
    values = np.asarray(values)
    if values.dtype.kind == "f" and np.all(values == np.round(values)):
        values = values.astype(np.int64)
    return values.tolist()


def _first_matching(mistakes: dict, received: list, expected: list):
    """The catalogued mistake that every batch shows for sure, or None."""
    for message, outputs, hints in mistakes.values():
        same = all(
            np.array_equal(np.asarray(r, np.float64), o)
            for r, o in zip(received, outputs, strict=True)
        )
        differs = any(
            not np.array_equal(o, e) for o, e in zip(outputs, expected, strict=True)
        )
        if same and differs:
            return message, hints
    return None


# --- Exercise 0.1: count_real_tokens -------------------------------------------


def _probe_counts(count_real_tokens) -> dict:
    return {
        "results": _probe_many(count_real_tokens, PROBE_IDS),
        "relabelled": count_real_tokens(RELABELLED_IDS.copy()),
    }


def _count_shape(name: str, counts: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """Fail on a shape other than (batch,), saying what the shape shows."""
    batch, src_len = ids.shape
    expected = f"({batch},) (batch,)"
    if counts.shape == ():
        fail(
            f"`{name}` returned a single number for the whole batch, "
            "not one count per row.",
            expected=expected,
            received="shape ()",
        )
    if counts.shape == (src_len,):
        down_batch = np.array_equal(counts, (ids != 0).sum(axis=0))
        fail(
            f"`{name}` "
            + (
                "counted down the batch (along axis 0): one number per src_len "
                "position."
                if down_batch
                else f"returned one number per src_len position ({src_len}), "
                "not one per row."
            ),
            expected=expected,
            received=f"({src_len},) (src_len,)",
        )
    if counts.shape == (batch, 1):
        fail(
            f"`{name}` has an extra axis of size 1: one count per row, but as a "
            "column.",
            expected=expected,
            received=counts.shape,
        )
    return expect_shape(name, counts, (batch,), "batch")


def _count_offsets(name: str, counts: list) -> None:
    """Fail when every count is off by the same amount."""
    offsets = {
        float(c - e)
        for got, want in zip(counts, EXPECTED_COUNTS, strict=True)
        for c, e in zip(got, want, strict=True)
    }
    if len(offsets) == 1 and 0.0 not in offsets:
        offset = offsets.pop()
        fail(
            f"`{name}`: every count is {abs(offset):g} too "
            f"{'large' if offset > 0 else 'small'}.",
            expected=EXPECTED_COUNTS[0],
            received=_plain(counts[0]),
        )


def _count_properties(name: str, counts: list, relabelled: np.ndarray) -> None:
    """The first property of correct counts that fails, stated as observed."""
    if not np.array_equal(np.asarray(relabelled, np.float64), counts[0]):
        fail(
            f"`{name}` changes when only the values of the real tokens change "
            "(same padding): a count depends only on which ids are 0.",
            expected=f"equal results for {PROBE_IDS[0].tolist()} and "
            f"{RELABELLED_IDS.tolist()}",
            received=f"{_plain(counts[0])} and {_plain(relabelled)}",
        )
    _count_offsets(name, counts)
    for got, want, ids in zip(counts, EXPECTED_COUNTS, PROBE_IDS, strict=True):
        if len(set(got.tolist())) == 1 and len(set(want)) > 1:
            fail(
                f"`{name}` gives every row of {ids.tolist()} the same count, "
                "but the rows have different numbers of real tokens.",
                expected=want,
                received=_plain(got),
            )
    for got, want, ids in zip(counts, EXPECTED_COUNTS, PROBE_IDS, strict=True):
        wrong = [i for i, (c, e) in enumerate(zip(got, want)) if c != e]
        if wrong:
            row = wrong[0]
            full = " (a row without padding: all its tokens are real)"
            fail(
                f"`{name}` is wrong for {len(wrong)} of {len(want)} rows: row "
                f"{ids[row].tolist()}{full if want[row] == ids.shape[1] else ''} "
                f"has {want[row]} real tokens.",
                expected=want,
                received=_plain(got),
            )


def _judge_counts(observation: dict) -> str:
    name = "count_real_tokens(ids)"
    counts = []
    for ids, result in zip(PROBE_IDS, observation["results"], strict=True):
        array = _count_shape(name, _returned_array(name, result), ids)
        if array.dtype.kind == "b":
            fail(
                f"`{name}` returned booleans (True / False), not counts.",
                expected="integer counts",
                received=array.dtype,
            )
        counts.append(array.astype(np.float64))
    expected = [np.asarray(e, np.float64) for e in EXPECTED_COUNTS]
    if found := _first_matching(_count_mistakes(), counts, expected):
        fail(f"`{name}` {found[0]}", hints=found[1])
    _count_properties(name, counts, _returned_array(name, observation["relabelled"]))
    for result in observation["results"]:
        if np.asarray(result).dtype.kind not in "iu":
            fail(
                f"`{name}` returned {np.asarray(result).dtype} values: counts are "
                "whole numbers, an integer dtype.",
                expected="an integer dtype",
                received=np.asarray(result).dtype,
                hints=("Which dtype does a sum of booleans have, before any cast?",),
            )
    return "one integer count of real tokens per row, shape (batch,), on 3 batches."


check_count_real_tokens = exercise(
    "0.1",
    "count_real_tokens",
    arguments=("count_real_tokens",),
    probe=_probe_counts,
    judge=_judge_counts,
    hints=(
        "A token is real when its id is not 0. Can you build an array that is "
        "True exactly on the real tokens?",
        "Adding up booleans counts the True values. Along which axis of "
        "(batch, src_len) do you add to get one number per row?",
        "`np.sum(ids != 0, axis=1)`: the comparison is a (batch, src_len) mask, "
        "its sum along axis 1 (src_len) one count per row.",
    ),
    # No axes: its plain-error test expects the shapes of a learner error unnamed.
)


# --- Exercise 0.2: padding_mask ------------------------------------------------


def _probe_mask(padding_mask) -> dict:
    return {"results": _probe_many(padding_mask, PROBE_IDS)}


def _mask_shape(name: str, mask: np.ndarray, ids: np.ndarray) -> np.ndarray:
    batch, src_len = ids.shape
    expected = f"{ids.shape} (batch, src_len)"
    if mask.shape == (src_len, batch):
        fail(
            f"`{name}` is transposed: one row per src_len position instead of "
            "one row per sequence.",
            expected=expected,
            received=f"{mask.shape} (src_len, batch)",
        )
    if mask.shape == (batch, src_len, 1):
        fail(
            f"`{name}` has an extra axis of size 1 at the end.",
            expected=expected,
            received=mask.shape,
        )
    return expect_shape(name, mask, ids.shape, "batch, src_len")


def _mask_positions(name: str, values: np.ndarray, ids: np.ndarray) -> None:
    """Fail where the mask is True on padding or False on a real token."""
    expected = ids != 0
    on_padding = np.argwhere(values.astype(bool) & ~expected)
    off_real = np.argwhere(~values.astype(bool) & expected)
    for where, what in ((on_padding, "True at padding (id 0)"), (off_real, "")):
        if len(where):
            ids_there = sorted({int(ids[r, c]) for r, c in where})
            what = what or f"False at real tokens (ids {ids_there})"
            first = ", ".join(f"[{r}, {c}]" for r, c in where[:3])
            fail(
                f"`{name}` is {what} for ids {ids.tolist()}: {len(where)} "
                f"position(s), e.g. {first}.",
                expected=expected.tolist(),
                received=values.astype(bool).tolist(),
            )


def _judge_mask(observation: dict) -> str:
    name = "padding_mask(ids)"
    masks = [
        _mask_shape(name, _returned_array(name, result), ids).astype(np.float64)
        for ids, result in zip(PROBE_IDS, observation["results"], strict=True)
    ]
    expected = [(ids != 0).astype(np.float64) for ids in PROBE_IDS]
    mistakes = {
        "inverted": (
            "is inverted: True on padding and False on the real tokens.",
            [1.0 - e for e in expected],
            ("Which value should padding get, True or False?",),
        ),
        "all true": (
            "is True everywhere: padding (id 0) is not marked.",
            [np.ones(ids.shape) for ids in PROBE_IDS],
            ("What makes a padding position different from a real one?",),
        ),
    }
    if found := _first_matching(mistakes, masks, expected):
        fail(f"`{name}` {found[0]}", hints=found[1])
    for values, ids in zip(masks, PROBE_IDS, strict=True):
        _mask_positions(name, values, ids)
    for result in observation["results"]:
        if result.dtype.kind != "b":
            fail(
                f"`{name}` holds the right 0/1 values but as {result.dtype}: a "
                "mask is boolean.",
                expected="bool",
                received=result.dtype,
                hints=("What dtype does a comparison give, before any cast?",),
            )
    return "a boolean mask, True for real tokens, shape (batch, src_len), on 3 batches."


check_padding_mask = exercise(
    "0.2",
    "padding_mask",
    arguments=("padding_mask",),
    probe=_probe_mask,
    judge=_judge_mask,
    hints=(
        "Padding is id 0; every other id is a real token, special tokens too. "
        "Comparing a whole array with one number gives one boolean per token.",
        "The mask has the shape of `ids` and is True wherever the id is not "
        "the padding id.",
        "`ids != 0`: already boolean, already (batch, src_len).",
    ),
    axes={"batch": 3, "src_len": 5},
)
