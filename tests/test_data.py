import numpy as np
import pytest

from s2s_helpers import data


def test_normalize_nfkd_accents_case_punctuation():
    assert data.normalize("¿Todavía está en casa?") == "¿ todavia esta en casa ?"
    assert data.normalize("  Ｆｕｌｌ-width  ") == "full-width"  # NFKD folds full width
    assert data.normalize("Élan,vital!") == "elan , vital !"
    with pytest.raises(TypeError, match="expects a str"):
        data.normalize(None)


def test_special_tokens_defined_once_with_fixed_ids():
    vocab = data.Vocabulary(["a", "b"])
    assert vocab.encode([data.UNK, data.START, data.END]) == [1, 2, 3]
    assert data.PAD_ID == 0 and vocab.size == 6
    assert vocab.lookup.get_vocabulary()[:4] == ["", data.UNK, data.START, data.END]
    with pytest.raises(ValueError, match="special tokens"):
        data.Vocabulary(["[UNK]", "x"])


def test_vocabulary_matches_string_lookup_and_maps_unknown_to_unk():
    vocab = data.Vocabulary.build(["the cat sat", "the dog"], level="word")
    assert vocab.tokens[0] == "the"  # most frequent first
    ids = vocab.encode(vocab.tokenize("The zebra sat"))
    assert ids[1] == data.UNK_ID
    keras_ids = vocab.lookup(np.array(["the", "zebra", "sat"])).numpy().tolist()
    assert ids == keras_ids
    assert vocab.decode(ids + [data.END_ID, 5]) == ["the", data.UNK, "sat"]


def test_vocabulary_char_level_and_roundtrip(tmp_path):
    vocab = data.Vocabulary.build(["abc ab"], level="char", max_tokens=6)
    assert len(vocab.tokens) == 2  # 6 ids minus the 4 special ones
    vocab.save(tmp_path / "v.json")
    again = data.Vocabulary.load(tmp_path / "v.json")
    assert again.tokens == vocab.tokens and again.level == "char"
    assert vocab.join(["a", " ", "b"]) == "a b"


def test_encode_pairs_teacher_forcing_shift(date_arrays):
    src_vocab, tgt_vocab, (src, tgt_in, tgt_out), _, _ = date_arrays
    assert src.shape[1] == 40 and tgt_in.shape == tgt_out.shape == (src.shape[0], 11)
    assert (tgt_in[:, 0] == data.START_ID).all()
    np.testing.assert_array_equal(tgt_in[:, 1:11], tgt_out[:, 0:10])
    assert (tgt_out[:, 10] == data.END_ID).all()  # 10 characters then [END]
    assert data.START_ID not in tgt_out and data.END_ID not in tgt_in


def test_encode_pairs_truncates_and_pads():
    vocab = data.Vocabulary(list("abc"), level="char", standardize=False)
    src, tgt_in, tgt_out = data.encode_pairs([("abcabc", "ab")], vocab, vocab, 4, 5)
    assert src.tolist() == [[4, 5, 6, 4]]
    assert tgt_in.tolist() == [[2, 4, 5, 0, 0]] and tgt_out.tolist() == [
        [4, 5, 3, 0, 0]
    ]


def test_make_dataset_batches(date_arrays):
    _, _, arrays, _, _ = date_arrays
    dataset = data.make_dataset(arrays, 64, shuffle=True, drop_remainder=True)
    (src, tgt_in), tgt_out = next(iter(dataset))
    assert src.shape == (64, 40) and tgt_in.shape == tgt_out.shape == (64, 11)
    assert int(dataset.cardinality()) == len(arrays[0]) // 64


@pytest.mark.parametrize("drop_remainder", [False, True])
def test_buckets_cut_only_padding_and_keep_every_example(date_arrays, drop_remainder):
    _, _, arrays, _, _ = date_arrays
    arrays = tuple(array[:700] for array in arrays)
    lengths = data.source_lengths(arrays[0]).numpy()
    assert 0 < (lengths <= 16).sum() < len(lengths)  # more than one bucket is used
    dataset = data.make_dataset(
        arrays, 64, shuffle=True, drop_remainder=drop_remainder, buckets=(16, 24)
    )
    rows, batches = [], 0
    for (src, tgt_in), tgt_out in dataset:
        batches += 1
        width = src.shape[1]
        longest = int(np.max(data.source_lengths(src)))
        assert width == min(b for b in (16, 24, 40) if b >= longest)
        assert not drop_remainder or len(src) == 64
        src = np.pad(src.numpy(), [[0, 0], [0, 40 - width]])
        rows += [
            np.concatenate(row) for row in zip(src, tgt_in.numpy(), tgt_out.numpy())
        ]
    assert batches == int(dataset.cardinality())  # stated exactly, not UNKNOWN
    expected = sorted(map(tuple, np.concatenate(arrays, axis=1)))
    if drop_remainder:  # whole batches only, each row at most once
        assert set(map(tuple, rows)) <= set(expected) and len(rows) == 64 * batches
        assert len(set(map(tuple, rows))) == len(rows)
    else:
        assert sorted(map(tuple, rows)) == expected


def test_bucket_errors_say_what_was_expected(date_arrays):
    _, _, (src, tgt_in, tgt_out), _, _ = date_arrays
    with pytest.raises(ValueError, match="positive integers, received \\[0, 16\\]"):
        data.make_dataset((src, tgt_in, tgt_out), 64, buckets=(0, 16))
    features = np.zeros((len(src), 40, 3), np.float32)
    with pytest.raises(ValueError, match="integer source ids of shape"):
        data.make_dataset((features, tgt_in, tgt_out), 64, buckets=(16,))


def test_source_lengths_count_to_the_last_real_id():
    ids = np.array([[5, 6, 0, 0], [5, 0, 7, 0], [0, 0, 0, 0], [1, 2, 3, 4]])
    assert data.source_lengths(ids).numpy().tolist() == [2, 3, 0, 4]


def test_running_counts_count_the_ones_so_far_mod_10():
    pairs = data.generate_running_counts(50, length=30, seed=3)
    assert len(pairs) == 50 and pairs == data.generate_running_counts(50, 30, seed=3)
    assert pairs != data.generate_running_counts(50, 30, seed=4)
    for bits, counts in pairs:
        assert len(bits) == len(counts) == 30 and set(bits) <= {"0", "1"}
        for t, digit in enumerate(counts):
            assert int(digit) == bits[: t + 1].count("1") % 10
    assert any(bits.count("1") >= 10 for bits, _ in pairs)  # the count wraps around


def test_running_counts_encode_with_the_digit_vocabulary():
    vocab = data.digit_vocabulary()
    pairs = data.generate_running_counts(4, length=6, seed=0)
    src_ids, tgt_in_ids, tgt_out_ids = data.encode_pairs(pairs, vocab, vocab, 6, 7)
    assert src_ids.shape == (4, 6) and tgt_out_ids.shape == (4, 7)
    assert (src_ids != data.PAD_ID).all() and (tgt_out_ids[:, -1] == data.END_ID).all()
    assert vocab.join(vocab.decode(tgt_out_ids[0])) == pairs[0][1]
    with pytest.raises(ValueError, match="length >= 1"):
        data.generate_running_counts(3, length=0)


def _ragged_arrays(n=300, src_len=30, tgt_len=20, seed=0):
    """Padded arrays of random lengths on both sides (dates all have one length)."""
    rng = np.random.default_rng(seed)
    src = np.zeros((n, src_len), np.int32)
    tgt_in = np.zeros((n, tgt_len), np.int32)
    tgt_out = np.zeros((n, tgt_len), np.int32)
    for row in range(n):
        length = rng.integers(1, src_len + 1)
        src[row, :length] = rng.integers(4, 50, length)
        target = rng.integers(4, 50, rng.integers(0, tgt_len))
        tgt_in[row, : len(target) + 1] = [data.START_ID, *target]
        tgt_out[row, : len(target) + 1] = [*target, data.END_ID]
    return src, tgt_in, tgt_out


def test_target_buckets_cut_only_target_padding_and_keep_every_example():
    arrays = _ragged_arrays()
    dataset = data.make_dataset(
        arrays, 16, shuffle=True, buckets=(10, 20), target_buckets=(5, 12)
    )
    rows, widths = [], set()
    for (src, tgt_in), tgt_out in dataset:
        longest = int(np.max(data.source_lengths(tgt_out)))
        assert tgt_in.shape == tgt_out.shape
        assert tgt_out.shape[1] == min(b for b in (5, 12, 20) if b >= longest)
        widths.add(tgt_out.shape[1])
        pad = lambda x, n: np.pad(x.numpy(), [[0, 0], [0, n - x.shape[1]]])  # noqa: E731
        rows += [
            np.concatenate(row)
            for row in zip(pad(src, 30), pad(tgt_in, 20), pad(tgt_out, 20))
        ]
    assert len(widths) > 1  # more than one target width is used
    assert sorted(map(tuple, rows)) == sorted(map(tuple, np.concatenate(arrays, 1)))


def test_target_buckets_need_source_buckets():
    with pytest.raises(ValueError, match="give buckets=... as well"):
        data.make_dataset(_ragged_arrays(), 16, target_buckets=(5,))
    with pytest.raises(ValueError, match="target_buckets must be positive"):
        data.make_dataset(_ragged_arrays(), 16, buckets=(5,), target_buckets=(-1,))
