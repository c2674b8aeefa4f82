"""Tests for s2s_helpers.speech_data: phrases, the spoken corpus, padded arrays."""

import re

import numpy as np

from s2s_helpers import audio, speech, speech_data


def test_train_and_held_out_voices_are_disjoint():
    assert set(speech_data.HELD_OUT_VOICES).isdisjoint(speech_data.TRAIN_VOICES)


def test_number_and_ordinal_words():
    expected = {0: "zero", 13: "thirteen", 40: "forty", 99: "ninety nine",
                100: "one hundred", 115: "one hundred and fifteen",
                999: "nine hundred and ninety nine"}  # fmt: skip
    assert {n: speech_data.number_to_words(n) for n in expected} == expected
    ordinals = {1: "first", 2: "second", 3: "third", 4: "fourth", 12: "twelfth",
                20: "twentieth", 22: "twenty second", 31: "thirty first"}  # fmt: skip
    assert {n: speech_data.ordinal_to_words(n) for n in ordinals} == ordinals


def test_generate_phrases_is_deterministic_lower_case_text():
    phrases = speech_data.generate_phrases(200, seed=1)
    assert phrases == speech_data.generate_phrases(200, seed=1)
    assert phrases != speech_data.generate_phrases(200, seed=2)
    assert all(re.fullmatch(r"[a-z]+( [a-z]+)*", phrase) for phrase in phrases)
    assert any(phrase.startswith("set a timer for") for phrase in phrases)
    assert any(re.fullmatch(r"the \w+( \w+)? of \w+", phrase) for phrase in phrases)
    dates = speech_data.generate_phrases(20, seed=0, kinds=["date"])
    assert all(" of " in phrase or " the " in phrase for phrase in dates)


def _close(a, b) -> bool:
    """The same utterance: waveforms that correlate above 0.99."""
    return float(np.corrcoef(a, b)[0, 1]) > 0.99


def test_make_speech_dataset_is_deterministic_for_a_seed():
    phrases = speech_data.generate_phrases(6, seed=0)
    first = speech_data.make_speech_dataset(phrases, seed=5)
    again = speech_data.make_speech_dataset(phrases, seed=5)
    other = speech_data.make_speech_dataset(phrases, seed=6)
    assert [transcript for _, transcript in first] == phrases
    # the same voices, speeds and pitches; eSpeak itself varies a little (rand())
    assert all(
        a.shape == b.shape and _close(a, b)
        for (a, _), (b, _) in zip(first, again, strict=True)
    )
    assert any(
        a.shape != b.shape or not _close(a, b)
        for (a, _), (b, _) in zip(first, other, strict=True)
    )
    features = speech_data.make_speech_dataset(phrases[:2], seed=5, as_features=True)
    for (waveform, _), (feature, _) in zip(first, features, strict=False):
        assert feature.shape == (audio.count_frames(len(waveform)), audio.MELS)


def test_character_vocabulary_round_trip():
    vocab = speech_data.character_vocabulary()
    ids = vocab.encode(vocab.tokenize("call dad"))
    assert vocab.join(vocab.decode(ids)) == "call dad"
    assert (
        vocab.size == len(speech_data.CHARACTERS) + 4
    )  # padding, [UNK], [START], [END]


def test_encode_examples_pads_features_and_shifts_targets():
    rng = np.random.default_rng(0)
    examples = [(rng.normal(0, 0.1, 2000).astype(np.float32), "ab"),
                (rng.normal(0, 0.1, 4000).astype(np.float32), "call dad")]  # fmt: skip
    vocab = speech_data.character_vocabulary()
    features, tgt_in_ids, tgt_out_ids = speech_data.encode_examples(
        examples, vocab, 20, 6
    )
    assert features.shape == (2, 20, audio.MELS)
    assert speech.frame_mask(features).numpy().sum(1).tolist() == [
        audio.count_frames(2000), audio.count_frames(4000)]  # fmt: skip
    a, b, end = vocab.encode(["a", "b", "[END]"])
    assert tgt_in_ids[0].tolist() == [2, a, b, 0, 0, 0]
    assert tgt_out_ids[0].tolist() == [a, b, end, 0, 0, 0]
    assert tgt_out_ids[1, -1] == end  # "call dad" truncated to 5 characters + [END]


def test_compute_features_matches_the_eager_functions():
    waveform = np.random.default_rng(1).normal(0, 0.1, 3000).astype(np.float32)
    expected = audio.normalize_features(audio.log_mel_spectrogram(waveform))
    np.testing.assert_allclose(
        speech_data.compute_features(waveform), expected, atol=1e-4
    )
