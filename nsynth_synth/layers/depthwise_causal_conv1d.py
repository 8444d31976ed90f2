"""DepthwiseCausalConv1D: each channel convolved causally with its own filters (SynthNet's
dilated depthwise-separable convolution, whose 1x1 part is the residual projection)."""

import keras
import tensorflow as tf

from nsynth_synth.layers._causal_base import CausalConvBase, check_positive


@keras.saving.register_keras_serializable(package="nsynth_synth")
class DepthwiseCausalConv1D(CausalConvBase):
    """call: [batch, time, in] -> [batch, time, in * depth_multiplier], output channel
    c * depth_multiplier + m from input channel c's m-th filter.
    step: x_t [batch, in], queue [span + 1, batch, in], t -> (y_t [batch, in * depth_multiplier], queue)
    """

    def __init__(self, kernel_size, dilation_rate=1, depth_multiplier=1, **kwargs):
        super().__init__(kernel_size, dilation_rate, **kwargs)
        check_positive(self, depth_multiplier=depth_multiplier)
        self.depth_multiplier = depth_multiplier

    def _kernel_depth(self):
        return self.depth_multiplier

    def _output_channels(self, in_channels):
        return in_channels * self.depth_multiplier

    def _convolve(self, padded):
        return keras.ops.depthwise_conv(padded, self.kernel, padding="valid", dilation_rate=self.dilation_rate)

    def _contract(self, taps, kernel):
        outputs = tf.einsum("kbi,kim->bim", taps, kernel)
        return tf.reshape(outputs, [-1, self.in_channels * self.depth_multiplier])

    def get_config(self):
        return {**super().get_config(), "depth_multiplier": self.depth_multiplier}
