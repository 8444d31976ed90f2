"""The spectral baseline's codec stage: one 4 s note (padded or cut to 64000 samples) coded as one
vector, its magnitude decoded with phase by Griffin-Lim."""

import numpy as np
import tensorflow as tf

from nsynth_synth.data.nsynth import NOTE_SAMPLES
from nsynth_synth.errors import NsynthSynthError
from nsynth_synth.generate.autoencode import check_pitch
from nsynth_synth.models.spectral_autoencoder.model import decode_codes, encode_notes


class Codec:
    """encode/decode with a spectral baseline run: one 4 s note, phase by Griffin-Lim."""

    OPTIONS = ("iterations",)  # what decode takes beyond pitch and seed
    NAME = "SpectralCodec"
    hop = None  # one code for a whole note

    def __init__(self, model, config):
        self.model, self.config = model, config

    def fit(self, audio, trim=False):
        if len(audio) == NOTE_SAMPLES:
            return audio, f"{len(audio)} samples: one note"
        if len(audio) > NOTE_SAMPLES:
            return audio[:NOTE_SAMPLES], f"{len(audio)} samples cut to one {NOTE_SAMPLES}-sample note"
        return np.pad(audio, (0, NOTE_SAMPLES - len(audio))), \
            f"{len(audio)} samples padded with silence to one {NOTE_SAMPLES}-sample note"

    def encode(self, audio):
        """float audio [64000] -> code float32 [1, code]."""
        return self.encode_batch(np.asarray(audio)[None])

    def encode_batch(self, audio):
        """float audio [batch, 64000] -> codes float32 [batch, code]."""
        return encode_notes(self.model, tf.constant(audio, tf.float32)).numpy()

    def check_code(self, code, where="the code"):
        """Raise NsynthSynthError naming `where` unless code is [1, code]."""
        if code.shape != (1, self.config.code):
            raise NsynthSynthError(f"{where}: expected a code [1, {self.config.code}], got shape {code.shape}")

    def decode(self, code, *, pitch=None, seed=0, iterations=60):
        """code [1, code] -> float32 audio [64000]: the decoded magnitude with Griffin-Lim phase."""
        code = np.asarray(code, np.float32)
        self.check_code(code)
        return self.decode_batch(code, None if pitch is None else [pitch], [seed], iterations=iterations)[0]

    def decode_batch(self, codes, pitches=None, seeds=None, iterations=60):
        """codes [batch, code] (+ MIDI pitches [batch]) -> float32 audio [batch, 64000]; Griffin-Lim
        starts from a phase seeded by seeds[0] (default 0)."""
        check_pitch(self.config, pitches)
        seed = 0 if seeds is None else int(seeds[0])
        return decode_codes(self.model, self.config, np.asarray(codes, np.float32), pitches, iterations or 60,
                            seed).numpy()
