"""The spectral baseline's export stage: its SavedModel module (exported by `nsynth-synth export`).

Signatures:
  encode: audio float32 [batch, 64000] -> code float32 [batch, code]
  decode (= serving_default): code [batch, code], pitch int32 [batch] (ignored unless
      pitch-conditioned) -> audio float32 [batch, 64000] (Griffin-Lim from a fixed initial phase,
      the iterations fixed at export).
"""

import numpy as np
import tensorflow as tf

from nsynth_synth.data.nsynth import NOTE_SAMPLES
from nsynth_synth.export.modules import check_batch


class SpectralModule(tf.Module):
    def __init__(self, model, config, iterations=60):
        super().__init__(name="spectral_autoencoder")
        self.model = model
        self.config = config
        self.iterations = iterations
        self.encode = tf.function(self._encode, input_signature=[
            tf.TensorSpec([None, NOTE_SAMPLES], tf.float32, "audio")])
        self.decode = tf.function(self._decode, input_signature=[
            tf.TensorSpec([None, config.code], tf.float32, "code"), tf.TensorSpec([None], tf.int32, "pitch")])

    def signatures(self):
        return {"serving_default": self.decode, "decode": self.decode, "encode": self.encode}

    def _encode(self, audio):
        from nsynth_synth.models.spectral_autoencoder.model import encode_notes

        return {"code": encode_notes(self.model, audio)}

    def _decode(self, code, pitch):
        from nsynth_synth.models.spectral_autoencoder.model import decode_codes

        check_batch(tf.shape(code)[0], "code", pitch=pitch)
        return {"audio": decode_codes(self.model, self.config, code, pitch, self.iterations)}

    def warmup_inputs(self):
        return "decode", {"code": np.zeros([1, self.config.code], np.float32), "pitch": np.full([1], 60, np.int32)}


def module(model, config, record, hop, max_frames, jit_compile):
    return SpectralModule(model, config)


def card(record):
    """(what the model is, how it makes audio): the model card's words for this kind."""
    return "the NSynth spectral baseline", "magnitudes decoded, phase by Griffin-Lim"
