"""The course's running example end to end: train a date normaliser and show it.

``train_date_translator`` is the recipe every lesson can reuse to get a trained
model in seconds; ``run`` is what ``s2s-course demo`` prints and draws.

Taught in: lessons/00_orientation.ipynb, lessons/07_inference.ipynb
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from s2s_helpers import dates, metrics, search, seq2seq, training
from s2s_helpers.translator import Translator


@dataclass
class DateRun:
    """A trained date model with its data and what training took."""

    translator: Translator
    trainer: training.Trainer
    train_pairs: list
    test_pairs: list
    seconds: float


def date_exact_match(translator: Translator, pairs, batch_size: int = 1000) -> float:
    """Held-out exact match of batched greedy decoding on (written, iso) pairs."""
    predictions = []
    for start in range(0, len(pairs), batch_size):
        chunk = pairs[start : start + batch_size]
        src_ids, _ = translator.prepare([src for src, _ in chunk])
        result = search.greedy_decode(translator.model, src_ids, translator.max_tgt_len)
        vocab = translator.tgt_vocab
        predictions += [vocab.join(vocab.decode(row)) for row in result.tokens]
    return metrics.exact_match(predictions, [tgt for _, tgt in pairs])


def train_date_translator(
    train_size: int = 20000,
    test_size: int = 1000,
    epochs: int = 3,
    target_exact_match: float | None = 0.995,
    embedding_dim: int = 32,
    units: int = 64,
    batch_size: int = 64,
    seed: int = 0,
    verbose: int = 1,
    jit_compile: bool = True,
) -> DateRun:
    """Train the reference model on generated dates.

    Stops early once exact match on a separate validation set (500 dates,
    never the test set) reaches ``target_exact_match``. ``jit_compile=False``
    skips XLA: slower steps, but no compile time, better for very short runs.
    """
    import keras

    keras.utils.set_random_seed(seed)
    task = dates.date_task(train_size, val_size=500, test_size=test_size, seed=seed)
    dataset = task.dataset(
        task.train_pairs, batch_size, shuffle=True, seed=seed, drop_remainder=True
    )
    model = seq2seq.Seq2Seq(
        task.src_vocab.size, task.tgt_vocab.size, embedding_dim, units
    )
    translator = Translator(
        model, task.src_vocab, task.tgt_vocab, task.max_src_len, task.max_tgt_len
    )
    trainer = training.Trainer(model, "adam", seed=seed, jit_compile=jit_compile)
    started = time.perf_counter()
    for epoch in range(1, epochs + 1):
        trainer.fit(dataset, epoch, verbose=verbose)
        accuracy = date_exact_match(translator, task.val_pairs)
        trainer.history.setdefault("val_exact_match", []).append(accuracy)
        if verbose:
            print(f"  validation exact match: {accuracy:.4f}")
        if target_exact_match is not None and accuracy >= target_exact_match:
            break
    seconds = time.perf_counter() - started
    return DateRun(translator, trainer, task.train_pairs, task.test_pairs, seconds)


def run(out_dir: str | Path = "demo_output", quick: bool = False) -> float:
    """Train, report held-out exact match and a few translations, save a heatmap.

    Returns:
        the held-out exact match on 1,000 unseen dates.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    result = train_date_translator(
        train_size=5000 if quick else 20000, epochs=2 if quick else 3
    )
    score = date_exact_match(result.translator, result.test_pairs)
    print(f"\nTrained in {result.seconds:.1f} s.")
    print(f"Held-out exact match on {len(result.test_pairs)} unseen dates: {score:.4f}")
    examples = [src for src, _ in result.test_pairs[:4]] + [
        "samedi 12 avril 2098",
        "Apr 20, 2011",
    ]
    translations = result.translator.translate(examples)
    for translation in translations:
        print(" ", translation)
    result.translator.plot(translations[-2])
    path = out_dir / "attention.png"
    plt.tight_layout()
    plt.savefig(path, dpi=120)
    print(f"Attention heatmap saved to {path}")
    return score
