"""Synthesis as plain, differentiable functions of control tensors (DDSP's split: the network only
predicts the controls). Controls are at frame rate, `hop` samples a frame; audio is float32.

Every function that spans time takes the state the span before it left (None: silence before) and
returns the state after it, so a piece synthesized whole and in blocks gives the same samples.
"""

import math

import numpy as np
import tensorflow as tf


def exp_sigmoid(x, exponent=10.0, max_value=2.0, threshold=1e-7):
    """DDSP's positive scaling of network outputs: max_value * sigmoid(x) ** log(exponent) + threshold."""
    x = tf.cast(x, tf.float32)
    return max_value * tf.math.sigmoid(x) ** math.log(exponent) + threshold


def oscillator_phases(frequencies, frames, hop, sample_rate):
    """The accumulated phase of each partial at the start of each frame: frequencies float32 [..., K]
    (Hz, unbent), frames [...] (int32 frames since the note's onset, where its phase was 0, or
    float: those plus the bend's bend_frames, voices.py) -> float32 [..., K] radians in [0, 2 pi).
    Computed in float64 from the onset, so hours of a held note lose no precision and blocks agree
    with a whole piece (a bend's share, bend_frames, is summed in float32 by the allocator: exact
    enough for bends of minutes)."""
    cycles = tf.cast(frequencies, tf.float64) * tf.cast(frames[..., None], tf.float64) * hop / sample_rate
    return tf.cast(2.0 * math.pi * (cycles - tf.floor(cycles)), tf.float32)


AUDIBLE = 1e-5  # partials quieter than this (-100 dB full scale) in a frame and the one before are not synthesized


def harmonic_partials(amplitudes, previous, frequencies, phases, hop, sample_rate):
    """Sinusoids over one frame each, amplitudes ramped linearly from the frame before's: amplitudes,
    previous (one frame earlier), frequencies (Hz, constant over the frame), phases (radians at the
    frame's first sample): float32 [n] -> float32 [n, hop]."""
    m = tf.range(hop, dtype=tf.float32)
    waves = tf.sin(phases[:, None] + (2.0 * math.pi / sample_rate) * frequencies[:, None] * m)
    ramp = (m + 1.0) / hop
    return (previous[:, None] + (amplitudes - previous)[:, None] * ramp) * waves


def harmonic_voices(amplitudes, frequencies, frames_on, active, hop, sample_rate, previous=None, bend=None,
                    bend_frames=None):
    """The voices' oscillators, summed: amplitudes and frequencies (unbent) float32 [b, F, V, K]
    (amplitudes 0 at and above Nyquist), frames_on int32 [b, F, V], active bool [b, F, V], bend and
    bend_frames float32 [b, F, V] (voices.py; None: no bend) -> (audio float32 [b, F * hop], the
    last frame's amplitudes [b, V, K]: the next span's `previous`).

    A partial's amplitude ramps from the frame before's over each frame (from 0 at its note's onset
    frame, from `previous` at the span's first); its frequency is bent by 2 ** (bend / 12) over the
    frame and its phase carries on from the frame before. Only the partials audible in a frame or
    the one before (AUDIBLE) are synthesized, so silent voices, partials above Nyquist and decayed
    tails cost nothing.
    """
    shape = tf.shape(amplitudes)
    b, f, v, k = shape[0], shape[1], shape[2], shape[3]
    amplitudes = tf.where(active[..., None], amplitudes, 0.0)
    if previous is None:
        previous = tf.zeros([b, v, k])
    before = tf.concat([previous[:, None], amplitudes[:, :-1]], axis=1)
    before = tf.where((frames_on == 0)[..., None], 0.0, before)  # a new note starts from silence
    if bend is not None:  # a partial bent up to Nyquist stops at once, as one that starts above it
        bent_up = frequencies * tf.pow(2.0, bend / 12.0)[..., None] >= sample_rate / 2
        before = tf.where(bent_up, 0.0, before)
    work = tf.cast(tf.where((amplitudes > AUDIBLE) | (before > AUDIBLE)), tf.int32)  # [n, 4]: b, f, v, k
    partial_frequencies = tf.gather_nd(frequencies, work)
    frames = tf.gather_nd(frames_on, work[:, :3])
    if bend is not None:
        frames = tf.cast(frames, tf.float64) + tf.cast(tf.gather_nd(bend_frames, work[:, :3]), tf.float64)
    phases = oscillator_phases(partial_frequencies[:, None], frames, hop, sample_rate)[:, 0]
    if bend is not None:
        partial_frequencies = partial_frequencies * tf.pow(2.0, tf.gather_nd(bend, work[:, :3]) / 12.0)
    blocks = harmonic_partials(tf.gather_nd(amplitudes, work), tf.gather_nd(before, work), partial_frequencies,
                               phases, hop, sample_rate)
    audio = tf.scatter_nd(work[:, :2], blocks, tf.stack([b, f, hop]))
    return tf.reshape(audio, [b, f * hop]), amplitudes[:, -1]


def _hash_uniform(seed, frames, bins):
    """Uniform [0, 1) numbers that depend only on (seed, frame, bin): seed int32 [b], frames int32
    [b, F] (absolute frame indices) -> float32 [b, F, bins]. An integer hash (32-bit
    multiply-xorshift), so any block of a stream draws the numbers the whole piece draws."""
    mask = tf.constant(0xFFFFFFFF, tf.int64)
    x = (tf.cast(seed, tf.int64)[:, None, None] * 0x9E3779B1 + tf.cast(frames, tf.int64)[..., None] * 0x85EBCA77
         + tf.range(bins, dtype=tf.int64) * 0xC2B2AE3D) & mask
    for multiplier in (0x7FEB352D, 0x846CA68B):
        x = (tf.bitwise.bitwise_xor(x, tf.bitwise.right_shift(x, 16)) * multiplier) & mask
    x = tf.bitwise.bitwise_xor(x, tf.bitwise.right_shift(x, 16))
    return tf.cast(tf.bitwise.right_shift(x, 8), tf.float32) / float(1 << 24)


def filtered_noise(magnitudes, seed, first_frame, hop, tail=None):
    """Noise shaped by band magnitudes: magnitudes float32 [b, F, bands] (linear bands from 0 to
    Nyquist), seed int32 [b], first_frame int32 [b] (the span's first frame in the piece) -> (audio
    float32 [b, F * hop], tail [b, hop]: what spills into the next span).

    Each frame is a random-phase spectrum of 2 * hop samples with those magnitudes, Hann-windowed
    and overlap-added at hop (the windows sum to 1).
    """
    f = tf.shape(magnitudes)[1]
    bins = hop + 1
    bands = magnitudes.shape[-1]
    # Linear interpolation from the bands to the FFT's bins.
    position = np.linspace(0.0, bands - 1.0, bins)
    low = np.minimum(np.floor(position).astype(np.int32), bands - 2) if bands > 1 else np.zeros(bins, np.int32)
    weight = tf.constant(position - low, tf.float32) if bands > 1 else tf.zeros([bins])
    below = tf.gather(magnitudes, low, axis=-1)
    above = tf.gather(magnitudes, np.minimum(low + 1, bands - 1), axis=-1)
    spectrum_magnitude = below + (above - below) * weight
    frames = first_frame[:, None] + tf.range(f)[None]
    phase = 2.0 * math.pi * _hash_uniform(seed, frames, bins)
    spectrum = tf.complex(spectrum_magnitude * tf.cos(phase), spectrum_magnitude * tf.sin(phase))
    window = tf.signal.hann_window(2 * hop, periodic=True)
    pieces = tf.signal.irfft(spectrum, fft_length=[2 * hop]) * window * math.sqrt(hop)
    audio = tf.signal.overlap_and_add(pieces, hop)  # [b, (F + 1) * hop]
    if tail is not None:
        audio = audio + tf.pad(tail, [[0, 0], [0, f * hop]])
    return audio[:, :f * hop], audio[:, f * hop:]


def fft_convolve(dry, impulse, history=None):
    """dry float32 [b, T] convolved with impulse [b, L], in the frequency domain -> (wet [b, T], the
    last L - 1 dry samples, the next span's history). history: the L - 1 dry samples before the span
    (None: silence)."""
    length = impulse.shape[-1] or tf.shape(impulse)[-1]
    if history is None:
        history = tf.zeros([tf.shape(dry)[0], length - 1])
    signal = tf.concat([history, dry], axis=1)
    total = tf.shape(signal)[1]
    size = tf.cast(2 ** tf.math.ceil(tf.math.log(tf.cast(total + length, tf.float32)) / math.log(2.0)), tf.int32)
    product = tf.signal.rfft(signal, [size]) * tf.signal.rfft(impulse, [size])
    wet = tf.signal.irfft(product, [size])[:, length - 1:total]
    return wet, signal[:, total - (length - 1):]


FFT_SIZES = (2048, 1024, 512, 256, 128, 64)


def spectral_loss(target, output, fft_sizes=FFT_SIZES, log_weight=1.0):
    """DDSP's multi-resolution spectral loss: the sum over FFT sizes of the mean absolute difference
    of the magnitudes and of their logs (frames overlapping by 75%). target, output float32 [b, T]."""
    target, output = tf.cast(target, tf.float32), tf.cast(output, tf.float32)
    total = 0.0
    for size in fft_sizes:
        spectra = [tf.abs(tf.signal.stft(x, size, size // 4, size, pad_end=True)) for x in (target, output)]
        total += tf.reduce_mean(tf.abs(spectra[0] - spectra[1]))
        total += log_weight * tf.reduce_mean(tf.abs(tf.math.log(spectra[0] + 1e-5) - tf.math.log(spectra[1] + 1e-5)))
    return total
