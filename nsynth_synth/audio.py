"""Audio utilities: 8-bit mu-law, triangular dither, WAV I/O, mono downmix and resampling.

Pure functions. The mu-law codec has a TensorFlow and a NumPy form that agree exactly: both
compare against the same float32 decision boundaries and read the same float32 decode table,
so no transcendental function is evaluated differently by the two libraries.
"""

import os
import struct

import numpy as np
import soundfile
import soxr

from nsynth_synth.errors import AudioError
from nsynth_synth.fileio import atomic_output

SAMPLE_RATE = 16000
MU = 255
NUM_CLASSES = MU + 1
SILENCE_ID = 128  # mu-law class of 0.0: the history before the first sample
PEAK_LEVEL = 0.9  # renderings and NSynth note sets are scaled to this peak (-0.9 dBFS)
# The SynthNet paper dithers with a triangular distribution, limits (-0.009, 0.009), mode 0.
DITHER_LIMIT = 0.009


def _mu_law_expand(y):
    """Continuous mu-law expansion of y in [-1, 1] (float64)."""
    return np.sign(y) * np.expm1(np.abs(y) * np.log1p(MU)) / MU


def _mu_law_tables():
    """Decode levels [256] and the 255 decision boundaries between them, float32.

    Class k decodes to the expansion of y_k = 2k/255 - 1; the boundary between classes k-1 and k
    is the expansion of the midpoint y = (2k - 1)/255 - 1, so encoding is a rounding in the
    companded domain.
    """
    k = np.arange(NUM_CLASSES, dtype=np.float64)
    levels = _mu_law_expand(2.0 * k / MU - 1.0)
    boundaries = _mu_law_expand((2.0 * k[1:] - 1.0) / MU - 1.0)
    return levels.astype(np.float32), boundaries.astype(np.float32)


MU_LAW_LEVELS, MU_LAW_BOUNDARIES = _mu_law_tables()


def mu_law_error_bound(x):
    """Largest possible |decode(encode(x)) - x| for |x| <= 1 (float64, elementwise).

    Encoding rounds the companded value y to a grid of step 2/255, so |dy| <= 1/255 and
    |dx| <= (1/mu + |x|) * ((1 + mu)**(1/255) - 1).
    """
    return (1.0 / MU + np.abs(x)) * np.expm1(np.log1p(MU) / MU)


def mu_law_encode_np(audio):
    """Float audio in [-1, 1] (any shape) -> int32 class ids in [0, 255], same shape.

    Values outside [-1, 1] saturate to the end classes. Subnormal values count as 0, as they do
    in TensorFlow's kernels (which flush them to zero), so both forms agree on every float32.
    """
    audio = np.asarray(audio, dtype=np.float32)
    audio = np.where(np.abs(audio) < np.finfo(np.float32).tiny, np.float32(0), audio)
    return np.searchsorted(MU_LAW_BOUNDARIES, audio, side="right").astype(np.int32)


def mu_law_decode_np(ids):
    """int class ids in [0, 255] (any shape) -> float32 audio in [-1, 1], same shape."""
    return MU_LAW_LEVELS[np.asarray(ids)]


def mu_law_encode(audio):
    """TensorFlow form of mu_law_encode_np: float audio [...] -> int32 ids [...]."""
    import tensorflow as tf

    audio = tf.convert_to_tensor(audio, tf.float32)
    flat = tf.reshape(audio, [-1])
    ids = tf.searchsorted(tf.constant(MU_LAW_BOUNDARIES), flat, side="right", out_type=tf.int32)
    return tf.reshape(ids, tf.shape(audio))


def mu_law_decode(ids):
    """TensorFlow form of mu_law_decode_np: int ids [...] -> float32 audio [...]."""
    import tensorflow as tf

    return tf.gather(tf.constant(MU_LAW_LEVELS), tf.cast(ids, tf.int32))


def triangular_dither_np(shape, seed, limit=DITHER_LIMIT):
    """Triangular noise on (-limit, limit) with mode 0, float32; `seed` makes it reproducible."""
    rng = np.random.default_rng(seed)
    return rng.triangular(-limit, 0.0, limit, size=shape).astype(np.float32)


def triangular_dither(shape, seed, limit=DITHER_LIMIT):
    """TensorFlow form: the sum of two independent uniforms on (-limit/2, limit/2).

    `seed` is a stateless-RNG seed, an int32/int64 tensor of shape [2]; the same seed gives the
    same noise on every run and device.
    """
    import tensorflow as tf

    halves = tf.random.stateless_uniform(
        tf.concat([[2], tf.reshape(shape, [-1])], 0), seed, -limit / 2, limit / 2
    )
    return halves[0] + halves[1]


def peak_rule(audio):
    """The builder's level rule (data.render): float audio scaled to peak PEAK_LEVEL -> float32;
    silence stays silence."""
    audio = np.asarray(audio, np.float32)
    peak = float(np.max(np.abs(audio))) if audio.size else 0.0
    return audio if peak == 0.0 else audio * np.float32(PEAK_LEVEL / peak)


def to_pcm16(audio):
    """Float audio in [-1, 1] -> int16 PCM (clipped, rounded to nearest)."""
    return np.round(np.clip(np.asarray(audio, np.float32), -1.0, 1.0) * 32767.0).astype(np.int16)


def to_mono(audio):
    """[time] or [time, channels] float audio -> [time] float32, the mean of the channels."""
    audio = np.asarray(audio, dtype=np.float32)
    if audio.ndim == 1:
        return audio
    if audio.ndim != 2:
        raise AudioError(f"expected audio of shape [time] or [time, channels], got {audio.shape}")
    return audio.mean(axis=1)


def resample(audio, rate_in, rate_out=SAMPLE_RATE):
    """[time] or [time, channels] float audio from rate_in to rate_out Hz (soxr, high quality)."""
    if rate_in == rate_out:
        return np.asarray(audio, dtype=np.float32)
    return soxr.resample(np.asarray(audio, dtype=np.float32), rate_in, rate_out, quality="HQ")


def read_wav(path):
    """Read any soundfile-readable file -> (float32 audio [time, channels], sample rate)."""
    if not os.path.exists(path):
        raise AudioError(f"{path}: no such audio file")
    try:
        audio, rate = soundfile.read(path, dtype="float32", always_2d=True)
    except (soundfile.LibsndfileError, RuntimeError) as error:
        raise AudioError(f"{path}: cannot read audio ({error})") from error
    declared = _declared_wav_frames(path)
    # libsndfile reads a cut WAV up to where it ends, without a word.
    if declared is not None and declared > len(audio):
        raise AudioError(f"{path}: cut short: it holds {len(audio)} of the {declared} samples its header "
                         "declares (an interrupted copy or download?)")
    return audio, rate


def _declared_wav_frames(path):
    """Frames a RIFF WAVE header declares for its data chunk; None for other files and for WAVs
    written as a stream, whose header leaves the length open (0 or 0xFFFFFFFF)."""
    with open(path, "rb") as f:
        riff = f.read(12)
        if riff[:4] != b"RIFF" or riff[8:12] != b"WAVE":
            return None
        block_align = None
        while len(header := f.read(8)) == 8:
            name, size = header[:4], struct.unpack("<I", header[4:])[0]
            if name == b"fmt ":
                block_align = struct.unpack("<H", f.read(16)[12:14])[0]
                f.seek(size - 16 + (size & 1), os.SEEK_CUR)
            elif name == b"data":
                return None if size in (0, 0xFFFFFFFF) or not block_align else size // block_align
            else:
                f.seek(size + (size & 1), os.SEEK_CUR)
    return None


def load_audio(path, sample_rate=SAMPLE_RATE):
    """Read a file of any rate and channel count -> float32 mono [time] at `sample_rate`."""
    audio, rate = read_wav(path)
    return resample(to_mono(audio), rate, sample_rate)


WAV_SUBTYPES = {"pcm16": "PCM_16", "float": "FLOAT"}


def write_wav(path, audio, sample_rate=SAMPLE_RATE, subtype="pcm16"):
    """Write float audio [time] or [time, channels] in [-1, 1] as WAV, atomically.

    subtype: "pcm16" (16-bit PCM, values clipped to [-1, 1]) or "float" (32-bit float).
    The file appears under its final name only once it is complete.
    """
    if subtype not in WAV_SUBTYPES:
        raise AudioError(f"WAV subtype must be one of {sorted(WAV_SUBTYPES)}, got {subtype!r}")
    audio = np.asarray(audio, dtype=np.float32)
    if subtype == "pcm16":
        audio = np.clip(audio, -1.0, 1.0)
    with atomic_output(path) as tmp:
        soundfile.write(tmp, audio, sample_rate, subtype=WAV_SUBTYPES[subtype], format="WAV")
