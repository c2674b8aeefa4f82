"""Evaluation metrics: exact match, token accuracy, BLEU, chrF, CER and WER.

BLEU and chrF come from sacrebleu (comparable, standard tokenisation); CER and
WER from jiwer. Predictions and references are plain strings.

Taught in: lessons/07_inference.ipynb
"""

from __future__ import annotations

import re
from typing import Sequence

import numpy as np


def _check_lengths(predictions: Sequence, references: Sequence) -> None:
    if len(predictions) != len(references):
        raise ValueError(
            f"Need one reference per prediction: received {len(predictions)} "
            f"predictions and {len(references)} references."
        )
    if not predictions:
        raise ValueError("Cannot score an empty list of predictions.")


def exact_match(predictions: Sequence[str], references: Sequence[str]) -> float:
    """Fraction of predictions identical to their reference (after stripping spaces)."""
    _check_lengths(predictions, references)
    return float(
        np.mean([p.strip() == r.strip() for p, r in zip(predictions, references)])
    )


def token_accuracy(
    predictions: Sequence[Sequence], references: Sequence[Sequence]
) -> float:
    """Fraction of reference tokens predicted at the same position.

    A prediction shorter than its reference counts its missing tokens wrong.
    """
    _check_lengths(predictions, references)
    correct = total = 0
    for predicted, reference in zip(predictions, references):
        correct += sum(p == r for p, r in zip(predicted, reference))
        total += len(reference)
    return correct / max(total, 1)


def corpus_bleu(predictions: Sequence[str], references: Sequence[str]) -> float:
    """Corpus BLEU (0-100) with sacrebleu's default 13a tokenisation."""
    import sacrebleu

    _check_lengths(predictions, references)
    return float(sacrebleu.corpus_bleu(list(predictions), [list(references)]).score)


def corpus_chrf(predictions: Sequence[str], references: Sequence[str]) -> float:
    """Corpus chrF (0-100): character n-gram F-score, robust for small data."""
    import sacrebleu

    _check_lengths(predictions, references)
    return float(sacrebleu.corpus_chrf(list(predictions), [list(references)]).score)


def character_error_rate(
    predictions: Sequence[str], references: Sequence[str]
) -> float:
    """CER: character edit distance / reference characters (jiwer)."""
    import jiwer

    _check_lengths(predictions, references)
    return float(jiwer.cer(list(references), list(predictions)))


def word_error_rate(predictions: Sequence[str], references: Sequence[str]) -> float:
    """WER: word edit distance / reference words (jiwer)."""
    import jiwer

    _check_lengths(predictions, references)
    return float(jiwer.wer(list(references), list(predictions)))


_SPACE_BEFORE = re.compile(r" ([?.!,;:)])")
_SPACE_AFTER = re.compile(r"([(]) ")


def detokenize(text: str) -> str:
    """Undo the punctuation spacing of ``data.normalize``: ``"luz ."`` -> ``"luz."``.

    sacrebleu expects detokenised text (it tokenises itself with 13a) and warns
    on stderr when many lines end in a spaced-out period; 13a splits these ASCII
    marks off again, so BLEU does not change. ``¿`` and ``¡`` stay spaced: 13a
    would not split them off again.
    """
    return _SPACE_AFTER.sub(r"\1", _SPACE_BEFORE.sub(r"\1", text))


def distinct_n(texts: Sequence[str], n: int) -> float:
    """Distinct-n (Li et al. 2016): distinct n-grams / all n-grams of ``texts``.

    N-grams of whitespace tokens are taken inside each text, never across two,
    and pooled over all texts. A chatbot that gives the same reply to every
    prompt scores low; 0.0 when no text has ``n`` tokens.
    """
    if n < 1:
        raise ValueError(f"n must be >= 1, received {n}.")
    grams = []
    for text in texts:
        tokens = text.split()
        grams += [tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1)]
    return len(set(grams)) / len(grams) if grams else 0.0
