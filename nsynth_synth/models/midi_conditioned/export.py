"""The MIDI-conditioned models' export stage: their SavedModel module (its signatures' contract is
export.saved_model's docstring)."""

import numpy as np
import tensorflow as tf

from nsynth_synth.data.pianoroll import NUM_KEYS
from nsynth_synth.export.modules import WARMUP_SECONDS, check_batch, limit_message
from nsynth_synth.sampling.cached_queue import CachedQueueSampler
from nsynth_synth.sampling.streaming import StreamingSampler


class SynthesizerModule(tf.Module):
    """The exported signatures over one set of weights (their contract: export.saved_model's docstring).

    model, config: a float32 Keras model from build_model and its ModelConfig.
    hop: samples per piano-roll frame; upsample: the mode the model was trained with.
    max_frames: the longest `generate` request, in frames.
    """

    def __init__(self, model, config, hop, upsample, max_frames, jit_compile=True):
        super().__init__(name="synthesizer")
        self.model = model
        self.hop = hop
        self.max_frames = max_frames
        self.num_styles = config.num_styles
        self.sample_rate = config.sample_rate
        self.sampler = CachedQueueSampler(model, config, upsample=upsample, jit_compile=jit_compile)
        self.stream = StreamingSampler(self.sampler)
        self.limit_message = limit_message(max_frames, max_frames * hop / config.sample_rate, "piece")

    def signatures(self):
        return {"serving_default": self.generate, "generate": self.generate, "reset": self.reset, "step": self.step}

    def warmup_inputs(self):
        """(signature, inputs) of a short request TF Serving replays at load: a silent roll."""
        frames = max(int(WARMUP_SECONDS * self.sample_rate) // self.hop, 1)
        return "generate", {"piano_roll": np.zeros([1, frames, NUM_KEYS], np.float32),
                            "style_id": np.zeros([1], np.int32), "seed": np.zeros([1], np.int32),
                            "temperature": np.ones([1], np.float32)}

    def _check_batch(self, batch, style_id, seed, temperature):
        """Every input has one entry per voice (so TF Serving can batch requests); returns the
        style ids to use (None for a one-style model, which ignores them)."""
        check_batch(batch, "piano_roll", style_id=style_id, seed=seed, temperature=temperature)
        if not self.num_styles:
            return None
        tf.debugging.assert_less(style_id, self.num_styles, message=f"style_id must be below {self.num_styles}")
        tf.debugging.assert_non_negative(style_id, message="style_id must be non-negative")
        return style_id

    @tf.function(input_signature=[
        tf.TensorSpec([None, None, NUM_KEYS], tf.float32, name="piano_roll"),
        tf.TensorSpec([None], tf.int32, name="style_id"),
        tf.TensorSpec([None], tf.int32, name="seed"),
        tf.TensorSpec([None], tf.float32, name="temperature"),
    ])
    def generate(self, piano_roll, style_id, seed, temperature):
        frames = tf.shape(piano_roll)[1]
        tf.debugging.Assert(frames <= self.max_frames, [self.limit_message, frames])
        tf.debugging.assert_positive(frames, message="piano_roll has no frames")
        style = self._check_batch(tf.shape(piano_roll)[0], style_id, seed, temperature)
        ids, audio = self.sampler.generate(piano_roll, self.hop, frames * self.hop, seed, temperature, style)
        return {"audio": audio, "audio_ids": ids}

    @tf.function(input_signature=[tf.TensorSpec([], tf.int32, name="batch_size")])
    def reset(self, batch_size):
        self.stream.reset(batch_size)
        return {"batch_size": batch_size}

    @tf.function(input_signature=[
        tf.TensorSpec([None, NUM_KEYS], tf.float32, name="piano_roll"),
        tf.TensorSpec([None], tf.int32, name="style_id"),
        tf.TensorSpec([None], tf.int32, name="seed"),
        tf.TensorSpec([None], tf.float32, name="temperature"),
    ])
    def step(self, piano_roll, style_id, seed, temperature):
        style = self._check_batch(tf.shape(piano_roll)[0], style_id, seed, temperature)
        ids, audio = self.stream.step(piano_roll, seed, temperature, style)
        return {"audio": audio, "audio_ids": ids}


def module(model, config, record, hop, max_frames, jit_compile):
    return SynthesizerModule(model, config, hop, record["train"]["upsample"], max_frames, jit_compile)


def card(record):
    """(what the model is, how it makes audio): the model card's words for this kind."""
    return (f"{record['model']['family']} family",
            f"8-bit mu-law, sampled one sample at a time; {record['train']['upsample']} upsampling of the roll")
