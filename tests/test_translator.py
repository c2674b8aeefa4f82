import numpy as np
import pytest
import tensorflow as tf

from s2s_helpers import data, search, seq2seq
from s2s_helpers.translator import Translator


@pytest.fixture
def translator():
    import keras

    keras.utils.set_random_seed(2)
    src_vocab = data.Vocabulary(["the", "cat", "sat", "on", "mat"], level="word")
    tgt_vocab = data.Vocabulary(["el", "gato", "se", "sento"], level="word")
    model = seq2seq.Seq2Seq(src_vocab.size, tgt_vocab.size, 8, 16)
    return Translator(model, src_vocab, tgt_vocab, max_src_len=6, max_tgt_len=5)


def test_unknown_words_are_reported_not_a_crash(translator):
    result = translator.translate("The zebra sat on the sofa")
    assert result.unknown_words == ["zebra", "sofa"]
    assert result.src_tokens[1] == "zebra[UNK]"
    assert any("zebra, sofa" in note for note in result.warnings)
    assert isinstance(result.text, str)
    assert result.attention.shape == (len(result.output_tokens), len(result.src_tokens))


def test_empty_and_wrong_inputs_give_clear_errors(translator):
    with pytest.raises(ValueError, match="empty after normalisation"):
        translator.translate("")
    with pytest.raises(ValueError, match="empty after normalisation"):
        translator.translate("   ")
    with pytest.raises(ValueError, match="empty list"):
        translator.translate([])
    with pytest.raises(TypeError, match="expects strings"):
        translator.translate([3])
    with pytest.raises(ValueError, match="method must be one of"):
        translator.translate("the cat", method="magic")


def test_over_long_input_is_truncated_and_reported(translator):
    result = translator.translate("the cat sat on the mat the cat sat")
    assert result.truncated and len(result.src_tokens) == 6
    assert any("truncated" in note for note in result.warnings)


def test_batch_methods_agree_with_search(translator):
    texts = ["the cat sat", "on the mat"]
    src_ids, _ = translator.prepare(texts)
    greedy = search.greedy_decode(translator.model, src_ids, 5)
    vocab = translator.tgt_vocab
    assert [t.text for t in translator.translate(texts)] == [
        vocab.join(vocab.decode(row)) for row in greedy.tokens
    ]
    beam_one = translator.translate(texts, method="beam", beam_width=1)
    assert [t.text for t in beam_one] == [t.text for t in translator.translate(texts)]
    assert len(translator.translate(texts, method="sample", temperature=0.7)) == 2


def test_save_and_load_give_identical_outputs(translator, tmp_path):
    texts = ["the cat sat on the mat", "mat cat"]
    before = translator.translate(texts)
    translator.save(tmp_path / "saved")
    again = Translator.load(tmp_path / "saved")
    after = again.translate(texts)
    assert [t.text for t in after] == [t.text for t in before]
    for a, b in zip(before, after):
        np.testing.assert_array_equal(a.attention, b.attention)


def test_exported_saved_model_matches_eager_and_compiled(translator, tmp_path):
    src_ids, _ = translator.prepare(["the cat sat", "on the mat", "cat"])
    eager = search.greedy_decode(translator.model, src_ids, 5, compiled=False)
    compiled = search.greedy_decode(translator.model, src_ids, 5)
    translator.export_saved_model(tmp_path / "exported")
    reloaded = tf.saved_model.load(str(tmp_path / "exported"))
    exported = reloaded.translate_ids(tf.constant(src_ids))
    np.testing.assert_array_equal(eager.tokens, compiled.tokens)
    np.testing.assert_array_equal(exported["tokens"].numpy(), compiled.tokens)
    np.testing.assert_allclose(exported["weights"].numpy(), compiled.weights, atol=1e-6)


def test_plot_labels_match_tokens(translator):
    import matplotlib

    matplotlib.use("Agg")
    result = translator.translate("the cat sat")
    ax = translator.plot(result)
    assert [t.get_text() for t in ax.get_xticklabels()] == result.src_tokens
    assert [t.get_text() for t in ax.get_yticklabels()] == result.output_tokens
