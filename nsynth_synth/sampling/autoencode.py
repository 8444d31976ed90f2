"""`nsynth-synth encode`, `decode` and `interpolate` with a trained NSynth WaveNet autoencoder.

Audio of any sample rate and channel count is brought to 16 kHz mono and padded with silence (or,
with trim=True, cut) to a whole number of 512-sample code frames. Decoding runs the decoder
through the cached-queue sampler with the code upsampled by nearest neighbour in the loop.
"""

import os

import numpy as np
import tensorflow as tf
from tqdm import tqdm

from nsynth_synth.audio import load_audio, mu_law_encode_np, write_wav
from nsynth_synth.configs import AutoencoderConfig
from nsynth_synth.errors import AudioError, NsynthSynthError
from nsynth_synth.fileio import atomic_output


def load_autoencoder(run_dir):
    """(Keras model with the averaged weights, AutoencoderConfig, WaveNetAutoencoder)."""
    from nsynth_synth.models.wavenet_autoencoder import WaveNetAutoencoder
    from nsynth_synth.training.trainer import load_trained_model

    model, config, _, _ = load_trained_model(run_dir)
    if not isinstance(config, AutoencoderConfig):
        raise NsynthSynthError(f"{run_dir}: a {type(config).__name__} run, not an NSynth autoencoder")
    return model, config, WaveNetAutoencoder.from_model(model, config)


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


def read_input(path, sample_rate):
    """A WAV (any rate and channels) or a .npy of float samples -> float32 mono [samples] at 16 kHz."""
    if not os.path.isfile(path):
        raise AudioError(f"{path}: no such file")
    if path.endswith(".npy"):
        audio = np.load(path).astype(np.float32)
        if audio.ndim != 1:
            raise AudioError(f"{path}: expected float samples [samples] at {sample_rate} Hz, got shape {audio.shape}")
        return audio
    return load_audio(path, sample_rate)


def encode_audio(network, audio):
    """float audio [k * hop] -> code float32 [k, bottleneck]."""
    ids = tf.constant(mu_law_encode_np(audio)[None].astype(np.int32))
    return network.encode(ids).numpy()[0]


def decode_code(model, config, network, code, *, pitch=None, seed=0, temperature=1.0, progress=True):
    """code [frames, bottleneck] -> float32 audio [frames * hop] through the cached-queue sampler."""
    from nsynth_synth.sampling.cached_queue import CachedQueueSampler

    code = np.asarray(code, np.float32)
    if code.ndim != 2 or code.shape[1] != config.bottleneck:
        raise NsynthSynthError(f"expected a code [frames, {config.bottleneck}], got shape {code.shape}")
    if config.pitch_conditioning and pitch is None:
        raise NsynthSynthError("this model is pitch-conditioned: give --pitch (a MIDI pitch)")
    frames = network.conditioning(tf.constant(code[None]), None if pitch is None else tf.constant([pitch]))
    sampler = CachedQueueSampler(model, config, upsample="hold")
    samples = code.shape[0] * config.hop
    with tqdm(total=samples, desc="decoding", unit="sample", unit_scale=True, disable=not progress) as bar:
        _, audio = sampler.generate(frames, config.hop, samples, tf.constant([seed]), temperature,
                                    progress=lambda done: bar.update(done - bar.n))
    return audio.numpy()[0]


def encode_file(run_dir, in_path, out_path, trim=False):
    model, config, network = load_autoencoder(run_dir)
    audio, note = fit_to_frames(read_input(in_path, config.sample_rate), config.hop, trim)
    code = encode_audio(network, audio)
    with atomic_output(out_path) as tmp:
        with open(tmp, "wb") as f:
            np.save(f, code)
    return code, note


def decode_file(run_dir, code_path, out_path, **options):
    model, config, network = load_autoencoder(run_dir)
    if not os.path.isfile(code_path):
        raise NsynthSynthError(f"{code_path}: no such code file (.npy from `nsynth-synth encode`)")
    audio = decode_code(model, config, network, np.load(code_path), **options)
    write_wav(out_path, audio, config.sample_rate)
    return audio


def interpolate_files(run_dir, path_a, path_b, out_dir, steps=5, **options):
    """Codes of A and B mixed linearly in `steps` steps, each decoded, next to the plain audio mix.
    Writes interp_{i}.wav and mix_{i}.wav (i = 0 is A, steps - 1 is B); returns the paths."""
    if steps < 2:
        raise NsynthSynthError(f"--steps must be at least 2 (A and B), got {steps}")
    model, config, network = load_autoencoder(run_dir)
    a, _ = fit_to_frames(read_input(path_a, config.sample_rate), config.hop)
    b, _ = fit_to_frames(read_input(path_b, config.sample_rate), config.hop)
    length = min(len(a), len(b))
    a, b = a[:length], b[:length]
    code_a, code_b = encode_audio(network, a), encode_audio(network, b)
    os.makedirs(out_dir, exist_ok=True)
    written = []
    for i, alpha in enumerate(np.linspace(0.0, 1.0, steps)):
        decoded = decode_code(model, config, network, (1 - alpha) * code_a + alpha * code_b, **options)
        for name, audio in ((f"interp_{i}.wav", decoded), (f"mix_{i}.wav", (1 - alpha) * a + alpha * b)):
            path = os.path.join(out_dir, name)
            write_wav(path, audio, config.sample_rate)
            written.append(path)
    return written
