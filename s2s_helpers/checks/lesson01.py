"""Checks for lesson 01 (data): normalising text, a vocabulary, the target shift.

Each judge reports, from cheap to specific: the type and shape, a catalogued
mistake when the result is exactly what that mistake gives, then the first
property of a correct answer that fails (no upper case, no accents, spaced
punctuation, single spaces; padding 0, [UNK] 1, [START] 2, [END] 3, tokens in
order; [START] first, labels shifted one step, [END] after the targets,
padding 0 at the end). It compares with ``s2s_helpers.data`` (``normalize``,
``Vocabulary``, the special token ids) or with answers written out by hand.

Taught in: lessons/01_data.ipynb
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter

import numpy as np

from s2s_helpers import data
from s2s_helpers.checks.framework import (
    exercise,
    expect_array,
    expect_shape,
    fail,
    to_numpy,
)

# --- Exercise 1.1: normalize_text ----------------------------------------------

# Dates and sentences that exercise every step: capitals, accents, a cedilla, the
# French "1ᵉʳ" (modifier letters that only NFKD turns into plain "er"), Spanish
# "¿", sharp s, runs of spaces and punctuation glued to words.
NORMALIZE_TEXTS = (
    "¿Todavía está en casa?",
    "Mercredi 21 Février 2001",
    "sábado, 27 de septiembre de 1952",
    "le 1ᵉʳ mai 2020",
    "  Apr 20,   2011 ",
    "Çarşamba 5 Kasım 2008",
    "Grüße: 3. März 1999!",
)

_PUNCTUATION = re.compile(r"([?.!,¿¡;:\"()])")
_GLUED = re.compile(r"\w[?.!,¿¡;:\"()]|[?.!,¿¡;:\"()]\w")


def _strip_marks(text: str) -> str:
    return "".join(ch for ch in text if unicodedata.category(ch) != "Mn")


def _collapse(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _spaced(text: str) -> str:
    return _PUNCTUATION.sub(r" \1 ", text)


def _normalize_mistakes(text: str) -> dict[str, tuple[str, tuple[str, ...]]]:
    """{message: (what the mistake returns for ``text``, hints)} of Exercise 1.1."""
    nfkd = unicodedata.normalize("NFKD", text)
    plain = _strip_marks(nfkd)
    return {
        "is not lower-cased: 'Mercredi' stays 'Mercredi'.": (
            _collapse(_spaced(plain)),
            ("Which str method turns 'M' into 'm'?",),
        ),
        "keeps the accents ('está' stays 'está').": (
            data.normalize(text, strip_accents=False),
            (
                "After NFKD an accent is a character of its own. Which Unicode "
                "category do such combining marks have?",
                "Drop the characters whose `unicodedata.category(ch)` is 'Mn'.",
            ),
        ),
        "does not put spaces around punctuation ('casa?' should become 'casa ?'), "
        "so 'casa?' and 'casa' would be two different tokens.": (
            _collapse(plain.lower()),
            ("Replace each punctuation mark by itself with a space on each side.",),
        ),
        "removes the punctuation instead of keeping it as its own token ('casa ?').": (
            _collapse(_PUNCTUATION.sub(" ", plain.lower())),
            ("Keep each mark: put spaces around it instead of removing it.",),
        ),
        "leaves runs of spaces (or spaces at the ends), so splitting on spaces "
        "would give empty tokens.": (
            _spaced(plain.lower()),
            ("Collapse every run of whitespace to one space, then strip the ends.",),
        ),
        "normalises with NFD instead of NFKD: 'le 1ᵉʳ mai' keeps its superscript "
        "letters (only NFKD replaces compatibility characters such as ᵉʳ, ﬁ, ²).": (
            _collapse(
                _spaced(_strip_marks(unicodedata.normalize("NFD", text)))
            ).lower(),
            ("Which normal form also replaces compatibility characters?",),
        ),
        "drops every non-ASCII character: '¿' and 'ß' vanish too, not only the "
        "accents.": (
            _collapse(_spaced(nfkd.encode("ascii", "ignore").decode().lower())),
            ("Remove only the combining marks (category 'Mn'), nothing else.",),
        ),
    }


def _record_text(value):
    """A returned string as plain data; tensors and bytes are decoded."""
    if hasattr(value, "numpy"):
        value = value.numpy()
    if isinstance(value, np.ndarray) and value.shape == ():
        value = value.item()
    if isinstance(value, bytes):
        value = value.decode("utf-8", errors="replace")
    if isinstance(value, str):
        return {"type": "str", "value": value}
    return {"type": type(value).__name__, "value": repr(value)[:200]}


def _probe_normalize(normalize_text) -> dict:
    return {"results": [_record_text(normalize_text(text)) for text in NORMALIZE_TEXTS]}


def _text_properties(got: str, want: str) -> str | None:
    """The first property of a normalised text that ``got`` breaks, or None."""
    if got != got.lower():
        return f"upper-case letters remain ({sorted({c for c in got if c.isupper()})})"
    marked = sorted({c for c in got if unicodedata.normalize("NFKD", c) != c})
    marked += sorted({c for c in got if unicodedata.category(c) == "Mn"})
    if marked:
        return f"accented or compatibility characters remain ({marked})"
    missing = Counter(want.replace(" ", "")) - Counter(got.replace(" ", ""))
    extra = Counter(got.replace(" ", "")) - Counter(want.replace(" ", ""))
    if missing or extra:
        return (
            f"characters are missing ({sorted(missing.elements())}) or added "
            f"({sorted(extra.elements())})"
        )
    if glued := _GLUED.findall(got):
        return f"punctuation touches a word ({glued})"
    if got != _collapse(got):
        return "two or more spaces in a row, or spaces at the ends"
    return None


def _judge_normalize(observation: dict) -> str:
    name = "normalize_text(text)"
    for result in observation["results"]:
        if result["type"] != "str":
            tokens = (
                " It looks like a list of tokens." if result["type"] == "list" else ""
            )
            fail(
                f"`{name}` should return one string.{tokens}",
                expected="str",
                received=f"{result['type']}: {result['value']}",
            )
    received = [result["value"] for result in observation["results"]]
    expected = [data.normalize(text) for text in NORMALIZE_TEXTS]
    if received == expected:
        return (
            f"matches data.normalize on {len(expected)} texts (NFKD, accents "
            "stripped, lower case, punctuation spaced, single spaces)."
        )
    mistakes = [_normalize_mistakes(text) for text in NORMALIZE_TEXTS]
    for message, (_, hints) in mistakes[0].items():
        wrong = [m[message][0] for m in mistakes]
        if wrong != expected and received == wrong:
            fail(f"`{name}` {message}", hints=hints)
    for text, got, want in zip(NORMALIZE_TEXTS, received, expected, strict=True):
        if got != want:
            problem = _text_properties(got, want) or "the words differ"
            fail(f"`{name}` is wrong for {text!r}: {problem}.", repr(want), repr(got))


check_normalize_text = exercise(
    "1.1",
    "normalize_text",
    arguments=("normalize_text",),
    probe=_probe_normalize,
    judge=_judge_normalize,
    hints=(
        "Four steps, in this order: decompose (Unicode NFKD), drop the accents, "
        "lower-case, space out the punctuation; then tidy the spaces.",
        "After `unicodedata.normalize('NFKD', text)` an accent is a separate "
        "character whose `unicodedata.category` is 'Mn': keep the others. A "
        'regular expression can put spaces around every mark of `?.!,¿¡;:"()`.',
        "`unicodedata.normalize('NFKD', text)`; keep the characters whose "
        "`unicodedata.category(ch)` is not 'Mn'; `.lower()`; "
        "`re.sub(r'([?.!,¿¡;:\"()])', r' \\1 ', text)`; then collapse runs of "
        "whitespace with `re.sub(r'\\s+', ' ', text).strip()`.",
    ),
)


# --- Exercise 1.2: make_lookup --------------------------------------------------

LOOKUP_TOKENS = ("1", "0", "a", "r", "-", "z")
# Known, special, padding and (many) unseen tokens: enough unseen ones that more
# than one OOV id would show. "q", "é", "x", ... were never seen.
UNSEEN = ("q", "é", "x", "zz", "bonjour", "7", "Q", "ü")
LOOKUP_PROBE = ("a", "[START]", "", "r", "[END]", "0", "[UNK]", "-", "1", "z", *UNSEEN)


def _lookup_ids(vocabulary: list[str], mask: bool = True) -> list:
    """What a StringLookup with this layout (one OOV id) gives ``LOOKUP_PROBE``."""
    first_oov = 1 if mask else 0
    return [
        0
        if token == "" and mask
        else first_oov + 1 + vocabulary.index(token)
        if token in vocabulary
        else first_oov
        for token in LOOKUP_PROBE
    ]


def _lookup_mistakes() -> dict[str, tuple[list, tuple[str, ...]]]:
    tokens, specials = list(LOOKUP_TOKENS), [data.START, data.END]
    return {
        "gives [START] and [END] the [UNK] id 1: they are not in the vocabulary "
        "(how seed bug 8 lost its start and end tokens).": (
            _lookup_ids(tokens),
            ("Which tokens must the vocabulary hold besides the corpus tokens?",),
        ),
        "has no padding id 0: [UNK] gets 0 and every other id is one too small.": (
            _lookup_ids(specials + tokens, mask=False),
            ("Which StringLookup argument reserves id 0 for the empty string?",),
        ),
        "puts the corpus tokens before [START] and [END], which must have ids 2 "
        "and 3.": (
            _lookup_ids(tokens + specials),
            ("The vocabulary keeps the order you give it: specials first.",),
        ),
        "has [START] and [END] swapped: [START] is id 2 and [END] id 3.": (
            _lookup_ids([data.END, data.START] + tokens),
            ("Check the order of the two special tokens.",),
        ),
    }


def _probe_lookup(make_lookup) -> dict:
    import tensorflow as tf

    layer = make_lookup(list(LOOKUP_TOKENS))
    return {"ids": to_numpy(layer(tf.constant(list(LOOKUP_PROBE))))}


def _ids_of(received: list, tokens) -> list:
    return [received[LOOKUP_PROBE.index(token)] for token in tokens]


def _lookup_properties(name: str, received: list, expected: list) -> None:
    """Fail on the first id of the layout that is wrong, as observed."""
    if (padding := _ids_of(received, [""])[0]) != 0:
        fail(f"`{name}` gives the empty string (padding) id {padding}.", 0, padding)
    unseen = sorted(set(_ids_of(received, UNSEEN)))
    known = [t for t in LOOKUP_PROBE if t not in UNSEEN and t not in ("", data.UNK)]
    shifts = {r - e for r, e in zip(_ids_of(received, known), _ids_of(expected, known))}
    if (
        len(unseen) > 1
        and len(shifts) == 1
        and set(unseen) <= set(range(1, 2 + max(shifts)))
    ):
        fail(
            f"`{name}` has more than one [UNK] id: unseen tokens get ids {unseen}, "
            f"and the ids of the known tokens are {shifts.pop()} higher than expected.",
            hints=("How many out-of-vocabulary ids does the layout have?",),
        )
    if unseen != [data.UNK_ID]:
        fail(
            f"`{name}` gives unseen tokens {list(UNSEEN)} other ids than "
            f"[UNK] = {data.UNK_ID}.",
            data.UNK_ID,
            unseen,
        )
    if (unk := _ids_of(received, [data.UNK])[0]) != data.UNK_ID:
        fail(
            f"`{name}` gives the token '[UNK]' id {unk}, not the [UNK] id.",
            data.UNK_ID,
            unk,
        )
    if len(shifts) == 1 and (shift := shifts.pop()) != 0:
        fail(
            f"`{name}`: every known token's id is {shift} too large.",
            expected,
            received,
        )
    for token, want in ((data.START, data.START_ID), (data.END, data.END_ID)):
        if (got := _ids_of(received, [token])[0]) != want:
            fail(f"`{name}` gives {token} id {got}.", want, got)
    got, want = _ids_of(received, LOOKUP_TOKENS), _ids_of(expected, LOOKUP_TOKENS)
    order = " (the same ids, in another order)" if sorted(got) == sorted(want) else ""
    fail(
        f"`{name}` gives the tokens {list(LOOKUP_TOKENS)} the wrong ids{order}.",
        want,
        got,
    )


def _judge_lookup(observation: dict) -> str:
    name = "make_lookup(tokens)"
    ids = expect_array("ids", observation["ids"])
    count = len(LOOKUP_PROBE)
    if ids.ndim == 2 and ids.shape[0] == count:
        what = f"a vector of {ids.shape[1]} numbers for each token"
    else:
        what = f"{ids.size} numbers for the {count} tokens"
    if ids.shape != (count,):
        fail(
            f"`{name}` gives {what}, not one id each.",
            expected=f"shape ({count},)",
            received=f"shape {ids.shape}",
        )
    if ids.dtype.kind not in "iu":
        fail(f"`{name}` should give integer ids.", "integers", ids.dtype)
    received = ids.astype(np.int64).tolist()
    vocab = data.Vocabulary(list(LOOKUP_TOKENS), level="char", standardize=False)
    expected = vocab.encode(list(LOOKUP_PROBE))
    if received == expected:
        return (
            "padding '' is 0, unseen tokens are [UNK] = 1, [START] = 2, [END] = 3, "
            "then the tokens in order: the same ids as data.Vocabulary."
        )
    for message, (wrong, hints) in _lookup_mistakes().items():
        if received == wrong:
            fail(f"`{name}` {message}", hints=hints)
    _lookup_properties(name, received, expected)


check_make_lookup = exercise(
    "1.2",
    "make_lookup",
    arguments=("make_lookup",),
    probe=_probe_lookup,
    judge=_judge_lookup,
    hints=(
        "The ids follow a fixed layout: 0 padding (the empty string), 1 [UNK], "
        "2 [START], 3 [END], then the tokens in the order given.",
        "`keras.layers.StringLookup` gives the mask token id 0 and its one OOV "
        "token id 1, then numbers the vocabulary in the order you pass it.",
        "`keras.layers.StringLookup(vocabulary=[data.START, data.END, *tokens], "
        "mask_token='', oov_token=data.UNK)`.",
    ),
    axes={"tokens": len(LOOKUP_PROBE)},
)


# --- Exercise 1.3: shift_targets --------------------------------------------------

# (target ids without special tokens, max_length); ids >= 4 are ordinary tokens.
# Batch and tgt_len differ in each; an empty target; rows that fill tgt_len
# exactly (no padding) next to padded ones.
SHIFT_PROBES = (
    ([[7, 8, 9, 10], [5, 6], [11, 12, 13, 14, 4, 5, 6]], 10),
    ([[9], [], [4, 5, 6]], 4),
    ([[5, 6, 7], [8], [9, 10, 11, 12, 13], [4, 5]], 6),
)
S, E, PAD = data.START_ID, data.END_ID, data.PAD_ID


def _shift(targets, max_length, layout):
    """Build (tgt_in_ids, tgt_out_ids) rows from per-row lists, padded with 0."""
    tgt_in = np.zeros((len(targets), max_length), np.int64)
    tgt_out = np.zeros((len(targets), max_length), np.int64)
    for row, y in enumerate(targets):
        seq_in, seq_out = layout(list(y))
        seq_in, seq_out = seq_in[:max_length], seq_out[:max_length]
        tgt_in[row, : len(seq_in)] = seq_in
        tgt_out[row, : len(seq_out)] = seq_out
    return tgt_in, tgt_out


def _correct(y):
    return [S, *y], [*y, E]


SHIFT_MISTAKES = {
    "the shift is reversed: [END] is in tgt_in_ids and [START] in tgt_out_ids, "
    "not the other way round.": lambda y: ([*y, E], [S, *y]),
    "tgt_out_ids has no [END]: the model would never learn when to stop.": lambda y: (
        [S, *y],
        list(y),
    ),
    "tgt_out_ids starts with [START]: the labels are the *next* tokens, so they "
    "begin with the first real token.": lambda y: ([S, *y], [S, *y, E]),
    "tgt_in_ids ends with [END]: the decoder never reads [END] as an input; only "
    "tgt_out_ids has it.": lambda y: ([S, *y, E], [*y, E]),
    "tgt_in_ids and tgt_out_ids are the same sequence: tgt_out_ids must be "
    "tgt_in_ids moved one step to the left.": lambda y: ([S, *y, E], [S, *y, E]),
}


def _pre_padded(array: np.ndarray, lengths: list[int]) -> np.ndarray:
    out = np.zeros_like(array)
    for row, length in enumerate(lengths):
        if length:
            out[row, -length:] = array[row, :length]
    return out


def _record_pair(result) -> dict:
    if isinstance(result, (tuple, list)) and len(result) == 2:
        return {"kind": "pair", "tgt_in": result[0], "tgt_out": result[1]}
    if isinstance(result, (tuple, list)):
        return {"kind": f"{type(result).__name__} of {len(result)}"}
    return {"kind": type(result).__name__}


def _probe_shift(shift_targets) -> dict:
    results = []
    for targets, max_length in SHIFT_PROBES:
        result = shift_targets([list(row) for row in targets], max_length)
        results.append(_record_pair(result))
    return {"results": results}


def _shift_arrays(name: str, result: dict, targets, max_length: int) -> tuple:
    """The two arrays as int64, after checking the pair, shapes and dtype."""
    if result["kind"] != "pair":
        fail(
            f"`{name}` should return two arrays, (tgt_in_ids, tgt_out_ids).",
            expected="a tuple of 2",
            received=result["kind"],
        )
    arrays = []
    for key in ("tgt_in_ids", "tgt_out_ids"):
        array = expect_array(key, result[key[:-4]])
        longest = max(len(y) for y in targets)
        if array.ndim == 2 and longest <= array.shape[1] <= longest + 2 < max_length:
            fail(
                f"`{key}` has the length of the longest sequence ({array.shape[1]}) "
                f"instead of max_length = {max_length}: every batch must have the "
                "same fixed length.",
                expected=f"({len(targets)}, {max_length}) (batch, tgt_len)",
                received=array.shape,
            )
        expect_shape(key, array, (len(targets), max_length), "batch, tgt_len")
        if array.dtype.kind not in "iu":
            fail(f"`{key}` should hold integer ids.", "integers", array.dtype)
        arrays.append(array.astype(np.int64))
    return tuple(arrays)


def _named_shift_mistake(got_in, got_out, targets, max_length) -> None:
    """Fail when the arrays are exactly what a catalogued mistake gives."""
    for message, layout in SHIFT_MISTAKES.items():
        wrong_in, wrong_out = _shift(targets, max_length, layout)
        if np.array_equal(got_in, wrong_in) and np.array_equal(got_out, wrong_out):
            fail(
                message, hints=("Write out tgt_in_ids and tgt_out_ids for y = [7, 8].",)
            )
    want_in, want_out = _shift(targets, max_length, _correct)
    lengths = [len(y) + 1 for y in targets]
    if np.array_equal(got_in, _pre_padded(want_in, lengths)) or np.array_equal(
        got_out, _pre_padded(want_out, lengths)
    ):
        fail(
            "the padding is at the front of the rows: position t must be step t, "
            "so the padding goes at the end.",
            hints=("`keras.utils.pad_sequences` pads at the front unless told.",),
        )


def _row_problem(got_in, got_out, targets) -> tuple[int, str] | None:
    """(row, what is wrong) for the first row that breaks a property, or None."""
    for row, y in enumerate(targets):
        n, row_in, row_out = len(y), got_in[row], got_out[row]
        if np.array_equal(row_out[: n + 1], row_in[: n + 1]):
            return row, (
                "tgt_out_ids holds the same token as tgt_in_ids at each position: "
                "the labels are not shifted (position t must hold the token after "
                "tgt_in_ids' position t)"
            )
        if row_in[0] != S:
            return row, f"`tgt_in_ids` does not start with [START] (id {S})"
        if row_in[1 : n + 1].tolist() != y:
            return row, (
                f"`tgt_in_ids` does not hold the targets {y} after [START] (it holds "
                f"{row_in[1 : n + 1].tolist()})"
            )
        if row_out[:n].tolist() != y:
            return row, (
                f"`tgt_out_ids` does not start with the targets {y} (it starts with "
                f"{row_out[:n].tolist()})"
            )
        if n < len(row_out) and row_out[n] != E:
            return (
                row,
                f"`tgt_out_ids` is missing [END] (id {E}) right after the targets",
            )
        for key, values in (("tgt_in_ids", row_in), ("tgt_out_ids", row_out)):
            if np.any(values[n + 1 :] != PAD):
                return row, (
                    f"`{key}` is padded with {sorted(set(values[n + 1 :].tolist()))} "
                    f"instead of 0 (data.PAD_ID) after the real tokens"
                )
    return None


def _judge_shift(observation: dict) -> str:
    name = "shift_targets(target_ids, max_length)"
    for (targets, max_length), result in zip(
        SHIFT_PROBES, observation["results"], strict=True
    ):
        got_in, got_out = _shift_arrays(name, result, targets, max_length)
        _named_shift_mistake(got_in, got_out, targets, max_length)
        if found := _row_problem(got_in, got_out, targets):
            row, problem = found
            want_in, want_out = _shift(targets, max_length, _correct)
            fail(
                f"{problem}: row {row} of the targets {targets} "
                f"(max_length {max_length}).",
                expected=f"in {want_in[row].tolist()}, out {want_out[row].tolist()}",
                received=f"in {got_in[row].tolist()}, out {got_out[row].tolist()}",
            )
    return (
        "tgt_in_ids = [START] + y and tgt_out_ids = y + [END], padded with 0 at the "
        f"end to max_length, on {len(SHIFT_PROBES)} batches."
    )


check_shift_targets = exercise(
    "1.3",
    "shift_targets",
    arguments=("shift_targets",),
    probe=_probe_shift,
    judge=_judge_shift,
    hints=(
        "The decoder reads tgt_in_ids and predicts tgt_out_ids: at every position "
        "t the label is the token that comes after input t. Where do [START] and "
        "[END] go, and where does the padding go?",
        "Start from two arrays of zeros (zeros are padding) of shape "
        "(batch, max_length); fill each row from its start.",
        "For row i with ids y: write [data.START_ID, *y] at the start of "
        "tgt_in_ids[i] and [*y, data.END_ID] at the start of tgt_out_ids[i].",
    ),
    axes={"batch": 3, "tgt_len": 10},
)
