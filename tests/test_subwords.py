import json
import sys

import numpy as np
import pytest

from s2s_helpers import data, subwords

spm = pytest.importorskip("sentencepiece", reason="the apps extra is not installed")

# Reina-Valera 1909 (public domain), Genesis 1 and some verbs in several forms:
# the pieces "habl", "cant", "aba", "aron" are shared between words.
TRAIN_TEXTS = [
    "En el principio crió Dios los cielos y la tierra.",
    "Y la tierra estaba desordenada y vacía, y las tinieblas estaban sobre la "
    "haz del abismo.",
    "Y el Espíritu de Dios se movía sobre la haz de las aguas.",
    "Y dijo Dios: Sea la luz: y fué la luz.",
    "Y vió Dios que la luz era buena: y apartó Dios la luz de las tinieblas.",
    "Y llamó Dios a la luz Día, y a las tinieblas llamó Noche.",
    "Y fué la tarde y la mañana un día.",
    "Y dijo Dios: Haya expansión en medio de las aguas.",
    "Y Moisés hablaba al pueblo, y el pueblo cantaba.",
    "Y los hijos de Israel cantaron, y las hijas hablaban.",
    "Y el pueblo habla, y los ancianos cantan en la puerta.",
    "Y hablaste a Moisés, y cantaste en el desierto.",
    "Y las aguas se juntaron, y los montes se movieron.",
    "Y los ángeles apartaron las tinieblas, y llamaron a la luz.",
] * 3
HELD_OUT = [
    "Y los hijos hablaron, y el pueblo cantaba en la tierra.",
    "Y las hijas cantaban, y Moisés llamaba al pueblo.",
    "Y Dios apartaba las aguas, y las tinieblas se juntaban.",
]
VOCAB_SIZE = 120


@pytest.fixture(scope="module")
def vocab():
    return subwords.SubwordVocabulary.build(TRAIN_TEXTS, vocab_size=VOCAB_SIZE)


def training_characters() -> set[str]:
    return set("".join(data.normalize(t) for t in TRAIN_TEXTS))


def test_round_trip_text_ids_text_is_exact_on_normalised_text(vocab):
    for text in TRAIN_TEXTS + HELD_OUT:
        normalised = data.normalize(text)
        assert set(normalised) <= training_characters()
        ids = vocab.encode(vocab.tokenize(text))
        assert data.UNK_ID not in ids
        assert vocab.join(vocab.decode(ids)) == normalised


def test_join_agrees_with_sentencepiece_decoding(vocab):
    processor = spm.SentencePieceProcessor(model_proto=vocab.model_proto)
    for text in HELD_OUT:
        ids = vocab.encode(vocab.tokenize(text))
        assert ids == processor.encode_as_ids(data.normalize(text))
        assert vocab.join(vocab.decode(ids)) == processor.decode_ids(ids)


def test_special_tokens_have_the_course_ids(vocab):
    processor = spm.SentencePieceProcessor(model_proto=vocab.model_proto)
    assert (processor.pad_id(), processor.unk_id()) == (data.PAD_ID, data.UNK_ID)
    assert (processor.bos_id(), processor.eos_id()) == (data.START_ID, data.END_ID)
    assert vocab.encode([data.UNK, data.START, data.END]) == [1, 2, 3]
    assert vocab.decode([0, 1, 2, 3], strip=False) == list(data.SPECIAL_TOKENS)
    assert vocab.size == processor.get_piece_size() <= VOCAB_SIZE
    assert len(vocab.tokens) == vocab.size - len(data.SPECIAL_TOKENS)


def test_decode_follows_the_word_vocabulary_rules(vocab):
    word_vocab = data.Vocabulary(["la", "luz", "y"])
    ids = [data.START_ID, 4, 5, data.END_ID, 6, data.PAD_ID, 99]
    kept = [i - 4 for i in (4, 5)]
    assert word_vocab.decode(ids) == [word_vocab.tokens[i] for i in kept]
    assert vocab.decode(ids) == [vocab.tokens[i] for i in kept]
    assert vocab.decode([4, data.PAD_ID, 5]) == vocab.decode([4, 5])
    unstripped = vocab.decode(ids, strip=False)
    assert len(unstripped) == len(word_vocab.decode(ids, strip=False)) == len(ids)
    assert unstripped[-1] == data.UNK  # an id beyond the vocabulary
    assert vocab.join(vocab.decode(vocab.encode(vocab.tokenize("la luz")))) == "la luz"


def test_unknown_characters_map_to_unk(vocab):
    tokens = vocab.tokenize("la ж luz")
    ids = vocab.encode(tokens)
    assert ids.count(data.UNK_ID) == 1
    assert [t for t, i in zip(tokens, ids) if i == data.UNK_ID] == ["ж"]
    assert vocab.encode(["▁nonexistent-piece"]) == [data.UNK_ID]


def test_a_rare_word_splits_into_known_pieces(vocab):
    train_words = {w for t in TRAIN_TEXTS for w in data.normalize(t).split()}
    assert not any("hablaron" in word for word in train_words)
    pieces = vocab.tokenize("hablaron")
    ids = vocab.encode(pieces)
    assert len(pieces) >= 2 and data.UNK_ID not in ids
    assert any(len(p.lstrip(subwords.WORD_START)) > 1 for p in pieces), pieces
    assert vocab.join(pieces) == "hablaron"


def test_subwords_leave_fewer_unknown_tokens_than_words_of_the_same_size(vocab):
    words = data.Vocabulary.build(TRAIN_TEXTS, max_tokens=vocab.size)
    assert words.size <= vocab.size
    word_rate = subwords.oov_rate(HELD_OUT, words)
    subword_rate = subwords.oov_rate(HELD_OUT, vocab)
    assert subword_rate < word_rate, (subword_rate, word_rate)
    assert word_rate > 0.1 and subword_rate == 0.0


def test_oov_rate_by_hand_and_by_the_lesson_check():
    from s2s_helpers import checks

    vocab = data.Vocabulary(["y", "la", "luz", "."])
    texts = ["Y dijo Dios: sea la luz.", "La luz."]  # 4 of 11 tokens unknown
    assert subwords.oov_rate(texts, vocab) == pytest.approx(4 / 11)
    checks.check_oov_rate(subwords.oov_rate)
    with pytest.raises(ValueError, match="at least one token"):
        subwords.oov_rate(["", " "], vocab)


def test_build_is_deterministic_and_bpe_works():
    again = subwords.SubwordVocabulary.build(TRAIN_TEXTS, vocab_size=VOCAB_SIZE)
    first = subwords.SubwordVocabulary.build(TRAIN_TEXTS, vocab_size=VOCAB_SIZE)
    assert again.to_config() == first.to_config()
    bpe = subwords.SubwordVocabulary.build(TRAIN_TEXTS, 80, model_type="bpe")
    assert bpe.size <= 80 and bpe.encode([data.END]) == [data.END_ID]
    assert bpe.join(bpe.tokenize(HELD_OUT[0])) == data.normalize(HELD_OUT[0])


def test_standardize_false_keeps_the_text_as_is():
    vocab = subwords.SubwordVocabulary.build(
        ["Ab ab AB", "aB Ab"], vocab_size=12, standardize=False
    )
    assert vocab.join(vocab.tokenize("AB aB")) == "AB aB"
    assert data.UNK_ID not in vocab.encode(vocab.tokenize("AB aB"))


def test_bad_arguments_say_what_was_expected():
    with pytest.raises(ValueError, match="model_type must be one of"):
        subwords.SubwordVocabulary.build(TRAIN_TEXTS, model_type="word")
    with pytest.raises(ValueError, match="no tokens"):
        subwords.SubwordVocabulary.build(["", "  "])
    with pytest.raises(ValueError, match="vocab_size of at least"):
        subwords.SubwordVocabulary.build(TRAIN_TEXTS, vocab_size=8)


def test_save_load_and_config_round_trip(vocab, tmp_path):
    vocab.save(tmp_path / "vocab.json")
    loaded = subwords.SubwordVocabulary.load(tmp_path / "vocab.json")
    config = json.loads((tmp_path / "vocab.json").read_text(encoding="utf-8"))
    assert config["kind"] == "subword" and loaded.to_config() == vocab.to_config()
    for text in HELD_OUT:
        assert loaded.encode(loaded.tokenize(text)) == vocab.encode(
            vocab.tokenize(text)
        )
    again = data.vocabulary_from_config(config)
    assert isinstance(again, subwords.SubwordVocabulary)
    assert again.tokens == vocab.tokens


def test_a_missing_sentencepiece_names_the_extra(monkeypatch):
    from s2s_helpers.corpora import MissingExtraError

    monkeypatch.setitem(sys.modules, "sentencepiece", None)  # import fails
    with pytest.raises(MissingExtraError, match=r"pip install -e '\.\[apps\]'"):
        subwords.SubwordVocabulary.build(TRAIN_TEXTS)


def test_vocabulary_from_config_loads_word_vocabularies_too():
    words = data.Vocabulary(["la", "luz"], level="word")
    loaded = data.vocabulary_from_config(words.to_config())
    assert isinstance(loaded, data.Vocabulary) and loaded.tokens == ["la", "luz"]
    with pytest.raises(ValueError, match="received kind 'bytes'"):
        data.vocabulary_from_config({"kind": "bytes"})


def test_encode_pairs_works_with_subword_vocabularies(vocab):
    pairs = [(HELD_OUT[0], HELD_OUT[1]), ("la luz", "el dia")]
    src_ids, tgt_in_ids, tgt_out_ids = data.encode_pairs(pairs, vocab, vocab, 40, 40)
    for row, (src, tgt) in enumerate(pairs):
        source = vocab.encode(vocab.tokenize(src))
        target = vocab.encode(vocab.tokenize(tgt))
        assert src_ids[row, : len(source)].tolist() == source
        assert not src_ids[row, len(source) :].any()
        assert tgt_in_ids[row, : len(target) + 1].tolist() == [data.START_ID, *target]
        assert tgt_out_ids[row, : len(target) + 1].tolist() == [*target, data.END_ID]
        assert vocab.join(vocab.decode(tgt_out_ids[row])) == data.normalize(tgt)
    assert src_ids.dtype == np.int32


def test_translator_reads_and_writes_subwords(vocab):
    import keras

    from s2s_helpers import seq2seq
    from s2s_helpers.translator import Translator

    keras.utils.set_random_seed(3)
    model = seq2seq.Seq2Seq(vocab.size, vocab.size, 8, 16)
    translator = Translator(model, vocab, vocab, max_src_len=30, max_tgt_len=6)
    result = translator.translate("la ж luz")
    assert result.unknown_words == ["ж"]
    pieces = vocab.tokenize("la ж luz")
    assert result.src_tokens == [p + data.UNK if p == "ж" else p for p in pieces]
    assert result.text == vocab.join(vocab.decode(vocab.encode(result.output_tokens)))
