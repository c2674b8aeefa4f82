"""Describe an error raised by the learner's own code in plain words.

When the function under check raises, the learner needs three things, not
TensorFlow's node names: the exception type, a one-line message ("shapes
(2, 3) (batch, units) and (2, 5, 3) (batch, src_len, units) do not
broadcast") and the line of their own cell that raised.

Taught in: lessons/00_orientation.ipynb
"""

from __future__ import annotations

import os
import re
import sys
import traceback

MAX_MESSAGE = 300

_FUNCTION_NODE = re.compile(r"\{\{function_node [^}]*\}\}\s*")
_OP_SUFFIX = re.compile(r"\s*\[Op:[^\]]*\](\s*name:.*)?$", re.DOTALL)
_BROADCAST = re.compile(r"Incompatible shapes: \[([\d,\s]*)\] vs\. \[([\d,\s]*)\]")
_MATMUL = re.compile(
    r"Matrix size-incompatible: In\[0\]: \[([\d,\s]*)\], In\[1\]: \[([\d,\s]*)\]"
)
_CONCAT = re.compile(r"ConcatOp : Dimension (\d+) in both shapes must be equal")
_LAYER_INPUT = re.compile(
    r"of layer '([^']+)' is incompatible with the layer: expected axis -1 of input "
    r"shape to have value (\d+), but received input with shape \(([\d,\s]*)\)"
)
_LIBRARY_PARTS = ("site-packages", "dist-packages", "__autograph_generated", "<frozen")


def _shape(text: str, axis_names: dict[int, str]) -> str:
    sizes = [int(size) for size in text.replace(" ", "").split(",") if size]
    shape = f"({', '.join(map(str, sizes))}{',' if len(sizes) == 1 else ''})"
    if sizes and all(size in axis_names for size in sizes):
        shape += f" ({', '.join(axis_names[size] for size in sizes)})"
    return shape


def plain_message(
    error: BaseException, axis_names: dict[int, str] | None = None
) -> str:
    """One plain line for ``error``: TensorFlow's internals removed, shapes named.

    Args:
        error: what the learner's code raised.
        axis_names: {size: axis name} of the check's inputs, e.g. {5: "src_len"}.
    """
    axis_names = axis_names or {}
    text = _FUNCTION_NODE.sub("", str(error)).strip()
    text = _OP_SUFFIX.sub("", text)
    if match := _BROADCAST.search(text):
        left, right = (_shape(group, axis_names) for group in match.groups())
        return f"shapes {left} and {right} do not broadcast"
    if match := _MATMUL.search(text):
        left, right = (_shape(group, axis_names) for group in match.groups())
        return (
            f"matrix product of shapes {left} and {right}: the last axis of the "
            "first must match the first axis of the second"
        )
    if match := _CONCAT.search(text):
        return (
            f"concatenation of tensors whose sizes differ along axis {match.group(1)} "
            "(only the concatenation axis may differ)"
        )
    if match := _LAYER_INPUT.search(text):
        layer, size, shape = match.groups()
        return (
            f"layer `{layer}` expects {size} features on the last axis; it received "
            f"shape {_shape(shape, axis_names)}"
        )
    line = " ".join(text.split())
    return line if len(line) <= MAX_MESSAGE else line[: MAX_MESSAGE - 3] + "..."


def _is_learner_frame(filename: str) -> bool:
    if any(part in filename for part in _LIBRARY_PARTS):
        return False
    course = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    if os.path.abspath(filename).startswith(course + os.sep):
        return False
    stdlib = os.path.dirname(os.__file__)
    return not os.path.abspath(filename).startswith(stdlib + os.sep)


def _cell_name(filename: str) -> str:
    """ "Cell In[5]" for a notebook cell, else the file's name."""
    shell = sys.modules.get("IPython") and sys.modules["IPython"].get_ipython()
    if shell is not None:
        try:
            label = shell.compile.format_code_name(filename)
        except Exception:  # an IPython without this API: use the file name
            label = None
        if label:
            return " ".join(label)
    return os.path.basename(filename)


def learner_location(error: BaseException) -> str | None:
    """ "Cell In[5], line 3: return q + k" for the learner's last frame, or None."""
    frames = [
        frame
        for frame in traceback.extract_tb(error.__traceback__)
        if _is_learner_frame(frame.filename)
    ]
    if not frames:
        return None
    frame = frames[-1]
    where = f"{_cell_name(frame.filename)}, line {frame.lineno}"
    code = (frame.line or "").strip()
    return f"{where}: {code}" if code else where


def describe(error: BaseException, axis_names: dict[int, str] | None = None) -> dict:
    """The error as observation fields: ``error_type``, ``error``, ``where``."""
    return {
        "error_type": type(error).__name__,
        "error": plain_message(error, axis_names),
        "where": learner_location(error),
    }
