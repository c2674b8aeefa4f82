"""Sound as a model reads it: log-mel spectrograms, normalised and padded.

The speech encoder of lesson 10 reads a log-mel spectrogram, shape
``(frames, mels)``, instead of token embeddings: the power of short,
overlapping windows of the waveform (an STFT), summed into mel bands (equal
steps in perceived pitch), then the log. Utterances of different lengths are
padded with all-zero frames and come with a mask.

Taught in: lessons/10_speech.ipynb
"""

import numpy as np
import tensorflow as tf

SAMPLE_RATE = 22050  # of the course's waveforms: what eSpeak NG synthesises
FRAME_LENGTH = 512  # samples per STFT frame, about 23 ms
FRAME_STEP = 256  # hop between frames, about 12 ms: 86 frames per second
MELS = 80


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
