"""The spoken-phrase corpus of lesson 10: what is said, by whom, and as arrays.

Lesson 10 makes its own speech corpus offline: generated phrases such as "set
a timer for twenty minutes" or "the fourth of may" (numbers, dates, times,
commands), each spoken once by eSpeak NG (``espeak``) with a random voice,
speed, pitch and a little noise. Whole voices are held out, so a test measures
how well a model copes with a speaker it never heard. ``encode_examples``
turns (waveform, transcript) pairs into the padded arrays of
``data.make_dataset``: normalised log-mel features (``audio``) and the
teacher-forcing targets over a character vocabulary.

Taught in: lessons/10_speech.ipynb
"""

import numpy as np
import tensorflow as tf

from s2s_helpers import audio, espeak
from s2s_helpers.data import END_ID, START_ID, Vocabulary

# Voices are a language plus a variant ("en+f3"). Whole voices are held out so a
# test measures how well the model copes with a speaker it never heard.
TRAIN_VOICES = ("en+m1", "en+m2", "en+m3", "en+m4", "en+m5", "en+f1", "en+f2", "en+f3")
HELD_OUT_VOICES = ("en+m6", "en+m7", "en+f4", "en+f5")
VOICES = TRAIN_VOICES + HELD_OUT_VOICES


_ONES = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen "
    "fourteen fifteen sixteen seventeen eighteen nineteen"
).split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
_IRREGULAR_ORDINALS = dict(
    zip("one two three five eight nine twelve".split(),
        "first second third fifth eighth ninth twelfth".split(), strict=True)
)  # fmt: skip


def number_to_words(number: int) -> str:
    """Spell 0 to 999 in English words: 123 -> "one hundred and twenty three"."""
    if not 0 <= number <= 999:
        raise ValueError(f"Expected 0 <= number <= 999, got {number}.")
    if number < 20:
        return _ONES[number]
    if number < 100:
        ones = "" if number % 10 == 0 else " " + _ONES[number % 10]
        return _TENS[number // 10] + ones
    rest = "" if number % 100 == 0 else " and " + number_to_words(number % 100)
    return _ONES[number // 100] + " hundred" + rest


def ordinal_to_words(number: int) -> str:
    """Spell an ordinal: 4 -> "fourth", 23 -> "twenty third"."""
    *head, last = number_to_words(number).split()
    if last in _IRREGULAR_ORDINALS:
        last = _IRREGULAR_ORDINALS[last]
    else:
        last = last[:-1] + "ieth" if last.endswith("y") else last + "th"
    return " ".join(head + [last])


_PHRASE_SLOTS = {
    "number": [number_to_words(number) for number in range(1000)],
    "ordinal": [ordinal_to_words(number) for number in range(1, 32)],
    "month": (
        "january february march april may june july august september "
        "october november december"
    ).split(),
    "hour": [number_to_words(number) for number in range(1, 13)],
    "minute": [number_to_words(number) for number in range(10, 60)],
    "count": [number_to_words(number) for number in range(2, 60)],
    "switch": ["on", "off"],
    "room": ["kitchen", "bedroom", "garden", "office"],
    "genre": ["music", "jazz", "news", "rock"],
    "person": ["mum", "dad", "anna", "the office"],
    "day": ["today", "tomorrow", "this weekend"],
}
PHRASE_TEMPLATES = {
    "number": ("{number}",),
    "date": ("the {ordinal} of {month}", "{month} the {ordinal}"),
    "time": ("wake me up at {hour} {minute}", "meet me at half past {hour}"),
    "command": (
        "set a timer for {count} minutes",
        "turn {switch} the {room} lights",
        "play some {genre}",
        "call {person}",
        "what is the weather {day}",
    ),
}


def generate_phrases(
    count: int, seed: int = 0, kinds=tuple(PHRASE_TEMPLATES)
) -> list[str]:
    """Random spoken-style phrases whose transcript is the phrase itself.

    Args:
        count: number of phrases.
        seed: the same seed gives the same phrases.
        kinds: keys of ``PHRASE_TEMPLATES``: numbers, dates, times, commands.

    Returns:
        Phrases of lower-case letters and single spaces, e.g.
        ``"set a timer for twenty minutes"``, ``"the fourth of may"``.
    """
    rng = np.random.default_rng(seed)
    templates = [template for kind in kinds for template in PHRASE_TEMPLATES[kind]]
    phrases = []
    for _ in range(count):
        template = templates[rng.integers(len(templates))]
        words = {slot: options[rng.integers(len(options))]
                 for slot, options in _PHRASE_SLOTS.items()}  # fmt: skip
        phrases.append(template.format(**words))
    return phrases


def make_speech_dataset(
    phrases,
    voices=TRAIN_VOICES,
    seed: int = 0,
    rate_range=(130, 210),
    pitch_range=(30, 70),
    noise_range=(0.0, 0.01),
    as_features: bool = False,
):
    """Speak each phrase once with a random voice, speed, pitch and noise level.

    Args:
        phrases: transcripts to speak, e.g. from ``generate_phrases``.
        voices: voices to draw from; keep ``HELD_OUT_VOICES`` for testing.
        seed: the same seed gives the same voices, speeds, pitches and noise,
            so the same waveform lengths; eSpeak's own sound varies slightly
            from call to call (see ``espeak.synthesize``).
        rate_range, pitch_range, noise_range: inclusive ranges drawn uniformly.
        as_features: return normalised log-mel features instead of waveforms.

    Returns:
        ``(audio, transcript)`` tuples: audio is a waveform of shape
        ``(samples,)`` or, with ``as_features``, a tensor ``(frames, mels)``.
    """
    rng = np.random.default_rng(seed)
    examples = []
    for phrase in phrases:
        waveform = espeak.synthesize(
            phrase,
            voice=voices[rng.integers(len(voices))],
            rate=int(rng.integers(rate_range[0], rate_range[1] + 1)),
            pitch=int(rng.integers(pitch_range[0], pitch_range[1] + 1)),
            noise_level=float(rng.uniform(*noise_range)),
            seed=int(rng.integers(2**31)),
        )
        if as_features:
            waveform = audio.normalize_features(audio.log_mel_spectrogram(waveform))
        examples.append((waveform, phrase))
    return examples


# --- waveforms to padded arrays ------------------------------------------------

CHARACTERS = list("abcdefghijklmnopqrstuvwxyz '")


def character_vocabulary() -> Vocabulary:
    """The target vocabulary of lesson 10: lower-case letters, space, apostrophe."""
    return Vocabulary(CHARACTERS, level="char", standardize=False)


@tf.function(input_signature=[tf.TensorSpec([None], tf.float32)])
def compute_features(waveform):
    """Normalised log-mel features of one waveform, compiled (about 30x faster).

    ``audio.normalize_features(audio.log_mel_spectrogram(waveform))`` in a
    ``tf.function``: `(samples,)` in, `(frames, mels)` out.
    """
    return audio.normalize_features(audio.log_mel_spectrogram(waveform))


def encode_examples(
    examples, tgt_vocab: Vocabulary, max_frames: int, max_tgt_len: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(waveform, transcript) pairs to padded arrays for ``data.make_dataset``.

    Args:
        examples: from ``make_speech_dataset`` (waveforms).
        tgt_vocab: ``character_vocabulary()``.
        max_frames: frames of every utterance (longer ones raise ValueError).
        max_tgt_len: characters + ``[END]`` (longer transcripts are truncated).

    Returns:
        features `(batch, max_frames, mels)` float32, tgt_in_ids and
        tgt_out_ids `(batch, max_tgt_len)` int32, padding 0.
    """
    features, _ = audio.pad_features(
        [compute_features(tf.constant(waveform)) for waveform, _ in examples],
        max_frames,
    )
    tgt_in_ids = np.zeros((len(examples), max_tgt_len), np.int32)
    tgt_out_ids = np.zeros((len(examples), max_tgt_len), np.int32)
    for row, (_, transcript) in enumerate(examples):
        target = tgt_vocab.encode(tgt_vocab.tokenize(transcript))[: max_tgt_len - 1]
        tgt_in_ids[row, : len(target) + 1] = [START_ID, *target]
        tgt_out_ids[row, : len(target) + 1] = [*target, END_ID]
    return features.numpy(), tgt_in_ids, tgt_out_ids
