"""Tests for s2s_helpers.dates: the generated date task and its shared recipe."""

import datetime

import numpy as np
import pytest

from s2s_helpers import data, dates


@pytest.fixture(scope="module")
def task():
    return dates.date_task(300, val_size=50, test_size=70, seed=2)


def test_generate_dates_seeded_valid_and_unambiguous():
    pairs = dates.generate_dates(3000, seed=7)
    assert pairs == dates.generate_dates(3000, seed=7)
    assert pairs != dates.generate_dates(3000, seed=8)
    readings = {}
    for written, iso in pairs:
        datetime.date.fromisoformat(iso)  # a real date
        readings.setdefault(data.normalize(written), set()).add(iso)
    assert all(len(isos) == 1 for isos in readings.values()), (
        "a written date has two readings"
    )
    assert any("avril" in w for w, _ in pairs) and any("April" in w for w, _ in pairs)


def test_date_patterns_always_spell_the_month():
    for locale in dates.DATE_LOCALES:
        patterns = dates._date_patterns(locale)
        assert patterns and all("MMM" in p for p in patterns)


def test_date_splits_do_not_overlap():
    train, held = dates.date_splits(500, 200, seed=1)
    assert len(held) == 200
    assert not {s for s, _ in train} & {s for s, _ in held}


def test_date_task_sets_are_sized_and_never_share_a_written_date(task):
    sizes = len(task.train_pairs), len(task.val_pairs), len(task.test_pairs)
    assert sizes == (300, 50, 70)
    train, val, test = (
        {written for written, _ in pairs}
        for pairs in (task.train_pairs, task.val_pairs, task.test_pairs)
    )
    assert not train & val and not train & test and not val & test
    assert len(val) == 50 and len(test) == 70  # no date twice in a held-out set
    assert task.train_pairs == dates.generate_dates(300, seed=2)


def test_date_task_vocabularies_come_from_the_training_dates_only(task):
    characters = {
        ch for written, _ in task.train_pairs for ch in data.normalize(written)
    }
    assert set(task.src_vocab.tokens) == characters
    assert task.tgt_vocab.tokens == list("0123456789-")


def test_date_task_encodes_to_fixed_lengths_that_decode_back(task):
    src_ids, tgt_in_ids, tgt_out_ids = task.encode(task.test_pairs)
    assert (task.max_src_len, task.max_tgt_len) == (40, 11)
    assert src_ids.shape == (70, 40) and tgt_in_ids.shape == tgt_out_ids.shape == (
        70,
        11,
    )
    vocab = task.tgt_vocab
    decoded = [vocab.join(vocab.decode(row)) for row in tgt_out_ids]
    assert decoded == [iso for _, iso in task.test_pairs]
    assert (tgt_in_ids[:, 0] == data.START_ID).all()


def test_date_task_dataset_batches_the_given_pairs(task):
    dataset = task.dataset(task.train_pairs, 32, shuffle=True, drop_remainder=True)
    assert int(dataset.cardinality()) == 300 // 32
    (src, tgt_in), tgt_out = next(iter(dataset))
    assert src.shape == (32, 40) and tgt_in.shape == tgt_out.shape == (32, 11)
    rows = np.concatenate(
        [batch[0][0].numpy() for batch in task.dataset(task.val_pairs, 64)]
    )
    np.testing.assert_array_equal(rows, task.encode(task.val_pairs)[0])  # in order


def test_date_task_without_a_test_set_and_with_bad_sizes():
    task = dates.date_task(100, val_size=20, seed=0)
    assert len(task.val_pairs) == 20 and task.test_pairs == []
    with pytest.raises(ValueError, match="Sizes must be >= 0, received train_size=100"):
        dates.date_task(100, val_size=-1)
