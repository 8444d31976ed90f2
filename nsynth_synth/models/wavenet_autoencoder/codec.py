"""The WaveNet autoencoder's codec stage (`encode`, `decode`, `interpolate` and the NSynth
evaluations): any length of audio, coded every hop samples, decoded through the cached-queue
sampler with the code upsampled by nearest neighbour in the loop."""

import numpy as np
import tensorflow as tf
from tqdm import tqdm

from nsynth_synth.audio import mu_law_encode_np
from nsynth_synth.errors import NsynthSynthError
from nsynth_synth.generate.autoencode import check_pitch, fit_to_frames
from nsynth_synth.models.wavenet_autoencoder.model import WaveNetAutoencoder
from nsynth_synth.sampling.cached_queue import CachedQueueSampler


class Codec:
    """encode/decode with a WaveNet autoencoder run (averaged weights). The batch methods take
    several notes of one length at once (the sampler decodes them side by side)."""

    OPTIONS = ("temperature", "progress")  # what decode takes beyond pitch and seed
    NAME = "WaveNetCodec"

    def __init__(self, model, config):
        self.model, self.config = model, config
        self.network = WaveNetAutoencoder.from_model(model, config)

    @property
    def hop(self):
        """Samples a code frame."""
        return self.config.hop

    def fit(self, audio, trim=False):
        return fit_to_frames(audio, self.config.hop, trim)

    def encode(self, audio):
        """float audio [k * hop] -> code float32 [k, bottleneck]."""
        return self.encode_batch(np.asarray(audio)[None])[0]

    def encode_batch(self, audio):
        """float audio [batch, k * hop] -> codes float32 [batch, k, bottleneck]."""
        return self.network.encode(tf.constant(mu_law_encode_np(audio).astype(np.int32))).numpy()

    def check_code(self, code, where="the code"):
        """Raise NsynthSynthError naming `where` unless code is [frames >= 1, bottleneck]."""
        if code.ndim != 2 or code.shape[1] != self.config.bottleneck or not len(code):
            raise NsynthSynthError(f"{where}: expected a code [frames, {self.config.bottleneck}], got shape "
                                   f"{code.shape}" + (" (no frames)" if code.ndim == 2 and not len(code) else ""))

    def decode(self, code, *, pitch=None, seed=0, temperature=1.0, progress=True):
        """code [frames, bottleneck] -> float32 audio [frames * hop] through the cached-queue sampler."""
        code = np.asarray(code, np.float32)
        self.check_code(code)
        return self.decode_batch(code[None], None if pitch is None else [pitch], [seed], temperature,
                                 progress=progress)[0]

    def decode_batch(self, codes, pitches=None, seeds=None, temperature=1.0, progress=True):
        """codes [batch, frames, bottleneck] (+ MIDI pitches [batch]; seeds [batch], default 0..batch-1)
        -> float32 audio [batch, frames * hop]."""
        config = self.config
        check_pitch(config, pitches)
        seeds = np.arange(len(codes)) if seeds is None else seeds
        frames = self.network.conditioning(tf.constant(codes, tf.float32),
                                           None if pitches is None else tf.constant(pitches, tf.int32))
        sampler = CachedQueueSampler(self.model, config, upsample="hold")
        samples = codes.shape[1] * config.hop
        with tqdm(total=samples, desc="decoding", unit="sample", unit_scale=True, disable=not progress) as bar:
            _, audio = sampler.generate(frames, config.hop, samples, tf.constant(seeds, tf.int32), temperature,
                                        progress=lambda done: bar.update(done - bar.n))
        return audio.numpy()
