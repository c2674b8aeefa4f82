import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from s2s_helpers import plotting  # noqa: E402


def test_heatmap_has_exactly_the_tokens():
    weights = np.full((3, 4), 0.25)
    ax = plotting.plot_attention(weights, ["a", " ", "c", "d"], ["x", "y", "[END]"])
    assert [t.get_text() for t in ax.get_xticklabels()] == ["a", "\u2423", "c", "d"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["x", "y", "[END]"]
    assert ax.images[0].get_array().shape == (3, 4)


def test_padded_weights_are_refused_with_a_fix():
    with pytest.raises(
        ValueError, match=r"\(3, 4\); received \(11, 40\).*weights\[:len"
    ):
        plotting.plot_attention(np.zeros((11, 40)), list("abcd"), list("xyz"))


def test_history_curves():
    ax = plotting.plot_history(
        {"loss": [3, 2, 1], "val_loss": [3.5, 2.5, 2.0], "accuracy": [0.1, 0.5, 0.9]}
    )
    assert [line.get_label() for line in ax.get_lines()] == ["loss", "val_loss"]
    with pytest.raises(ValueError, match="history has no"):
        plotting.plot_history({"loss": [1]}, keys=["bleu"])


def test_history_lines_differ_in_style_and_epochs_are_whole_numbers():
    ax = plotting.plot_history({"loss": [3.0, 2.0, 1.5], "val_loss": [3.5, 2.5, 2.0]})
    first, second = ax.get_lines()
    assert (first.get_marker(), first.get_linestyle()) != (
        second.get_marker(),
        second.get_linestyle(),
    )
    ax.figure.canvas.draw()
    ticks = [tick for tick in ax.get_xticks() if 1 <= tick <= 3]
    assert ticks and all(float(tick).is_integer() for tick in ticks), ticks
