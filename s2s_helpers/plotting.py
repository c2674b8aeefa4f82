"""Pictures people would rather look at than read: attention maps, learning curves.

Seed bug 7: the classic attention plot was a fixed ``(max_length_targ,
max_length_inp)`` array padded with zeros; here the heatmap has exactly one row
per output token and one column per input token, labelled with them.

Taught in: lessons/03_attention.ipynb, lessons/07_inference.ipynb
"""

from __future__ import annotations

from typing import Sequence

import numpy as np


def plot_attention(
    weights,
    src_tokens: Sequence[str],
    tgt_tokens: Sequence[str],
    ax=None,
    title: str | None = None,
):
    """Heatmap of attention weights, rows = output tokens, columns = input tokens.

    Args:
        weights: `(tgt_len, src_len)` with ``tgt_len == len(tgt_tokens)`` and
            ``src_len == len(src_tokens)`` exactly (slice off padding first).
        src_tokens, tgt_tokens: the labels.
        ax: a matplotlib axes to draw on (a new figure if None).

    Returns:
        the matplotlib axes.

    Raises:
        ValueError: the weights' shape does not match the token counts.
    """
    import matplotlib.pyplot as plt

    weights = np.asarray(weights)
    expected = (len(tgt_tokens), len(src_tokens))
    if weights.shape != expected:
        raise ValueError(
            f"weights should have shape (len(tgt_tokens), len(src_tokens)) = {expected}; "
            f"received {weights.shape}. Slice the weights to the real tokens: "
            "weights[:len(tgt_tokens), :len(src_tokens)]."
        )
    if ax is None:
        width = min(2 + 0.35 * len(src_tokens), 16)
        height = min(1.5 + 0.35 * len(tgt_tokens), 12)
        _, ax = plt.subplots(figsize=(width, height))
    image = ax.imshow(
        weights,
        cmap="viridis",
        vmin=0.0,
        vmax=max(1e-9, float(weights.max())),
        aspect="auto",
    )
    ax.set_xticks(range(len(src_tokens)), [_label(t) for t in src_tokens], rotation=90)
    ax.set_yticks(range(len(tgt_tokens)), [_label(t) for t in tgt_tokens])
    ax.set_xlabel("input tokens")
    ax.set_ylabel("output tokens")
    if title:
        ax.set_title(title)
    ax.figure.colorbar(image, ax=ax, fraction=0.03)
    return ax


def _label(token: str) -> str:
    return "\u2423" if token == " " else token  # a visible space for character tokens


_LINE_STYLES = (("o", "-"), ("s", "--"), ("^", ":"), ("D", "-."))  # marker, line style


def plot_history(history: dict, keys: Sequence[str] | None = None, ax=None, title=None):
    """Learning curves: one line per metric in ``history`` (lists per epoch).

    Each line has its own colour, marker and line style, so the curves stay
    apart in grey scale too; epochs are whole numbers on the x axis.
    """
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    keys = list(keys or [k for k in history if "loss" in k])
    missing = [k for k in keys if k not in history]
    if missing:
        raise ValueError(f"history has no {missing}; it has {sorted(history)}.")
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.5))
    for index, key in enumerate(keys):
        values = history[key]
        marker, style = _LINE_STYLES[index % len(_LINE_STYLES)]
        epochs = range(1, len(values) + 1)
        ax.plot(epochs, values, marker=marker, linestyle=style, linewidth=2, label=key)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("epoch")
    ax.legend()
    ax.grid(alpha=0.3)
    if title:
        ax.set_title(title)
    return ax
