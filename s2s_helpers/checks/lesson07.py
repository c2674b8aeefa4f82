"""Checks for lesson 07 (inference): greedy decoding (single and batched), a beam step.

* 7.1 ``greedy_translate(model, src_ids, max_length)`` decodes one sentence,
  `(1, src_len)`, and returns its token ids up to and including ``[END]``.
* 7.2 ``greedy_decode_batch(model, src_ids, max_length)`` decodes a batch,
  `(batch, src_len)`, into `(batch, max_length)` ids: ``[END]`` then padding.

Both run on a tiny model with fixed weights whose outputs end at different
steps (two never end), with several ``max_length`` values, some shorter than
the first ``[END]``. The model the learner's code gets records every decoder
step it runs (the token, state and mask it was given, the argmax of the
logits), so a judge can say what is observably wrong (a state not carried, a
token not fed back, no mask, more than ``max_length`` steps) before comparing
with ``search.greedy_decode``. The first batch of 7.2 has as many rows as the
target vocabulary, so an argmax over the wrong axis still runs and is named;
the other batches have sizes of their own.

* 7.3 ``beam_step(scores, log_probs)`` is checked for its properties (scores
  that are sums of log-probabilities, best first, parents and tokens in range,
  no better candidate left out), then compared with a numpy computation.

Taught in: lessons/07_inference.ipynb
"""

from __future__ import annotations

import functools

import numpy as np

from s2s_helpers.checks.framework import (
    CheckFailed,
    exercise,
    expect_array,
    expect_shape,
    fail,
    last_line,
    log_softmax,
    to_numpy,
)
from s2s_helpers.checks.models import RecordingModel, TooManySteps, tiny_seq2seq
from s2s_helpers.data import END_ID, PAD_ID, START_ID, UNK_ID

# --- a tiny model with fixed weights (7.1, 7.2) ------------------------------------

SRC_VOCAB, TGT_VOCAB, EMBEDDING_DIM, UNITS = 9, 8, 4, 10
MAX_LENGTH = 7
# (batch=8, src_len=6): batch == TGT_VOCAB on purpose (see the module docstring).
SRC_IDS = np.array(
    [
        [4, 5, 6, 7, 8, 0],
        [5, 4, 0, 0, 0, 0],
        [8, 7, 6, 0, 0, 0],
        [6, 6, 6, 6, 0, 0],
        [7, 0, 0, 0, 0, 0],
        [4, 8, 4, 8, 4, 8],
        [5, 6, 7, 0, 0, 0],
        [8, 8, 0, 0, 0, 0],
    ],
    np.int32,
)
# Greedy outputs end (with [END]) at steps 6, 3, 2, never, 3, 8, 1, never.
SINGLE_CASES = ((3, 7), (0, 4), (1, 9), (2, 5))  # (row, max_length), as the lesson says
ENDING_ROWS, ENDING_MAX_LENGTH = [0, 1, 2, 5, 6], 9  # every row ends
SHORT_ROWS, SHORT_MAX_LENGTH = [0, 1, 2, 3, 5], 4  # some rows end, some do not
BATCH_CASES = ((list(range(8)), MAX_LENGTH), (ENDING_ROWS, ENDING_MAX_LENGTH),
               (SHORT_ROWS, SHORT_MAX_LENGTH))  # fmt: skip
STEP_LIMIT = 40  # decoder steps a probe allows before it stops the learner's loop
REFERENCE_LENGTH = 12


@functools.lru_cache(maxsize=1)
def tiny_model():
    """A built ``Seq2Seq`` with fixed weights; its greedy outputs end at steps
    1, 2, 3, 6, 8 or never, and padding, [START] and [UNK] are never the argmax."""
    # the classic output layer (no context): the weights these cases were chosen for
    model = tiny_seq2seq(SRC_VOCAB, TGT_VOCAB, EMBEDDING_DIM, UNITS,
                         (SRC_IDS[:1], SRC_IDS[:1, :3]), seed=6, scale=1.5,
                         output_context=False)  # fmt: skip
    weights = model.get_weights()
    weights[-1][[PAD_ID, UNK_ID, START_ID]] -= 30.0  # the output layer's bias
    weights[-1][END_ID] -= 1.0
    weights[-2] *= 10.0  # sharper logits: the same argmax, wide margins between ties
    weights[-1] *= 10.0
    model.set_weights(weights)
    return model


def run_recorded(function, rows, max_length) -> dict:
    """Call ``function(model, src_ids, max_length)`` on a recording model."""
    import tensorflow as tf

    model = RecordingModel(tiny_model(), step_limit=STEP_LIMIT)
    try:
        out = function(model, tf.constant(SRC_IDS[rows]), max_length)
    except TooManySteps:
        return {"ran_past": True, "tokens": None, "steps": []}
    return {"ran_past": False, "tokens": out, "steps": model.steps,
            "compiled": model.compiled}  # fmt: skip


def _decode_variant(model, src_ids, max_length, *, feed_start=False, carry_state=True,
                    keep_end=True, argmax_axis=-1) -> np.ndarray:  # fmt: skip
    """Greedy decoding written plainly, with switches that replay known mistakes."""
    import tensorflow as tf

    values, state, keys, mask = model.encode(tf.constant(src_ids))
    initial, batch = state, src_ids.shape[0]
    token = np.full([batch], START_ID, np.int32)
    done = np.zeros(batch, bool)
    tokens = np.zeros((batch, max_length), np.int64)
    for t in range(max_length):
        logits, new_state, _ = model.decode_step(
            tf.constant(token), state, values, keys, mask
        )
        chosen = np.argmax(logits.numpy(), axis=argmax_axis).astype(np.int32)
        chosen = np.where(done, PAD_ID, chosen)  # (batch,)
        tokens[:, t] = chosen if keep_end else np.where(chosen == END_ID, 0, chosen)
        done = done | (chosen == END_ID)
        token = np.full([batch], START_ID, np.int32) if feed_start else chosen
        state = new_state if carry_state else initial
    return tokens


FEEDS_START = ("feeds [START] at every step: the token fed to the next step is "
               "[START] again, not the token just chosen.")  # fmt: skip
NOT_CARRIED = ("does not carry the state: every step gets the encoder's state "
               "again, not the state the step before returned.")  # fmt: skip
GREEDY_MISTAKES = {
    FEEDS_START: (dict(feed_start=True), (
        "What does the decoder need to know about the word it has just written?",
        "Each step's input token is the token chosen at the step before.")),
    NOT_CARRIED: (dict(carry_state=False), (
        "Where does the decoder remember what it has written so far?",
        "`model.decode_step` returns a new state: pass it to the next step.")),
    "takes the argmax over the batch axis (axis 0), not over the vocabulary.": (
        dict(argmax_axis=0), (
            "Which axis of `logits`, (batch, vocab), holds the scores of the tokens?",
            "Take the argmax over the last axis.")),
    "drops [END]: the output should keep each sequence's [END], then padding.": (
        dict(keep_end=False), ("Is [END] written into the output?",)),
}  # fmt: skip


@functools.lru_cache(maxsize=1)
def greedy_references() -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """``search.greedy_decode`` on the check's batch (up to ``REFERENCE_LENGTH``
    steps) and what each known mistake gives; a row with a smaller max_length
    is a prefix of these (rows are decoded independently)."""
    from s2s_helpers import search

    model = tiny_model()
    expected = search.greedy_decode(model, SRC_IDS, REFERENCE_LENGTH, compiled=False)
    mistakes = {
        message: _decode_variant(model, SRC_IDS, REFERENCE_LENGTH, **switches)
        for message, (switches, _) in GREEDY_MISTAKES.items()
    }
    return expected.tokens.astype(np.int64), mistakes


def row_tokens(row) -> list[int]:
    """One output row as the single-sentence decoder returns it (up to [END])."""
    out = []
    for token in (int(t) for t in row):
        if token == PAD_ID:
            break
        out.append(token)
        if token == END_ID:
            break
    return out


def _as_ids(value) -> np.ndarray:
    """A list of ids / scalar tensors, or a tensor, as a flat numpy array."""
    if isinstance(value, (list, tuple)):
        return np.array([to_numpy(v).reshape(()) for v in value]).reshape(-1)
    return to_numpy(value).reshape(-1)


def after_end(row) -> list[int]:
    """The tokens a row has after its first [END] ([] without an [END])."""
    row = [int(t) for t in row]
    return row[row.index(END_ID) + 1 :] if END_ID in row else []


# --- observations from a recorded run (7.1 and 7.2) -------------------------------


def diagnose_steps(name: str, steps: list, tokens: np.ndarray, padded: bool) -> None:
    """Fail on what the recorded decoder steps show, for rows still decoding.

    Args:
        steps: the recorded steps of one call.
        tokens: int `(batch, steps)`, the learner's output.
        padded: whether the source rows have padding (a mask matters).
    """
    if not steps or len(steps) > tokens.shape[1] + 1:
        return  # nothing recorded, or steps that do not line up with the output
    live = np.ones(tokens.shape[0], bool)
    for t, step in enumerate(steps):
        here = f"at step {t + 1}"
        if t == 0 and not np.all(step["fed"] == START_ID):
            fail(f"`{name}`: the first token fed to `model.decode_step` is not "
                 f"[START] (id {START_ID}).", [START_ID], step["fed"].tolist(),
                 hints=("What does every target sequence start with?",))  # fmt: skip
        if t > 0 and step["state"] != "previous":
            _fail_state(name, here, step["state"])
        if step["mask"] == "none" and padded:
            fail(f"`{name}`: `model.decode_step` gets no mask (mask=None) although "
                 "the source has padding: attention then also weighs the padding.",
                 hints=("Which of `model.encode`'s results says where the padding "
                        "is?", "Pass the encoder's mask to every step.",))  # fmt: skip
        if t > 0 and step["fed"].shape == live.shape:
            _expect_fed_back(name, here, step["fed"], tokens[:, t - 1], live)
        if t < tokens.shape[1] and step["argmax"].shape == live.shape:
            _expect_argmax(name, here, tokens[:, t], step["argmax"], live)
            live &= tokens[:, t] != END_ID


def _fail_state(name: str, here: str, source: str) -> None:
    if source == "encoder":
        fail(f"`{name}` {NOT_CARRIED} ({here})",
             hints=GREEDY_MISTAKES[NOT_CARRIED][1])  # fmt: skip
    fail(f"`{name}`: the state given to `model.decode_step` {here} is not the "
         "state the step before returned.",
         hints=("Each step continues from the state the step before returned.",))  # fmt: skip


def _expect_fed_back(name, here, fed, chosen, live) -> None:
    wrong = live & (fed != chosen)
    if not wrong.any():
        return
    if np.all(fed[live] == START_ID):
        fail(f"`{name}` {FEEDS_START} ({here})", hints=GREEDY_MISTAKES[FEEDS_START][1])
    row = int(np.argmax(wrong))
    fail(f"`{name}`: {here} the token fed to `model.decode_step` is not the token "
         f"chosen at the step before (row {row}).", int(chosen[row]), int(fed[row]),
         hints=GREEDY_MISTAKES[FEEDS_START][1])  # fmt: skip


def _expect_argmax(name, here, chosen, argmax, live) -> None:
    wrong = live & (chosen != argmax)
    if wrong.any():
        row = int(np.argmax(wrong))
        fail(f"`{name}`: {here} the token written to the output is not the most "
             f"likely token of the logits (their argmax over the vocabulary, row "
             f"{row}).", int(argmax[row]), int(chosen[row]),
             hints=("Greedy decoding takes the single most likely token each step.",
                    "`tf.argmax(logits, axis=-1)` over the vocabulary."))  # fmt: skip


def fail_ran_past(name: str, max_length: int) -> None:
    fail(f"`{name}` ignores max_length: with max_length={max_length} it kept calling "
         f"`model.decode_step` (the check stopped it after {STEP_LIMIT} steps).",
         hints=("How many tokens at most may the output have?",
                "Loop over `range(max_length)`; stop early at [END]."))  # fmt: skip


def fail_too_long(name: str, count: int, max_length: int) -> None:
    fail(f"`{name}` ignores max_length: it returned {count} tokens with "
         f"max_length={max_length}.", f"at most {max_length} tokens", count,
         hints=("How many tokens at most may the output have?",
                "Loop over `range(max_length)`; stop early at [END]."))  # fmt: skip


def fail_no_stop(name: str, where: str, tokens: list) -> None:
    fail(f"`{name}` does not stop at [END]: {where} continues after its [END] "
         f"(id {END_ID}) with tokens {tokens}.", "padding or nothing after [END]",
         tokens, hints=("What should happen once [END] is chosen?",
                        "Leave the loop (one sentence) or emit padding (a batch) "
                        "once [END] is chosen."))  # fmt: skip


# --- Exercise 7.1: greedy decoding of one sentence ------------------------------------


def _probe_greedy_one(greedy_translate) -> dict:
    cases = []
    for row, max_length in SINGLE_CASES:
        case = run_recorded(greedy_translate, [row], max_length)
        if case["tokens"] is not None:
            case["tokens"] = _as_ids(case["tokens"])
        cases.append(case)
    return {"cases": cases}


def _judge_greedy_one(obs: dict) -> str:
    name = "greedy_translate(model, src_ids, max_length)"
    expected_rows, _ = greedy_references()
    cases = list(zip(SINGLE_CASES, obs["cases"]))
    for (_, max_length), case in cases:
        if case["ran_past"]:
            fail_ran_past(name, max_length)
        if case["tokens"].dtype.kind not in "iu":
            fail(f"`{name}` should return token ids (integers).", "integers",
                 case["tokens"].dtype)  # fmt: skip
    for (row, max_length), case in cases:
        got = [int(t) for t in case["tokens"]]
        if got and got[0] == START_ID:
            fail(f"`{name}` returns [START] (id {START_ID}) as its first token: the "
                 "output holds only the tokens the decoder chose.",
                 hints=("Is [START] one of the decoder's choices?",))  # fmt: skip
        if after_end(got):
            fail_no_stop(
                name, f"sentence {row} (max_length={max_length})", after_end(got)
            )
        if len(got) > max_length:
            fail_too_long(name, len(got), max_length)
    _expect_no_known_single(name, cases)
    for (row, max_length), case in cases:
        expected = row_tokens(expected_rows[row][:max_length])
        got = [int(t) for t in case["tokens"]]
        if got != expected:
            _diagnose_one(name, row, max_length, case, got, expected)
    return (
        f"{len(cases)} sentences decoded like `search.greedy_decode`: state carried, "
        "each chosen token fed back, stopped right after [END] or at max_length."
    )


def _expect_no_known_single(name: str, cases: list) -> None:
    """Fail with a known mistake that gives exactly the outputs of every case."""
    expected_rows, mistakes = greedy_references()
    for message, (switches, hints) in GREEDY_MISTAKES.items():
        if "argmax_axis" in switches or "keep_end" in switches:
            continue  # a batch-wide mistake; [END] dropped is observed directly
        wrong = [
            row_tokens(mistakes[message][row][:length]) for (row, length), _ in cases
        ]
        right = [row_tokens(expected_rows[row][:length]) for (row, length), _ in cases]
        got = [[int(t) for t in case["tokens"]] for _, case in cases]
        if wrong == got and wrong != right:
            fail(f"`{name}` {message}", hints=hints)


def _diagnose_one(name, row, max_length, case, got, expected) -> None:
    """Fail for one sentence decoded wrongly, most specific observation first."""
    ran_end_step = not case["steps"] or len(case["steps"]) >= len(expected)
    if got == expected[:-1] and expected[-1] == END_ID and ran_end_step:
        fail(f"`{name}` drops [END]: the output should end with [END] (id {END_ID}) "
             "when the decoder chooses it.", expected, got,
             hints=("Is [END] appended before you leave the loop?",))  # fmt: skip
    padded = bool(np.any(SRC_IDS[row] == PAD_ID))
    tokens = np.array([got + [PAD_ID]], np.int64)
    diagnose_steps(name, case["steps"], tokens, padded)
    if len(got) < len(expected) and got == expected[: len(got)]:
        reason = ("its decoding chooses [END] later" if expected[-1] == END_ID
                  else "its decoding never chooses [END]")  # fmt: skip
        fail(f"`{name}` stops too early on sentence {row} (max_length={max_length}): "
             f"{reason}.", f"{len(expected)} tokens", f"{len(got)} tokens",
             hints=("Count the steps your loop runs.",
                    "`range(max_length)` runs exactly max_length steps."))  # fmt: skip
    step = next((t for t, (a, b) in enumerate(zip(got, expected)) if a != b), None)
    fail(f"`{name}` differs from the reference on sentence {row} (max_length="
         f"{max_length}) from token {min(len(got), len(expected)) if step is None else step}"
         " on.", expected, got)  # fmt: skip


check_greedy_translate = exercise(
    "7.1",
    "greedy_translate",
    arguments=("greedy_translate",),
    probe=_probe_greedy_one,
    judge=_judge_greedy_one,
    hints=(
        "Encode once, then loop: each step feeds the previous token and state to "
        "`model.decode_step` and keeps the most likely token.",
        "Start from `tf.constant([data.START_ID])`; each step returns logits and a "
        "new state: the argmax over the vocabulary is the next token, and both go "
        "into the next step. Stop after [END] or max_length steps.",
        "`values, state, keys, mask = model.encode(src_ids)`, `token = "
        "tf.constant([data.START_ID])`. In a loop of max_length steps: `logits, "
        "state, _ = model.decode_step(token, state, values, keys, mask)`, "
        "`token = tf.argmax(logits, axis=-1, output_type=tf.int32)`, append "
        "`int(token[0])`, and `break` once it is `data.END_ID`.",
    ),
    axes={"src_len": 6, "vocab": TGT_VOCAB, "units": UNITS},
)


# --- Exercise 7.2: batched greedy decoding --------------------------------------------


def _probe_greedy_batch(greedy_decode_batch) -> dict:
    cases = []
    for index, (rows, max_length) in enumerate(BATCH_CASES):
        try:
            case = run_recorded(greedy_decode_batch, rows, max_length)
        except NotImplementedError:
            raise
        except Exception as error:  # judged after the first batch, which may say why
            if index == 0:
                raise
            cases.append({"error": last_line(error)})
            continue
        if case["tokens"] is not None:
            case["tokens"] = to_numpy(case["tokens"])
        cases.append(case)
    return {"cases": cases}


def _judge_greedy_batch(obs: dict) -> str:
    name = "greedy_decode_batch(model, src_ids, max_length)"
    expected_rows, _ = greedy_references()
    judged = []  # (index, case, tokens, expected) of the batches decoded wrongly
    for index, ((rows, max_length), case) in enumerate(zip(BATCH_CASES, obs["cases"])):
        if case.get("error"):
            fail(f"`{name}` raised an error on a batch of {len(rows)} sentences with "
                 f"max_length={max_length}.", received=case["error"])  # fmt: skip
        if case["ran_past"]:
            fail_ran_past(name, max_length)
        tokens = _expect_batch_shape(name, case["tokens"], len(rows), max_length)
        if tokens.dtype.kind not in "iu":
            fail("`tokens` should hold token ids (integers).", "integers", tokens.dtype)
        expected = expected_rows[rows, :max_length]
        if not np.array_equal(tokens, expected):
            _expect_no_known_mistake(name, index, tokens, expected)
            judged.append((index, case, tokens, expected))
    for check in (_expect_stops, _expect_ends_once, _expect_no_early_padding):
        for index, _, tokens, _ in judged:
            rows, max_length = BATCH_CASES[index]
            check(
                name, tokens, f"of the batch of {len(rows)} (max_length={max_length})"
            )
    for index, case, tokens, expected in judged:
        rows, max_length = BATCH_CASES[index]
        padded = bool(np.any(SRC_IDS[rows] == PAD_ID))
        diagnose_steps(name, case["steps"], tokens, padded)
        differ = [int(r) for r in np.nonzero(np.any(tokens != expected, axis=1))[0]]
        fail(f"`{name}` differs from the reference `search.greedy_decode` in rows "
             f"{differ} (max_length={max_length}).", expected[differ[0]].tolist(),
             tokens[differ[0]].tolist())  # fmt: skip
    return (
        "batches of 8, 5 and 5 sentences decoded like `search.greedy_decode`: argmax "
        "over the vocabulary, state carried, [END] then padding, shape (batch, "
        "max_length), at most max_length steps."
    )


def _expect_batch_shape(name, value, batch: int, max_length: int) -> np.ndarray:
    tokens = expect_array("tokens", value)
    if tokens.shape == (max_length, batch) and max_length != batch:
        fail(f"`{name}` is time-major, (max_length, batch).",
             f"({batch}, {max_length}) (batch, max_length)", tokens.shape,
             hints=("Which axis do you stack the steps on?",
                    "Stack the steps on axis 1 (or transpose) to get (batch, "
                    "max_length)."))  # fmt: skip
    if tokens.ndim == 2 and tokens.shape[0] == batch:
        if tokens.shape[1] > max_length:
            fail_too_long(name, tokens.shape[1], max_length)
        if tokens.shape[1] < max_length and all(END_ID in row for row in tokens):
            fail(f"`{name}` stopped once every sequence had finished (good) but did "
                 "not pad to max_length: its shape would change from batch to batch.",
                 f"({batch}, {max_length}) (batch, max_length)", tokens.shape,
                 hints=("What shape does the exercise ask for?",
                        "Pad the steps with 0 up to max_length."))  # fmt: skip
    return expect_shape("tokens", tokens, (batch, max_length), "batch, max_length")


def _expect_no_known_mistake(name, index, tokens, expected) -> None:
    """Fail with the known mistake that gives exactly ``tokens``, if one does."""
    rows, max_length = BATCH_CASES[index]
    _, mistakes = greedy_references()
    for message, (switches, hints) in GREEDY_MISTAKES.items():
        if "argmax_axis" in switches and index != 0:
            continue  # that mistake depends on the whole batch
        wrong = mistakes[message][rows, :max_length]
        if not np.array_equal(wrong, expected) and np.array_equal(tokens, wrong):
            fail(f"`{name}` {message}", hints=hints)


def _expect_stops(name: str, tokens: np.ndarray, batch: str) -> None:
    """Fail if a row has tokens other than [END] or padding after its [END]."""
    for row, ids in enumerate(tokens.tolist()):
        if set(after_end(ids)) - {END_ID, PAD_ID}:
            fail_no_stop(name, f"row {row} {batch}", after_end(ids))


def _expect_ends_once(name: str, tokens: np.ndarray, batch: str) -> None:
    """Fail if a row has [END] again after its first [END]."""
    for row, ids in enumerate(tokens.tolist()):
        if END_ID in after_end(ids):
            fail(f"`{name}` writes [END] again after a sequence has finished (row "
                 f"{row} {batch}): after its first [END] a row holds padding (0).", None, ids,
                 hints=("What does a finished row emit?",))  # fmt: skip


def _expect_no_early_padding(name: str, tokens: np.ndarray, batch: str) -> None:
    """Fail if a row turns to padding before its [END]."""
    rows = tokens.tolist()
    first_pad = [ids.index(PAD_ID) if PAD_ID in ids else None for ids in rows]
    unfinished = [r for r, ids in enumerate(rows)
                  if first_pad[r] is not None and END_ID not in ids[: first_pad[r]]]  # fmt: skip
    if not unfinished:
        return
    ends = [ids.index(END_ID) for ids in rows if END_ID in ids]
    if {first_pad[r] for r in unfinished} == {min(ends, default=-2) + 1}:
        fail(f"`{name}` stops the whole batch as soon as *one* sequence emits "
             f"[END]: rows {unfinished} turn to padding without their [END].",
             hints=("When may the loop end early?",
                    "Leave the loop only when *every* row is done."))  # fmt: skip
    row = unfinished[0]
    fail(f"`{name}`: row {row} {batch} turns to padding at step {first_pad[row] + 1} without "
         "an [END] before it.", None, rows[row],
         hints=("Which rows may emit padding?",))  # fmt: skip


check_greedy_decode_batch = exercise(
    "7.2",
    "greedy_decode_batch",
    arguments=("greedy_decode_batch",),
    probe=_probe_greedy_batch,
    judge=_judge_greedy_batch,
    hints=(
        "It is 7.1 for every row at once; the new part is rows that finish at "
        "different steps.",
        "Keep a `done` mask, `(batch,)` booleans: a finished row emits padding (0) "
        "whatever the decoder chooses, and the loop may end once every row is done. "
        "Collect the steps as (batch, max_length), padded with 0.",
        "Like 7.1 with a `(batch,)` token and a `done` mask, `(batch,)` booleans. "
        "Each step: `chosen = tf.argmax(logits, axis=-1, output_type=tf.int32)`, "
        "`chosen = tf.where(done, 0, chosen)`, collect it, then `done = done | "
        "(chosen == data.END_ID)`. Stack the steps on axis 1 and pad to "
        "max_length with 0.",
    ),
    axes={"src_len": 6, "max_length": MAX_LENGTH, "units": UNITS},
)


# --- Exercise 7.3: one beam search step -----------------------------------------------


def _beam_cases() -> list[tuple[np.ndarray, np.ndarray]]:
    """(scores (batch, beam), log_probs (batch, beam, vocab)), no ties; the sizes
    differ within each case: (2, 3, 5), the first step (1, 4, 6), and (3, 2, 7)."""
    rng = np.random.default_rng(7)
    middle = np.array([[-0.4, -1.1, -2.3], [-0.2, -0.9, -3.0]], np.float32)
    middle_log_probs = log_softmax(rng.normal(0, 2.0, (2, 3, 5))).astype(np.float32)
    first = np.array([[0.0, -1e9, -1e9, -1e9]], np.float32)  # the first step
    first_log_probs = log_softmax(rng.normal(0, 2.0, (1, 4, 6))).astype(np.float32)
    late = np.array([[-3.1, -3.5], [-1.7, -4.2], [-6.0, -6.3]], np.float32)
    late_log_probs = log_softmax(rng.normal(0, 1.5, (3, 2, 7))).astype(np.float32)
    return [(middle, middle_log_probs), (first, first_log_probs),
            (late, late_log_probs)]  # fmt: skip


def beam_step_reference(scores: np.ndarray, log_probs: np.ndarray):
    """Numpy: the ``beam`` best (score, parent, token) of all beam x vocab choices."""
    batch, beam, vocab = log_probs.shape
    candidates = (scores[:, :, None] + log_probs).reshape(batch, beam * vocab)
    best = np.argsort(-candidates, axis=1, kind="stable")[:, :beam]  # (batch, beam)
    return np.take_along_axis(candidates, best, axis=1), best // vocab, best % vocab


def _top(candidates: np.ndarray, beam: int, vocab: int) -> tuple:
    """(scores, parents, tokens) of the ``beam`` best of flat (batch, beam * vocab)."""
    flat = candidates.reshape(candidates.shape[0], -1)
    best = np.argsort(-flat, axis=1, kind="stable")[:, :beam]
    return np.take_along_axis(flat, best, axis=1), best // vocab, best % vocab


def _beam_mistakes(scores, log_probs) -> dict[str, tuple]:
    batch, beam, vocab = log_probs.shape
    new, parent, token = beam_step_reference(scores, log_probs)
    best = parent * vocab + token
    per_beam = (scores + np.max(log_probs, axis=-1),
                np.tile(np.arange(beam), (batch, 1)), np.argmax(log_probs, axis=-1))  # fmt: skip
    return {
        "chooses per beam (the best token of each beam) instead of the best `beam` "
        "of all beam x vocab candidates.": per_beam,
        "swaps parents and tokens.": (new, token, parent),
        "splits the flat index with `beam` instead of `vocab`: the parents and "
        "tokens do not point back to the chosen candidates.": (
            new, best // beam, best % beam),
        "forgets the beams' scores: a candidate's score is the beam's score *plus* "
        "the token's log-probability.": _top(log_probs, beam, vocab),
        "adds a probability to a log-probability.": _top(
            scores[:, :, None] + np.exp(log_probs), beam, vocab),
        "adds probabilities: the score of a sequence is the *sum of its "
        "log-probabilities* (the log of the product of probabilities).": _top(
            np.exp(scores)[:, :, None] + np.exp(log_probs), beam, vocab),
    }  # fmt: skip


BEAM_HINTS = (
    "Every hypothesis can be extended by every token: how many candidates is that, "
    "and what is each one's score?",
    "A candidate's score is its hypothesis's score plus the token's "
    "log-probability; keep the `beam` best of all beam * vocab candidates, best "
    "first, and recover which hypothesis and token each one came from.",
)


def _probe_beam_step(beam_step) -> dict:
    import tensorflow as tf

    results = []
    for scores, log_probs in _beam_cases():
        out = beam_step(tf.constant(scores), tf.constant(log_probs))
        if not isinstance(out, (tuple, list)):
            return {"results": None, "returned": type(out).__name__}
        results.append([to_numpy(x) for x in out])
    return {"results": results, "returned": "tuple"}


def _same(a, b) -> bool:
    return np.allclose(a[0], b[0], rtol=1e-5, atol=1e-4) and all(
        np.array_equal(x, y) for x, y in zip(a[1:], b[1:])
    )


def _judge_beam_step(obs: dict) -> str:
    name = "beam_step(scores, log_probs)"
    if obs["results"] is None or any(len(r) != 3 for r in obs["results"]):
        fail(f"`{name}` should return three tensors: (new_scores, parents, tokens).",
             received=obs["returned"] if obs["results"] is None
             else f"{[len(r) for r in obs['results']]} values")  # fmt: skip
    for (scores, log_probs), result in zip(_beam_cases(), obs["results"]):
        batch, beam, _ = log_probs.shape
        got = [expect_shape(label, value, (batch, beam), "batch, beam")
               for label, value in zip(("new_scores", "parents", "tokens"), result)]  # fmt: skip
        for label, ids in (("parents", got[1]), ("tokens", got[2])):
            if ids.dtype.kind not in "iu":
                fail(f"`{label}` should be integer indices.", "integers", ids.dtype)
        got[0] = got[0].astype(np.float64)
        expected = beam_step_reference(scores, log_probs)
        if _same(got, expected):
            continue
        for message, wrong in _beam_mistakes(scores, log_probs).items():
            if not _same(wrong, expected) and _same(got, wrong):
                raise CheckFailed(f"`{name}` {message}", BEAM_HINTS)
        _expect_beam_properties(name, scores, log_probs, *got)
        fail(f"`{name}` differs from the reference for scores {scores.tolist()}.",
             f"scores {np.round(expected[0], 3).tolist()}, parents "
             f"{expected[1].tolist()}, tokens {expected[2].tolist()}",
             f"scores {np.round(got[0], 3).tolist()}, parents {got[1].tolist()}, "
             f"tokens {got[2].tolist()}")  # fmt: skip
    return (
        "the best `beam` of all beam x vocab candidates by summed log-probability, "
        "best first, with the right parents and tokens (also at the first step)."
    )


def _expect_beam_properties(name, scores, log_probs, new, parents, tokens) -> None:
    """Fail on the first property of a beam step that ``new, parents, tokens`` lack."""
    batch, beam, vocab = log_probs.shape
    for ids, label, size, axis in ((parents, "parents", beam, "beam"),
                                   (tokens, "tokens", vocab, "vocab")):  # fmt: skip
        if ids.min() < 0 or ids.max() >= size:
            fail(f"`{label}` holds values outside 0..{size - 1}: it indexes the "
                 f"{axis} axis, of size {size}.", f"0..{size - 1}", ids.tolist(),
                 hints=BEAM_HINTS)  # fmt: skip
    rows = np.arange(batch)[:, None]
    sums = scores[rows, parents] + log_probs[rows, parents, tokens]
    alone = log_probs[rows, parents, tokens]
    if not np.allclose(new, sums, rtol=1e-5, atol=1e-4) and np.allclose(new, alone):
        fail(f"`{name}`: new_scores are the tokens' log-probabilities alone, without "
             "their parent's score.", np.round(sums, 3).tolist(),
             np.round(new, 3).tolist(), hints=BEAM_HINTS)  # fmt: skip
    if not np.allclose(new, sums, rtol=1e-5, atol=1e-4):
        fail(f"`{name}`: new_scores are not sums of log-probabilities: each should be "
             "its parent's score plus its token's log-probability, "
             "scores[b, parent] + log_probs[b, parent, token].",
             np.round(sums, 3).tolist(), np.round(new, 3).tolist(),
             hints=BEAM_HINTS)  # fmt: skip
    if np.any(np.diff(new, axis=1) > 1e-6):
        fail(f"`{name}` finds candidates but not best first: new_scores should "
             "decrease along the beam axis.", None, np.round(new, 3).tolist(),
             hints=("In which order does the exercise ask for the beam?",))  # fmt: skip
    pairs = [set(zip(p, t)) for p, t in zip(parents.tolist(), tokens.tolist())]
    if any(len(pair) < beam for pair in pairs):
        fail(f"`{name}` keeps the same (parent, token) candidate twice.", None,
             list(zip(parents.tolist(), tokens.tolist())), hints=BEAM_HINTS)  # fmt: skip
    best_scores, best_parents, best_tokens = beam_step_reference(scores, log_probs)
    for row in range(batch):
        missing = [(s, p, t) for s, p, t in zip(best_scores[row], best_parents[row],
                   best_tokens[row]) if (p, t) not in pairs[row]]  # fmt: skip
        if missing and missing[0][0] > new[row].min() + 1e-4:
            score, parent, token = missing[0]
            fail(f"`{name}` leaves out a better candidate: in row {row}, (parent "
                 f"{parent}, token {token}) scores {score:.3f}, more than the "
                 f"beam's lowest, {new[row].min():.3f}.", hints=BEAM_HINTS)  # fmt: skip


check_beam_step = exercise(
    "7.3",
    "beam_step",
    arguments=("beam_step",),
    probe=_probe_beam_step,
    judge=_judge_beam_step,
    hints=(
        *BEAM_HINTS,
        "`candidates = scores[:, :, None] + log_probs` is (batch, beam, vocab); "
        "reshape it to (batch, beam * vocab), take `tf.math.top_k(candidates, "
        "k=beam)`; its indices give `parents = index // vocab` and `tokens = "
        "index % vocab`.",
    ),
    axes={"batch": 2, "beam": 3, "vocab": 5, "beam * vocab": 15},
)
