"""The NSynth WaveNet autoencoder, trained on NSynth notes as Magenta released it: random
6144-sample crops, Adam at 2e-4 stepping down to 2e-5 (the released boundaries 90k, 120k, 150k,
180k of 200k steps, scaled to the run's steps), no weight decay, and an exponential moving
average of the weights (decay 0.9999) that evaluation and export use."""

import keras
import numpy as np
import tensorflow as tf

from nsynth_synth.audio import NUM_CLASSES
from nsynth_synth.data import nsynth
from nsynth_synth.data.nsynth import training_notes, with_pitch
from nsynth_synth.models.contract import Kind
from nsynth_synth.models.losses import audio_loss
from nsynth_synth.models.wavenet_autoencoder.config import PRESETS, AutoencoderConfig
from nsynth_synth.models.wavenet_autoencoder.model import WaveNetAutoencoder, build_autoencoder

WINDOW = 6144
LEARNING_RATES = (2e-4, 4e-4 / 3, 6e-5, 4e-5, 2e-5)
BOUNDARIES = (0.45, 0.6, 0.75, 0.9)  # fractions of the run
EMA_DECAY = 0.9999


def learning_rate_schedule(steps):
    """The released piecewise-constant schedule over a run of `steps`."""
    return keras.optimizers.schedules.PiecewiseConstantDecay([max(int(b * steps), 1) for b in BOUNDARIES],
                                                             list(LEARNING_RATES))


def loss(config, outputs, targets):
    value = audio_loss(targets["audio_ids"], outputs["audio_logits"])
    return value, value, tf.constant(0.0)


def examples(train, config):
    """Random crops of mu-law ids, the target the input itself (the model shifts it)."""
    def to_example(note):
        return with_pitch({"audio_ids": note["audio_ids"]}, note, config.pitch_conditioning), \
            {"audio_ids": note["audio_ids"]}

    return training_notes(train.data, to_example, train.batch_size, crop_length=train.window, seed=train.seed)


def example_inputs(config, batch, time):
    rng = np.random.default_rng(0)
    time = -(-time // config.hop) * config.hop
    inputs = {"audio_ids": rng.integers(0, NUM_CLASSES, (batch, time)).astype(np.int32)}
    if config.pitch_conditioning:
        inputs["pitch"] = rng.integers(0, 128, (batch,)).astype(np.int32)
    return inputs


def random_batch(config, batch, window):
    """Random ids, reconstructed: the target is the input window itself."""
    inputs = example_inputs(config, batch, window)
    return inputs, {"audio_ids": inputs["audio_ids"]}


KIND = Kind(
    name="wavenet_autoencoder",
    config_class=AutoencoderConfig,
    presets=PRESETS,
    build=build_autoencoder,
    loss=loss,
    loss_terms=lambda config: ("audio", None),
    data="nsynth",
    training_data=nsynth.training_data,
    train_defaults={"batch_size": 1, "window": WINDOW, "beta_1": 0.9, "weight_decay": 0.0, "ema": EMA_DECAY},
    learning_rate=learning_rate_schedule,
    examples=examples,
    random_batch=random_batch,
    example_inputs=example_inputs,
    tiny=AutoencoderConfig(encoder_layers=2, encoder_channels=8, bottleneck=4, hop=16, decoder_layers=3,
                           residual_channels=8, skip_channels=8, dilation_cycle=2, pitch_conditioning=True),
    network=WaveNetAutoencoder.from_model,
    # Measured as the MIDI-conditioned models' (models/midi_conditioned/kind.py), window 6144.
    bf16_speedup={"amx_bf16": {"nsynth_wavenet_ae": 1.14}, "no_bf16": {"nsynth_wavenet_ae": 0.23}},
    jit_speedup={"amx_bf16": {"nsynth_wavenet_ae": 1.15}, "no_bf16": {"nsynth_wavenet_ae": 0.91}},
    stages=("codec", "export"),
)
