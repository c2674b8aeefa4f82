import sys

import numpy as np
import pytest

from s2s_helpers import data, explorer, search, seq2seq
from s2s_helpers import explorer_widget as view
from s2s_helpers.translator import Translator

SENTENCES = ["the cat sat on the mat", "mat cat", "on the cat"]


@pytest.fixture(scope="module")
def translator():
    import keras

    keras.utils.set_random_seed(3)
    src_vocab = data.Vocabulary(["the", "cat", "sat", "on", "mat"], level="word")
    tgt_vocab = data.Vocabulary(["el", "gato", "se", "sento", "en"], level="word")
    model = seq2seq.Seq2Seq(src_vocab.size, tgt_vocab.size, 8, 16)
    return Translator(model, src_vocab, tgt_vocab, max_src_len=7, max_tgt_len=6)


@pytest.fixture(scope="module")
def inspections(translator):
    return [explorer.inspect_translation(translator, s, top_k=3) for s in SENTENCES]


def test_steps_follow_the_greedy_output_of_the_translator(translator, inspections):
    for text, inspection in zip(SENTENCES, inspections):
        greedy = translator.translate(text)
        assert inspection.text == greedy.text
        assert inspection.output_tokens == greedy.output_tokens
        np.testing.assert_array_equal(inspection.attention, greedy.attention)
        assert inspection.attention.shape == (
            len(greedy.output_tokens),
            len(greedy.src_tokens),
        )
        assert [s.token for s in inspection.steps] == greedy.output_tokens
        for step in inspection.steps:
            probabilities = [p for _, p in step.alternatives]
            assert len(probabilities) == 3
            assert probabilities == sorted(probabilities, reverse=True)
            assert step.alternatives[0] == (step.token, step.probability)
            np.testing.assert_array_equal(step.attention, greedy.attention[step.index])


def test_step_probabilities_agree_with_the_compiled_search(translator, inspections):
    for text, inspection in zip(SENTENCES, inspections):
        src_ids, _ = translator.prepare([text])
        found = search.greedy_decode(translator.model, src_ids, translator.max_tgt_len)
        summed = sum(np.log(step.probability) for step in inspection.steps)
        np.testing.assert_allclose(summed, found.scores[0], rtol=1e-4, atol=1e-4)


def test_a_step_distribution_sums_to_one_and_never_offers_specials(translator):
    vocab = translator.tgt_vocab
    inspection = explorer.inspect_translation(translator, "the cat", top_k=vocab.size)
    for step in inspection.steps:
        offered = {t for t, p in step.alternatives if p > 0}
        assert offered.isdisjoint({"", data.UNK, data.START})
        assert sum(p for _, p in step.alternatives) == pytest.approx(1.0, abs=1e-6)


def test_beam_hypotheses_agree_with_the_compiled_beam_search(translator, inspections):
    for text, inspection in zip(SENTENCES, inspections):
        src_ids, _ = translator.prepare([text])
        found = search.beam_search(translator.model, src_ids, translator.max_tgt_len)
        best = inspection.hypotheses[0]
        assert best.text == translator.translate(text, method="beam").text
        np.testing.assert_allclose(best.score, found.scores[0], rtol=1e-4, atol=1e-4)
        scores = [h.score for h in inspection.hypotheses]
        assert len(scores) == explorer.BEAM_WIDTH
        assert scores == sorted(scores, reverse=True)


def test_each_hypothesis_is_scored_as_its_tokens_rescored(translator, inspections):
    vocab = translator.tgt_vocab
    src_ids, _ = translator.prepare([SENTENCES[0]])
    for hypothesis in inspections[0].hypotheses:
        ids = vocab.encode(hypothesis.tokens)
        rows = explorer.step_log_probabilities(translator.model, src_ids, ids)
        rescored = sum(rows[t, i] for t, i in enumerate(ids))
        assert hypothesis.log_probability == pytest.approx(rescored, abs=1e-4)
        penalty = ((5 + len(ids)) / 6) ** 0.6  # GNMT, by hand
        assert hypothesis.score == pytest.approx(rescored / penalty, abs=1e-4)
        assert hypothesis.finished == (hypothesis.tokens[-1] == data.END)


def test_a_beam_of_one_is_greedy(translator):
    src_ids, _ = translator.prepare([SENTENCES[1]])
    (only,) = explorer.beam_hypotheses(translator, src_ids, beam_width=1)
    assert only.text == translator.translate(SENTENCES[1]).text


def test_unknown_long_empty_and_wrong_inputs(translator):
    unknown = explorer.inspect_translation(translator, "the zebra sat", beam_width=0)
    assert unknown.src_tokens[1] == "zebra[UNK]" and unknown.hypotheses == []
    assert any("zebra" in note for note in unknown.warnings)
    long = explorer.inspect_translation(translator, "the cat " * 6, beam_width=0)
    assert len(long.src_tokens) == 7 and any("truncated" in w for w in long.warnings)
    for empty in ("", "   ", "\u0301"):  # a lone accent is removed by normalisation
        with pytest.raises(ValueError, match="Nothing to translate"):
            explorer.inspect_translation(translator, empty)
    with pytest.raises(TypeError, match="one sentence as a string"):
        explorer.inspect_translation(translator, ["the cat"])
    with pytest.raises(ValueError, match="top_k must be >= 1; received 0"):
        explorer.inspect_translation(translator, "the cat", top_k=0)


def _hand_made():
    step = explorer.Step(0, "<b>", 0.75, [("<b>", 0.75), ("x&y", 0.25)], np.ones(2) / 2)
    beam = [
        explorer.Hypothesis(["<b>", data.END], "<b>", -0.3, -0.25, True),
        explorer.Hypothesis(["x&y"], "x&y", -1.5, -1.2, False),
    ]
    return explorer.Inspection(
        "<i>src</i>", "<b>", ["<i>", " "], ["<b>", data.END],
        np.array([[0.5, 0.5], [0.9, 0.1]]), [step, step], beam, ["a <note>"],
    )  # fmt: skip


def test_html_shows_the_data_escaped():
    inspection = _hand_made()
    summary = view.summary_html(inspection)
    assert "&lt;i&gt;src&lt;/i&gt;" in summary and "a &lt;note&gt;" in summary
    assert "<i>src</i>" not in summary and "<code>\u2423</code>" in summary  # a space
    step = view.step_html(inspection, 0)
    assert "step 1 of 2" in step and "0.750" in step and "x&amp;y" in step
    assert "most attention on <b><code>&lt;i&gt;</code></b> (0.50)" in step
    beam = view.beam_html(inspection)
    assert beam.index("-0.250") < beam.index("-1.200") and "(no [END])" in beam
    assert view.steps_html(inspection).count("<tr>") == 1 + len(inspection.steps)


def test_heatmap_draws_the_weights_and_outlines_the_step():
    inspection = _hand_made()
    figure = view.heatmap_figure(inspection, step=1)
    ax = figure.axes[0]
    np.testing.assert_array_equal(ax.images[0].get_array(), inspection.attention)
    (outline,) = ax.patches
    assert outline.get_y() == pytest.approx(0.5) and outline.get_width() == 2
    assert len(view.heatmap_figure(inspection).axes[0].patches) == 0
    assert view.figure_png(figure).startswith(b"\x89PNG")


def test_the_widget_wires_the_views(translator):
    widget = view.ExplorerWidget(translator, SENTENCES[0], top_k=3)
    inspection = widget.inspection
    assert widget.summary.value == view.summary_html(inspection)
    assert widget.beams.value == view.beam_html(inspection)
    assert widget.slider.max == len(inspection.steps) >= 2
    assert widget.step.value == view.step_html(inspection, 0)
    first_png = bytes(widget.heatmap.value)
    widget.slider.value = 2
    assert widget.step.value == view.step_html(inspection, 1)
    second_png = bytes(widget.heatmap.value)
    assert second_png.startswith(b"\x89PNG") and second_png != first_png
    widget.sentence.value = SENTENCES[1]
    assert widget.slider.value == 1 and widget.inspection.source == SENTENCES[1]
    widget.sentence.value = "\u0301"
    assert widget.inspection is None and "Nothing to translate" in widget.summary.value
    assert widget.step.value == "" and bytes(widget.heatmap.value) == b""


@pytest.fixture
def shown(monkeypatch):
    objects = []
    monkeypatch.setattr(view, "display", objects.append)
    return objects


def test_explore_without_widgets_shows_the_static_report(
    translator, shown, monkeypatch
):
    monkeypatch.setenv("S2S_STATIC", "1")
    assert view.explore(translator, SENTENCES[2], top_k=3) is None
    summary, image, details = shown
    inspection = explorer.inspect_translation(translator, SENTENCES[2], top_k=3)
    assert summary.data == view.summary_html(inspection)
    assert image.data.startswith(b"\x89PNG")
    assert details.data == view.details_html(inspection)
    with pytest.raises(ValueError, match="Nothing to translate"):
        view.explore(translator, "")


def test_explore_shows_the_widget_where_a_frontend_is(translator, shown, monkeypatch):
    view.explore(translator, SENTENCES[2], static=False)
    (widget,) = shown
    assert isinstance(widget, view.ExplorerWidget) and widget.inspection is not None


def test_the_widget_frontend_is_detected(monkeypatch):
    import IPython

    class Shell:
        kernel = object()

    monkeypatch.delenv("S2S_STATIC", raising=False)
    assert not view.widget_frontend()  # pytest is not a kernel
    monkeypatch.setattr(IPython, "get_ipython", lambda: Shell())
    assert view.widget_frontend()
    monkeypatch.setenv("S2S_STATIC", "1")
    assert not view.widget_frontend()
    monkeypatch.setenv("S2S_STATIC", "0")
    monkeypatch.setitem(sys.modules, "ipywidgets", None)  # not installed
    assert not view.widget_frontend()
