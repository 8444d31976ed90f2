"""DepthwiseCausalConv1D: each channel convolved causally with its own filters (SynthNet's
dilated depthwise-separable convolution, whose 1x1 part is the residual projection)."""

import keras
import tensorflow as tf

from nsynth_synth.layers._causal_queue import CausalQueueMixin, check_positive


@keras.saving.register_keras_serializable(package="nsynth_synth")
class DepthwiseCausalConv1D(CausalQueueMixin, keras.layers.Layer):
    """call: [batch, time, in] -> [batch, time, in * depth_multiplier], output channel
    c * depth_multiplier + m from input channel c's m-th filter.
    step: x_t [batch, in], queue [span + 1, batch, in], t -> (y_t [batch, in * depth_multiplier], queue)
    """

    def __init__(self, kernel_size, dilation_rate=1, depth_multiplier=1, use_bias=True,
                 kernel_initializer="glorot_uniform", **kwargs):
        super().__init__(**kwargs)
        check_positive(self, kernel_size=kernel_size, dilation_rate=dilation_rate, depth_multiplier=depth_multiplier)
        if kernel_size < 2:
            raise ValueError(f"DepthwiseCausalConv1D: kernel_size must be at least 2, got {kernel_size}")
        self.kernel_size = kernel_size
        self.dilation_rate = dilation_rate
        self.depth_multiplier = depth_multiplier
        self.use_bias = use_bias
        self.kernel_initializer = keras.initializers.get(kernel_initializer)

    def build(self, input_shape):
        self.in_channels = int(input_shape[-1])
        self.kernel = self.add_weight(name="kernel", shape=(self.kernel_size, self.in_channels, self.depth_multiplier),
                                      initializer=self.kernel_initializer)
        channels = self.in_channels * self.depth_multiplier
        self.bias = self.add_weight(name="bias", shape=(channels,), initializer="zeros") if self.use_bias else None

    def call(self, inputs):
        outputs = keras.ops.depthwise_conv(self._pad_causal(inputs), self.kernel, padding="valid",
                                           dilation_rate=self.dilation_rate)
        return outputs + self.bias if self.use_bias else outputs

    def initial_queue(self, batch_size, dtype=None):
        return super().initial_queue(batch_size, self.in_channels, dtype)

    def step(self, x_t, queue, t):
        taps, queue = self._taps(x_t, queue, t)
        kernel = tf.cast(self.kernel, taps.dtype)
        outputs = tf.einsum("kbi,kim->bim", taps, kernel)
        outputs = tf.reshape(outputs, [-1, self.in_channels * self.depth_multiplier])
        if self.use_bias:
            outputs += tf.cast(self.bias, taps.dtype)
        return outputs, queue

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], int(input_shape[-1]) * self.depth_multiplier)

    def get_config(self):
        return {
            **super().get_config(),
            "kernel_size": self.kernel_size, "dilation_rate": self.dilation_rate,
            "depth_multiplier": self.depth_multiplier, "use_bias": self.use_bias,
            "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
        }
