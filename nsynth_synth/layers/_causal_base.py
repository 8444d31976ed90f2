"""The base of the two causal convolutions: arguments, weights, padding, and the step's queue.

A layer with kernel size k and dilation d sees its inputs at t, t - d, ..., t - (k - 1) d. Its
queue is a ring of span + 1 = (k - 1) d + 1 slots, shape [span + 1, batch, channels]; input t - j
lives in slot (t - j) mod (span + 1). A step first writes x_t into slot t mod (span + 1), over the
input that just left the receptive field, then gathers its k taps from the updated ring. Reading
after writing lets XLA update the ring in place; reading first makes it copy the whole ring every
step (measured: 6 us against 350 us a step for a [1025, 16, 64] ring). A zero queue is the zero
left padding of the teacher-forced call, so both paths compute the same function.
"""

import keras
import tensorflow as tf


class CausalConvBase(keras.layers.Layer):
    """A causal convolution with kernel [kernel_size, in, m] and a one-sample step.

    Subclasses say how many output channels an input width gives (`_output_channels`), the
    kernel's last dimension (`_kernel_depth`), and how the kernel meets the padded sequence
    (`_convolve`) and the taps of one step (`_contract`).
    """

    def __init__(self, kernel_size, dilation_rate=1, use_bias=True, kernel_initializer="glorot_uniform", **kwargs):
        super().__init__(**kwargs)
        check_positive(self, kernel_size=kernel_size, dilation_rate=dilation_rate)
        if kernel_size < 2:
            raise ValueError(f"{type(self).__name__}: kernel_size must be at least 2 (use Dense for 1), got {kernel_size}")
        self.kernel_size = kernel_size
        self.dilation_rate = dilation_rate
        self.use_bias = use_bias
        self.kernel_initializer = keras.initializers.get(kernel_initializer)

    @property
    def span(self):
        return (self.kernel_size - 1) * self.dilation_rate

    def build(self, input_shape):
        self.in_channels = int(input_shape[-1])
        self.kernel = self.add_weight(name="kernel", shape=(self.kernel_size, self.in_channels, self._kernel_depth()),
                                      initializer=self.kernel_initializer)
        channels = self._output_channels(self.in_channels)
        self.bias = self.add_weight(name="bias", shape=(channels,), initializer="zeros") if self.use_bias else None

    def call(self, inputs):
        """[batch, time, in] -> [batch, time, out]; zeros stand for the inputs before time 0."""
        padded = keras.ops.pad(inputs, [[0, 0], [self.span, 0], [0, 0]])
        outputs = self._convolve(padded)
        return outputs + self.bias if self.use_bias else outputs

    def initial_queue(self, batch_size, dtype=None):
        """A zero queue [span + 1, batch_size, in] of the layer's compute dtype."""
        return tf.zeros([self.span + 1, batch_size, self.in_channels], dtype or self.compute_dtype)

    def step(self, x_t, queue, t):
        """x_t [batch, in], queue, step index t (int32 scalar) -> (y_t [batch, out], queue)."""
        slots = self.span + 1
        queue = tf.tensor_scatter_nd_update(queue, [[tf.math.floormod(t, slots)]], tf.cast(x_t, queue.dtype)[None])
        # taps[i] is the input at t - (kernel_size - 1 - i) * dilation_rate, as kernel[i] expects.
        lags = tf.range(self.kernel_size - 1, -1, -1) * self.dilation_rate
        taps = tf.gather(queue, tf.math.floormod(t - lags, slots))
        outputs = self._contract(taps, tf.cast(self.kernel, taps.dtype))
        if self.use_bias:
            outputs += tf.cast(self.bias, taps.dtype)
        return outputs, queue

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self._output_channels(int(input_shape[-1])))

    def get_config(self):
        return {
            **super().get_config(),
            "kernel_size": self.kernel_size, "dilation_rate": self.dilation_rate, "use_bias": self.use_bias,
            "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
        }


def check_positive(layer, **values):
    for name, value in values.items():
        if not isinstance(value, int) or value < 1:
            raise ValueError(f"{type(layer).__name__}: {name} must be a positive integer, got {value!r}")
