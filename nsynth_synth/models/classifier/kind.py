"""The NSynth paper's note classifier, which judges reconstructions: the first `window` samples
of each note (the onset and the held tone), batches of 32, Adam at 1e-3, cross-entropy for pitch
and family plus binary cross-entropy for the qualities."""

import dataclasses

import numpy as np
import tensorflow as tf

from nsynth_synth.data import nsynth
from nsynth_synth.data.nsynth import training_notes
from nsynth_synth.models.classifier.config import PRESETS, ClassifierConfig
from nsynth_synth.models.classifier.model import build_classifier
from nsynth_synth.models.contract import Kind


def note_targets(note):
    """A note dict -> the classifier's targets: pitch int32, family int32, qualities float32 [10]."""
    return {"pitch": tf.cast(note["pitch"], tf.int32), "family": tf.cast(note["instrument_family"], tf.int32),
            "qualities": tf.cast(note["qualities"], tf.float32)}


def loss(config, outputs, targets):
    """(pitch + family + qualities, the pitch term, the qualities term)."""
    pitch = tf.reduce_mean(tf.keras.losses.sparse_categorical_crossentropy(
        targets["pitch"], outputs["pitch_logits"], from_logits=True))
    family = tf.reduce_mean(tf.keras.losses.sparse_categorical_crossentropy(
        targets["family"], outputs["family_logits"], from_logits=True))
    qualities = tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(
        labels=targets["qualities"], logits=outputs["quality_logits"]))
    return pitch + family + qualities, pitch, qualities


def run_config(preset, train, manifest):
    """The classifier takes its input length from the run's window (to judge shorter excerpts)."""
    return dataclasses.replace(preset, window=train.window) if train.window is not None else preset


def examples(train, config):
    def to_example(note):
        return {"audio": note["audio"][:config.window]}, note_targets(note)

    return training_notes(train.data, to_example, train.batch_size, seed=train.seed)


def example_inputs(config, batch, time):
    return {"audio": np.random.default_rng(0).uniform(-1, 1, (batch, config.window)).astype(np.float32)}


KIND = Kind(
    name="classifier",
    config_class=ClassifierConfig,
    presets=PRESETS,
    build=build_classifier,
    loss=loss,
    loss_terms=lambda config: ("pitch", "qualities"),
    data="nsynth",
    training_data=nsynth.training_data,
    train_defaults={"batch_size": 32, "window": PRESETS["nsynth_classifier"].window, "learning_rate": 1e-3,
                    "beta_1": 0.9, "weight_decay": 0.0, "ema": 0.0},
    run_config=run_config,
    examples=examples,
    example_inputs=example_inputs,
    tiny=ClassifierConfig(window=2048, fft_size=256, hop=128, channels=(2, 2), dense=4),
)
