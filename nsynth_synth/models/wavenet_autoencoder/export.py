"""The WaveNet autoencoder's export stage: its SavedModel module (exported by `nsynth-synth export`).

Signatures:
  encode: audio float32 [batch, samples] (a multiple of hop) -> code float32 [batch, frames, 16]
  decode (= serving_default): code [batch, frames, 16], pitch int32 [batch] (ignored unless the
      model is pitch-conditioned), seed int32 [batch], temperature float32 [batch]
      -> audio float32 [batch, frames * hop], audio_ids int32 [batch, frames * hop]; the whole
      cached-queue loop in one stateless call, at most max_frames frames.
  reset: batch_size int32 [] ; step: code float32 [batch, 16] (the code frame of this sample),
      pitch, seed, temperature [batch] -> audio, audio_ids [batch]. One stream per loaded model.
"""

import numpy as np
import tensorflow as tf

from nsynth_synth.audio import mu_law_encode
from nsynth_synth.export.modules import check_batch, limit_message
from nsynth_synth.sampling.cached_queue import CachedQueueSampler
from nsynth_synth.sampling.streaming import StreamingSampler


class WaveNetAutoencoderModule(tf.Module):
    def __init__(self, model, config, max_frames, jit_compile=True):
        from nsynth_synth.models.wavenet_autoencoder.model import WaveNetAutoencoder

        super().__init__(name="wavenet_autoencoder")
        self.model = model
        self.config = config
        self.max_frames = max_frames
        self.network = WaveNetAutoencoder.from_model(model, config)
        self.sampler = CachedQueueSampler(model, config, upsample="hold", jit_compile=jit_compile)
        self.stream = StreamingSampler(self.sampler)
        self.limit_message = limit_message(max_frames, max_frames * config.hop / config.sample_rate, "code")
        code = config.bottleneck
        self.encode = tf.function(self._encode, input_signature=[tf.TensorSpec([None, None], tf.float32, "audio")])
        self.decode = tf.function(self._decode, input_signature=[
            tf.TensorSpec([None, None, code], tf.float32, "code"), tf.TensorSpec([None], tf.int32, "pitch"),
            tf.TensorSpec([None], tf.int32, "seed"), tf.TensorSpec([None], tf.float32, "temperature")])
        self.reset = tf.function(self._reset, input_signature=[tf.TensorSpec([], tf.int32, "batch_size")])
        self.step = tf.function(self._step, input_signature=[
            tf.TensorSpec([None, code], tf.float32, "code"), tf.TensorSpec([None], tf.int32, "pitch"),
            tf.TensorSpec([None], tf.int32, "seed"), tf.TensorSpec([None], tf.float32, "temperature")])

    def signatures(self):
        return {"serving_default": self.decode, "decode": self.decode, "encode": self.encode, "reset": self.reset,
                "step": self.step}

    def _pitch(self, pitch):
        return pitch if self.config.pitch_conditioning else None

    def _encode(self, audio):
        tf.debugging.assert_equal(tf.shape(audio)[1] % self.config.hop, 0,
                                  message=f"audio length must be a multiple of {self.config.hop} samples")
        return {"code": self.network.encode(mu_law_encode(audio))}

    def _decode(self, code, pitch, seed, temperature):
        frames = tf.shape(code)[1]
        tf.debugging.Assert(frames <= self.max_frames, [self.limit_message, frames])
        check_batch(tf.shape(code)[0], "code", pitch=pitch, seed=seed, temperature=temperature)
        conditioning = self.network.conditioning(code, self._pitch(pitch))
        ids, audio = self.sampler.generate(conditioning, self.config.hop, frames * self.config.hop, seed, temperature)
        return {"audio": audio, "audio_ids": ids}

    def _reset(self, batch_size):
        self.stream.reset(batch_size)
        return {"batch_size": batch_size}

    def _step(self, code, pitch, seed, temperature):
        check_batch(tf.shape(code)[0], "code", pitch=pitch, seed=seed, temperature=temperature)
        conditioning = self.network.conditioning(code[:, None], self._pitch(pitch))[:, 0]
        ids, audio = self.stream.step(conditioning, seed, temperature)
        return {"audio": audio, "audio_ids": ids}

    def warmup_inputs(self):
        """(signature, inputs) of a short request TF Serving replays at load."""
        return "decode", {"code": np.zeros([1, 2, self.config.bottleneck], np.float32), "pitch": np.full([1], 60, np.int32),
                          "seed": np.zeros([1], np.int32), "temperature": np.ones([1], np.float32)}


def module(model, config, record, hop, max_frames, jit_compile):
    return WaveNetAutoencoderModule(model, config, max_frames, jit_compile)


def card(record):
    """(what the model is, how it makes audio): the model card's words for this kind."""
    return "an NSynth WaveNet autoencoder", "decoded sample by sample by its WaveNet"
