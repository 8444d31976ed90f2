"""What `nsynth-synth train` does differently for the NSynth WaveNet autoencoder.

As Magenta released it: random 6144-sample crops of NSynth notes, Adam at 2e-4 stepping down to
2e-5 (the released boundaries 90k, 120k, 150k, 180k of 200k steps, scaled to the run's steps),
no weight decay, and an exponential moving average of the weights (decay 0.9999) that evaluation
and export use.
"""

import keras
import tensorflow as tf

from nsynth_synth.data.nsynth import notes, split_files, tfrecord_notes

WINDOW = 6144
LEARNING_RATES = (2e-4, 4e-4 / 3, 6e-5, 4e-5, 2e-5)
BOUNDARIES = (0.45, 0.6, 0.75, 0.9)  # fractions of the run
EMA_DECAY = 0.9999


def learning_rate_schedule(steps):
    """The released piecewise-constant schedule over a run of `steps`."""
    return keras.optimizers.schedules.PiecewiseConstantDecay([max(int(b * steps), 1) for b in BOUNDARIES],
                                                             list(LEARNING_RATES))


def autoencoder_examples(config, model_config):
    """Endless (inputs, targets) batches of random crops of the train split's notes."""
    dataset = tfrecord_notes(split_files(config.data, "train")).repeat().shuffle(256, seed=config.seed)
    dataset = notes(dataset, crop_length=config.window, seed=config.seed)

    def split(note):
        inputs = {"audio_ids": note["audio_ids"]}
        if model_config.pitch_conditioning:
            inputs["pitch"] = tf.cast(note["pitch"], tf.int32)
        return inputs, {"audio_ids": note["audio_ids"]}

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
