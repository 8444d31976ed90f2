"""The NSynth paper's spectral autoencoder baseline (Engel et al. 2017, section 3.1).

Input: the log magnitude of a note's power spectrum (FFT 1024, hop 256), normalised to [0, 1],
laid out [batch, 512 frequency bins, 256 frames, 1] (the Nyquist bin dropped, frames padded).
Encoder: 2-D convolutions with stride 2 (the first 5x5, then 4x4; the last also halving only the
frequency axis), leaky ReLU 0.1 and batch normalisation, then 1x1 to 1024 and to the code, 1984
channels at 1 x 1. Decoder: the mirror image with transposed convolutions, the pitch embedding
concatenated with the code when pitch-conditioned, and a sigmoid magnitude. Loss: mean squared
error weighted 10 at 0 Hz falling linearly to 1 at 4000 Hz and above. Phase: Griffin-Lim.
"""

import keras
import numpy as np
import tensorflow as tf

from nsynth_synth.models.spectral_autoencoder.config import SpectralConfig

N_FFT = 1024
HOP = 256
BINS = 512
FRAMES = 256
# log10 of the power from -6 to 6 maps to [0, 1]: a full-scale sine peaks near 4.8 (0.9), and
# everything 60 dB below the floor of 16-bit audio is 0.
LOG_MIN, LOG_MAX = -6.0, 6.0


def log_magnitude(audio):
    """float audio [batch, samples] (up to 256 frames) -> normalised log power [batch, 512, 256, 1]
    and the complex STFT [batch, frames, 513] (for phase-aware comparisons)."""
    stft = tf.signal.stft(audio, N_FFT, HOP, fft_length=N_FFT, pad_end=True)
    power = tf.abs(stft) ** 2
    spec = (tf.math.log(tf.maximum(power, 10.0**LOG_MIN)) / np.log(10.0) - LOG_MIN) / (LOG_MAX - LOG_MIN)
    spec = tf.clip_by_value(spec[:, :FRAMES, :BINS], 0.0, 1.0)
    frames = tf.shape(spec)[1]
    spec = tf.pad(spec, [[0, 0], [0, FRAMES - frames], [0, 0]])
    return tf.transpose(spec, [0, 2, 1])[..., None], stft


def magnitude_from_log(spec, frames):
    """Normalised log power [batch, 512, 256, 1] -> linear magnitude [batch, frames, 513]
    (the Nyquist bin set to zero)."""
    power = tf.pow(10.0, spec[..., 0] * (LOG_MAX - LOG_MIN) + LOG_MIN)
    magnitude = tf.transpose(tf.sqrt(power), [0, 2, 1])[:, :frames]
    return tf.pad(magnitude, [[0, 0], [0, 0], [0, 1]])


def griffin_lim(magnitude, num_samples, iterations=60, seed=0):
    """Phase for a linear magnitude [batch, frames, 513] by Griffin and Lim's iterations
    (alternate projections between consistent STFTs and the given magnitude), starting from a
    seeded random phase -> float audio [batch, num_samples]."""
    magnitude = tf.cast(magnitude, tf.complex64)
    phase = tf.random.stateless_uniform(tf.shape(magnitude), [seed, 0], -np.pi, np.pi)
    estimate = magnitude * tf.exp(tf.complex(0.0, phase))
    window = tf.signal.inverse_stft_window_fn(HOP)

    def project(step, estimate):
        audio = tf.signal.inverse_stft(estimate, N_FFT, HOP, fft_length=N_FFT, window_fn=window)
        rebuilt = tf.signal.stft(audio, N_FFT, HOP, fft_length=N_FFT, pad_end=True)[:, :tf.shape(magnitude)[1]]
        return step + 1, magnitude * tf.exp(tf.complex(0.0, tf.math.angle(rebuilt)))

    # A loop in the graph, not unrolled: an exported decoder holds one iteration, not `iterations`.
    _, estimate = tf.while_loop(lambda step, _: step < iterations, project, [tf.constant(0), estimate],
                                shape_invariants=[tf.TensorShape([]), tf.TensorShape([None, None, None])])
    audio = tf.signal.inverse_stft(estimate, N_FFT, HOP, fft_length=N_FFT, window_fn=window)
    return audio[:, :num_samples]


def frequency_weights(sample_rate=16000, peak=10.0, flat_hz=4000.0):
    """The loss weight of each of the 512 bins: `peak` at 0 Hz falling linearly to 1 at flat_hz."""
    hz = np.arange(BINS) * sample_rate / N_FFT
    return np.where(hz < flat_hz, peak + (1.0 - peak) * hz / flat_hz, 1.0).astype(np.float32)


def weighted_mse(target, reconstruction, sample_rate=16000):
    """The baseline's loss on [batch, 512, 256, 1] spectrograms, in float32."""
    weights = tf.constant(frequency_weights(sample_rate))[None, :, None, None]
    error = tf.cast(target, tf.float32) - tf.cast(reconstruction, tf.float32)
    return tf.reduce_mean(weights * error**2)


def _block(x, filters, kernel, strides, name, transpose=False):
    layer = keras.layers.Conv2DTranspose if transpose else keras.layers.Conv2D
    x = layer(filters, kernel, strides=strides, padding="same", use_bias=False, name=f"{name}_conv")(x)
    x = keras.layers.BatchNormalization(name=f"{name}_bn")(x)
    return keras.layers.LeakyReLU(0.1, name=f"{name}_act")(x)


def _strides(depth):
    """Stride of each encoder layer: halve both axes, the last only the frequency axis."""
    return [(2, 2)] * (depth - 1) + [(2, 1)]


def _wide(config):
    return 1024 if config.code >= 1024 else 2 * config.code


def build_spectral_encoder(config: SpectralConfig):
    """spectrogram [batch, 512, 256, 1] -> code [batch, 1, 1, code]."""
    spectrogram = keras.Input((BINS, FRAMES, 1), name="spectrogram")
    x = spectrogram
    for i, (filters, stride) in enumerate(zip(config.channels, _strides(len(config.channels)))):
        x = _block(x, filters, 5 if i == 0 else 4, stride, f"enc{i}")
    x = _block(x, _wide(config), 1, 1, "enc_wide")
    code = keras.layers.BatchNormalization(name="code_bn")(keras.layers.Conv2D(config.code, 1, name="code")(x))
    return keras.Model(spectrogram, code, name="encoder")


def build_spectral_decoder(config: SpectralConfig):
    """code [batch, 1, 1, code] (+ pitch int32 [batch]) -> spectrogram [batch, 512, 256, 1] in [0, 1]."""
    code = keras.Input((1, 1, config.code), name="code")
    inputs = {"code": code}
    z = code
    if config.pitch_conditioning:
        inputs["pitch"] = keras.Input((), dtype="int32", name="pitch")
        embedded = keras.layers.Embedding(128, config.pitch_embedding, name="pitch_embedding")(inputs["pitch"])
        z = keras.layers.Concatenate(name="code_and_pitch")([z, keras.layers.Reshape((1, 1, -1))(embedded)])
    x = _block(z, _wide(config), 1, 1, "dec_wide", transpose=True)
    strides = _strides(len(config.channels))
    for i, (filters, stride) in enumerate(zip(reversed(config.channels), reversed(strides))):
        x = _block(x, filters, 5 if i == len(config.channels) - 1 else 4, stride, f"dec{i}", transpose=True)
    reconstruction = keras.layers.Conv2D(1, 1, activation="sigmoid", dtype="float32", name="magnitude")(x)
    return keras.Model(inputs, reconstruction, name="decoder")


def encode_notes(model, audio):
    """A built spectral autoencoder, float audio [batch, 64000] -> codes [batch, code]."""
    spectrogram, _ = log_magnitude(audio)
    code = model.get_layer("encoder")(spectrogram, training=False)
    return tf.reshape(code, [tf.shape(code)[0], -1])


def decode_codes(model, config, code, pitch=None, iterations=60, seed=0):
    """Codes [batch, code] (+ pitch int32 [batch], used when pitch-conditioned) -> audio [batch,
    64000]: the decoded magnitude with phase by Griffin-Lim from a seeded start."""
    from nsynth_synth.data.nsynth import NOTE_SAMPLES

    inputs = {"code": tf.reshape(tf.convert_to_tensor(code, tf.float32), [-1, 1, 1, config.code])}
    if config.pitch_conditioning:
        inputs["pitch"] = tf.convert_to_tensor(pitch, tf.int32)
    spectrogram = model.get_layer("decoder")(inputs, training=False)
    magnitude = magnitude_from_log(spectrogram, -(-NOTE_SAMPLES // HOP))
    return griffin_lim(magnitude, NOTE_SAMPLES, iterations=iterations, seed=seed)


def build_spectral_autoencoder(config: SpectralConfig, name=None):
    """Inputs: spectrogram [batch, 512, 256, 1] (+ pitch int32 [batch]). Outputs: reconstruction
    (same shape, in [0, 1]) and code [batch, 1, 1, code]. Its layers `encoder` and `decoder` are
    the two halves as models of their own."""
    inputs = {"spectrogram": keras.Input((BINS, FRAMES, 1), name="spectrogram")}
    if config.pitch_conditioning:
        inputs["pitch"] = keras.Input((), dtype="int32", name="pitch")
    code = build_spectral_encoder(config)(inputs["spectrogram"])
    decoder_inputs = {"code": code, **({"pitch": inputs["pitch"]} if config.pitch_conditioning else {})}
    reconstruction = build_spectral_decoder(config)(decoder_inputs)
    return keras.Model(inputs, {"reconstruction": reconstruction, "code": code}, name=name or "spectral_autoencoder")
