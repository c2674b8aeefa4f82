"""Speech for lesson 10: synthesise spoken phrases offline and turn them into features.

Lesson 10 makes its own speech corpus: eSpeak NG (shipped with its voice data by
``espeakng-loader``, driven through ctypes in synchronous mode) speaks generated
phrases such as "set a timer for twenty minutes" in many voices, speeds and
pitches, with optional noise. The encoder then reads a log-mel spectrogram,
shape ``(frames, mels)``, instead of token embeddings.

Pitfall: eSpeak keeps hidden state between utterances (pitch "flutter" phase,
gain control, a roughness cycle counter), so the same call gives slightly
different samples each time. The engine reloads the library before every
utterance (about 3 ms), which makes synthesis reproducible.

Taught in: lessons/10_speech.ipynb
"""

import _ctypes
import ctypes
import threading
from pathlib import Path

import numpy as np
import tensorflow as tf

from s2s_helpers.corpora import require

SAMPLE_RATE = 22050  # what espeak_Initialize returns for its built-in voices
FRAME_LENGTH = 512  # samples per STFT frame, about 23 ms
FRAME_STEP = 256  # hop between frames, about 12 ms: 86 frames per second
MELS = 80

# Voices are a language plus a variant ("en+f3"). Whole voices are held out so a
# test measures how well the model copes with a speaker it never heard.
TRAIN_VOICES = ("en+m1", "en+m2", "en+m3", "en+m4", "en+m5", "en+f1", "en+f2", "en+f3")
HELD_OUT_VOICES = ("en+m6", "en+m7", "en+f4", "en+f5")
VOICES = TRAIN_VOICES + HELD_OUT_VOICES

_AUDIO_OUTPUT_SYNCHRONOUS, _POS_CHARACTER, _CHARS_UTF8 = 2, 1, 1
_PARAMETER_RATE, _PARAMETER_PITCH = 1, 3
_SYNTH_CALLBACK = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p
)


class Espeak:
    """A ctypes binding to libespeak-ng that restarts it for every utterance."""

    def __init__(self):
        loader = require("espeakng_loader")
        self.library_path = loader.get_library_path()
        self.data_path = loader.get_data_path()
        self.variants = set(list_voice_variants())
        self.library = None
        self.chunks = []
        self.callback = _SYNTH_CALLBACK(self._receive)  # kept alive: C holds it
        self.sample_rate = self._restart()
        self.library.espeak_Info.restype = ctypes.c_char_p
        self.version = self.library.espeak_Info(None).decode()

    def _receive(self, samples, count, events):
        if count > 0:
            self.chunks.append(np.ctypeslib.as_array(samples, shape=(count,)).copy())
        return 0  # 0 = continue synthesis

    def _restart(self) -> int:
        if self.library is not None:
            self.library.espeak_Terminate()
            close = getattr(_ctypes, "dlclose", None) or _ctypes.FreeLibrary
            close(self.library._handle)  # the next load starts from clean statics
        library = ctypes.CDLL(self.library_path)
        library.espeak_Synth.argtypes = [
            ctypes.c_char_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int,
            ctypes.c_uint, ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p,
        ]  # fmt: skip
        sample_rate = library.espeak_Initialize(
            _AUDIO_OUTPUT_SYNCHRONOUS, 0, self.data_path.encode(), 0
        )
        if sample_rate != SAMPLE_RATE:
            raise RuntimeError(f"eSpeak runs at {sample_rate} Hz, not {SAMPLE_RATE}.")
        library.espeak_SetSynthCallback(self.callback)
        self.library = library
        return sample_rate

    def speak(self, text: str, voice: str, rate: int, pitch: int) -> np.ndarray:
        """Synthesise ``text``; returns int16 samples, shape ``(samples,)``."""
        self._restart()
        variant = voice.partition("+")[2]
        if variant and variant not in self.variants:
            raise ValueError(
                f"Unknown eSpeak variant {variant!r} in voice {voice!r}; "
                "see audio.list_voice_variants()."
            )
        if self.library.espeak_SetVoiceByName(voice.encode()) != 0:
            raise ValueError(f"eSpeak has no voice {voice!r}; try 'en' or 'en+f3'.")
        self.library.espeak_SetParameter(_PARAMETER_RATE, rate, 0)
        self.library.espeak_SetParameter(_PARAMETER_PITCH, pitch, 0)
        self.chunks = []
        data = text.encode("utf-8") + b"\0"
        status = self.library.espeak_Synth(
            data, len(data), 0, _POS_CHARACTER, 0, _CHARS_UTF8, None, None
        )
        if status != 0:
            raise RuntimeError(f"espeak_Synth failed with status {status}.")
        return np.concatenate(self.chunks) if self.chunks else np.zeros(0, np.int16)


_ENGINE_LOCK = threading.Lock()  # eSpeak is one global C state: one caller at a time
_ENGINE = None


def load_espeak() -> Espeak:
    """Start eSpeak NG once per process and return it (``.sample_rate``, ``.version``).

    Raises:
        MissingExtraError: when ``espeakng-loader`` (the ``apps`` extra) is missing.
    """
    global _ENGINE
    with _ENGINE_LOCK:
        if _ENGINE is None:
            _ENGINE = Espeak()
        return _ENGINE


def list_voice_variants() -> list[str]:
    """Names of the eSpeak voice variants, e.g. ``"m3"``, usable as ``"en+m3"``."""
    data_path = Path(require("espeakng_loader").get_data_path())
    return sorted(path.name for path in (data_path / "voices" / "!v").iterdir())


def synthesize(
    text: str,
    voice: str = "en",
    rate: int = 160,
    pitch: int = 50,
    noise_level: float = 0.0,
    seed: int | None = None,
) -> np.ndarray:
    """Speak ``text`` with eSpeak NG and return the waveform.

    Args:
        text: what to say, e.g. ``"the fourth of may"``.
        voice: an eSpeak voice, a language with an optional variant (``"en+f3"``).
        rate: speed in words per minute, 80 to 450.
        pitch: base pitch, 0 to 99 (50 is the voice's normal pitch).
        noise_level: standard deviation of white noise added to the waveform
            (0.01 is a soft hiss, 0.05 is loud).
        seed: seed of the noise; the speech itself is always reproducible.

    Returns:
        float32 waveform in [-1, 1] at ``SAMPLE_RATE``, shape ``(samples,)``.

    Raises:
        ValueError: for an unknown voice or an argument out of range.
    """
    if not (
        text.strip() and 80 <= rate <= 450 and 0 <= pitch <= 99 and noise_level >= 0
    ):
        raise ValueError(
            "Expected non-empty text, 80 <= rate <= 450, 0 <= pitch <= 99 and "
            f"noise_level >= 0, got {text!r}, {rate}, {pitch}, {noise_level}."
        )
    engine = load_espeak()
    with _ENGINE_LOCK:
        samples = engine.speak(text, voice, int(rate), int(pitch))
    waveform = samples.astype(np.float32) / 32768.0
    if noise_level > 0:
        noise = np.random.default_rng(seed).normal(0.0, noise_level, waveform.shape)
        waveform = np.clip(waveform + noise, -1.0, 1.0).astype(np.float32)
    return waveform


def count_frames(
    samples: int, frame_length: int = FRAME_LENGTH, frame_step: int = FRAME_STEP
) -> int:
    """Frames in the spectrogram of ``samples`` samples (at least one)."""
    return 1 + (max(samples, frame_length) - frame_length) // frame_step


def log_mel_spectrogram(
    waveform,
    sample_rate: int = SAMPLE_RATE,
    frame_length: int = FRAME_LENGTH,
    frame_step: int = FRAME_STEP,
    mels: int = MELS,
    lower_edge_hertz: float = 80.0,
    upper_edge_hertz: float = 7600.0,
    epsilon: float = 1e-6,
):
    """Log-mel spectrogram: how much energy each mel band has in each frame.

    STFT power, then a triangular mel filter bank (equal steps in perceived
    pitch), then ``log(mel + epsilon)``: epsilon keeps silence finite.

    Args:
        waveform: shape ``(samples,)`` or ``(batch, samples)``; shorter than
            ``frame_length`` is zero-padded to one frame.
        sample_rate, frame_length, frame_step: in samples and Hz.
        mels: number of mel bands.

    Returns:
        float32 tensor, shape ``(frames, mels)`` or ``(batch, frames, mels)``,
        with ``frames == count_frames(samples, frame_length, frame_step)``.
    """
    waveform = tf.convert_to_tensor(waveform, tf.float32)
    if waveform.shape.rank not in (1, 2):
        raise ValueError(
            f"waveform must have shape (samples,) or (batch, samples), "
            f"got {waveform.shape}."
        )
    missing = tf.maximum(frame_length - tf.shape(waveform)[-1], 0)
    paddings = [[0, 0]] * (waveform.shape.rank - 1) + [[0, missing]]
    waveform = tf.pad(waveform, paddings)
    stft = tf.signal.stft(waveform, frame_length, frame_step)  # (..., frames, bins)
    power = tf.square(tf.abs(stft))
    weights = tf.signal.linear_to_mel_weight_matrix(
        mels, stft.shape[-1], sample_rate, lower_edge_hertz, upper_edge_hertz
    )  # (bins, mels)
    mel = tf.tensordot(power, weights, axes=1)  # (..., frames, mels)
    return tf.math.log(mel + epsilon)


def normalize_features(features, epsilon: float = 1e-5):
    """Give each mel band of one utterance zero mean and unit variance over time.

    Per-utterance normalisation removes loudness and voice colour differences.
    Pitfall: normalise before padding, or the padding frames bias the mean.

    Args:
        features: shape ``(frames, mels)``.

    Returns:
        float32 tensor, shape ``(frames, mels)``.
    """
    features = tf.convert_to_tensor(features, tf.float32)
    mean, variance = tf.nn.moments(features, axes=[-2], keepdims=True)  # (1, mels)
    return (features - mean) / tf.sqrt(variance + epsilon)


def pad_features(features_list, max_frames: int | None = None, truncate: bool = False):
    """Stack utterances of different lengths into one zero-padded batch.

    Args:
        features_list: tensors or arrays, each of shape ``(frames, mels)``.
        max_frames: frames of the output; ``None`` uses the longest utterance.
        truncate: cut longer utterances instead of raising.

    Returns:
        ``(features, mask)``: features of shape ``(batch, max_frames, mels)``
        float32 and mask of shape ``(batch, max_frames)`` bool, ``True`` for
        real frames, ``False`` for padding.

    Raises:
        ValueError: if an utterance is longer than ``max_frames`` and not
            ``truncate`` (its end, and the words in it, would be lost).
    """
    arrays = [np.asarray(features, np.float32) for features in features_list]
    lengths = [len(array) for array in arrays]
    max_frames = max(lengths) if max_frames is None else max_frames
    if not truncate and max(lengths) > max_frames:
        raise ValueError(
            f"An utterance has {max(lengths)} frames > max_frames="
            f"{max_frames}; raise max_frames or pass truncate=True."
        )
    batch = np.zeros((len(arrays), max_frames, arrays[0].shape[-1]), np.float32)
    mask = np.zeros((len(arrays), max_frames), bool)
    for index, array in enumerate(arrays):
        length = min(len(array), max_frames)
        batch[index, :length] = array[:length]
        mask[index, :length] = True
    return tf.constant(batch), tf.constant(mask)


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
        seed: the same seed gives the same examples, sample for sample.
        rate_range, pitch_range, noise_range: inclusive ranges drawn uniformly.
        as_features: return normalised log-mel features instead of waveforms.

    Returns:
        ``(audio, transcript)`` tuples: audio is a waveform of shape
        ``(samples,)`` or, with ``as_features``, a tensor ``(frames, mels)``.
    """
    rng = np.random.default_rng(seed)
    examples = []
    for phrase in phrases:
        waveform = synthesize(
            phrase,
            voice=voices[rng.integers(len(voices))],
            rate=int(rng.integers(rate_range[0], rate_range[1] + 1)),
            pitch=int(rng.integers(pitch_range[0], pitch_range[1] + 1)),
            noise_level=float(rng.uniform(*noise_range)),
            seed=int(rng.integers(2**31)),
        )
        if as_features:
            waveform = normalize_features(log_mel_spectrogram(waveform))
        examples.append((waveform, phrase))
    return examples
