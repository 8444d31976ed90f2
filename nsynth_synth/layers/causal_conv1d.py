"""CausalConv1D: a dilated causal 1-D convolution with a one-sample step for fast generation."""

import keras
import tensorflow as tf

from nsynth_synth.layers._causal_base import CausalConvBase, check_positive


@keras.saving.register_keras_serializable(package="nsynth_synth")
class CausalConv1D(CausalConvBase):
    """Output t depends on inputs t, t - d, ..., t - (kernel_size - 1) d only.

    call:  [batch, time, in] -> [batch, time, filters] (teacher-forced, zero history)
    step:  x_t [batch, in], queue [span + 1, batch, in], t -> (y_t [batch, filters], queue)
    """

    def __init__(self, filters, kernel_size, dilation_rate=1, **kwargs):
        super().__init__(kernel_size, dilation_rate, **kwargs)
        check_positive(self, filters=filters)
        self.filters = filters

    def _kernel_depth(self):
        return self.filters

    def _output_channels(self, in_channels):
        return self.filters

    def _convolve(self, padded):
        return keras.ops.conv(padded, self.kernel, padding="valid", dilation_rate=self.dilation_rate)

    def _contract(self, taps, kernel):
        return tf.einsum("kbi,kio->bo", taps, kernel)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters}
