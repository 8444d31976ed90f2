"""The SynthNet paper's three MIDI-conditioned models as one network, set by its Table 1.

- WaveNet (van den Oord et al. 2016): scalar input, gated dilated convolutions with local
  conditioning in every layer (Eq. 2-5), the residual 1x1 output doubling as the skip, ReLU final block.
- DeepVoice (Arik et al. 2017): 256-way one-hot input with tanh, separate residual and skip 1x1s.
- SynthNet (Schimbinschi et al., ICLR 2019 submission): embedded input, the piano roll added at the
  input only (Eq. 7-8), depthwise dilated convolutions whose 1x1 part is the residual projection,
  no skips, SeLU final block, and a head predicting the next piano-roll frame (Eq. 9).

Inputs: audio_ids int32 [batch, time] (mu-law), piano_roll float [batch, time, 128] (audio rate),
and with num_styles > 0 style_id int32 [batch] (global conditioning, Table 4).
Outputs: audio_logits float32 [batch, time, 256], where step t predicts audio_ids[t + 1]; SynthNet
also roll_logits float32 [batch, time, 128], predicting piano_roll[t + 1].

The wiring is written once, over a `conv(name, x)` callable: the Keras model passes the layers'
teacher-forced call, the cached-queue sampler (nsynth_synth.sampling) their one-sample step.
"""

import keras

from nsynth_synth.audio import MU_LAW_LEVELS, NUM_CLASSES
from nsynth_synth.data.pianoroll import NUM_KEYS
from nsynth_synth.layers import CausalConv1D, DepthwiseCausalConv1D
from nsynth_synth.models.midi_conditioned.config import ModelConfig


def _activation(name):
    return {None: lambda x: x, "tanh": keras.ops.tanh, "relu": keras.ops.relu, "selu": keras.ops.selu}[name]


class MidiConditionedNetwork:
    """Creates (or adopts from a built model) the layers of one ModelConfig and wires them."""

    def __init__(self, config: ModelConfig, layers=None):
        self.config = config
        self.arch = config.architecture
        self.layers = layers if layers is not None else self._make_layers()

    # Layers --------------------------------------------------------------------------------

    def _make_layers(self):
        c, arch = self.config, self.arch
        channels = c.residual_channels
        made = {}
        if arch.audio_input == "embedding":
            made["audio_embedding"] = keras.layers.Embedding(NUM_CLASSES, channels, name="audio_embedding")
        else:
            made["audio_conv"] = CausalConv1D(channels, c.filter_width, name="audio_conv")
        if arch.conditioning == "input":
            made["roll_embedding"] = keras.layers.Dense(channels, name="roll_embedding")  # V0, Eq. 7
            made["roll_projection"] = keras.layers.Dense(channels, name="roll_projection")  # Vh, Eq. 8
            made["roll_head"] = keras.layers.Dense(NUM_KEYS, dtype="float32", name="roll_head")  # Vout, Eq. 9
        else:
            made["roll_conv"] = CausalConv1D(channels, c.filter_width, name="roll_conv")  # V0, Eq. 4
        for i, dilation in enumerate(c.dilations):
            if arch.separable:
                made[f"layer{i}_conv"] = DepthwiseCausalConv1D(c.filter_width, dilation, depth_multiplier=2,
                                                               name=f"layer{i}_conv")
            else:
                made[f"layer{i}_conv"] = CausalConv1D(2 * channels, c.filter_width, dilation, name=f"layer{i}_conv")
            if arch.conditioning == "every_layer":
                made[f"layer{i}_roll_conv"] = CausalConv1D(2 * channels, c.filter_width, dilation, use_bias=False,
                                                           name=f"layer{i}_roll_conv")
            if c.num_styles:
                made[f"layer{i}_style"] = keras.layers.Embedding(c.num_styles, 2 * channels, name=f"layer{i}_style")
            if self._has_residual(i):
                made[f"layer{i}_residual"] = keras.layers.Dense(channels, name=f"layer{i}_residual")
            if arch.skip == "separate":
                made[f"layer{i}_skip"] = keras.layers.Dense(c.skip_channels, name=f"layer{i}_skip")
        for j, width in enumerate(c.final_channels):
            made[f"final{j}"] = keras.layers.Dense(width, name=f"final{j}")
        made["logits"] = keras.layers.Dense(NUM_CLASSES, dtype="float32", name="logits")
        return made

    def _has_residual(self, i):
        """With separate skips the last layer's residual would feed nothing, so it is left out."""
        return not (self.arch.skip == "separate" and i == len(self.config.dilations) - 1)

    @classmethod
    def from_model(cls, model, config):
        """Adopt the layers (and weights) of a model built by build_model."""
        return cls(config, {layer.name: layer for layer in model.layers})

    @property
    def conditioning_width(self):
        """Channels of what `condition` takes: the piano roll's keys."""
        return NUM_KEYS

    @property
    def conditioning_layers(self):
        """The causal layers `condition` runs over a whole chunk of the roll (not sample by sample)."""
        return ("roll_conv",) if self.arch.conditioning == "every_layer" else ()

    @property
    def conditioning_context(self):
        """Samples of piano-roll history the conditioning needs (its own causal convolution)."""
        return self.config.filter_width - 1 if self.arch.conditioning == "every_layer" else 0

    # Wiring --------------------------------------------------------------------------------

    def condition(self, roll, conv):
        """Piano roll [..., 128] -> (conditioning [..., channels], roll_logits or None).

        Depends on the piano roll alone, so generation computes it for a whole chunk before
        the sample loop.
        """
        if self.arch.conditioning == "every_layer":
            return conv("roll_conv", roll), None  # y' of Eq. 4, fed to every layer
        embedded = keras.ops.tanh(self.layers["roll_embedding"](roll))  # y_h, Eq. 7
        projected = keras.ops.tanh(self.layers["roll_projection"](embedded))
        return projected, self.layers["roll_head"](projected)  # the input term of Eq. 8; Eq. 9

    def style_terms(self, style_id):
        """style_id [batch] -> per-layer gate biases U z, each [batch, 2 * channels] (or Nones)."""
        if not self.config.num_styles:
            return [None] * len(self.config.dilations)
        return [self.layers[f"layer{i}_style"](style_id) for i in range(len(self.config.dilations))]

    def autoregress(self, audio_ids, conditioning, style_terms, conv, time_axis=True):
        """audio_ids [batch(, time)], conditioning [batch(, time), channels] -> logits [batch(, time), 256].

        time_axis: False for one step (no time dimension; style terms need no broadcasting).
        """
        arch, layers = self.arch, self.layers
        if arch.audio_input == "embedding":
            x = layers["audio_embedding"](audio_ids)
        elif arch.audio_input == "one_hot":
            x = conv("audio_conv", keras.ops.one_hot(audio_ids, NUM_CLASSES))
        else:
            scalar = keras.ops.take(keras.ops.convert_to_tensor(MU_LAW_LEVELS), audio_ids)
            x = conv("audio_conv", keras.ops.expand_dims(scalar, -1))
        x = _activation(arch.input_activation)(x)
        if arch.conditioning == "input":
            x = x + keras.ops.cast(conditioning, x.dtype)
        skips = []
        for i, style in enumerate(style_terms):
            gates = conv(f"layer{i}_conv", x)
            if arch.conditioning == "every_layer":
                gates = gates + conv(f"layer{i}_roll_conv", conditioning)
            if style is not None:
                gates = gates + keras.ops.cast(keras.ops.expand_dims(style, 1) if time_axis else style, gates.dtype)
            filters, gate = keras.ops.split(gates, 2, axis=-1)
            hidden = keras.ops.tanh(filters) * keras.ops.sigmoid(gate)
            if arch.skip == "separate":
                skips.append(layers[f"layer{i}_skip"](hidden))
            if self._has_residual(i):
                residual = layers[f"layer{i}_residual"](hidden)
                if arch.skip == "shared":
                    skips.append(residual)
                x = x + residual
        out = x if arch.skip == "none" else keras.ops.sum(keras.ops.stack(skips), axis=0)
        final = _activation(arch.final_activation)
        out = final(out)
        for j in range(len(self.config.final_channels)):
            out = final(layers[f"final{j}"](out))
        return layers["logits"](out)

    # The Keras model -----------------------------------------------------------------------

    def build_model(self, name=None):
        """The teacher-forced Keras functional model (inputs and outputs in the module docstring)."""
        inputs = {
            "audio_ids": keras.Input((None,), dtype="int32", name="audio_ids"),
            "piano_roll": keras.Input((None, NUM_KEYS), name="piano_roll"),
        }
        if self.config.num_styles:
            inputs["style_id"] = keras.Input((), dtype="int32", name="style_id")

        def conv(layer_name, x):
            return self.layers[layer_name](x)

        conditioning, roll_logits = self.condition(inputs["piano_roll"], conv)
        styles = self.style_terms(inputs.get("style_id"))
        outputs = {"audio_logits": self.autoregress(inputs["audio_ids"], conditioning, styles, conv)}
        if roll_logits is not None:
            outputs["roll_logits"] = roll_logits
        return keras.Model(inputs, outputs, name=name or self.config.family)


def build_model(config: ModelConfig, name=None):
    """ModelConfig -> Keras functional model of its family."""
    return MidiConditionedNetwork(config).build_model(name)
