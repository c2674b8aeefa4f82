"""The "translate and inspect" widget, and the static report shown without widgets.

``explore(translator, "a sentence")`` shows a text box for the sentence, the
translation, the attention heatmap, a slider over the decoder's steps (the
step's attention row outlined on the heatmap, its top-k alternatives listed)
and the beam's hypotheses with their scores. Without a widget frontend
(``ipywidgets`` missing, not in a Jupyter kernel, or ``S2S_STATIC=1``) the
same call shows a static report: translation, heatmap, a top-k table per step
and the beam table.

What is shown is built by pure functions of an ``explorer.Inspection`` (HTML
strings, a matplotlib figure, PNG bytes); the widget only wires them.

Taught in: lessons/07_inference.ipynb, lessons/08_translation.ipynb
"""

from __future__ import annotations

import html
import io
import os

from s2s_helpers import explorer
from s2s_helpers.plotting import plot_attention

_TABLE = "border-collapse:collapse;margin:4px 0"
_CELL = "padding:2px 8px;border-bottom:1px solid #ddd;text-align:left"


def widget_frontend() -> bool:
    """True where widgets can be shown: ``ipywidgets`` importable, in a kernel, no ``S2S_STATIC=1``."""
    if os.environ.get("S2S_STATIC", "0").strip().lower() in {"1", "true", "yes"}:
        return False
    try:
        import ipywidgets  # noqa: F401
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


def _token(token: str) -> str:
    """One token as HTML: escaped, in code style, a space made visible."""
    return f"<code>{html.escape(chr(0x2423) if token == ' ' else token)}</code>"


def _table(header, rows) -> str:
    head = "".join(f"<th style='{_CELL}'>{html.escape(h)}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f"<td style='{_CELL}'>{cell}</td>" for cell in row) + "</tr>"
        for row in rows
    )
    return f"<table style='{_TABLE}'><tr>{head}</tr>{body}</table>"


def _bar(probability: float) -> str:
    width = round(100 * probability)
    return (
        f"<div style='background:#4c72b0;height:0.8em;width:{width}px'></div>"
        if width
        else ""
    )


def summary_html(inspection) -> str:
    """The sentence, its translation and the translator's notes, as HTML."""
    notes = "".join(
        f"<li style='color:#a15c00'>{html.escape(note)}</li>"
        for note in inspection.warnings
    )
    return (
        f"<p><b>input</b>: {html.escape(inspection.source)}<br>"
        f"<b>tokens</b>: {' '.join(_token(t) for t in inspection.src_tokens)}<br>"
        f"<b>translation (greedy)</b>: {html.escape(inspection.text)}</p>"
        + (f"<ul>{notes}</ul>" if notes else "")
    )


def step_html(inspection, index: int) -> str:
    """One step: the emitted token, its probability and the top-k table."""
    step = inspection.steps[index]
    rows = [
        (
            f"<b>{_token(t)}</b>" if t == step.token else _token(t),
            f"{p:.3f}",
            _bar(p),
        )
        for t, p in step.alternatives
    ]
    looked = inspection.src_tokens[int(step.attention.argmax())]
    return (
        f"<p>step {index + 1} of {len(inspection.steps)}: emitted "
        f"<b>{_token(step.token)}</b> (p = {step.probability:.3f}); "
        f"most attention on <b>{_token(looked)}</b> "
        f"({float(step.attention.max()):.2f})</p>"
        + _table(("token", "probability", ""), rows)
    )


def steps_html(inspection) -> str:
    """Every step in one table: token, probability, the top-k alternatives."""
    rows = [
        (
            str(step.index + 1),
            _token(step.token),
            f"{step.probability:.3f}",
            " ".join(f"{_token(t)} {p:.2f}" for t, p in step.alternatives),
        )
        for step in inspection.steps
    ]
    return _table(("step", "token", "probability", "top-k"), rows)


def beam_html(inspection) -> str:
    """The beam's hypotheses, best first, with their log-probability and score."""
    if not inspection.hypotheses:
        return "<p>no beam search (beam_width=0)</p>"
    rows = [
        (
            str(rank) + (" (beam's choice)" if rank == 1 else ""),
            html.escape(h.text) or "<i>(empty)</i>",
            str(len(h.tokens)) + ("" if h.finished else " (no [END])"),
            f"{h.log_probability:.3f}",
            f"{h.score:.3f}",
        )
        for rank, h in enumerate(inspection.hypotheses, start=1)
    ]
    header = ("rank", "hypothesis", "tokens", "log-probability", "normalised score")
    return _table(header, rows)


def heatmap_figure(inspection, step: int | None = None):
    """The attention heatmap (``plotting.plot_attention``), the step's row outlined.

    Returns:
        a matplotlib ``Figure`` not registered with pyplot (nothing shown twice).
    """
    from matplotlib.figure import Figure
    from matplotlib.patches import Rectangle

    src_len, tgt_len = len(inspection.src_tokens), len(inspection.output_tokens)
    figure = Figure(figsize=(min(3 + 0.4 * src_len, 14), min(2 + 0.35 * tgt_len, 10)))
    ax = figure.add_subplot()
    plot_attention(
        inspection.attention, inspection.src_tokens, inspection.output_tokens, ax=ax
    )
    if step is not None:
        outline = Rectangle((-0.5, step - 0.5), src_len, 1, fill=False, lw=3, ec="red")
        ax.add_patch(outline)
    figure.tight_layout()
    return figure


def figure_png(figure) -> bytes:
    """A figure as PNG bytes."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=90)
    return buffer.getvalue()


def details_html(inspection) -> str:
    """The static report's tables: top-k per step, then the beam's hypotheses."""
    return (
        "<h4>decoder steps</h4>"
        + steps_html(inspection)
        + "<h4>beam hypotheses</h4>"
        + beam_html(inspection)
    )


def error_html(error: Exception) -> str:
    return f"<p style='color:#b00'>{html.escape(str(error))}</p>"


class ExplorerWidget:
    """The widget: type a sentence, read the translation, step through the decoder.

    Args:
        translator: a ``translator.Translator``.
        text: the sentence shown first ("" for an empty box).
        top_k, beam_width: as in ``explorer.inspect_translation``.

    Attributes:
        sentence, summary, heatmap, slider, step, beams: the parts (ipywidgets).
        inspection: the ``Inspection`` shown (None before a valid sentence).
        box: everything in one ``VBox``; displaying the object displays it.
    """

    def __init__(
        self,
        translator,
        text: str = "",
        top_k: int = explorer.TOP_K,
        beam_width: int = explorer.BEAM_WIDTH,
    ):
        import ipywidgets as widgets

        self.translator, self.top_k, self.beam_width = translator, top_k, beam_width
        self.inspection = None
        self.sentence = widgets.Text(
            value=text,
            description="sentence",
            placeholder="type a sentence, then Enter",
            continuous_update=False,
            layout=widgets.Layout(width="90%"),
        )
        self.summary, self.step, self.beams = (widgets.HTML() for _ in range(3))
        self.heatmap = widgets.Image(format="png")
        self.slider = widgets.IntSlider(min=1, max=1, description="step")
        self.sentence.observe(self._on_sentence, names="value")
        self.slider.observe(self._on_step, names="value")
        self.box = widgets.VBox(
            [self.sentence, self.summary, self.slider, self.heatmap, self.step]
            + [widgets.HTML("<h4>beam hypotheses</h4>"), self.beams]
        )
        self._on_sentence()

    def _on_sentence(self, change=None) -> None:
        text = self.sentence.value
        self.summary.value = (
            "<p><i>translating ...</i></p>"  # beam search takes a while
        )
        try:
            self.inspection = explorer.inspect_translation(
                self.translator, text, self.top_k, self.beam_width
            )
        except (TypeError, ValueError) as error:
            self.inspection = None
            self.summary.value = error_html(error) if text.strip() else ""
            self.step.value = self.beams.value = ""
            self.heatmap.value = b""
            return
        self.summary.value = summary_html(self.inspection)
        self.beams.value = beam_html(self.inspection)
        changed = self.slider.value != 1
        self.slider.value = 1  # observed: redraws the step when it changes
        self.slider.max = len(self.inspection.steps)
        if not changed:
            self._on_step()

    def _on_step(self, change=None) -> None:
        if self.inspection is None:
            return
        index = self.slider.value - 1
        self.step.value = step_html(self.inspection, index)
        self.heatmap.value = figure_png(heatmap_figure(self.inspection, index))

    def _ipython_display_(self) -> None:
        display(self.box)


def display(value) -> None:
    """IPython's ``display`` (one name, so tests can watch what is shown)."""
    from IPython.display import display as ipython_display

    ipython_display(value)


def show_static(inspection) -> None:
    """The static report: summary, heatmap, top-k table per step, beam table."""
    from IPython.display import HTML, Image

    display(HTML(summary_html(inspection)))
    display(Image(figure_png(heatmap_figure(inspection))))
    display(HTML(details_html(inspection)))


def explore(
    translator,
    text: str = "",
    top_k: int = explorer.TOP_K,
    beam_width: int = explorer.BEAM_WIDTH,
    static: bool | None = None,
):
    """Show the widget for ``translator``, or the static report where widgets cannot show.

    Args:
        translator: a ``translator.Translator``.
        text: the sentence to show first (required for the static report).
        top_k, beam_width: as in ``explorer.inspect_translation``.
        static: force the static report (True) or the widget (False);
            None: ``not widget_frontend()``.

    Returns:
        None: what is built is displayed (``explorer.inspect_translation``
        gives the same data as an object).

    Raises:
        TypeError, ValueError: static report of an empty or non-string ``text``.
    """
    if static is None:
        static = not widget_frontend()
    if not static:
        display(ExplorerWidget(translator, text, top_k, beam_width))
    else:
        show_static(explorer.inspect_translation(translator, text, top_k, beam_width))
