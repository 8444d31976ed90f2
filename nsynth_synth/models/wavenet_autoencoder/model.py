"""The NSynth WaveNet autoencoder (Engel et al. 2017), as Magenta released it (h512_bo16).

Encoder (non-causal): a width-F convolution, then layers of ReLU -> dilated convolution (same
padding, dilations 1..2**(cycle-1) repeating) -> ReLU -> 1x1, added to a residual stream; a 1x1
bottleneck to 16 channels and average pooling over `hop` samples: 64000 samples -> 125 x 16.
Decoder (causal WaveNet): the previous sample through a causal width-F convolution; per layer a
dilated causal convolution to 2 x residual channels plus a 1x1 projection of the code (upsampled
by nearest neighbour), gated tanh x sigmoid, 1x1 residual and 1x1 skip; the skip sum (starting
from a 1x1 of the input layer) -> ReLU -> 1x1 plus a 1x1 of the code -> ReLU -> 256-way logits.
Both halves see the audio as mu-law ids scaled to [-1, 1): (id - 128) / 128.

Inputs: audio_ids int32 [batch, time] (time a multiple of hop), and pitch int32 [batch] with
pitch conditioning (one-hot, concatenated with the code). Outputs: audio_logits float32
[batch, time, 256] (step t predicts id t from ids < t and the code), code [batch, time / hop, 16].
"""

import keras

from nsynth_synth.audio import NUM_CLASSES, SILENCE_ID
from nsynth_synth.layers import CausalConv1D
from nsynth_synth.models.wavenet_autoencoder.config import AutoencoderConfig

NUM_PITCHES = 128


def scale_ids(ids):
    """mu-law ids -> float in [-1, 1), Magenta's input scaling."""
    return (keras.ops.cast(ids, "float32") - 128.0) / 128.0


class WaveNetAutoencoder:
    """The layers of one autoencoder and its wiring; `build_model` makes the Keras model. The
    decoder generates through nsynth_synth.sampling.CachedQueueSampler, fed the code frames
    (with the pitch one-hot, if conditioned) with hop = config.hop and upsample="hold"."""

    def __init__(self, config: AutoencoderConfig, layers=None):
        self.config = config
        self.layers = layers if layers is not None else self._make_layers()

    def _make_layers(self):
        c = self.config
        made = {"enc_start": keras.layers.Conv1D(c.encoder_channels, c.filter_width, padding="same", name="enc_start")}
        for i, dilation in enumerate(c.dilations(c.encoder_layers)):
            made[f"enc{i}_conv"] = keras.layers.Conv1D(c.encoder_channels, c.filter_width, padding="same",
                                                       dilation_rate=dilation, name=f"enc{i}_conv")
            made[f"enc{i}_residual"] = keras.layers.Dense(c.encoder_channels, name=f"enc{i}_residual")
        made["enc_bottleneck"] = keras.layers.Dense(c.bottleneck, name="enc_bottleneck")
        made["dec_start"] = CausalConv1D(c.residual_channels, c.filter_width, name="dec_start")
        made["dec_skip_start"] = keras.layers.Dense(c.skip_channels, name="dec_skip_start")
        for i, dilation in enumerate(c.dilations(c.decoder_layers)):
            made[f"dec{i}_conv"] = CausalConv1D(2 * c.residual_channels, c.filter_width, dilation, name=f"dec{i}_conv")
            made[f"dec{i}_code"] = keras.layers.Dense(2 * c.residual_channels, name=f"dec{i}_code")
            if i < c.decoder_layers - 1:  # the last layer's residual would feed nothing
                made[f"dec{i}_residual"] = keras.layers.Dense(c.residual_channels, name=f"dec{i}_residual")
            made[f"dec{i}_skip"] = keras.layers.Dense(c.skip_channels, name=f"dec{i}_skip")
        made["dec_out"] = keras.layers.Dense(c.skip_channels, name="dec_out")
        made["dec_out_code"] = keras.layers.Dense(c.skip_channels, name="dec_out_code")
        made["logits"] = keras.layers.Dense(NUM_CLASSES, dtype="float32", name="logits")
        return made

    @classmethod
    def from_model(cls, model, config):
        """Adopt the layers (and weights) of a model built by build_autoencoder."""
        return cls(config, {layer.name: layer for layer in model.layers})

    def encode(self, audio_ids):
        """ids [batch, time] -> code [batch, time / hop, bottleneck]."""
        c, layers = self.config, self.layers
        x = layers["enc_start"](keras.ops.expand_dims(scale_ids(audio_ids), -1))
        for i in range(c.encoder_layers):
            h = layers[f"enc{i}_conv"](keras.ops.relu(x))
            x = x + layers[f"enc{i}_residual"](keras.ops.relu(h))
        return keras.ops.average_pool(layers["enc_bottleneck"](x), c.hop, strides=c.hop, padding="valid")

    def conditioning(self, code, pitch=None):
        """code [batch, frames, bottleneck] (+ pitch [batch]) -> per-frame conditioning
        [batch, frames, bottleneck (+ 128)], before upsampling."""
        if not self.config.pitch_conditioning:
            return code
        one_hot = keras.ops.one_hot(pitch, NUM_PITCHES, dtype=code.dtype)[:, None, :]
        return keras.ops.concatenate([code, one_hot * keras.ops.ones_like(code[..., :1])], axis=-1)

    def upsample(self, conditioning):
        """Nearest neighbour: [batch, frames, channels] -> [batch, frames * hop, channels]."""
        return keras.ops.repeat(conditioning, self.config.hop, axis=1)

    def decode(self, previous_ids, conditioning, conv):
        """previous_ids [batch(, time)] (id t - 1 at step t), conditioning at audio rate
        [batch(, time), channels] -> logits [batch(, time), 256]. conv(name, x) applies a causal
        layer: its call in the teacher-forced model, its step in generation."""
        layers = self.layers
        x = conv("dec_start", keras.ops.expand_dims(scale_ids(previous_ids), -1))
        skip = layers["dec_skip_start"](x)
        channels = self.config.residual_channels
        for i in range(self.config.decoder_layers):
            gates = conv(f"dec{i}_conv", x) + layers[f"dec{i}_code"](conditioning)
            hidden = keras.ops.tanh(gates[..., :channels]) * keras.ops.sigmoid(gates[..., channels:])
            if i < self.config.decoder_layers - 1:
                x = x + layers[f"dec{i}_residual"](hidden)
            skip = skip + layers[f"dec{i}_skip"](hidden)
        out = layers["dec_out"](keras.ops.relu(skip)) + layers["dec_out_code"](conditioning)
        return layers["logits"](keras.ops.relu(out))

    # The interface of the cached-queue sampler (nsynth_synth.sampling), shared with
    # MidiConditionedNetwork: the "local conditioning" it upsamples is the code (+ pitch).

    conditioning_context = 0  # the code enters through 1x1 projections: no history needed
    conditioning_layers = ()  # none of its causal layers runs over the conditioning alone

    @property
    def conditioning_width(self):
        """Channels of what `condition` takes: the code (and the pitch one-hot)."""
        return self.config.bottleneck + (NUM_PITCHES if self.config.pitch_conditioning else 0)

    def condition(self, conditioning, conv):
        """Audio-rate conditioning -> (itself, None): the per-layer projections are in `decode`."""
        return conditioning, None

    def style_terms(self, style_id):
        return None

    def autoregress(self, previous_ids, conditioning, style_terms, conv, time_axis=True):
        return self.decode(previous_ids, conditioning, conv)

    def build_model(self, name=None):
        inputs = {"audio_ids": keras.Input((None,), dtype="int32", name="audio_ids")}
        if self.config.pitch_conditioning:
            inputs["pitch"] = keras.Input((), dtype="int32", name="pitch")
        ids = inputs["audio_ids"]
        code = self.encode(ids)
        conditioning = self.upsample(self.conditioning(code, inputs.get("pitch")))
        # Step t sees id t - 1: the history shifted right by one, silence first.
        previous = keras.ops.concatenate([keras.ops.full_like(ids[:, :1], SILENCE_ID), ids[:, :-1]], axis=1)
        logits = self.decode(previous, conditioning, lambda layer_name, x: self.layers[layer_name](x))
        return keras.Model(inputs, {"audio_logits": logits, "code": code}, name=name or "wavenet_autoencoder")


def build_autoencoder(config: AutoencoderConfig, name=None):
    """AutoencoderConfig -> Keras functional model (see the module docstring)."""
    return WaveNetAutoencoder(config).build_model(name)
