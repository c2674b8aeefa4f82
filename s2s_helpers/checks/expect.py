"""Judging helpers, from cheap to specific: ``fail``, ``expect_*`` and ``Mistake``.

A judge reports the first property that fails, in the exercise's own words and
axis names, and never the code that fixes it: what fixes it goes into the
failure's ``hints``, which ``checks.hint(...)`` gives one level at a time.

Taught in: lessons/00_orientation.ipynb
"""

from __future__ import annotations

import traceback
from dataclasses import dataclass
from typing import Any

import numpy as np


class CheckFailed(AssertionError):
    """An exercise check found a mistake: the message says what was observed.

    Args:
        message: what is wrong, then optional "expected:" / "received:" lines.
        hints: hints for this mistake, from a nudge to the strongest.
    """

    def __init__(self, message: str = "", hints: tuple[str, ...] | list[str] = ()):
        super().__init__(message)
        self.hints = tuple(hints)
        self.exercise_id: str | None = None

    def _render_traceback_(self) -> list[str]:
        """How IPython shows the failure: a few calm lines, no traceback."""
        from s2s_helpers.checks.display import failure_lines

        return failure_lines(str(self), self.exercise_id)


@dataclass(frozen=True)
class Mistake:
    """What a known mistake produces, and hints for it (see ``expect_close``)."""

    output: Any
    hints: tuple[str, ...] = ()


def fail(
    what: str,
    expected: Any = None,
    received: Any = None,
    *,
    hints: tuple[str, ...] = (),
) -> None:
    """Raise ``CheckFailed`` saying what is wrong, expected vs received."""
    lines = [what]
    if expected is not None:
        lines.append(f"    expected: {expected}")
    if received is not None:
        lines.append(f"    received: {received}")
    raise CheckFailed("\n".join(lines), hints)


def last_line(error: BaseException) -> str:
    """``"ValueError: message"``: the last line of an exception's traceback."""
    return traceback.format_exception_only(type(error), error)[-1].strip()


def expect_array(name: str, value: Any) -> np.ndarray:
    """Fail unless ``value`` is an array (a probe stores tensors as arrays)."""
    if not isinstance(value, np.ndarray):
        fail(
            f"`{name}` should be a tensor or array.",
            expected="a tensor",
            received=type(value).__name__,
        )
    return value


def expect_shape(name: str, value: Any, shape: tuple, axes: str = "") -> np.ndarray:
    """Fail unless ``value`` has exactly ``shape``; ``axes`` names the axes.

    With ``axes`` ("batch, src_len"), the message says which axis is wrong or
    missing, e.g. "src_len is 4, expected 5" or "has 3 axes, expected 2".
    """
    array = expect_array(name, value)
    if tuple(array.shape) == tuple(shape):
        return array
    names = [axis.strip() for axis in axes.split(",")] if axes else []
    label = f" ({axes})" if axes else ""
    detail = ""
    if len(array.shape) != len(shape):
        detail = f" It has {array.ndim} axes; expected {len(shape)}{label}."
    elif names and len(names) == len(shape):
        wrong = [
            f"{axis} is {got}, expected {want}"
            for axis, got, want in zip(names, array.shape, shape)
            if got != want
        ]
        detail = f" Along {'; '.join(wrong)}."
    fail(
        f"`{name}` has the wrong shape.{detail}", f"{tuple(shape)}{label}", array.shape
    )
    return array


def expect_dtype(name: str, value: np.ndarray, kind: str) -> np.ndarray:
    """Fail unless the dtype's kind matches: "f" float, "i" integer, "b" bool."""
    kinds = {"f": "floating point", "i": "integer", "b": "boolean"}
    got = value.dtype.kind
    if kind == "i" and got == "u":
        got = "i"
    if got != kind:
        fail(f"`{name}` has the wrong dtype.", kinds.get(kind, kind), value.dtype)
    return value


def expect_close(
    name: str,
    received: np.ndarray,
    expected: np.ndarray,
    *,
    known_mistakes: dict[str, Any] | None = None,
    atol: float = 1e-4,
    rtol: float = 1e-4,
) -> None:
    """Fail unless ``received`` matches ``expected``, naming a known mistake.

    ``known_mistakes`` maps a message ("the softmax runs over batch, not
    src_len") to what that mistake would have produced, or to a ``Mistake``
    (output and hints); the first one that matches is the failure message.
    """
    received = np.asarray(received, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    if received.shape == expected.shape and np.allclose(
        received, expected, atol=atol, rtol=rtol, equal_nan=False
    ):
        return
    expect_no_known_mistake(name, received, known_mistakes, atol=atol, rtol=rtol)
    if received.shape != expected.shape:
        fail(f"`{name}` has the wrong shape.", expected.shape, received.shape)
    if not np.all(np.isfinite(received)):
        fail(f"`{name}` contains NaN or inf.", "finite values", preview(received))
    difference = float(np.max(np.abs(received - expected)))
    fail(
        f"`{name}` differs from the reference (largest difference {difference:.3g}).",
        preview(expected),
        preview(received),
    )


def expect_no_known_mistake(
    name: str,
    received: np.ndarray,
    known_mistakes: dict[str, Any] | None,
    *,
    atol: float = 1e-4,
    rtol: float = 1e-4,
) -> None:
    """Raise ``CheckFailed`` with the first known mistake that ``received`` matches.

    ``known_mistakes`` is as for ``expect_close``; leave out the mistakes whose
    output equals the reference. To recognise a mistake for sure, pass the
    results on every input at once (a match on one input can be a coincidence).
    """
    received = np.asarray(received, dtype=np.float64)
    for message, wrong in (known_mistakes or {}).items():
        mistake = wrong if isinstance(wrong, Mistake) else Mistake(wrong)
        output = np.asarray(mistake.output, dtype=np.float64)
        if output.shape == received.shape and np.allclose(
            received, output, atol=atol, rtol=rtol
        ):
            raise CheckFailed(f"`{name}`: {message}", mistake.hints)


def expect_number(name: str, value: Any) -> float:
    """Fail unless ``value`` (a probe's ``to_numpy`` of a result) is one real number."""
    array = None if value is None else np.asarray(value)
    if array is None or array.dtype.kind not in "biuf":
        shown = "None" if array is None else f"{array.dtype} {preview(array)}"
        fail(f"`{name}` should return a number.", "a float such as 0.25", shown)
    if array.shape != ():
        fail(
            f"`{name}` returned {array.size} numbers (shape {array.shape}), not one.",
            "a single number",
            preview(array),
        )
    return float(array)


def preview(array: np.ndarray) -> str:
    """A one-line preview of an array (a few items from each end)."""
    return np.array2string(
        np.asarray(array), precision=4, threshold=12, edgeitems=2, separator=", "
    ).replace("\n", " ")


def softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """Numerically stable softmax in float64 (the judges' oracle)."""
    x = np.asarray(x, dtype=np.float64)
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def log_softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """Numerically stable log-softmax in float64 (the judges' oracle)."""
    x = np.asarray(x, dtype=np.float64)
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def close(received, expected, atol: float = 1e-4) -> bool:
    """Same shape and values within ``atol`` (relative 1e-4)."""
    received, expected = np.asarray(received), np.asarray(expected)
    return received.shape == expected.shape and np.allclose(
        received.astype(np.float64), expected, atol=atol, rtol=1e-4
    )


def name_known_mistake(name, received, expected, mistakes, atol=1e-4) -> None:
    """Raise the catalogued mistake whose exact output ``received`` is, if any.

    ``mistakes`` maps a message to an output or a ``Mistake``; nothing is said
    when ``received`` is the expected output or matches no mistake.
    """
    if not close(received, expected, atol):
        expect_no_known_mistake(name, received, mistakes, atol=atol)


def expect_finite(name: str, value: np.ndarray) -> None:
    """Fail when ``value`` holds NaN or inf."""
    if not np.all(np.isfinite(value)):
        fail(f"`{name}` contains NaN or inf.", "finite values", preview(value))


def expect_changes(name: str, before, after, change: str, meaning: str) -> None:
    """Fail when ``name`` stays the same although ``change`` happened."""
    if close(before, after, atol=1e-6):
        fail(f"`{name}` stays the same when {change}: {meaning}")


def expect_not_rescaled(name: str, received, expected, hints=()) -> None:
    """Fail with the factor when ``received`` is ``expected`` times a constant."""
    received, expected = np.asarray(received, np.float64), np.asarray(expected)
    if received.shape != expected.shape or not np.any(expected):
        return
    factor = float(np.sum(received * expected) / np.sum(expected * expected))
    if abs(factor - 1) > 1e-3 and close(received, factor * expected):
        fail(
            f"`{name}` is the expected result times a constant factor "
            f"{factor:.4g}: every value is scaled the same way.",
            preview(expected),
            preview(received),
            hints=hints,
        )
