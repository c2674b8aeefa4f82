"""The shape vocabulary of the course and a small ``ShapeChecker``.

Every tensor in the course is batch-major and every axis has one name, used in
docstrings, trailing comments, printed labels and the checker below.

Taught in: lessons/00_orientation.ipynb
"""

from __future__ import annotations

from typing import Any

AXES = {
    "batch": "examples in a batch",
    "src_len": "source (input) tokens, padded",
    "tgt_len": "target (output) tokens, padded",
    "embedding_dim": "size of a token embedding",
    "units": "size of a recurrent state / encoder output",
    "attention_units": "size of the additive attention's hidden layer",
    "vocab": "size of the target vocabulary (logits)",
    "beam": "hypotheses kept per example by beam search",
    "frames": "audio frames (spectrogram time steps)",
    "mels": "mel frequency bands",
}


class ShapeChecker:
    """Check that tensors agree on named axes: ``checker(x, "batch src_len units")``.

    The first tensor that uses a name fixes its size; later tensors must match.
    Use ``1`` or ``*`` in a spec for an axis of size one or one not checked.

    Raises:
        ValueError: when a tensor's rank or an axis size disagrees, naming both.
    """

    def __init__(self) -> None:
        self.sizes: dict[str, int] = {}

    def __call__(self, tensor: Any, spec: str, name: str = "tensor") -> Any:
        shape = tuple(getattr(tensor, "shape", ()))
        axes = spec.split()
        if len(shape) != len(axes):
            raise ValueError(
                f"{name} should have rank {len(axes)} ({spec}); received shape "
                f"{shape} of rank {len(shape)}."
            )
        for axis, size in zip(axes, shape):
            size = None if size is None else int(size)
            if axis == "*" or size is None:
                continue
            if axis.isdigit():
                if size != int(axis):
                    raise ValueError(
                        f"{name} ({spec}): expected size {axis}, received {size} "
                        f"in shape {shape}."
                    )
                continue
            known = self.sizes.setdefault(axis, size)
            if known != size:
                raise ValueError(
                    f"{name} ({spec}): axis '{axis}' has size {size} but an "
                    f"earlier tensor set it to {known}. Received shape {shape}."
                )
        return tensor
