"""Checks for lesson 09 (dialogue): (prompt, response) pairs and distinct-n.

* 9.1 ``make_pairs(conversations)``: every two consecutive utterances of a
  conversation, never across two conversations.
* 9.2 ``distinct_n(responses, n)``: distinct n-grams / all n-grams over a set
  of responses (Li et al. 2016), the usual measure of a chatbot's variety.

Taught in: lessons/09_dialogue.ipynb
"""

from __future__ import annotations

import numpy as np

from s2s_helpers.checks import framework
from s2s_helpers.checks.framework import CheckFailed, exercise, fail

# --- Exercise 9.1: make_pairs ----------------------------------------------------

CONVERSATIONS = (
    [
        ["Hello", "Hi there!", "How are you?", "Fine, and you?", "Great."],
        ["What is AI?", "The science of making machines think."],
        ["Do you like jazz?", "I do.", "Why?"],
    ],
    [["Bye"], ["Tell me a joke.", "Why did the chicken cross the road?"]],
)


def _pair_variants(conversations) -> tuple[list, dict[str, list]]:
    def consecutive(lines, step=1, stop=0):
        return [[lines[i], lines[i + 1]] for i in range(0, len(lines) - 1 - stop, step)]

    reference = [p for lines in conversations for p in consecutive(lines)]
    flat = [line for lines in conversations for line in lines]
    return reference, {
        "pairs lines 0-1, 2-3, ... only: every line except the first and the "
        "last is a response *and* the next prompt, so step by 1.": [
            p for lines in conversations for p in consecutive(lines, step=2)
        ],
        "pairs the last line of one conversation with the first of the next: "
        "make pairs inside each conversation, not from one flat list.": consecutive(
            flat
        ),
        "has prompt and response swapped: (line i, line i + 1) is (prompt, "
        "response).": [[b, a] for a, b in reference],
        "misses the last pair of every conversation: range(len(lines) - 1) "
        "gives every start.": [
            p for lines in conversations for p in consecutive(lines, stop=1)
        ],
    }


def _probe_pairs(make_pairs) -> dict:
    results = []
    for conversations in CONVERSATIONS:
        pairs = make_pairs([list(lines) for lines in conversations])
        results.append([[str(x) for x in pair] if isinstance(pair, (tuple, list))
                        else repr(pair) for pair in pairs])  # fmt: skip
    return {"results": results}


def _judge_pairs(observation: dict) -> str:
    name = "make_pairs(conversations)"
    for conversations, pairs in zip(CONVERSATIONS, observation["results"]):
        reference, mistakes = _pair_variants(conversations)
        bad = [p for p in pairs if not isinstance(p, list) or len(p) != 2]
        if bad:
            fail(f"`{name}` should return (prompt, response) pairs.",
                 "a list of 2-tuples", bad[0])  # fmt: skip
        if any("None" in p or "" in p for p in pairs):
            raise CheckFailed(f"`{name}` made a pair with a missing side: a "
                              "one-line conversation has no pair.")  # fmt: skip
        if pairs == reference:
            continue
        for message, wrong in mistakes.items():
            if wrong != reference and pairs == wrong:
                raise CheckFailed(f"`{name}` {message}")
        fail(f"`{name}` gives the wrong pairs for {conversations}.",
             reference, pairs)  # fmt: skip
    return "consecutive (prompt, response) pairs inside each conversation, in order."


check_make_pairs = exercise(
    "9.1",
    "make_pairs",
    arguments=("make_pairs",),
    probe=_probe_pairs,
    judge=_judge_pairs,
    hints=(
        "For each conversation `lines`, add (lines[i], lines[i + 1]) for i in "
        "range(len(lines) - 1); itertools.pairwise(lines) does the same.",
    ),
)


# --- Exercise 9.2: distinct_n -----------------------------------------------------

DISTINCT_CASES = (
    (["i am fine", "i am fine", "i am a robot", "i do not know"], 1),
    (["i am fine", "i am fine", "i am a robot", "i do not know"], 2),
    (["yes", "no no no", "i do not know", "not really"], 2),
    (["yes", "no"], 2),
)


def _grams(tokens, n, stop=0):
    return [tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1 - stop)]


def _distinct_variants(responses, n) -> tuple[float, dict[str, float]]:
    grams = [_grams(r.split(), n) for r in responses]
    flat = [g for row in grams for g in row]
    reference = len(set(flat)) / len(flat) if flat else 0.0
    joined = _grams(" ".join(responses).split(), n)
    short = [g for r in responses for g in _grams(r.split(), n, stop=1)]
    return reference, {
        "averages distinct-n of each response; pool the n-grams of all "
        "responses, then divide distinct by total.": float(
            np.mean([len(set(g)) / len(g) for g in grams if g] or [0.0])
        ),
        "joins the responses first, so n-grams cross from one response into the "
        "next; take n-grams inside each response.": (
            len(set(joined)) / len(joined) if joined else 0.0
        ),
        "divides by the number of responses; divide by the number of n-grams.": len(
            set(flat)
        )
        / len(responses),
        "counts distinct responses, whatever n is; count n-grams of n words.": len(
            set(responses)
        )
        / len(responses),
        "misses the last n-gram of each response: range(len(tokens) - n + 1).": (
            len(set(short)) / len(short) if short else 0.0
        ),
    }


def _probe_distinct(distinct_n) -> dict:
    return {"results": [float(framework.to_numpy(distinct_n(list(responses), n)))
                        for responses, n in DISTINCT_CASES]}  # fmt: skip


def _judge_distinct(observation: dict) -> str:
    for (responses, n), value in zip(DISTINCT_CASES, observation["results"]):
        reference, mistakes = _distinct_variants(responses, n)
        if not flat_ngrams(responses, n) and not np.isfinite(value):
            fail(f"distinct_n({responses}, {n}) has no n-grams at all: return 0.0 "
                 "instead of dividing by zero.", 0.0, value)  # fmt: skip
        mistakes = {m: np.array(v) for m, v in mistakes.items()
                    if not np.isclose(v, reference)}  # fmt: skip
        framework.expect_close(f"distinct_n({responses}, {n})", np.array(value),
                               np.array(reference), known_mistakes=mistakes)  # fmt: skip
    return "distinct / total n-grams pooled over responses, 0.0 when there are none."


def flat_ngrams(responses, n) -> list[tuple]:
    """Every n-gram of every response (whitespace tokens), never across two."""
    return [g for r in responses for g in _grams(r.split(), n)]


check_distinct_n = exercise(
    "9.2",
    "distinct_n",
    arguments=("distinct_n",),
    probe=_probe_distinct,
    judge=_judge_distinct,
    hints=(
        "grams = [tuple(t[i:i + n]) for r in responses for t in [r.split()] "
        "for i in range(len(t) - n + 1)]; return len(set(grams)) / len(grams), "
        "or 0.0 when grams is empty.",
    ),
)
