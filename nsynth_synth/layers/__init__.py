"""Keras layers, one public class per file."""

from nsynth_synth.layers.causal_conv1d import CausalConv1D
from nsynth_synth.layers.depthwise_causal_conv1d import DepthwiseCausalConv1D

__all__ = ["CausalConv1D", "DepthwiseCausalConv1D"]
