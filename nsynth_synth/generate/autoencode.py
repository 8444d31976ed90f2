"""`nsynth-synth encode`, `decode` and `interpolate` with a trained NSynth autoencoder.

Audio of any sample rate and channel count is brought to 16 kHz mono. The WaveNet autoencoder
takes any length, padded with silence (or, with trim=True, cut) to whole 512-sample code frames,
and decodes through the cached-queue sampler with the code upsampled by nearest neighbour in the
loop. The spectral baseline takes one 4 s note (padded or cut to 64000 samples), codes it as one
vector and decodes the magnitude, with phase by Griffin-Lim.
"""

import os

import numpy as np
import tensorflow as tf
from tqdm import tqdm

from nsynth_synth.audio import load_audio, mu_law_encode_np, write_wav
from nsynth_synth.data.nsynth import NOTE_SAMPLES
from nsynth_synth.errors import AudioError, NsynthSynthError
from nsynth_synth.fileio import atomic_output, check_output_file
from nsynth_synth.runs import load_trained_model


class WaveNetCodec:
    """encode/decode with a WaveNet autoencoder run (averaged weights). The batch methods take
    several notes of one length at once (the sampler decodes them side by side)."""

    OPTIONS = ("temperature", "progress")  # what decode takes beyond pitch and seed

    def __init__(self, model, config):
        from nsynth_synth.models.wavenet_autoencoder.model import WaveNetAutoencoder

        self.model, self.config = model, config
        self.network = WaveNetAutoencoder.from_model(model, config)

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
        from nsynth_synth.sampling.cached_queue import CachedQueueSampler

        config = self.config
        _check_pitch(config, pitches)
        seeds = np.arange(len(codes)) if seeds is None else seeds
        frames = self.network.conditioning(tf.constant(codes, tf.float32),
                                           None if pitches is None else tf.constant(pitches, tf.int32))
        sampler = CachedQueueSampler(self.model, config, upsample="hold")
        samples = codes.shape[1] * config.hop
        with tqdm(total=samples, desc="decoding", unit="sample", unit_scale=True, disable=not progress) as bar:
            _, audio = sampler.generate(frames, config.hop, samples, tf.constant(seeds, tf.int32), temperature,
                                        progress=lambda done: bar.update(done - bar.n))
        return audio.numpy()


class SpectralCodec:
    """encode/decode with a spectral baseline run: one 4 s note, phase by Griffin-Lim."""

    OPTIONS = ("iterations",)  # what decode takes beyond pitch and seed

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
        from nsynth_synth.models.spectral_autoencoder.model import encode_notes

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
        from nsynth_synth.models.spectral_autoencoder.model import decode_codes

        _check_pitch(self.config, pitches)
        seed = 0 if seeds is None else int(seeds[0])
        return decode_codes(self.model, self.config, np.asarray(codes, np.float32), pitches, iterations or 60,
                            seed).numpy()


def _check_pitch(config, pitches):
    if config.pitch_conditioning and pitches is None:
        raise NsynthSynthError("this model is pitch-conditioned: give --pitch (a MIDI pitch)")


# The codec of each autoencoder kind (models.kinds).
CODECS = {"wavenet_autoencoder": WaveNetCodec, "spectral_autoencoder": SpectralCodec}


def load_codec(run_dir):
    """A run directory of an NSynth autoencoder -> its WaveNetCodec or SpectralCodec."""
    model, config, record, _ = load_trained_model(run_dir)
    if record.kind.name not in CODECS:
        raise NsynthSynthError(f"{run_dir}: a {type(config).__name__} run, not an NSynth autoencoder")
    return CODECS[record.kind.name](model, config)


def decode_options(codec, *, strict=True, **options):
    """The decode options of `options` that `codec` takes (None: its default). strict: refuse,
    naming it, an option given that this codec does not take (--iterations to a WaveNet)."""
    taken = {name: value for name, value in options.items() if value is not None and name in codec.OPTIONS}
    refused = sorted(name for name, value in options.items() if value is not None and name not in codec.OPTIONS)
    if strict and refused:
        taken_names = ", ".join(f"--{name}" for name in codec.OPTIONS if name != "progress")
        raise NsynthSynthError(f"--{refused[0]} does not apply to this model ({type(codec).__name__}); it takes "
                               f"{taken_names}")
    return taken


def fit_to_frames(audio, hop, trim=False):
    """float audio [samples] -> (audio [k * hop], what was done, as a sentence)."""
    remainder = len(audio) % hop
    if remainder == 0:
        return audio, f"{len(audio)} samples: {len(audio) // hop} frames"
    if trim and len(audio) >= hop:
        cut = audio[:len(audio) - remainder]
        return cut, f"{len(audio)} samples cut to {len(cut)} ({len(cut) // hop} frames of {hop})"
    padded = np.pad(audio, (0, hop - remainder))
    return padded, f"{len(audio)} samples padded with silence to {len(padded)} ({len(padded) // hop} frames of {hop})"


def read_npy(path, what):
    """A .npy file -> float32 array; NsynthSynthError naming the file when it is missing, is not a
    .npy array of numbers, or holds NaN or infinite values. what: what the file should hold."""
    if not os.path.isfile(path):
        raise NsynthSynthError(f"{path}: no such file; expected {what}")
    try:
        array = np.load(path, allow_pickle=False)
        array = np.asarray(array, np.float32) if isinstance(array, np.ndarray) else None
    except (ValueError, OSError, EOFError, TypeError) as error:
        # numpy says a file of other bytes holds "pickled (object) data", which misleads.
        raise NsynthSynthError(f"{path}: not a .npy array of numbers; expected {what}") from error
    if array is None:
        raise NsynthSynthError(f"{path}: an .npz archive, not a .npy array; expected {what}")
    if not np.isfinite(array).all():
        raise NsynthSynthError(f"{path}: holds NaN or infinite values; expected {what}, all finite")
    return array


def read_input(path, sample_rate):
    """A WAV (any rate and channels) or a .npy of float samples -> float32 mono [samples] at 16 kHz."""
    if not os.path.isfile(path):
        raise AudioError(f"{path}: no such file")
    if path.endswith(".npy"):
        audio = read_npy(path, f"float samples [samples] at {sample_rate} Hz")
        if audio.ndim != 1:
            raise AudioError(f"{path}: expected float samples [samples] at {sample_rate} Hz, got shape {audio.shape}")
    else:
        audio = load_audio(path, sample_rate)
    if not len(audio):
        raise AudioError(f"{path}: holds no audio samples")
    return audio


def encode_file(run_dir, in_path, out_path, trim=False):
    check_output_file(out_path)
    codec = load_codec(run_dir)
    audio, note = codec.fit(read_input(in_path, codec.config.sample_rate), trim)
    code = codec.encode(audio)
    with atomic_output(out_path) as tmp, open(tmp, "wb") as f:
        np.save(f, code)
    return code, note


def decode_file(run_dir, code_path, out_path, *, pitch=None, seed=0, **options):
    """-> (float32 audio, its sample rate). options: the codec's own (WaveNet: temperature;
    spectral: iterations); None takes its default."""
    check_output_file(out_path)
    code = read_npy(code_path, "a code from `nsynth-synth encode`")
    codec = load_codec(run_dir)
    codec.check_code(code, code_path)
    audio = codec.decode(code, pitch=pitch, seed=seed, **decode_options(codec, **options))
    write_wav(out_path, audio, codec.config.sample_rate)
    return audio, codec.config.sample_rate


def interpolate_files(run_dir, path_a, path_b, out_dir, steps=5, *, pitch=None, seed=0, **options):
    """Codes of A and B mixed linearly in `steps` steps, each decoded, next to the plain audio mix.
    Writes interp_{i}.wav and mix_{i}.wav (i = 0 is A, steps - 1 is B); returns the paths."""
    if steps < 2:
        raise NsynthSynthError(f"--steps must be at least 2 (A and B), got {steps}")
    codec = load_codec(run_dir)
    options = decode_options(codec, **options)
    rate = codec.config.sample_rate
    a, _ = codec.fit(read_input(path_a, rate))
    b, _ = codec.fit(read_input(path_b, rate))
    length = min(len(a), len(b))
    a, b = codec.fit(a[:length])[0], codec.fit(b[:length])[0]
    code_a, code_b = codec.encode(a), codec.encode(b)
    os.makedirs(out_dir, exist_ok=True)
    written = []
    for i, alpha in enumerate(np.linspace(0.0, 1.0, steps)):
        decoded = codec.decode((1 - alpha) * code_a + alpha * code_b, pitch=pitch, seed=seed, **options)
        for name, audio in ((f"interp_{i}.wav", decoded), (f"mix_{i}.wav", (1 - alpha) * a + alpha * b)):
            path = os.path.join(out_dir, name)
            write_wav(path, audio, rate)
            written.append(path)
    return written
