"""The harmonic kind's export stage: its SavedModel module.

Signatures (every input named; shapes with None are free; V voices, K partials, L reverb samples):
  generate (= serving_default): piano_roll float32 [batch, frames, 128] at the model's frame rate
      (binary, or velocity / 127 for a velocity-roll model), onsets float32 [batch, frames, 128] (1
      where a key is struck; all zeros: every rising edge of the roll is a note), pitch_bend float32
      [batch, frames, 128] (semitones each sounding key is bent by; zeros: none), style_id int32
      [batch] (ignored by a one-style model), seed int32 [batch] (the noise) -> audio float32 [batch,
      frames * hop] at the learned level (apply your own peak rule: `generate` does, over a whole
      piece), dropped int32 [batch] (notes the voices could not hold). Stateless; at most
      max_frames frames a request.
  initial_state: batch_size int32 [] -> the state of silence, every voice free: state_key,
      state_velocity, state_frames_on, state_frames_off, state_bend, state_bend_frames [batch, V],
      state_sounding [batch, 128] (the
      keys of the block before's last frame), state_amplitudes [batch, V, K],
      state_noise_tail [batch, hop], state_reverb [batch, L - 1], state_frame and state_dropped [batch].
  stream: the inputs of `generate` for one block (of up to max_frames frames) plus the state_*
      tensors -> audio, dropped and the state_* tensors after the block. The state travels with each
      call, so the server keeps none and any number of streams interleave; blocks reproduce
      `generate` over their concatenation.
"""

import numpy as np
import tensorflow as tf

from nsynth_synth.data.pianoroll import NUM_KEYS
from nsynth_synth.export.modules import WARMUP_SECONDS, check_batch, limit_message
from nsynth_synth.models.harmonic import voices
from nsynth_synth.models.harmonic.blocks import STATE_PREFIX, initial_state, synthesize_block


def state_specs(config):
    """The stream's state: {name: TensorSpec}, names with STATE_PREFIX."""
    v, k = config.voices, config.partials
    shapes = {"key": ([None, v], tf.int32), "velocity": ([None, v], tf.float32),
              "frames_on": ([None, v], tf.int32), "frames_off": ([None, v], tf.int32),
              "bend": ([None, v], tf.float32), "bend_frames": ([None, v], tf.float32),
              "sounding": ([None, NUM_KEYS], tf.float32),
              "amplitudes": ([None, v, k], tf.float32), "noise_tail": ([None, config.hop], tf.float32),
              "reverb": ([None, config.reverb_samples - 1], tf.float32), "frame": ([None], tf.int32),
              "dropped": ([None], tf.int32)}
    return {STATE_PREFIX + name: tf.TensorSpec(shape, dtype, name=STATE_PREFIX + name)
            for name, (shape, dtype) in shapes.items()}


class HarmonicModule(tf.Module):
    """The exported signatures over one set of weights (their contract: the module docstring)."""

    def __init__(self, model, config, max_frames, jit_compile=True):
        super().__init__(name="harmonic_synthesizer")
        self.model, self.config, self.max_frames = model, config, max_frames
        self.hop, self.sample_rate = config.hop, config.sample_rate
        self.limit_message = limit_message(max_frames, max_frames * config.hop / config.sample_rate, "piece")
        self._allocate = tf.function(voices.allocate, jit_compile=jit_compile)
        score = [tf.TensorSpec([None, None, NUM_KEYS], tf.float32, name="piano_roll"),
                 tf.TensorSpec([None, None, NUM_KEYS], tf.float32, name="onsets"),
                 tf.TensorSpec([None, None, NUM_KEYS], tf.float32, name="pitch_bend"),
                 tf.TensorSpec([None], tf.int32, name="style_id"), tf.TensorSpec([None], tf.int32, name="seed")]
        self.generate = tf.function(self._generate, input_signature=score)
        names = list(state_specs(config))

        # A signature takes a flat list of named tensors: every state tensor is an input of its own.
        def stream(piano_roll, onsets, pitch_bend, style_id, seed, *state):
            return self._stream(piano_roll, onsets, pitch_bend, style_id, seed, dict(zip(names, state)))

        self.stream = tf.function(stream, input_signature=[*score, *state_specs(config).values()])
        self.initial_state = tf.function(self._initial_state,
                                         input_signature=[tf.TensorSpec([], tf.int32, name="batch_size")])

    def signatures(self):
        return {"serving_default": self.generate, "generate": self.generate, "initial_state": self.initial_state,
                "stream": self.stream}

    def warmup_inputs(self):
        """(signature, inputs) of a short request TF Serving replays at load: a silent roll."""
        frames = max(int(WARMUP_SECONDS * self.sample_rate) // self.hop, 1)
        silent = np.zeros([1, frames, NUM_KEYS], np.float32)
        return "generate", {"piano_roll": silent, "onsets": silent, "pitch_bend": silent,
                            "style_id": np.zeros([1], np.int32),
                            "seed": np.zeros([1], np.int32)}

    def _check(self, piano_roll, onsets, pitch_bend, style_id, seed):
        frames = tf.shape(piano_roll)[1]
        tf.debugging.Assert(frames <= self.max_frames, [self.limit_message, frames])
        tf.debugging.assert_positive(frames, message="piano_roll has no frames")
        tf.debugging.assert_equal(tf.shape(onsets), tf.shape(piano_roll), message="onsets need piano_roll's shape")
        tf.debugging.assert_equal(tf.shape(pitch_bend), tf.shape(piano_roll),
                                  message="pitch_bend needs piano_roll's shape")
        check_batch(tf.shape(piano_roll)[0], "piano_roll", style_id=style_id, seed=seed)
        if self.config.num_styles:
            tf.debugging.assert_less(style_id, self.config.num_styles,
                                     message=f"style_id must be below {self.config.num_styles}")
            tf.debugging.assert_non_negative(style_id, message="style_id must be non-negative")

    def _block(self, piano_roll, onsets, pitch_bend, style_id, seed, state):
        self._check(piano_roll, onsets, pitch_bend, style_id, seed)
        return synthesize_block(self.model, self.config, state, piano_roll, onsets, pitch_bend, style_id, seed,
                                self._allocate)

    def _generate(self, piano_roll, onsets, pitch_bend, style_id, seed):
        state = initial_state(self.config, tf.shape(piano_roll)[0])
        audio, after = self._block(piano_roll, onsets, pitch_bend, style_id, seed, state)
        return {"audio": audio, "dropped": after["dropped"]}

    def _initial_state(self, batch_size):
        return {STATE_PREFIX + name: value for name, value in initial_state(self.config, batch_size).items()}

    def _stream(self, piano_roll, onsets, pitch_bend, style_id, seed, state):
        before = {name[len(STATE_PREFIX):]: value for name, value in state.items()}
        audio, after = self._block(piano_roll, onsets, pitch_bend, style_id, seed, before)
        dropped = after["dropped"] - before["dropped"]
        return {"audio": audio, "dropped": dropped, **{STATE_PREFIX + name: value for name, value in after.items()}}


def module(model, config, record, hop, max_frames, jit_compile):
    return HarmonicModule(model, config, max_frames, jit_compile)


def card(record):
    """(what the model is, how it makes audio): the model card's words for this kind."""
    model = record["model"]
    return ("harmonic kind: a polyphonic harmonic-plus-noise synthesizer",
            f"{model['voices']} voices of {model['partials']} partials and {model['noise_bands']}-band noise, a "
            f"{model['reverb_seconds']:g} s learned reverb; `generate` returns the learned level, whole pieces get "
            "the builder's peak rule")
