"""The harmonic kind's network: a polyphonic harmonic-plus-noise synthesizer in the DDSP line
(Engel et al. 2020, "DDSP: Differentiable Digital Signal Processing"; polyphony after Renault et al.
2022, "DDSP-Piano"), driven by the score.

Pitch and timing come from the score: each voice (models.harmonic.voices) plays its note's f0 from
its onset. The network, shared by every voice and style and stateless in time (causal by
construction: a frame's controls depend on that frame's voice state alone, which already counts the
time since the onset and the release), predicts per voice and frame an overall amplitude, a
distribution over K partials and the band magnitudes of a filtered noise. Each style has its
partials' departures from integer ratios (a stiff-string stretch law over the keys, times a free
ratio per partial) and a learned reverb impulse response. Synthesis is models.harmonic.synthesis.

Inputs, [b, F, V] over frames and voices (voices.FIELDS): key int32 (-1: none), velocity float32,
frames_on int32, frames_off int32, bend float32 (semitones), bend_frames float32; noise_seed int32
[b]; first_frame int32 [b] (the first frame's index in the piece: the noise's clock); with
num_styles > 0, style_id int32 [b].
Output: audio float32 [b, F * hop], at the renderer's own (un-normalized) level.
"""

import math

import keras
import tensorflow as tf

from nsynth_synth.models.harmonic import synthesis
from nsynth_synth.models.harmonic.config import HarmonicConfig

ONSET_SCALES = (0.005, 0.02, 0.08, 0.3, 1.2, 5.0)  # seconds: decays since the onset, as features
RELEASE_SCALES = (0.005, 0.02, 0.08, 0.3, 1.2)
PITCH_FREQUENCIES = (1, 2, 4, 8)  # Fourier features of the pitch, cycles over the 128 keys


def _styles(config):
    return max(config.num_styles, 1)


def style_index(config, style_id, batch):
    """style_id [b] (None for a one-style model) -> int32 [b] rows of the per-style tables."""
    if not config.num_styles or style_id is None:
        return tf.zeros([batch], tf.int32)
    return tf.cast(style_id, tf.int32)


@keras.saving.register_keras_serializable("nsynth_synth")
class VoiceControls(keras.layers.Layer):
    """Voice state -> the synthesizer's controls per voice and frame: {"amplitude" [b, F, V],
    "partials" [b, F, V, K] (logits of the distribution over partials), "noise" [b, F, V, bands]}."""

    def __init__(self, config, **kwargs):
        super().__init__(**kwargs)
        self.config = config if isinstance(config, HarmonicConfig) else HarmonicConfig.from_dict(config)
        c = self.config
        # Attributes, not lists: TensorFlow's checkpoints track a Keras layer's sublayers by attribute.
        for i in range(c.layers):
            setattr(self, f"hidden{i}", keras.layers.Dense(c.hidden, name=f"hidden{i}"))
            setattr(self, f"norm{i}", keras.layers.LayerNormalization(name=f"norm{i}"))
        self.style_embedding = (keras.layers.Embedding(c.num_styles, c.hidden, name="style_embedding")
                                if c.num_styles else None)
        # Quiet at the start (amplitude and noise near -55 dB), so an untrained voice costs little to synthesize.
        bias = [-3.0] + [0.0] * c.partials + [-3.0] * c.noise_bands
        self.head = keras.layers.Dense(1 + c.partials + c.noise_bands, dtype="float32", name="head",
                                       bias_initializer=keras.initializers.Constant(bias))

    def get_config(self):
        return {**super().get_config(), "config": self.config.to_dict()}

    def build(self, input_shape=None):
        width = 3 + 2 * len(PITCH_FREQUENCIES) + len(ONSET_SCALES) + len(RELEASE_SCALES)  # see features()
        for i in range(self.config.layers):
            getattr(self, f"hidden{i}").build((None, None, None, width))
            getattr(self, f"norm{i}").build((None, None, None, self.config.hidden))
            width = self.config.hidden
        if self.style_embedding is not None:
            self.style_embedding.build((None,))
        self.head.build((None, None, None, width))

    def features(self, key, velocity, frames_on, frames_off, bend):
        """Voice state (any shape [...]) -> float32 [..., features]: pitch (bent) and its Fourier features, velocity,
        decays since the onset and since the release, and whether the key is held."""
        seconds_per_frame = self.config.hop / self.config.sample_rate
        pitch = tf.cast(tf.maximum(key, 0), tf.float32) + tf.cast(bend, tf.float32)
        since_on = tf.cast(frames_on, tf.float32)[..., None] * seconds_per_frame
        released = tf.cast(frames_off >= 0, tf.float32)[..., None]
        since_off = tf.cast(tf.maximum(frames_off, 0), tf.float32)[..., None] * seconds_per_frame
        angles = pitch[..., None] * (2.0 * math.pi / 128.0) * tf.constant(PITCH_FREQUENCIES, tf.float32)
        return tf.concat([
            (pitch[..., None] - 64.0) / 32.0, tf.sin(angles), tf.cos(angles),
            tf.cast(velocity, tf.float32)[..., None],
            tf.exp(-since_on / tf.constant(ONSET_SCALES)),
            released * tf.exp(-since_off / tf.constant(RELEASE_SCALES)), released,
        ], axis=-1)

    def call(self, inputs):
        # Only the voices that hold a note are run (a chorale keeps 4 of 16 busy); the others' controls
        # are 0, and the synthesizer silences them.
        key = inputs["key"]
        where = tf.where(key >= 0)  # [n, 3]: batch, frame, voice
        fields = [tf.gather_nd(inputs[name], where) for name in ("key", "velocity", "frames_on", "frames_off", "bend")]
        x = self.features(*fields)  # [n, features]
        for i in range(self.config.layers):
            x = getattr(self, f"hidden{i}")(x)
            if i == 0 and self.style_embedding is not None:
                style = self.style_embedding(inputs["style_id"])
                x = x + keras.ops.cast(tf.gather(style, where[:, 0]), x.dtype)
            x = keras.ops.leaky_relu(getattr(self, f"norm{i}")(x), 0.1)
        c = self.config
        out = tf.scatter_nd(where, tf.cast(self.head(x), tf.float32),
                            tf.concat([tf.shape(key, out_type=tf.int64), [1 + c.partials + c.noise_bands]], 0))
        return {"amplitude": out[..., 0], "partials": out[..., 1:1 + c.partials], "noise": out[..., 1 + c.partials:]}

    def compute_output_spec(self, inputs):
        shape = inputs["key"].shape
        c = self.config
        return {"amplitude": keras.KerasTensor(shape, "float32"),
                "partials": keras.KerasTensor((*shape, c.partials), "float32"),
                "noise": keras.KerasTensor((*shape, c.noise_bands), "float32")}


@keras.saving.register_keras_serializable("nsynth_synth")
class HarmonicSynthesizer(keras.layers.Layer):
    """Controls and voice state -> audio: the voices' partials and noise, summed, through the
    style's reverb. Holds each style's partial ratios and impulse response.

    call(inputs, state) -> (audio [b, F * hop], the state after the span); state (None: silence
    before) is {"amplitudes" [b, V, K], "noise_tail" [b, hop], "reverb" [b, L - 1]}.
    """

    def __init__(self, config, **kwargs):
        kwargs.pop("dtype", None)  # synthesis runs in float32 under any policy
        super().__init__(dtype="float32", **kwargs)
        self.config = config if isinstance(config, HarmonicConfig) else HarmonicConfig.from_dict(config)

    def get_config(self):
        return {**super().get_config(), "config": self.config.to_dict()}

    def build(self, input_shape=None):
        c, styles = self.config, _styles(self.config)
        # Stiff-string inharmonicity B(key) = exp(a + b (key - 60) / 12), near 0 at the start.
        self.log_stretch = self.add_weight(shape=(styles, 2), initializer=keras.initializers.Constant([-14.0, 0.0]),
                                           name="log_stretch", trainable=c.stretch)
        self.ratio_offsets = self.add_weight(shape=(styles, c.partials), initializer="zeros", name="ratio_offsets",
                                             trainable=c.stretch)
        decay = keras.ops.exp(-keras.ops.arange(c.reverb_samples, dtype="float32") / (0.1 * c.sample_rate))
        self.impulse = self.add_weight(
            shape=(styles, c.reverb_samples), name="impulse",
            initializer=lambda shape, dtype: keras.random.normal(shape, stddev=1e-3, seed=0) * decay)
        self.noise_gain = self.add_weight(shape=(styles,), initializer=keras.initializers.Constant(-3.0),
                                          name="noise_gain")

    def frequencies(self, key, style):
        """key int32 [b, F, V], style rows int32 [b] -> the partials' unbent frequencies float32 [b, F, V, K] (Hz)."""
        c = self.config
        f0 = 440.0 * tf.pow(2.0, (tf.cast(tf.maximum(key, 0), tf.float32) - 69.0) / 12.0)
        k = tf.range(1, c.partials + 1, dtype=tf.float32)
        law = tf.gather(self.log_stretch, style)[:, None, None, :]  # [b, 1, 1, 2]
        stretch = tf.exp(law[..., 0] + law[..., 1] * (tf.cast(key, tf.float32) - 60.0) / 12.0)  # [b, F, V]
        offsets = tf.gather(self.ratio_offsets, style)[:, None, None, :]
        ratios = k * tf.sqrt(1.0 + stretch[..., None] * k**2) * tf.exp(offsets)
        return f0[..., None] * ratios

    def call(self, inputs, state=None):
        c = self.config
        state = state or {}
        key, frames_on = inputs["key"], inputs["frames_on"]
        batch = tf.shape(key)[0]
        style = style_index(c, inputs.get("style_id"), batch)
        frequencies = self.frequencies(key, style)
        bend, bend_frames = inputs["bend"], inputs["bend_frames"]
        below_nyquist = frequencies * tf.pow(2.0, bend / 12.0)[..., None] < c.sample_rate / 2
        logits = tf.where(below_nyquist, tf.cast(inputs["partials"], tf.float32), -1e9)
        distribution = tf.where(below_nyquist, tf.nn.softmax(logits, axis=-1), 0.0)
        active = key >= 0
        amplitude = synthesis.exp_sigmoid(inputs["amplitude"])[..., None] * distribution
        harmonic, amplitudes = synthesis.harmonic_voices(amplitude, frequencies, frames_on, active, c.hop,
                                                         c.sample_rate, state.get("amplitudes"), bend, bend_frames)
        magnitudes = synthesis.exp_sigmoid(inputs["noise"]) * tf.cast(active, tf.float32)[..., None]
        gain = tf.exp(tf.gather(self.noise_gain, style))[:, None, None]
        noise, noise_tail = synthesis.filtered_noise(tf.reduce_sum(magnitudes, axis=2) * gain, inputs["noise_seed"],
                                                     inputs["first_frame"], c.hop, state.get("noise_tail"))
        dry = harmonic + noise
        wet, reverb = synthesis.fft_convolve(dry, tf.gather(self.impulse, style), state.get("reverb"))
        return dry + wet, {"amplitudes": amplitudes, "noise_tail": noise_tail, "reverb": reverb}

    def compute_output_spec(self, inputs, state=None):
        c = self.config
        batch = inputs["key"].shape[0]
        return (keras.KerasTensor((batch, None), "float32"),
                {"amplitudes": keras.KerasTensor((batch, c.voices, c.partials), "float32"),
                 "noise_tail": keras.KerasTensor((batch, c.hop), "float32"),
                 "reverb": keras.KerasTensor((batch, c.reverb_samples - 1), "float32")})


def build_model(config: HarmonicConfig, name=None):
    """HarmonicConfig -> the Keras functional model (inputs and output in the module docstring)."""
    voices = config.voices
    inputs = {
        "key": keras.Input((None, voices), dtype="int32", name="key"),
        "velocity": keras.Input((None, voices), name="velocity"),
        "frames_on": keras.Input((None, voices), dtype="int32", name="frames_on"),
        "frames_off": keras.Input((None, voices), dtype="int32", name="frames_off"),
        "bend": keras.Input((None, voices), name="bend"),
        "bend_frames": keras.Input((None, voices), name="bend_frames"),
        "noise_seed": keras.Input((), dtype="int32", name="noise_seed"),
        "first_frame": keras.Input((), dtype="int32", name="first_frame"),
    }
    if config.num_styles:
        inputs["style_id"] = keras.Input((), dtype="int32", name="style_id")
    controls = VoiceControls(config, name="controls")(inputs)
    audio, _ = HarmonicSynthesizer(config, name="synthesizer")({**inputs, **controls})
    return keras.Model(inputs, {"audio": audio}, name=name or "harmonic")
