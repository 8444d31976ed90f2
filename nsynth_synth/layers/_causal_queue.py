"""What the two causal convolutions share: the teacher-forced padding and the step's queue.

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


class CausalQueueMixin:
    """For layers with `kernel_size` and `dilation_rate` attributes."""

    @property
    def span(self):
        return (self.kernel_size - 1) * self.dilation_rate

    def _pad_causal(self, inputs):
        """[batch, time, channels] -> [batch, span + time, channels], zeros in front."""
        return keras.ops.pad(inputs, [[0, 0], [self.span, 0], [0, 0]])

    def initial_queue(self, batch_size, channels, dtype=None):
        """A zero queue [span + 1, batch_size, channels] of the layer's compute dtype."""
        return tf.zeros([self.span + 1, batch_size, channels], dtype or self.compute_dtype)

    def _taps(self, x_t, queue, t):
        """x_t [batch, channels], queue, step index t -> (taps [kernel_size, batch, channels], queue).

        taps[i] is the input at t - (kernel_size - 1 - i) * dilation_rate, as kernel[i] expects.
        """
        slots = self.span + 1
        queue = tf.tensor_scatter_nd_update(queue, [[tf.math.floormod(t, slots)]], tf.cast(x_t, queue.dtype)[None])
        lags = tf.range(self.kernel_size - 1, -1, -1) * self.dilation_rate
        return tf.gather(queue, tf.math.floormod(t - lags, slots)), queue


def check_positive(layer, **values):
    for name, value in values.items():
        if not isinstance(value, int) or value < 1:
            raise ValueError(f"{type(layer).__name__}: {name} must be a positive integer, got {value!r}")
