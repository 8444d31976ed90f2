"""What `nsynth-synth train` does differently for the NSynth models (trained on NSynth notes):
the two autoencoders and the note classifier that judges their reconstructions.

The WaveNet autoencoder, as Magenta released it: random 6144-sample crops, Adam at 2e-4 stepping
down to 2e-5 (the released boundaries 90k, 120k, 150k, 180k of 200k steps, scaled to the run's
steps), no weight decay, and an exponential moving average of the weights (decay 0.9999) that
evaluation and export use.
The spectral baseline, as Magenta's baseline trained it: whole notes as log-power spectrograms,
Adam at 1e-4 with beta_1 0.5, the frequency-weighted squared error.
The classifier: the first `window` samples of each note (the onset and the held tone), batches of
32, Adam at 1e-3, cross-entropy for pitch and family plus binary cross-entropy for the qualities.
"""

import dataclasses

import keras
import tensorflow as tf

from nsynth_synth.configs import (AUTOENCODER_PRESETS, CLASSIFIER_PRESETS, SPECTRAL_PRESETS, AutoencoderConfig,
                                  ClassifierConfig, SpectralConfig)
from nsynth_synth.data.nsynth import NOTE_SAMPLES, notes, split_files, tfrecord_notes
from nsynth_synth.training.losses import audio_loss

WINDOW = 6144
LEARNING_RATES = (2e-4, 4e-4 / 3, 6e-5, 4e-5, 2e-5)
BOUNDARIES = (0.45, 0.6, 0.75, 0.9)  # fractions of the run
EMA_DECAY = 0.9999


NOTE_PRESETS = {**AUTOENCODER_PRESETS, **SPECTRAL_PRESETS, **CLASSIFIER_PRESETS}


def defaults(preset):
    """The TrainConfig defaults of a note preset."""
    if preset in SPECTRAL_PRESETS:
        return {"batch_size": 1, "window": NOTE_SAMPLES, "learning_rate": 1e-4, "beta_1": 0.5, "weight_decay": 0.0,
                "ema": 0.0}
    if preset in CLASSIFIER_PRESETS:
        return {"batch_size": 32, "window": CLASSIFIER_PRESETS[preset].window, "learning_rate": 1e-3, "beta_1": 0.9,
                "weight_decay": 0.0, "ema": 0.0}
    return {"batch_size": 1, "window": WINDOW, "beta_1": 0.9, "weight_decay": 0.0, "ema": EMA_DECAY}


def model_config(config):
    """The note preset's model config for a TrainConfig: the classifier takes its input length
    from the run's window (so a run can judge shorter excerpts); the autoencoders as preset."""
    preset = NOTE_PRESETS[config.preset]
    if isinstance(preset, ClassifierConfig) and config.window is not None:
        return dataclasses.replace(preset, window=config.window)
    return preset


def build(model_config, name):
    from nsynth_synth.models.classifier import build_classifier
    from nsynth_synth.models.spectral_autoencoder import build_spectral_autoencoder
    from nsynth_synth.models.wavenet_autoencoder import build_autoencoder

    if isinstance(model_config, AutoencoderConfig):
        return build_autoencoder(model_config, name=name)
    if isinstance(model_config, ClassifierConfig):
        return build_classifier(model_config, name=name)
    return build_spectral_autoencoder(model_config, name=name)


def loss(model_config, outputs, targets):
    """(loss, its main term, a second term): the audio cross-entropy or the weighted spectral error
    (second term 0), or the classifier's sum with its pitch and quality terms."""
    from nsynth_synth.models.spectral_autoencoder import weighted_mse

    if isinstance(model_config, ClassifierConfig):
        pitch = tf.reduce_mean(tf.keras.losses.sparse_categorical_crossentropy(
            targets["pitch"], outputs["pitch_logits"], from_logits=True))
        family = tf.reduce_mean(tf.keras.losses.sparse_categorical_crossentropy(
            targets["family"], outputs["family_logits"], from_logits=True))
        qualities = tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(
            labels=targets["qualities"], logits=outputs["quality_logits"]))
        return pitch + family + qualities, pitch, qualities
    if isinstance(model_config, AutoencoderConfig):
        value = audio_loss(targets["audio_ids"], outputs["audio_logits"])
    else:
        value = weighted_mse(targets["spectrogram"], outputs["reconstruction"], model_config.sample_rate)
    return value, value, tf.constant(0.0)


def learning_rate_schedule(steps):
    """The released piecewise-constant schedule over a run of `steps`."""
    return keras.optimizers.schedules.PiecewiseConstantDecay([max(int(b * steps), 1) for b in BOUNDARIES],
                                                             list(LEARNING_RATES))


def classifier_targets(note):
    """A note dict -> the classifier's targets: pitch int32, family int32, qualities float32 [10]."""
    return {"pitch": tf.cast(note["pitch"], tf.int32), "family": tf.cast(note["instrument_family"], tf.int32),
            "qualities": tf.cast(note["qualities"], tf.float32)}


def note_examples(config, model_config):
    """Endless (inputs, targets) batches of the train split's notes: random crops of mu-law ids
    for the WaveNet autoencoder, whole-note spectrograms for the spectral baseline, the first
    `window` samples and the labels for the classifier."""
    from nsynth_synth.models.spectral_autoencoder import log_magnitude

    dataset = tfrecord_notes(split_files(config.data, "train")).repeat().shuffle(256, seed=config.seed)
    classifier = isinstance(model_config, ClassifierConfig)
    spectral = isinstance(model_config, SpectralConfig)
    dataset = notes(dataset, crop_length=None if spectral or classifier else config.window, seed=config.seed)

    def split(note):
        if classifier:
            return {"audio": note["audio"][:config.window]}, classifier_targets(note)
        if spectral:
            spectrogram = log_magnitude(note["audio"][None])[0][0]
            inputs, targets = {"spectrogram": spectrogram}, {"spectrogram": spectrogram}
        else:
            inputs, targets = {"audio_ids": note["audio_ids"]}, {"audio_ids": note["audio_ids"]}
        if model_config.pitch_conditioning:
            inputs["pitch"] = tf.cast(note["pitch"], tf.int32)
        return inputs, targets

    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return (dataset.map(split, num_parallel_calls=tf.data.AUTOTUNE).batch(config.batch_size, drop_remainder=True)
            .prefetch(tf.data.AUTOTUNE).with_options(options))


class WeightAverage(tf.Module):
    """Exponential moving average of variables, with TensorFlow's warm-up: the decay at update n
    is min(decay, (1 + n) / (10 + n)), so a short run is not dominated by the initial weights.
    It holds the averages only (checkpointed as `ema`); the variables are passed to each call."""

    def __init__(self, variables, decay=EMA_DECAY):
        super().__init__(name="weight_average")
        self.decay = decay
        self.averages = [tf.Variable(v, trainable=False, name=f"average_{i}") for i, v in enumerate(variables)]

    def update(self, variables, step):
        step = tf.cast(step, tf.float32)
        decay = tf.minimum(self.decay, (1.0 + step) / (10.0 + step))
        for average, variable in zip(self.averages, variables):
            average.assign(decay * average + (1.0 - decay) * tf.cast(variable, average.dtype))

    def copy_to(self, variables):
        """Give the variables their averaged values (for evaluation and export)."""
        for average, variable in zip(self.averages, variables):
            variable.assign(average)
