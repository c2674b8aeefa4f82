"""Translate and inspect: what the decoder emitted, how sure it was, where it looked.

``inspect_translation`` turns one sentence into plain data (lists, floats and
one array) that a widget, a static report or a test can read: the input and
output tokens, the attention map cut to the real tokens, one ``Step`` per
emitted token (its probability, the top-k alternatives, its attention row)
and the beam's hypotheses with their scores.

How the per-step probabilities are found: greedy decoding feeds the model its
own previous token, so feeding the greedy output back, shifted right behind
``[START]`` (teacher forcing on the model's own tokens, lesson 07), gives the
distribution the decoder had at every step in one call. As in ``search``,
padding, ``[START]`` and ``[UNK]`` are never emitted, so probabilities are
over the other tokens.

The beam's hypotheses are those of ``search.beam_hypotheses``, the compiled
search whose best hypothesis ``search.beam_search`` returns (summed
log-probabilities, finished hypotheses kept in the beam, the GNMT length
penalty for the final ranking): every hypothesis it kept, not only the best.

Taught in: lessons/07_inference.ipynb, lessons/08_translation.ipynb
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from s2s_helpers import search
from s2s_helpers.attention import NEG_INF
from s2s_helpers.data import START_ID
from s2s_helpers.search import FORBIDDEN_IDS

TOP_K = 5
BEAM_WIDTH = 4
LENGTH_PENALTY = 0.6  # search.beam_search's default


@dataclass
class Step:
    """One step of the greedy output.

    Attributes:
        index: the step, 0 for the first output token.
        token: the token emitted at this step.
        probability: its probability.
        alternatives: the top-k ``(token, probability)`` pairs, most likely
            first (the emitted token is the first).
        attention: `(src_len,)` where this step looked, one weight per input token.
    """

    index: int
    token: str
    probability: float
    alternatives: list[tuple[str, float]]
    attention: np.ndarray


@dataclass
class Hypothesis:
    """One output the beam kept.

    Attributes:
        tokens: the emitted tokens, ``[END]`` included when produced.
        text: the output text (without ``[END]``).
        log_probability: the sum of the tokens' log-probabilities.
        score: ``log_probability / length_penalty(len(tokens))``, what ranks them.
        finished: the hypothesis ended with ``[END]``.
    """

    tokens: list[str]
    text: str
    log_probability: float
    score: float
    finished: bool


@dataclass
class Inspection:
    """Everything shown about one translated sentence.

    Attributes:
        source: the sentence as typed.
        text: the greedy translation.
        src_tokens: the tokens the model saw (unknown ones as ``word[UNK]``).
        output_tokens: the greedy output tokens, ``[END]`` included when produced.
        attention: `(tgt_len, src_len)` weights, one row per output token and
            one column per input token (no padding).
        steps: one ``Step`` per output token.
        hypotheses: the beam's hypotheses, best score first (the beam's choice).
        warnings: the translator's notes (unknown words, truncation, length limit).
    """

    source: str
    text: str
    src_tokens: list[str]
    output_tokens: list[str]
    attention: np.ndarray
    steps: list[Step]
    hypotheses: list[Hypothesis] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def inspect_translation(
    translator,
    text: str,
    top_k: int = TOP_K,
    beam_width: int = BEAM_WIDTH,
    length_penalty: float = LENGTH_PENALTY,
) -> Inspection:
    """Translate one sentence and collect what the decoder did at each step.

    Args:
        translator: a ``translator.Translator``.
        text: one sentence.
        top_k: alternatives listed per step.
        beam_width: hypotheses kept by the beam (0: no beam search).
        length_penalty: the GNMT exponent used to rank the beam's hypotheses.

    Returns:
        an ``Inspection``.

    Raises:
        TypeError: ``text`` is not a string.
        ValueError: ``text`` has no tokens, or ``top_k`` / ``beam_width`` is invalid.
    """
    _validate(translator, text, top_k, beam_width)
    translation = translator.translate(text)
    src_ids, _ = translator.prepare([text])  # (1, max_src_len)
    output_ids = translator.tgt_vocab.encode(translation.output_tokens)
    log_probs = step_log_probabilities(translator.model, src_ids, output_ids)
    steps = [
        _step(t, translator.tgt_vocab, log_probs[t], translation.attention[t], top_k)
        for t in range(len(output_ids))
    ]
    hypotheses = (
        beam_hypotheses(translator, src_ids, beam_width, length_penalty)
        if beam_width
        else []
    )
    return Inspection(
        source=text,
        text=translation.text,
        src_tokens=list(translation.src_tokens),
        output_tokens=list(translation.output_tokens),
        attention=np.asarray(translation.attention),
        steps=steps,
        hypotheses=hypotheses,
        warnings=list(translation.warnings),
    )


def _validate(translator, text, top_k: int, beam_width: int) -> None:
    if not isinstance(text, str):
        raise TypeError(
            f"inspect_translation expects one sentence as a string; received "
            f"{type(text).__name__}. For several sentences, call it once for each."
        )
    if not translator.src_vocab.tokenize(text):
        raise ValueError(
            f"Nothing to translate: {text!r} has no words after normalisation. "
            "Type a sentence of at least one word."
        )
    if int(top_k) < 1:
        raise ValueError(f"top_k must be >= 1; received {top_k}.")
    if int(beam_width) < 0:
        raise ValueError(
            f"beam_width must be >= 0 (0: no beam); received {beam_width}."
        )


def allowed_log_probabilities(logits) -> np.ndarray:
    """Log-softmax over the tokens a search may emit (never padding, START, UNK).

    Args:
        logits: `(..., vocab)`.

    Returns:
        `(..., vocab)` log-probabilities, ``-inf`` for the forbidden ids.
    """
    logits = np.array(logits, dtype=np.float64)
    logits[..., list(FORBIDDEN_IDS)] = -np.inf
    shifted = logits - logits.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def step_log_probabilities(model, src_ids, output_ids) -> np.ndarray:
    """The decoder's distribution at each step of a given output, in one call.

    Args:
        model: a ``Seq2Seq``.
        src_ids: int `(1, src_len)`.
        output_ids: the emitted ids, ``[END]`` included when produced.

    Returns:
        `(tgt_len, vocab)` log-probabilities, row t the distribution of step t.
    """
    tgt_in_ids = np.array([[START_ID, *output_ids[:-1]]], np.int32)  # (1, tgt_len)
    logits = model((np.asarray(src_ids, np.int32), tgt_in_ids), training=False)
    return allowed_log_probabilities(np.asarray(logits)[0])


def _step(index, vocab, log_probs, attention, top_k) -> Step:
    probabilities = np.exp(log_probs)  # (vocab,)
    best = np.argsort(-probabilities, kind="stable")[:top_k]
    alternatives = [
        (vocab.decode([i], strip=False)[0], float(probabilities[i])) for i in best
    ]
    token, probability = alternatives[0]
    return Step(index, token, probability, alternatives, np.asarray(attention))


def beam_hypotheses(
    translator,
    src_ids,
    beam_width: int = BEAM_WIDTH,
    length_penalty: float = LENGTH_PENALTY,
) -> list[Hypothesis]:
    """Every hypothesis a beam of ``beam_width`` keeps, best normalised score first.

    Args:
        translator: a ``translator.Translator``.
        src_ids: int `(1, src_len)`, one sentence (``translator.prepare``).
        beam_width: hypotheses kept at every step.
        length_penalty: the GNMT exponent for the final ranking.

    Returns:
        up to ``beam_width`` ``Hypothesis``, sorted by ``score``, highest first.
    """
    found = search.beam_hypotheses(
        translator.model, src_ids, translator.max_tgt_len, beam_width, length_penalty
    )
    vocab = translator.tgt_vocab
    rows = zip(found.tokens[0], found.log_probabilities[0], found.scores[0],
               found.lengths[0], found.finished[0])  # fmt: skip
    return [
        Hypothesis(
            tokens=vocab.decode(ids[:length].tolist(), strip=False),
            text=vocab.join(vocab.decode(ids[:length].tolist())),
            log_probability=float(total),
            score=float(score),
            finished=bool(finished),
        )
        for ids, total, score, length, finished in rows
        if total > NEG_INF / 2  # a slot the beam never filled
    ]
