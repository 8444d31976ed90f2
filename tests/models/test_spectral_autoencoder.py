"""The spectral autoencoder baseline: spectrogram layout, the model, Griffin-Lim, the loss weights."""

import numpy as np
import tensorflow as tf

from nsynth_synth.models.spectral_autoencoder.config import PRESETS as SPECTRAL_PRESETS
from nsynth_synth.models.spectral_autoencoder.model import (
    N_FFT,
    build_spectral_autoencoder,
    frequency_weights,
    griffin_lim,
    log_magnitude,
    magnitude_from_log,
    weighted_mse,
)


def _sine(hz, samples=16000, amplitude=0.5):
    return (amplitude * np.sin(2 * np.pi * hz * np.arange(samples) / 16000)).astype(np.float32)


def test_a_note_becomes_a_512_by_256_spectrogram_and_back():
    spec, stft = log_magnitude(tf.constant(_sine(440, 64000)[None]))
    assert spec.shape == (1, 512, 256, 1) and 0 <= spec.numpy().min() and spec.numpy().max() <= 1
    peak_bin = int(np.argmax(spec.numpy()[0, :, 100, 0]))
    assert abs(peak_bin * 16000 / N_FFT - 440) < 16000 / N_FFT
    magnitude = magnitude_from_log(spec, stft.shape[1])
    np.testing.assert_allclose(magnitude.numpy()[0, 100, peak_bin], np.abs(stft.numpy()[0, 100, peak_bin]), rtol=1e-3)


def test_the_small_model_reconstructs_the_layout_and_codes_to_one_vector():
    model = build_spectral_autoencoder(SPECTRAL_PRESETS["nsynth_spectral_ae_small"])
    spec, _ = log_magnitude(tf.constant(_sine(220, 64000)[None]))
    out = model({"spectrogram": spec})
    assert out["reconstruction"].shape == (1, 512, 256, 1) and out["code"].shape == (1, 1, 1, 256)
    assert np.isfinite(float(weighted_mse(spec, out["reconstruction"])))


def test_griffin_lim_recovers_a_sine():
    audio = _sine(440, 8192)
    magnitude = tf.abs(tf.signal.stft(audio[None], N_FFT, 256, fft_length=N_FFT, pad_end=True))
    rebuilt = griffin_lim(magnitude, len(audio), iterations=100).numpy()[0]
    spectrum = np.abs(np.fft.rfft(rebuilt[1024:-1024]))
    assert abs(np.argmax(spectrum) * 16000 / len(rebuilt[1024:-1024]) - 440) < 5
    def convergence(signal):
        again = tf.abs(tf.signal.stft(signal[None], N_FFT, 256, fft_length=N_FFT, pad_end=True)).numpy()[:, 4:-4]
        return np.linalg.norm(again - magnitude.numpy()[:, 4:-4]) / np.linalg.norm(magnitude.numpy()[:, 4:-4])

    random_phase = griffin_lim(magnitude, len(audio), iterations=0).numpy()[0]
    assert convergence(rebuilt) < 0.1 < convergence(random_phase)


def test_loss_weights_fall_from_10_at_0_hz_to_1_at_4000_hz():
    weights = frequency_weights()
    hz = np.arange(512) * 16000 / N_FFT
    assert weights[0] == 10 and np.isclose(weights[np.argmin(abs(hz - 2000))], 5.5)
    assert (weights[hz >= 4000] == 1).all() and (np.diff(weights[hz < 4000]) < 0).all()
