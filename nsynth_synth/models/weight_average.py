"""An exponential moving average of a model's weights, for evaluation and export (the WaveNet
autoencoder's released training keeps one at decay 0.9999)."""

import tensorflow as tf


class WeightAverage(tf.Module):
    """Exponential moving average of variables, with TensorFlow's warm-up: the decay at update n
    is min(decay, (1 + n) / (10 + n)), so a short run is not dominated by the initial weights.
    It holds the averages only (checkpointed as `ema`); the variables are passed to each call.
    decay None: averages only to restore from a checkpoint, never updated."""

    def __init__(self, variables, decay=None):
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
