"""`nsynth-synth encode`, `decode` and `interpolate` with a trained NSynth autoencoder, through its
kind's codec stage (models/<kind>/codec.py: the WaveNet autoencoder codes any length, padded with
silence or, with trim=True, cut to whole code frames; the spectral baseline codes one 4 s note).

Audio of any sample rate and channel count is brought to 16 kHz mono.
"""

import os

import numpy as np

from nsynth_synth.audio import load_audio, write_wav
from nsynth_synth.errors import AudioError, NsynthSynthError
from nsynth_synth.fileio import atomic_output, check_output_file
from nsynth_synth.runs import load_trained_model


def check_pitch(config, pitches):
    if config.pitch_conditioning and pitches is None:
        raise NsynthSynthError("this model is pitch-conditioned: give --pitch (a MIDI pitch)")


def load_codec(run_dir):
    """A run directory of an NSynth autoencoder -> its kind's codec (models/<kind>/codec.py: encode,
    decode and their batch forms; `hop` the samples a code frame, None for a code of a whole note)."""
    model, config, record, _ = load_trained_model(run_dir)
    codec = record.kind.stage("codec")
    if codec is None:
        raise NsynthSynthError(f"{run_dir}: a {type(config).__name__} run, not an NSynth autoencoder")
    return codec.Codec(model, config)


def decode_options(codec, *, strict=True, **options):
    """The decode options of `options` that `codec` takes (None: its default). strict: refuse,
    naming it, an option given that this codec does not take (--iterations to a WaveNet)."""
    taken = {name: value for name, value in options.items() if value is not None and name in codec.OPTIONS}
    refused = sorted(name for name, value in options.items() if value is not None and name not in codec.OPTIONS)
    if strict and refused:
        taken_names = ", ".join(f"--{name}" for name in codec.OPTIONS if name != "progress")
        raise NsynthSynthError(f"--{refused[0]} does not apply to this model ({codec.NAME}); it takes "
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
