"""Lesson 01's checks: the reference passes, the stub is not attempted, every wrong
answer is diagnosed (by its catalogued name or by the property it breaks) and
names no other mistake, unusual correct answers pass, and the JSON round trip
judges the same."""

import re
import unicodedata

import keras
import numpy as np
import pytest
import tensorflow as tf
from checktools import (
    assert_diagnosed,
    assert_passes_unusual,
    assert_round_trip,
    outcome,
    stub,
)

from s2s_helpers import checks, data, dates
from s2s_helpers.checks import framework

# --- Exercise 1.1: normalize_text -----------------------------------------------------

PUNCTUATION = re.compile(r"([?.!,¿¡;:\"()])")


def normalize_text(text):
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Mn")
    text = PUNCTUATION.sub(r" \1 ", text.lower())
    return re.sub(r"\s+", " ", text).strip()


def normalize_with_tf(text):
    text = tf.strings.unicode_transcode(text, "UTF-8", "UTF-8")
    return tf.constant(normalize_text(text.numpy().decode()))


def without(step):
    """normalize_text with one step changed."""

    def wrong(text):
        nfkd = unicodedata.normalize("NFD" if step == "nfd" else "NFKD", text)
        if step == "ascii":
            nfkd = nfkd.encode("ascii", "ignore").decode()
        if step != "accents":
            nfkd = "".join(ch for ch in nfkd if unicodedata.category(ch) != "Mn")
        if step != "lower":
            nfkd = nfkd.lower()
        if step == "drop":
            nfkd = PUNCTUATION.sub(" ", nfkd)
        elif step != "punctuation":
            nfkd = PUNCTUATION.sub(r" \1 ", nfkd)
        return nfkd if step == "spaces" else re.sub(r"\s+", " ", nfkd).strip()

    return wrong


def normalize_with(
    pattern=PUNCTUATION, form="NFKD", lower=str.lower, spaces=None, spaced=r" \1 "
):
    """normalize_text written another way, with one of its parts swapped."""

    def normalize(text):
        text = unicodedata.normalize(form, text)
        text = "".join(ch for ch in text if unicodedata.category(ch) != "Mn")
        text = pattern.sub(spaced, lower(text))
        return spaces(text) if spaces else " ".join(text.split())

    return normalize


NORMALIZE_MISTAKES = {
    # catalogued
    "lower": (without("lower"), "not lower-cased"),
    "accents": (without("accents"), "keeps the accents"),
    "punctuation": (without("punctuation"), "spaces around punctuation"),
    "drop": (without("drop"), "removes the punctuation"),
    "spaces": (without("spaces"), "runs of spaces"),
    "nfd": (without("nfd"), "NFD instead of NFKD"),
    "ascii": (without("ascii"), "non-ASCII"),
    "two at once": (
        lambda t: without("lower")(t).replace("a", "á"),
        "upper-case letters remain",
    ),
    "tokens": (lambda t: normalize_text(t).split(), "list of tokens"),
    # not in the catalogue: diagnosed by the property they break
    "strips the ends only": (
        normalize_with(spaces=str.strip),
        "two or more spaces in a row",
    ),
    "no ¿ in the pattern": (
        normalize_with(pattern=re.compile(r"([?.!,;:])")),
        "punctuation touches a word (['¿t'",
    ),
    "casefold": (
        normalize_with(lower=str.casefold),
        "characters are missing (['ß'",
    ),
    "NFC": (normalize_with(form="NFC"), "accented or compatibility characters"),
    "forgets to return": (lambda text: None, "NoneType"),
    "space after only": (
        normalize_with(spaced=r"\1 "),
        "punctuation touches a word (['a?'",
    ),
}


def test_normalize_reference_passes(capsys):
    assert outcome("1.1", normalize_text)[0] == "passed"
    assert outcome("1.1", data.normalize)[0] == "passed"
    assert outcome("1.1", normalize_with_tf)[0] == "passed"
    checks.check_normalize_text(normalize_text)
    assert "passed" in capsys.readouterr().out


def test_normalize_stub_is_not_attempted():
    assert outcome("1.1", stub)[0] == "not_attempted"


@pytest.mark.parametrize("name", sorted(NORMALIZE_MISTAKES))
def test_normalize_mistakes_are_diagnosed(name):
    assert_diagnosed("1.1", NORMALIZE_MISTAKES, name)


def lower_first(text):
    text = unicodedata.normalize("NFKD", text.lower())
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return re.sub(r"\s+", " ", PUNCTUATION.sub(r" \1 ", text)).strip()


def normalize_char_by_char(text):
    out = []
    for ch in unicodedata.normalize("NFKD", text):
        if unicodedata.category(ch) == "Mn":
            continue
        out.append(f" {ch} " if ch in '?.!,¿¡;:"()' else ch.lower())
    return " ".join("".join(out).split()).encode("utf-8")  # bytes are decoded


@pytest.mark.parametrize("function", [lower_first, normalize_char_by_char])
def test_normalize_unusual_correct_answers_pass(function):
    assert_passes_unusual("1.1", function)


def test_normalize_round_trip():
    assert_round_trip("1.1", normalize_text)
    assert_round_trip("1.1", without("lower"))


# --- Exercise 1.2: make_lookup ------------------------------------------------------


def make_lookup(tokens):
    return keras.layers.StringLookup(
        vocabulary=[data.START, data.END, *tokens], mask_token="", oov_token=data.UNK
    )


def lookup(vocabulary, **kwargs):
    return lambda tokens: keras.layers.StringLookup(
        vocabulary=vocabulary(tokens), **kwargs
    )


SPECIAL = [data.START, data.END]
MASKED = {"mask_token": "", "oov_token": data.UNK}
LOOKUP_MISTAKES = {
    # catalogued
    "no specials": (lookup(lambda t: list(t), **MASKED), "seed bug 8"),
    "no mask token": (lookup(lambda t: [*SPECIAL, *t]), "no padding id 0"),
    "specials last": (
        lookup(lambda t: [*t, *SPECIAL], **MASKED),
        "before [START] and [END]",
    ),
    "swapped": (lookup(lambda t: [data.END, data.START, *t], **MASKED), "swapped"),
    "two oov": (
        lookup(lambda t: [*SPECIAL, *t], mask_token="", num_oov_indices=2),
        "more than one [UNK]",
    ),
    "no oov": (
        lookup(lambda t: [*SPECIAL, *t], mask_token="", num_oov_indices=0),
        "raised an error",
    ),
    "one hot": (
        lookup(lambda t: [*SPECIAL, *t], output_mode="one_hot", **MASKED),
        "a vector of",
    ),
    # not in the catalogue: diagnosed by the property they break
    "sorted tokens": (
        lookup(lambda t: [*SPECIAL, *sorted(t)], **MASKED),
        "in another order",
    ),
    "padding as a token": (
        lookup(lambda t: ["", *SPECIAL, *t]),
        "gives the empty string (padding) id 1",
    ),
    "no [END]": (lookup(lambda t: [data.START, *t], **MASKED), "gives [END] id 1"),
    "[UNK] in the vocabulary": (
        lookup(lambda t: [data.UNK, *SPECIAL, *t], **MASKED),
        "gives the token '[UNK]' id 2",
    ),
    "a [PAD] token first": (
        lookup(lambda t: ["[PAD]", *SPECIAL, *t], **MASKED),
        "every known token's id is 1 too large",
    ),
    "multi-hot": (
        lookup(lambda t: [*SPECIAL, *t], output_mode="multi_hot", **MASKED),
        "numbers for the 18 tokens",
    ),
}


def test_lookup_reference_passes():
    assert outcome("1.2", make_lookup)[0] == "passed"
    # data.Vocabulary builds the same layer
    via_vocabulary = lambda tokens: data.Vocabulary(list(tokens), "char").lookup  # noqa: E731
    assert outcome("1.2", via_vocabulary)[0] == "passed"


def test_lookup_stub_is_not_attempted():
    assert outcome("1.2", stub)[0] == "not_attempted"


@pytest.mark.parametrize("name", sorted(LOOKUP_MISTAKES))
def test_lookup_mistakes_are_diagnosed(name):
    assert_diagnosed("1.2", LOOKUP_MISTAKES, name)


def lookup_set_later(tokens):
    layer = keras.layers.StringLookup(mask_token="")  # the default OOV is "[UNK]"
    layer.set_vocabulary([data.START, data.END, *tokens])
    return layer


def lookup_by_dictionary(tokens):
    """Not a Keras layer at all: a function from a tensor of strings to ids."""
    table = {"": 0, data.START: 2, data.END: 3}
    table.update({token: 4 + i for i, token in enumerate(tokens)})
    return lambda strings: np.array([table.get(s.decode(), 1) for s in strings.numpy()])


@pytest.mark.parametrize("function", [lookup_set_later, lookup_by_dictionary])
def test_lookup_unusual_correct_answers_pass(function):
    assert_passes_unusual("1.2", function)


def test_lookup_round_trip():
    assert_round_trip("1.2", make_lookup)


# --- Exercise 1.3: shift_targets -----------------------------------------------------


def shift_targets(target_ids, max_length):
    tgt_in_ids = np.zeros((len(target_ids), max_length), np.int32)
    tgt_out_ids = np.zeros((len(target_ids), max_length), np.int32)
    for row, y in enumerate(target_ids):
        tgt_in_ids[row, : len(y) + 1] = [data.START_ID, *y]
        tgt_out_ids[row, : len(y) + 1] = [*y, data.END_ID]
    return tgt_in_ids, tgt_out_ids


def shift_with_keras(target_ids, max_length):
    pad = keras.utils.pad_sequences
    tgt_in = pad([[data.START_ID, *y] for y in target_ids], max_length, padding="post")
    tgt_out = pad([[*y, data.END_ID] for y in target_ids], max_length, padding="post")
    return tgt_in, tgt_out


def layout(make_in, make_out, fill=0, length=None, padding="post"):
    def shift(target_ids, max_length):
        size = length(target_ids) if length else max_length
        pad = keras.utils.pad_sequences
        rows_in = [make_in(list(y)) for y in target_ids]
        rows_out = [make_out(list(y)) for y in target_ids]
        return (
            pad(rows_in, size, padding=padding, value=fill),
            pad(rows_out, size, padding=padding, value=fill),
        )

    return shift


def shift_all_rows_at_once(target_ids, max_length):
    """Forgets the row index: every row is overwritten with each target."""
    tgt_in_ids = np.zeros((len(target_ids), max_length), np.int32)
    tgt_out_ids = np.zeros((len(target_ids), max_length), np.int32)
    for y in target_ids:
        tgt_in_ids[:, : len(y) + 1] = [data.START_ID, *y]
        tgt_out_ids[:, : len(y) + 1] = [*y, data.END_ID]
    return tgt_in_ids, tgt_out_ids


S, E = data.START_ID, data.END_ID
SHIFT_MISTAKES = {
    # catalogued
    "reversed": (layout(lambda y: [*y, E], lambda y: [S, *y]), "reversed"),
    "no END": (layout(lambda y: [S, *y], lambda y: y), "has no [END]"),
    "START in out": (
        layout(lambda y: [S, *y], lambda y: [S, *y, E]),
        "tgt_out_ids starts with [START]",
    ),
    "END in in": (layout(lambda y: [S, *y, E], lambda y: [*y, E]), "tgt_in_ids ends"),
    "same": (layout(lambda y: [S, *y, E], lambda y: [S, *y, E]), "the same sequence"),
    "pre padding": (
        layout(lambda y: [S, *y], lambda y: [*y, E], padding="pre"),
        "padding is at the front",
    ),
    "pad with END": (
        layout(lambda y: [S, *y], lambda y: [*y, E], fill=E),
        "instead of 0",
    ),
    "pad with -1": (
        layout(lambda y: [S, *y], lambda y: [*y, E], fill=-1),
        "instead of 0",
    ),
    "longest": (
        layout(
            lambda y: [S, *y], lambda y: [*y, E], length=lambda t: max(map(len, t)) + 1
        ),
        "longest sequence",
    ),
    "UNK as START": (
        layout(lambda y: [1, *y], lambda y: [*y, E]),
        "does not start with [START]",
    ),
    "one array": (lambda t, n: shift_targets(t, n)[0], "two arrays"),
    "floats": (
        lambda t, n: tuple(a.astype(np.float32) for a in shift_targets(t, n)),
        "integer",
    ),
    # not in the catalogue: diagnosed by the property they break
    "labels not shifted": (
        layout(lambda y: [S, *y], lambda y: [S, *y]),
        "the labels are not shifted",
    ),
    "last target dropped from the input": (
        layout(lambda y: [S, *y[:-1]], lambda y: [*y, E]),
        "(it holds [7, 8, 9, 0])",
    ),
    "every row overwritten": (shift_all_rows_at_once, "(it holds [11, 12, 13, 14])"),
    "lists": (
        lambda t, n: tuple(a.tolist() for a in shift_targets(t, n)),
        "should be a tensor or array",
    ),
    "transposed": (
        lambda t, n: tuple(a.T for a in shift_targets(t, n)),
        "batch is 10, expected 3",
    ),
    "one position too long": (
        lambda t, n: shift_targets(t, n + 1),
        "tgt_len is 11, expected 10",
    ),
    "END one step late": (
        layout(lambda y: [S, *y], lambda y: [*y, 0, E]),
        "is missing [END]",
    ),
}


def test_shift_reference_passes():
    assert outcome("1.3", shift_targets)[0] == "passed"
    assert outcome("1.3", shift_with_keras)[0] == "passed"


def test_shift_agrees_with_encode_pairs():
    """The reference exercise solution builds what data.encode_pairs builds."""
    pairs = dates.generate_dates(5, seed=1)
    src_vocab, tgt_vocab = dates.date_vocabularies(pairs)
    _, tgt_in, tgt_out = data.encode_pairs(pairs, src_vocab, tgt_vocab, 40, 11)
    targets = [tgt_vocab.encode(tgt_vocab.tokenize(iso)) for _, iso in pairs]
    mine_in, mine_out = shift_targets(targets, 11)
    np.testing.assert_array_equal(mine_in, tgt_in)
    np.testing.assert_array_equal(mine_out, tgt_out)


def test_shift_stub_is_not_attempted():
    assert outcome("1.3", stub)[0] == "not_attempted"


@pytest.mark.parametrize("name", sorted(SHIFT_MISTAKES))
def test_shift_mistakes_are_diagnosed(name):
    assert_diagnosed("1.3", SHIFT_MISTAKES, name)


def shift_one_sequence_then_slice(target_ids, max_length):
    """[START] + y + [END] once, then the sequence without its last / first token."""
    rows = [[S, *y, E] for y in target_ids]
    pad = keras.utils.pad_sequences
    tgt_in = pad([row[:-1] for row in rows], max_length, padding="post")
    tgt_out = pad([row[1:] for row in rows], max_length, padding="post")
    return tf.constant(tgt_in), tf.constant(tgt_out)


def shift_with_lists(target_ids, max_length):
    def pad(row):
        return row + [0] * (max_length - len(row))

    tgt_in = np.array([pad([S, *y]) for y in target_ids], dtype=np.uint8)
    tgt_out = np.array([pad([*y, E]) for y in target_ids], dtype=np.uint8)
    return [tgt_in, tgt_out]


@pytest.mark.parametrize("function", [shift_one_sequence_then_slice, shift_with_lists])
def test_shift_unusual_correct_answers_pass(function):
    assert_passes_unusual("1.3", function)


def test_shift_round_trip():
    assert_round_trip("1.3", shift_targets)
    assert_round_trip("1.3", SHIFT_MISTAKES["reversed"][0])


@pytest.mark.parametrize("exercise_id", ["1.1", "1.2", "1.3"])
def test_every_exercise_has_hints_in_levels(exercise_id):
    assert len(framework.get(exercise_id).hints) >= 2
