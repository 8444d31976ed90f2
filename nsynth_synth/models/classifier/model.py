"""The multi-task note classifier of the NSynth paper's evaluations (Engel et al. 2017, Table 1):
pitch and qualities (plus instrument family) of a note, used to judge reconstructions."""

import keras

from nsynth_synth.data.nsynth import FAMILIES, QUALITIES
from nsynth_synth.models.classifier.config import ClassifierConfig

PITCHES = 128


def log_spectrogram(audio, config):
    """float audio [batch, window] -> log magnitude [batch, frames, bins, 1] up to max_frequency."""
    real, imag = keras.ops.stft(audio, config.fft_size, config.hop, config.fft_size)
    magnitude = keras.ops.sqrt(real * real + imag * imag + 1e-12)[:, :, :config.bins]
    return keras.ops.expand_dims(keras.ops.log(magnitude + 1e-4), -1)


def build_classifier(config: ClassifierConfig, name=None):
    """Keras model: {"audio": float [batch, window] in [-1, 1]} -> {"pitch_logits" [batch, 128],
    "quality_logits" [batch, 10], "family_logits" [batch, 11]} (float32 logits)."""
    audio = keras.Input((config.window,), name="audio")
    x = log_spectrogram(audio, config)
    for i, channels in enumerate(config.channels):
        x = keras.layers.Conv2D(channels, 3, padding="same", use_bias=False, name=f"conv_{i}")(x)
        x = keras.layers.BatchNormalization(name=f"norm_{i}")(x)
        x = keras.layers.Activation("relu", name=f"relu_{i}")(x)
        x = keras.layers.MaxPooling2D(2, padding="same", name=f"pool_{i}")(x)
    # Mean over time keeps where in frequency each feature is: pitch is a position on that axis.
    x = keras.layers.Flatten(name="flatten")(keras.ops.mean(x, axis=1))
    x = keras.layers.Dense(config.dense, activation="relu", name="hidden")(x)
    outputs = {
        "pitch_logits": keras.layers.Dense(PITCHES, dtype="float32", name="pitch_logits")(x),
        "quality_logits": keras.layers.Dense(len(QUALITIES), dtype="float32", name="quality_logits")(x),
        "family_logits": keras.layers.Dense(len(FAMILIES), dtype="float32", name="family_logits")(x),
    }
    return keras.Model({"audio": audio}, outputs, name=name or "nsynth_classifier")
