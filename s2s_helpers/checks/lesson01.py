"""Checks for lesson 01 (data): normalising text, a vocabulary, the target shift.

Each judge compares with ``s2s_helpers.data`` (``normalize``, ``Vocabulary``,
the special token ids) or with expected answers written out by hand, and
recognises the usual mistakes of its exercise by what they would produce.

Taught in: lessons/01_data.ipynb
"""

from __future__ import annotations

import re
import unicodedata

import numpy as np

from s2s_helpers import data
from s2s_helpers.checks import framework
from s2s_helpers.checks.framework import CheckFailed, exercise, fail

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


def _strip_marks(text: str) -> str:
    return "".join(ch for ch in text if unicodedata.category(ch) != "Mn")


def _collapse(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _normalize_mistakes(text: str) -> dict[str, str]:
    """What the known mistakes of Exercise 1.1 return for ``text``."""
    nfkd = unicodedata.normalize("NFKD", text)
    nfd = unicodedata.normalize("NFD", text)
    spaced = _PUNCTUATION.sub(r" \1 ", _strip_marks(nfkd).lower())
    return {
        "is not lower-cased: 'Mercredi' must become 'mercredi'. Call `.lower()`.": (
            _collapse(_PUNCTUATION.sub(r" \1 ", _strip_marks(nfkd)))
        ),
        "keeps the accents ('está' stays 'está'). After NFKD an accent is a separate "
        "combining character (category 'Mn'); drop those characters.": data.normalize(
            text, strip_accents=False
        ),
        "does not put spaces around punctuation ('casa?' should become 'casa ?'), so "
        "'casa?' and 'casa' would be two different tokens.": _collapse(
            _strip_marks(nfkd).lower()
        ),
        "removes the punctuation instead of spacing it out: keep it as its own "
        "token ('casa ?').": _collapse(
            _PUNCTUATION.sub(" ", _strip_marks(nfkd).lower())
        ),
        "leaves runs of spaces (or spaces at the ends): collapse whitespace to one "
        "space and strip the ends, so splitting on spaces gives no empty tokens.": (
            spaced
        ),
        "uses NFD instead of NFKD: 'le 1ᵉʳ mai' keeps its superscript letters. NFKD "
        "also replaces compatibility characters (ᵉʳ, ﬁ, ²) by plain ones.": _collapse(
            _PUNCTUATION.sub(r" \1 ", _strip_marks(nfd).lower())
        ),
        "drops every non-ASCII character (e.g. `.encode('ascii', 'ignore')`): '¿' and "
        "'ß' vanish too. Remove only the combining marks (category 'Mn').": _collapse(
            _PUNCTUATION.sub(r" \1 ", nfkd.encode("ascii", "ignore").decode().lower())
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


def _judge_normalize(observation: dict) -> str:
    results = observation["results"]
    name = "normalize_text(text)"
    for result in results:
        if result["type"] != "str":
            hint = (
                " It looks like a list of tokens: join them with ' ' or return the "
                "string before splitting."
                if result["type"] in {"list", "tuple"}
                else ""
            )
            fail(
                f"`{name}` should return one string.{hint}",
                expected="str",
                received=f"{result['type']}: {result['value']}",
            )
    received = [result["value"] for result in results]
    expected = [data.normalize(text) for text in NORMALIZE_TEXTS]
    if received == expected:
        return (
            f"matches data.normalize on {len(expected)} texts (NFKD, accents "
            "stripped, lower case, punctuation spaced, single spaces)."
        )
    mistakes = [_normalize_mistakes(text) for text in NORMALIZE_TEXTS]
    for message in mistakes[0]:
        wrong = [m[message] for m in mistakes]
        if wrong != expected and received == wrong:
            raise CheckFailed(f"`{name}` {message}")
    index = next(
        i for i, (r, e) in enumerate(zip(received, expected, strict=True)) if r != e
    )
    got, want = received[index], expected[index]
    problems = []
    if got != got.lower():
        problems.append("upper-case letters remain (lower-case the text)")
    if any(_strip_marks(unicodedata.normalize("NFKD", ch)) != ch for ch in got):
        problems.append("accented or compatibility characters remain (NFKD, drop 'Mn')")
    if re.search(r"\w[?.!,¿¡;:\"()]|[?.!,¿¡;:\"()]\w", got):
        problems.append("punctuation touches a word (put spaces around it)")
    if got != _collapse(got):
        problems.append("extra spaces remain (collapse and strip)")
    detail = "; ".join(problems) or "compare the two strings character by character"
    fail(
        f"`{name}` is wrong for {NORMALIZE_TEXTS[index]!r}: {detail}.",
        expected=repr(want),
        received=repr(got),
    )


check_normalize_text = exercise(
    "1.1",
    "normalize_text",
    arguments=("normalize_text",),
    probe=_probe_normalize,
    judge=_judge_normalize,
    hints=(
        "Four steps: `unicodedata.normalize('NFKD', text)`; keep the characters "
        "whose `unicodedata.category(ch)` is not 'Mn'; `.lower()`; "
        "`re.sub(r'([?.!,¿¡;:\"()])', r' \\1 ', text)`; then collapse runs of "
        "whitespace with `re.sub(r'\\s+', ' ', text).strip()`.",
    ),
)


# --- Exercise 1.2: make_lookup --------------------------------------------------

LOOKUP_TOKENS = ("1", "0", "a", "r", "-", "z")
# Known, special, unseen and padding tokens; "q" and "é" were never seen.
LOOKUP_PROBE = ("a", "[START]", "q", "", "r", "[END]", "0", "é", "[UNK]", "-")


def _lookup_ids(vocabulary: list[str], oov_ids: int = 1, mask: bool = True) -> list:
    """What a StringLookup with this layout returns for ``LOOKUP_PROBE``."""
    table = ([""] if mask else []) + ["[UNK]"] * oov_ids + list(vocabulary)
    first_oov = 1 if mask else 0
    ids = []
    for token in LOOKUP_PROBE:
        if token == "" and mask:
            ids.append(0)
        elif token in vocabulary:
            ids.append(table.index(token, first_oov + oov_ids))
        else:
            ids.append(first_oov)
    return ids


def _lookup_mistakes() -> dict[str, list]:
    tokens = list(LOOKUP_TOKENS)
    specials = [data.START, data.END]
    return {
        "[START] and [END] come out as [UNK] (id 1): they were never added to the "
        "vocabulary. This is how seed bug 8 lost its start/end tokens; put them in "
        "the vocabulary by name, first.": _lookup_ids(tokens),
        "has no padding id 0: without `mask_token=''` StringLookup gives id 0 to "
        "[UNK] and every other id is one too small.": _lookup_ids(
            specials + tokens, mask=False
        ),
        "puts the corpus tokens before [START] and [END]: the special tokens must "
        "have ids 2 and 3, so list them first.": _lookup_ids(tokens + specials),
        "has [START] and [END] swapped: [START] is id 2 and [END] id 3.": _lookup_ids(
            [data.END, data.START] + tokens
        ),
    }


def _probe_lookup(make_lookup) -> dict:
    import tensorflow as tf

    layer = make_lookup(list(LOOKUP_TOKENS))
    ids = framework.to_numpy(layer(tf.constant(list(LOOKUP_PROBE))))
    return {"ids": ids}


def _judge_lookup(observation: dict) -> str:
    ids = framework.expect_array("ids", observation["ids"])
    name = "make_lookup(tokens)"
    if ids.shape != (len(LOOKUP_PROBE),):
        fail(
            f"`{name}` should map a list of tokens to one id each.",
            expected=f"shape ({len(LOOKUP_PROBE)},)",
            received=f"shape {ids.shape}",
        )
    if ids.dtype.kind not in "iu":
        fail(
            f"`{name}` should give integer ids (StringLookup does by default; do not "
            "set output_mode or invert).",
            expected="integers",
            received=ids.dtype,
        )
    received = ids.astype(np.int64).tolist()
    vocab = data.Vocabulary(list(LOOKUP_TOKENS), level="char", standardize=False)
    expected = vocab.encode(list(LOOKUP_PROBE))
    if received == expected:
        return (
            "padding '' is 0, unseen tokens are [UNK] = 1, [START] = 2, [END] = 3, "
            "then the tokens in order: the same ids as data.Vocabulary."
        )
    for message, wrong in _lookup_mistakes().items():
        if received == wrong:
            raise CheckFailed(f"`{name}` {message}")
    known = [i for i, token in enumerate(LOOKUP_PROBE) if expected[i] > 1]
    shifts = {received[i] - expected[i] for i in known}
    if len(shifts) == 1 and shifts.pop() > 0 and received[LOOKUP_PROBE.index("")] == 0:
        raise CheckFailed(
            f"`{name}` has more than one [UNK] id (num_oov_indices > 1), so every "
            "known token's id is too large: use one OOV index, id 1."
        )
    rows = [
        f"{token!r}: expected {e}, received {r}"
        for token, e, r in zip(LOOKUP_PROBE, expected, received, strict=True)
        if e != r
    ]
    fail(f"`{name}` gives the wrong ids: " + "; ".join(rows) + ".")


check_make_lookup = exercise(
    "1.2",
    "make_lookup",
    arguments=("make_lookup",),
    probe=_probe_lookup,
    judge=_judge_lookup,
    hints=(
        "`keras.layers.StringLookup(vocabulary=[data.START, data.END, *tokens], "
        "mask_token='', oov_token=data.UNK)`: the mask token gets id 0, the one "
        "OOV token id 1, then the vocabulary in the order you give it.",
    ),
)


# --- Exercise 1.3: shift_targets --------------------------------------------------

# (target ids without special tokens, max_length); ids >= 4 are ordinary tokens.
SHIFT_PROBES = (
    ([[7, 8, 9, 10], [5, 6], [11, 12, 13, 14, 4, 5, 6]], 10),
    ([[9], [], [4, 4, 4]], 4),
)


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


S, E = data.START_ID, data.END_ID


def _correct(y):
    return [S, *y], [*y, E]


SHIFT_MISTAKES = {
    "the shift is reversed: tgt_in_ids must start with [START] and tgt_out_ids "
    "end with [END], not the other way round.": lambda y: ([*y, E], [S, *y]),
    "tgt_out_ids has no [END]: the model would never learn when to stop. Append "
    "[END] (id 3) after the last target id.": lambda y: ([S, *y], list(y)),
    "tgt_out_ids starts with [START]: the labels are the *next* tokens, so they "
    "begin with the first real token and end with [END].": lambda y: (
        [S, *y],
        [S, *y, E],
    ),
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


def _judge_shift(observation: dict) -> str:
    name = "shift_targets(target_ids, max_length)"
    for (targets, max_length), result in zip(
        SHIFT_PROBES, observation["results"], strict=True
    ):
        if result["kind"] != "pair":
            fail(
                f"`{name}` should return two arrays, (tgt_in_ids, tgt_out_ids).",
                expected="a tuple of 2",
                received=result["kind"],
            )
        batch = len(targets)
        longest = max(len(y) for y in targets)
        arrays = {}
        for key in ("tgt_in", "tgt_out"):
            array = framework.expect_array(f"{key}_ids", result[key])
            if array.shape != (batch, max_length):
                extra = ""
                if array.ndim == 2 and array.shape[1] in (
                    longest,
                    longest + 1,
                    longest + 2,
                ):
                    extra = (
                        f" It has the length of the longest sequence "
                        f"({array.shape[1]}) "
                        f"instead of max_length = {max_length}: every batch must have "
                        "the same fixed length."
                    )
                fail(
                    f"`{key}_ids` has the wrong shape for {batch} targets and "
                    f"max_length={max_length}.{extra}",
                    expected=f"({batch}, {max_length}) (batch, tgt_len)",
                    received=array.shape,
                )
            if array.dtype.kind not in "iu":
                fail(f"`{key}_ids` should hold integer ids.", "integers", array.dtype)
            arrays[key] = array.astype(np.int64)
        got_in, got_out = arrays["tgt_in"], arrays["tgt_out"]
        want_in, want_out = _shift(targets, max_length, _correct)
        if np.array_equal(got_in, want_in) and np.array_equal(got_out, want_out):
            continue
        for message, layout in SHIFT_MISTAKES.items():
            wrong_in, wrong_out = _shift(targets, max_length, layout)
            if np.array_equal(got_in, wrong_in) and np.array_equal(got_out, wrong_out):
                raise CheckFailed(message)
        lengths_in = [len(y) + 1 for y in targets]
        if np.array_equal(got_in, _pre_padded(want_in, lengths_in)) or np.array_equal(
            got_out, _pre_padded(want_out, lengths_in)
        ):
            raise CheckFailed(
                "the padding is at the front (e.g. `pad_sequences` pads 'pre' by "
                "default): pad at the end, `padding='post'`, so position t is step t."
            )
        for key, got, want in (
            ("tgt_in", got_in, want_in),
            ("tgt_out", got_out, want_out),
        ):
            pad = want == data.PAD_ID
            if not np.array_equal(got[~pad], want[~pad]):
                continue
            if np.any(got[pad] != data.PAD_ID):
                fail(
                    f"`{key}_ids` is padded with {sorted(set(got[pad].tolist()))} "
                    "instead of 0: the padding id is data.PAD_ID = 0 (that is what "
                    "the masks look for).",
                    expected=want.tolist(),
                    received=got.tolist(),
                )
        if np.any(got_in[:, 0] != data.START_ID):
            fail(
                "`tgt_in_ids` must start every row with [START] (data.START_ID = 2).",
                expected=want_in.tolist(),
                received=got_in.tolist(),
            )
        for key, got, want in (
            ("tgt_in", got_in, want_in),
            ("tgt_out", got_out, want_out),
        ):
            if not np.array_equal(got, want):
                fail(
                    f"`{key}_ids` is wrong for targets {targets} (max_length "
                    f"{max_length}).",
                    expected=want.tolist(),
                    received=got.tolist(),
                )
    return (
        "tgt_in_ids = [START] + y and tgt_out_ids = y + [END], padded with 0 at the "
        "end to max_length, on 2 batches."
    )


check_shift_targets = exercise(
    "1.3",
    "shift_targets",
    arguments=("shift_targets",),
    probe=_probe_shift,
    judge=_judge_shift,
    hints=(
        "Start from two zero arrays of shape (batch, max_length) (zeros are "
        "padding). For row i with ids y: write [data.START_ID, *y] at the start "
        "of tgt_in_ids[i] and [*y, data.END_ID] at the start of tgt_out_ids[i].",
    ),
)
