"""The NSynth paper's spectral autoencoder baseline, trained as Magenta's baseline was: whole notes
as log-power spectrograms, Adam at 1e-4 with beta_1 0.5, the frequency-weighted squared error."""

import numpy as np
import tensorflow as tf

from nsynth_synth.data import nsynth
from nsynth_synth.data.nsynth import NOTE_SAMPLES, training_notes, with_pitch
from nsynth_synth.models.contract import Kind
from nsynth_synth.models.spectral_autoencoder.config import PRESETS, SpectralConfig
from nsynth_synth.models.spectral_autoencoder.model import (
    BINS,
    FRAMES,
    build_spectral_autoencoder,
    log_magnitude,
    weighted_mse,
)


def loss(config, outputs, targets):
    value = weighted_mse(targets["spectrogram"], outputs["reconstruction"], config.sample_rate)
    return value, value, tf.constant(0.0)


def examples(train, config):
    """Whole notes as spectrograms, the target the input itself."""
    def to_example(note):
        spectrogram = log_magnitude(note["audio"][None])[0][0]
        return with_pitch({"spectrogram": spectrogram}, note, config.pitch_conditioning), {"spectrogram": spectrogram}

    return training_notes(train.data, to_example, train.batch_size, seed=train.seed)


def example_inputs(config, batch, time):
    rng = np.random.default_rng(0)
    inputs = {"spectrogram": rng.random((batch, BINS, FRAMES, 1)).astype(np.float32)}
    if config.pitch_conditioning:
        inputs["pitch"] = rng.integers(0, 128, (batch,)).astype(np.int32)
    return inputs


KIND = Kind(
    name="spectral_autoencoder",
    config_class=SpectralConfig,
    presets=PRESETS,
    build=build_spectral_autoencoder,
    loss=loss,
    loss_terms=lambda config: ("spectral", None),
    data="nsynth",
    training_data=nsynth.training_data,
    train_defaults={"batch_size": 1, "window": NOTE_SAMPLES, "learning_rate": 1e-4, "beta_1": 0.5,
                    "weight_decay": 0.0, "ema": 0.0},
    examples=examples,
    example_inputs=example_inputs,
    tiny=SpectralConfig(channels=(2,) * 9, code=4, pitch_conditioning=True, pitch_embedding=2),
    stages=("codec", "export"),
)
