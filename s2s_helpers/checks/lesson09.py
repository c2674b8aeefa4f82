"""Checks for lesson 09 (dialogue): (prompt, response) pairs and distinct-n.

* 9.1 ``make_pairs(conversations)``: every two consecutive utterances of a
  conversation, never across two conversations.
* 9.2 ``distinct_n(responses, n)``: distinct n-grams / all n-grams over a set
  of responses (Li et al. 2016), the usual measure of a chatbot's variety.

Each judge tests what any correct answer must do (pairs of consecutive lines,
all of them, in order; a fraction in [0, 1] that halves when every response is
repeated, ignores responses shorter than ``n`` and runs of spaces) and says
which of these fails before it compares values with the reference.

Taught in: lessons/09_dialogue.ipynb
"""

from __future__ import annotations

import math
from collections import Counter

import numpy as np

from s2s_helpers.checks.expect import expect_no_known_mistake, expect_number
from s2s_helpers.checks.framework import (
    Mistake,
    exercise,
    expect_close,
    fail,
    to_numpy,
)

# --- Exercise 9.1: make_pairs ----------------------------------------------------

# Conversations of 1 to 5 lines; one-line conversations first, in the middle and
# last; the pair ("Hi", "Hello") occurs in two conversations of the last set.
CONVERSATIONS = (
    [
        ["Hello", "Hi there!", "How are you?", "Fine, and you?", "Great."],
        ["What is AI?", "The science of making machines think."],
        ["Do you like jazz?", "I do.", "Why?"],
    ],
    [["Bye"], ["Tell me a joke.", "Why did the chicken cross the road?"]],
    [
        ["Hi", "Hello", "Any news?", "None at all."],
        ["Ok"],
        ["Hi", "Hello"],
        ["Thanks.", "You're welcome.", "See you.", "Bye now.", "Take care."],
        ["Later."],
    ],
)
_PAIRS = "`make_pairs(conversations)`"


def _pairs_of(lines) -> list[tuple[str, str]]:
    return [(lines[i], lines[i + 1]) for i in range(len(lines) - 1)]


def _record_item(item) -> str | None:
    """A line as it came back: the string, None, or "<type> repr" for others."""
    if item is None or isinstance(item, str):
        return item if item is None else str(item)  # str(): numpy strings too
    return f"<{type(item).__name__}> {item!r}"


def _record_pairs(pairs) -> dict:
    if isinstance(pairs, (str, bytes, dict)) or not hasattr(pairs, "__iter__"):
        return {"type": type(pairs).__name__}
    items = []
    for pair in pairs:
        if isinstance(pair, str) or not hasattr(pair, "__len__"):
            items.append({"not_a_pair": _record_item(pair)})
        else:
            items.append([_record_item(item) for item in pair])
    return {"type": type(pairs).__name__, "pairs": items}


def _probe_pairs(make_pairs) -> dict:
    return {"results": [_record_pairs(make_pairs([list(lines) for lines in case]))
                        for case in CONVERSATIONS]}  # fmt: skip


def _expect_pair_list(result: dict) -> list[tuple]:
    if "pairs" not in result:
        kind = "None" if result["type"] == "NoneType" else f"a {result['type']}"
        hints = (
            (
                "A dict keeps one response per prompt, and a prompt can occur "
                "twice; collect the pairs in a list.",
            )
            if kind == "a dict"
            else ()
        )
        fail(f"{_PAIRS} returned {kind}.", "a list of (prompt, response) pairs",
             result["type"], hints=hints)  # fmt: skip
    for pair in result["pairs"]:
        if not isinstance(pair, list) or len(pair) != 2:
            shown = pair["not_a_pair"] if isinstance(pair, dict) else pair
            fail(f"{_PAIRS} should return (prompt, response) pairs.",
                 "2-tuples such as ('Hello', 'Hi there!')", repr(shown))  # fmt: skip
    return [tuple(pair) for pair in result["pairs"]]


def _expect_real_lines(case, pairs) -> None:
    lines = {line for lines in case for line in lines}
    for pair in pairs:
        if None in pair or "" in pair:
            alone = [lines for lines in case if len(lines) == 1 and lines[0] in pair]
            also = (
                f" A one-line conversation such as {alone[0]} has no pair."
                if alone
                else ""
            )
            fail(f"{_PAIRS} made a pair with a missing side: {pair}.{also}",
                 hints=("Only conversations of two lines or more give pairs; "
                        "the range of starts is empty for one line.",))  # fmt: skip
        for item in pair:
            if item not in lines:
                fail(f"{_PAIRS} gives {pair}: {item!r} is not one of the lines, "
                     "as written, of the conversations.",
                     "each side a line of the input, unchanged", repr(item))  # fmt: skip


def _expect_consecutive(case, pairs) -> None:
    inside = {pair for lines in case for pair in _pairs_of(lines)}
    spans = {(a[-1], b[0]) for a, b in zip(case, case[1:])}
    for pair in pairs:
        if pair in inside:
            continue
        if pair in spans:
            fail(f"{_PAIRS} pairs the last line of one conversation with the first "
                 f"line of the next: {pair}.",
                 hints=("Treat each conversation on its own: pairs come from "
                        "the lines of one conversation.",
                        "Loop over the conversations, then over the lines of "
                        "each, not over one list of every line.",))  # fmt: skip
        if pair[::-1] in inside:
            fail(f"{_PAIRS} has prompt and response swapped: {pair} puts the later "
                 "line first.",
                 hints=("The prompt is the earlier line, the response the one "
                        "right after it.",))  # fmt: skip
        fail(f"{_PAIRS} gives {pair}, which are not two consecutive lines of one "
             "conversation.", "(line i, line i + 1) of a conversation", pair)  # fmt: skip


def _expect_every_pair(case, pairs) -> None:
    expected = [pair for lines in case for pair in _pairs_of(lines)]
    missing, extra = (
        Counter(expected) - Counter(pairs),
        Counter(pairs) - Counter(expected),
    )
    if extra:
        pair, times = next(iter(extra.items()))
        fail(f"{_PAIRS} gives {pair} {times + Counter(expected)[pair]} times; "
             f"the conversations have it {Counter(expected)[pair]} time(s).")  # fmt: skip
    if not missing:
        return
    last = Counter(_pairs_of(lines)[-1] for lines in case if len(lines) > 1)
    odd = Counter(p for lines in case for p in _pairs_of(lines)[1::2])
    hints = ("Every line except the first and the last is a response and also "
             "the next prompt.",)  # fmt: skip
    if missing == last:
        fail(f"{_PAIRS} misses the last pair of every conversation, e.g. "
             f"{next(iter(last))}.", hints=hints + (
                 "The starts of the pairs are 0 .. len(lines) - 2, both included.",))  # fmt: skip
    if missing == odd:
        fail(f"{_PAIRS} has only every other pair: lines 0-1, 2-3, ... but not "
             f"1-2, 3-4, ... (missing e.g. {next(iter(odd))}).", hints=hints)  # fmt: skip
    repeated = [p for p in missing if Counter(expected)[p] > 1 and p in pairs]
    if repeated:
        fail(f"{_PAIRS} gives {repeated[0]} once; it occurs "
             f"{Counter(expected)[repeated[0]]} times in the conversations, and "
             "every occurrence is a pair.",
             hints=("Keep the pairs in a list, repeats included.",))  # fmt: skip
    _expect_each_conversation(case, pairs)


def _expect_each_conversation(case, pairs) -> None:
    remaining = Counter(pairs)
    for index, lines in enumerate(case):
        found = [p for p in _pairs_of(lines) if remaining[p] > 0]
        remaining.subtract(found)
        if len(found) < len(lines) - 1:
            missing = [p for p in _pairs_of(lines) if p not in found]
            fail(f"{_PAIRS} gives {len(found)} of the {len(lines) - 1} pairs of "
                 f"conversation {index} ({len(lines)} lines, from {lines[0]!r}); "
                 f"missing e.g. {missing[0]}.",
                 f"{len(lines) - 1} pairs: one per two consecutive lines",
                 f"{len(found)} pair(s)")  # fmt: skip


def _expect_order(case, pairs) -> None:
    expected = [pair for lines in case for pair in _pairs_of(lines)]
    if pairs == expected:
        return
    if pairs == expected[::-1]:
        fail(f"{_PAIRS} gives the right pairs in reverse order.",
             f"{expected[0]} first", f"{pairs[0]} first")  # fmt: skip
    index = next(i for i, (a, b) in enumerate(zip(pairs, expected)) if a != b)
    fail(f"{_PAIRS} gives the right pairs in another order: conversation by "
         f"conversation, line by line, pair {index} is {expected[index]}.",
         expected[index], pairs[index])  # fmt: skip


def _judge_pairs(observation: dict) -> str:
    for case, result in zip(CONVERSATIONS, observation["results"], strict=True):
        pairs = _expect_pair_list(result)
        _expect_real_lines(case, pairs)
        _expect_consecutive(case, pairs)
        _expect_every_pair(case, pairs)
        _expect_order(case, pairs)
    return (
        "consecutive (prompt, response) pairs inside each conversation, in order, "
        f"repeats kept, on {len(CONVERSATIONS)} sets of conversations."
    )


check_make_pairs = exercise(
    "9.1",
    "make_pairs",
    arguments=("make_pairs",),
    probe=_probe_pairs,
    judge=_judge_pairs,
    hints=(
        "Look at one conversation of 4 lines on paper: which (prompt, response) "
        "pairs does it give, and how many?",
        "Pairs never cross from one conversation into the next, and every line "
        "except the first and the last is both a response and the next prompt.",
        "For each conversation `lines`, add (lines[i], lines[i + 1]) for i in "
        "range(len(lines) - 1); itertools.pairwise(lines) does the same.",
    ),
)


# --- Exercise 9.2: distinct_n -----------------------------------------------------

_REPLIES = ["i am fine", "i am fine", "i am a robot", "i do not know"]
DISTINCT_CASES = (
    (_REPLIES, 1),
    (_REPLIES, 2),
    (_REPLIES, 3),
    (["yes", "no no no", "you and me and you", "not really"], 2),
    (["yes", "no"], 2),  # no bigram at all
)
# What the check also runs a learner's distinct_n on, and how the value must move.
VARIANTS = {
    "base": lambda responses, n: list(responses),
    "doubled": lambda responses, n: list(responses) * 2,
    "spaced": lambda responses, n: ["  ".join(r.split()) + "\t" for r in responses],
    "short": lambda responses, n: [*responses, " ".join(["ok"] * (n - 1))],
    "reversed": lambda responses, n: list(responses)[::-1],
}


def _grams(response: str, n: int, stop: int = 0) -> list[tuple]:
    tokens = response.split()
    return [tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1 - stop)]


def _ratio(grams: list) -> float:
    return len(set(grams)) / len(grams) if grams else 0.0


def flat_ngrams(responses, n) -> list[tuple]:
    """Every n-gram of every response (whitespace tokens), never across two."""
    return [g for r in responses for g in _grams(r, n)]


def _distinct(responses, n) -> float:
    return _ratio(flat_ngrams(responses, n))


_DISTINCT_MISTAKES = {
    "averages distinct-n of each response instead of pooling the n-grams of all "
    "responses.": (
        lambda rs, n: float(np.mean([_ratio(_grams(r, n)) for r in rs if _grams(r, n)]
                                    or [0.0])),  # fmt: skip
        ("Pool first: one list of the n-grams of every response, then one "
         "division.",),
    ),
    "makes n-grams cross from one response into the next, as if the responses "
    "were one text.": (
        lambda rs, n: _ratio(_grams(" ".join(rs), n)),
        ("Take the n-grams of each response on its own, then put them together.",),
    ),
    "divides by the number of responses, not by the number of n-grams.": (
        lambda rs, n: len(set(flat_ngrams(rs, n))) / len(rs),
        ("The denominator counts n-grams, repeats included.",),
    ),
    "counts distinct responses, whatever n is.": (
        lambda rs, n: len(set(rs)) / len(rs),
        ("An n-gram is a tuple of n consecutive words of a response.",),
    ),
    "misses the last n-gram of each response.": (
        lambda rs, n: _ratio([g for r in rs for g in _grams(r, n, stop=1)]),
        ("A response of t words has t - n + 1 n-grams; the last starts at "
         "word t - n.",),
    ),
}  # fmt: skip


def _probe_distinct(distinct_n) -> dict:
    values = {}
    for variant, change in VARIANTS.items():
        results = [distinct_n(change(r, n), n) for r, n in DISTINCT_CASES]
        values[variant] = [None if v is None else to_numpy(v) for v in results]
    return {"values": values}


def _numbers(observation: dict) -> dict[str, np.ndarray]:
    return {
        variant: np.array([expect_number(f"distinct_n({r}, {n})", value)
                           for (r, n), value in zip(DISTINCT_CASES, values)])
        for variant, values in observation["values"].items()
    }  # fmt: skip


def _outputs(function) -> np.ndarray:
    return np.array([[function(change(r, n), n) for r, n in DISTINCT_CASES]
                     for change in VARIANTS.values()])  # fmt: skip


def _expect_no_ngram_case(values: dict, finite_only: bool) -> None:
    for (responses, n), value in zip(DISTINCT_CASES, values["base"]):
        if flat_ngrams(responses, n) or value == 0.0:
            continue
        if not finite_only or not math.isfinite(value):
            fail(f"`distinct_n({responses}, {n})` is {value}: no response has {n} "
                 "words, so there is no n-gram at all, and distinct-n is then 0.0.",
                 0.0, value, hints=("Guard the division: with no n-gram at all, "
                                    "return 0.0.",))  # fmt: skip


def _expect_fraction(values: dict) -> None:
    base = values["base"]
    outside = [(c, v) for c, v in zip(DISTINCT_CASES, base) if not 0 <= v <= 1]
    if outside:
        (responses, n), value = outside[0]
        fail(f"`distinct_n({responses}, {n})` is {value:.4g}, outside [0, 1]: "
             "at most every n-gram is distinct.", "a fraction in [0, 1]", value)  # fmt: skip
    reference = np.array([_distinct(r, n) for r, n in DISTINCT_CASES])
    fractional = (reference > 0) & (reference < 1)
    if np.all(base == np.round(base)) and fractional.any():
        index = int(np.argmax(fractional))
        rounded = " (rounded down)" if np.all(base == np.floor(reference)) else ""
        fail(f"`distinct_n` gives whole numbers only{rounded}: "
             f"{base[index]:g} on {DISTINCT_CASES[index][0]} with n = "
             f"{DISTINCT_CASES[index][1]}.", f"{reference[index]:.4g}",
             base[index], hints=("Which kind of division keeps the fraction?",))  # fmt: skip


def _expect_uses_n(values: dict) -> None:
    base = values["base"][:3]  # the same responses with n = 1, 2, 3
    reference = [_distinct(r, n) for r, n in DISTINCT_CASES[:3]]
    if np.allclose(base, base[0]) and not np.allclose(reference, reference[0]):
        fail(f"`distinct_n` gives {base[0]:.4g} for n = 1, 2 and 3 on the same "
             f"responses {_REPLIES}; the n-grams, and their share of distinct ones, "
             "change with n.", [round(v, 4) for v in reference], base.tolist(),
             hints=("Build n-grams of exactly n words: tokens[i : i + n].",))  # fmt: skip


# (variant, how the value must relate to the base value, what it shows)
_RELATIONS = (
    ("doubled", 0.5, "the responses twice", "repeating every response leaves "
     "the distinct n-grams as they are and doubles all n-grams, so distinct-n "
     "halves"),
    ("spaced", 1.0, "two spaces between words and a tab at the end", "runs of "
     "spaces and a tab separate the same words, so distinct-n stays the same"),
    ("short", 1.0, "one more response of n - 1 words", "a response with fewer "
     "than n words has no n-gram, so distinct-n stays the same"),
    ("reversed", 1.0, "the responses in reverse order", "the n-grams of each "
     "response do not depend on the order of the responses, so distinct-n stays "
     "the same"),
)  # fmt: skip


def _expect_relations(values: dict) -> None:
    for variant, factor, change, shows in _RELATIONS:
        for (responses, n), base, changed in zip(
            DISTINCT_CASES, values["base"], values[variant]
        ):
            if not math.isclose(changed, factor * base, rel_tol=1e-6, abs_tol=1e-9):
                fail(f"`distinct_n` does not behave like a share of distinct "
                     f"n-grams: {shows}. With n = {n}, {responses} gives "
                     f"{base:.4g}, and {change} gives {changed:.4g}.",
                     f"{factor * base:.4g}", f"{changed:.4g}")  # fmt: skip


def _judge_distinct(observation: dict) -> str:
    values = _numbers(observation)
    _expect_no_ngram_case(values, finite_only=True)
    reference = _outputs(_distinct)
    received = np.array([values[variant] for variant in VARIANTS])
    expect_no_known_mistake("distinct_n(responses, n)", received, {
        message: Mistake(_outputs(function), hints)
        for message, (function, hints) in _DISTINCT_MISTAKES.items()
        if not np.allclose(_outputs(function), reference)})  # fmt: skip
    _expect_fraction(values)
    _expect_uses_n(values)
    _expect_relations(values)
    _expect_no_ngram_case(values, finite_only=False)
    for (responses, n), value in zip(DISTINCT_CASES, values["base"]):
        expect_close(f"distinct_n({responses}, {n})", value, _distinct(responses, n))
    return (
        "distinct / all n-grams pooled over responses, 0.0 without n-grams; halves "
        "when the responses repeat, ignores spacing, short responses and order."
    )


check_distinct_n = exercise(
    "9.2",
    "distinct_n",
    arguments=("distinct_n",),
    probe=_probe_distinct,
    judge=_judge_distinct,
    hints=(
        "Work out distinct_n(['a b a b'], 2) by hand: which bigrams are there, "
        "and how many are distinct?",
        "Collect the n-grams of every response in one list (never across two "
        "responses), then divide the number of distinct ones by the number of all; "
        "with no n-gram at all the answer is 0.0.",
        "grams = [tuple(t[i:i + n]) for r in responses for t in [r.split()] "
        "for i in range(len(t) - n + 1)]; return len(set(grams)) / len(grams), "
        "or 0.0 when grams is empty.",
    ),
)
