"""Lesson 01's checks: the reference passes, the stub is not attempted, and each
known mistake fails with its own message (also after a JSON round trip)."""

import re
import unicodedata

import keras
import numpy as np
import pytest
from checktools import assert_round_trip, outcome, stub

from s2s_helpers import checks, data

# --- Exercise 1.1: normalize_text -----------------------------------------------------

PUNCTUATION = re.compile(r"([?.!,¿¡;:\"()])")


def normalize_text(text):
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Mn")
    text = PUNCTUATION.sub(r" \1 ", text.lower())
    return re.sub(r"\s+", " ", text).strip()


def normalize_with_tf(text):
    import tensorflow as tf

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


NORMALIZE_MISTAKES = {
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
    "tokens": (lambda t: normalize_text(t).split(), "one string"),
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
def test_normalize_known_mistakes_are_named(name):
    function, expected_text = NORMALIZE_MISTAKES[name]
    status, message = outcome("1.1", function)
    assert status == "failed"
    assert expected_text in message


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
LOOKUP_MISTAKES = {
    "no specials": (
        lookup(lambda t: list(t), mask_token="", oov_token=data.UNK),
        "seed bug 8",
    ),
    "no mask token": (lookup(lambda t: [*SPECIAL, *t]), "no padding id 0"),
    "specials last": (
        lookup(lambda t: [*t, *SPECIAL], mask_token="", oov_token=data.UNK),
        "before [START] and [END]",
    ),
    "swapped": (
        lookup(lambda t: [data.END, data.START, *t], mask_token="", oov_token=data.UNK),
        "swapped",
    ),
    "two oov": (
        lookup(lambda t: [*SPECIAL, *t], mask_token="", num_oov_indices=2),
        "more than one [UNK]",
    ),
    "no oov": (
        lookup(lambda t: [*SPECIAL, *t], mask_token="", num_oov_indices=0),
        "raised an error",
    ),
    "one hot": (
        lookup(
            lambda t: [*SPECIAL, *t],
            mask_token="",
            oov_token="[UNK]",
            output_mode="one_hot",
        ),
        "one id each",
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
def test_lookup_known_mistakes_are_named(name):
    function, expected_text = LOOKUP_MISTAKES[name]
    status, message = outcome("1.2", function)
    assert status in {"failed", "error"}
    assert expected_text in message


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


S, E = data.START_ID, data.END_ID
SHIFT_MISTAKES = {
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
    "UNK as START": (layout(lambda y: [1, *y], lambda y: [*y, E]), "start every row"),
    "one array": (lambda t, n: shift_targets(t, n)[0], "two arrays"),
    "floats": (
        lambda t, n: tuple(a.astype(np.float32) for a in shift_targets(t, n)),
        "integer",
    ),
}


def test_shift_reference_passes():
    assert outcome("1.3", shift_targets)[0] == "passed"
    assert outcome("1.3", shift_with_keras)[0] == "passed"


def test_shift_agrees_with_encode_pairs():
    """The reference exercise solution builds what data.encode_pairs builds."""
    pairs = data.generate_dates(5, seed=1)
    src_vocab, tgt_vocab = data.date_vocabularies(pairs)
    _, tgt_in, tgt_out = data.encode_pairs(pairs, src_vocab, tgt_vocab, 40, 11)
    targets = [tgt_vocab.encode(tgt_vocab.tokenize(iso)) for _, iso in pairs]
    mine_in, mine_out = shift_targets(targets, 11)
    np.testing.assert_array_equal(mine_in, tgt_in)
    np.testing.assert_array_equal(mine_out, tgt_out)


def test_shift_stub_is_not_attempted():
    assert outcome("1.3", stub)[0] == "not_attempted"


@pytest.mark.parametrize("name", sorted(SHIFT_MISTAKES))
def test_shift_known_mistakes_are_named(name):
    function, expected_text = SHIFT_MISTAKES[name]
    status, message = outcome("1.3", function)
    assert status == "failed"
    assert expected_text in message


def test_shift_round_trip():
    assert_round_trip("1.3", shift_targets)
    assert_round_trip("1.3", SHIFT_MISTAKES["reversed"][0])
