"""Shared fixtures: small models and data, built fresh and fast."""

import json
import os

os.environ.setdefault("S2S_QUICK", "1")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

import s2s_helpers  # noqa: E402,F401  (quiet TensorFlow first)
from s2s_helpers import dates, seq2seq  # noqa: E402


@pytest.fixture
def tiny_model():
    """An untrained model: 20 source ids, 12 target ids, small layers."""
    import keras

    keras.utils.set_random_seed(1)
    model = seq2seq.Seq2Seq(20, 12, embedding_dim=8, units=16, attention_units=10)
    model((np.ones((1, 5), np.int32), np.ones((1, 4), np.int32)))
    return model


@pytest.fixture
def src_ids():
    """Two source rows with padding: `(batch=2, src_len=5)`."""
    return np.array([[4, 5, 6, 7, 0], [8, 9, 0, 0, 0]], np.int32)


@pytest.fixture(scope="session")
def date_arrays():
    """Small date-task arrays and vocabularies (2,000 train, 200 held out)."""
    task = dates.date_task(2000, val_size=200, seed=3)
    train_arrays = task.encode(task.train_pairs)
    held_arrays = task.encode(task.val_pairs)
    return task.src_vocab, task.tgt_vocab, train_arrays, held_arrays, task.val_pairs


# --- a summary of how the checks' tests diagnosed their wrong answers -----------


def pytest_configure(config):
    """Start a fresh diagnosis log (in the main process only, not in xdist workers)."""
    if not hasattr(config, "workerinput"):
        import shutil

        from checktools import LOG_DIR

        shutil.rmtree(LOG_DIR, ignore_errors=True)


def pytest_terminal_summary(terminalreporter):
    """Print: wrong answers in the checks' tests, caught, and how."""
    from checktools import LOG_DIR

    records = []
    for path in sorted(LOG_DIR.glob("*.jsonl")):
        records += [json.loads(line) for line in path.read_text().splitlines()]
    if not records:
        return
    wrong = [r for r in records if r["wrong"]]
    counts = {
        kind: sum(r["kind"] == kind for r in wrong)
        for kind in ("named", "error", "generic", "missed")
    }
    unusual = [r for r in records if not r["wrong"]]
    caught = len(wrong) - counts["missed"]
    specific = counts["named"] + counts["error"]
    terminalreporter.write_sep("-", "exercise checks: diagnosis of wrong answers")
    terminalreporter.write_line(
        f"{len(wrong)} wrong answers in the checks' tests: {caught} caught; "
        f"{specific} ({specific / max(len(wrong), 1):.0%}) with a property or named "
        f"message ({counts['named']} named or observed, {counts['error']} errors "
        f"shown in plain words with the learner's line), {counts['generic']} with a "
        f"generic message, {counts['missed']} missed."
    )
    terminalreporter.write_line(
        f"{len(unusual)} correct but unusually written answers: "
        f"{sum(r['kind'] == 'passed' for r in unusual)} passed."
    )
