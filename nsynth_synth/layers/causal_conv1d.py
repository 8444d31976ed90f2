"""CausalConv1D: a dilated causal 1-D convolution with a one-sample step for fast generation."""

import keras
import tensorflow as tf

from nsynth_synth.layers._causal_queue import CausalQueueMixin, check_positive


@keras.saving.register_keras_serializable(package="nsynth_synth")
class CausalConv1D(CausalQueueMixin, keras.layers.Layer):
    """Output t depends on inputs t, t - d, ..., t - (kernel_size - 1) d only.

    call:  [batch, time, in] -> [batch, time, filters] (teacher-forced, zero history)
    step:  x_t [batch, in], queue [span + 1, batch, in], t -> (y_t [batch, filters], queue)
    """

    def __init__(self, filters, kernel_size, dilation_rate=1, use_bias=True, kernel_initializer="glorot_uniform",
                 **kwargs):
        super().__init__(**kwargs)
        check_positive(self, filters=filters, kernel_size=kernel_size, dilation_rate=dilation_rate)
        if kernel_size < 2:
            raise ValueError(f"CausalConv1D: kernel_size must be at least 2 (use Dense for 1), got {kernel_size}")
        self.filters = filters
        self.kernel_size = kernel_size
        self.dilation_rate = dilation_rate
        self.use_bias = use_bias
        self.kernel_initializer = keras.initializers.get(kernel_initializer)

    def build(self, input_shape):
        self.in_channels = int(input_shape[-1])
        self.kernel = self.add_weight(name="kernel", shape=(self.kernel_size, self.in_channels, self.filters),
                                      initializer=self.kernel_initializer)
        self.bias = self.add_weight(name="bias", shape=(self.filters,), initializer="zeros") if self.use_bias else None

    def call(self, inputs):
        outputs = keras.ops.conv(self._pad_causal(inputs), self.kernel, padding="valid",
                                 dilation_rate=self.dilation_rate)
        return outputs + self.bias if self.use_bias else outputs

    def initial_queue(self, batch_size, dtype=None):
        return super().initial_queue(batch_size, self.in_channels, dtype)

    def step(self, x_t, queue, t):
        taps, queue = self._taps(x_t, queue, t)
        kernel = tf.cast(self.kernel, taps.dtype)
        outputs = tf.einsum("kbi,kio->bo", taps, kernel)
        if self.use_bias:
            outputs += tf.cast(self.bias, taps.dtype)
        return outputs, queue

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.filters)

    def get_config(self):
        return {
            **super().get_config(),
            "filters": self.filters, "kernel_size": self.kernel_size, "dilation_rate": self.dilation_rate,
            "use_bias": self.use_bias, "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
        }
