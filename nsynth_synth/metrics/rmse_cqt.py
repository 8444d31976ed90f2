"""RMSE-CQT, the SynthNet paper's generation-quality metric, with its definition fixed.

    rmse_cqt(generated, reference) = sqrt(mean over bins and frames of (G - R)^2)

where G and R are constant-Q magnitudes in decibels of 16 kHz mono audio:
- librosa.cqt with hop 256 samples (16 ms), fmin C1 (32.70 Hz), 84 bins, 12 per octave (C1-B7,
  below the 8 kHz Nyquist frequency), default filter scale;
- magnitude |C|, converted with 20 log10(max(|C|, 1e-4)): an absolute reference of 1.0 (full scale),
  so levels are compared as they are, floored at -80 dB so silence does not dominate;
- frames aligned from the first sample; the longer signal is cut to the shorter.
Identical audio scores 0; the paper's "good" line is below 10. Every report puts a score beside its
floors (noise_floor): white noise at the reference's RMS, silence, and the reference itself 20 ms
late, each scored against the same reference.
"""

import warnings

import numpy as np

from nsynth_synth.audio import SAMPLE_RATE
from nsynth_synth.errors import AudioError

CQT = {"hop_length": 256, "fmin": 32.703195662574764, "n_bins": 84, "bins_per_octave": 12}
FLOOR = 1e-4  # -80 dB


def constant_q(audio, settings=CQT):
    """float mono audio [samples] at 16 kHz -> complex constant-Q transform [bins, frames]:
    librosa.cqt with `settings` (hop_length, fmin, n_bins, bins_per_octave, ...)."""
    import librosa

    audio = np.asarray(audio, dtype=np.float32)
    if audio.ndim != 1:
        raise AudioError(f"the constant-Q transform takes mono audio [samples], got shape {audio.shape}")
    with warnings.catch_warnings():
        # librosa's low octaves work on a downsampled copy; of a short signal that copy is shorter
        # than the FFT and librosa warns, though the transform is defined (zero-padded).
        warnings.filterwarnings("ignore", message="n_fft=.* is too large", category=UserWarning)
        return librosa.cqt(audio, sr=SAMPLE_RATE, **settings)


def cqt_db(audio, sample_rate=SAMPLE_RATE):
    """float audio [samples] at 16 kHz -> constant-Q magnitude in dB [84, frames]."""
    if sample_rate != SAMPLE_RATE:
        raise AudioError(f"RMSE-CQT is defined at {SAMPLE_RATE} Hz; got audio at {sample_rate} Hz (resample first)")
    return 20.0 * np.log10(np.maximum(np.abs(constant_q(audio)), FLOOR))


def rmse_cqt(generated, reference, sample_rate=SAMPLE_RATE):
    """Root mean squared difference of the two dB constant-Q spectrograms (see the module doc)."""
    length = min(len(generated), len(reference))
    if length < CQT["hop_length"]:
        raise AudioError(f"RMSE-CQT needs at least {CQT['hop_length']} samples of each signal, got {length}")
    g = cqt_db(np.asarray(generated)[:length], sample_rate)
    r = cqt_db(np.asarray(reference)[:length], sample_rate)
    return float(np.sqrt(np.mean((g - r) ** 2)))


NOISE_SEED = 0
LATE_SECONDS = 0.02


def noise_floor(reference, sample_rate=SAMPLE_RATE):
    """What a generation is measured against: float mono `reference` [samples] -> {"noise_rmse_cqt",
    "silence_rmse_cqt", "late_rmse_cqt"}: the RMSE-CQT against it of white noise at its RMS
    (Gaussian, seed NOISE_SEED, so one reference always gives one number), of silence, and of the
    reference itself LATE_SECONDS late (silence before it). A model that does not score below the
    noise has learned no more of the reference than its loudness; one below the late reference plays
    the score better than the renderer itself would, played 20 ms late."""
    reference = np.asarray(reference, dtype=np.float32)
    rms = np.sqrt(np.mean(np.square(reference, dtype=np.float64)))
    noise = (np.random.default_rng(NOISE_SEED).standard_normal(len(reference)) * rms).astype(np.float32)
    delay = int(round(LATE_SECONDS * sample_rate))
    late = np.concatenate([np.zeros(min(delay, len(reference)), np.float32), reference[:max(len(reference) - delay, 0)]])
    return {"noise_rmse_cqt": rmse_cqt(noise, reference, sample_rate),
            "silence_rmse_cqt": rmse_cqt(np.zeros_like(reference), reference, sample_rate),
            "late_rmse_cqt": rmse_cqt(late, reference, sample_rate)}


def against_floor(score, floor):
    """A score and its reference's noise_floor -> the fields every record stores:
    {"rmse_cqt", "noise_rmse_cqt", "silence_rmse_cqt", "minus_noise"} (negative: it beats noise)."""
    return {"rmse_cqt": score, **floor, "minus_noise": score - floor["noise_rmse_cqt"]}


def format_floor(minus_noise, floor):
    """-> "model - noise +2.10 (noise 14.44, silence 40.12, 20 ms late 6.10)" (records from before the
    late reference was measured lack it). minus_noise: a score minus the noise
    (negative: the model beats noise), or a mean_ci summary of such differences; floor: a dict with
    noise_floor's keys."""
    if isinstance(minus_noise, dict):
        ci = minus_noise["ci"]
        shown = f"{minus_noise['mean']:+.2f}" + ("" if ci is None else f" ± {ci:.2f}")
    else:
        shown = f"{minus_noise:+.2f}"
    late = f", 20 ms late {floor['late_rmse_cqt']:.2f}" if floor.get("late_rmse_cqt") is not None else ""
    return f"model - noise {shown} (noise {floor['noise_rmse_cqt']:.2f}, silence {floor['silence_rmse_cqt']:.2f}{late})"
