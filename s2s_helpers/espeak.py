"""eSpeak NG, driven through ctypes: text in, a waveform out, offline.

``espeakng-loader`` (the ``apps`` extra) ships libespeak-ng and its voice data.
The library runs in synchronous mode: ``espeak_Initialize`` returns the sample
rate (22,050 Hz), ``espeak_SetVoiceByName`` chooses a voice such as "en+f3"
(a language and a variant), ``espeak_SetParameter`` the speed and pitch, and
``espeak_Synth`` speaks one phrase, handing its int16 samples to a callback.

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

from s2s_helpers.audio import SAMPLE_RATE
from s2s_helpers.corpora import require

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
                "see espeak.list_voice_variants()."
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
        seed: seed of the noise. The speech itself has the same length and
            shape every time but is not bit-for-bit reproducible: eSpeak draws
            small variations from the C library's ``rand()`` (two calls
            correlate above 0.99).

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
