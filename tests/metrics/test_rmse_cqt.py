import numpy as np
import pytest

from nsynth_synth.errors import AudioError
from nsynth_synth.metrics.rmse_cqt import against_floor, format_floor, noise_floor, rmse_cqt

T = np.arange(16000) / 16000


def tone(freqs=(220.0, 330.0, 440.0)):
    """A melody: one tone after another, 1/3 s each."""
    segments = [0.3 * np.sin(2 * np.pi * f * T[: len(T) // 3]) for f in freqs]
    return np.concatenate(segments).astype(np.float32)


def test_identical_audio_scores_zero():
    assert rmse_cqt(tone(), tone()) == 0.0


def test_a_delayed_copy_scores_worse_and_more_with_more_delay():
    melody = tone()
    delayed = lambda s: np.concatenate([np.zeros(s, np.float32), melody])[: len(melody)]
    small, large = rmse_cqt(delayed(400), melody), rmse_cqt(delayed(2400), melody)
    assert 0 < small < large


def test_silence_against_a_tone_scores_high():
    melody = tone()
    assert rmse_cqt(np.zeros_like(melody), melody) > 20
    wrong_notes = tone((247.0, 370.0, 494.0))
    assert rmse_cqt(wrong_notes, melody) > rmse_cqt(melody * 0.9, melody)


def test_bad_inputs():
    with pytest.raises(AudioError, match="at 44100 Hz"):
        rmse_cqt(tone(), tone(), sample_rate=44100)
    with pytest.raises(AudioError, match="at least 256 samples"):
        rmse_cqt(np.zeros(10), np.zeros(10))
    with pytest.raises(AudioError, match="mono"):
        rmse_cqt(np.zeros((1000, 2)), np.zeros((1000, 2)))


def test_the_noise_floor_is_noise_at_the_references_loudness_and_silence():
    # Against a noise reference, noise of the same loudness differs only by chance (about 8 dB for
    # independent Gaussian noises); ten times louder it is 20 dB off everywhere.
    reference = (0.05 * np.random.default_rng(5).standard_normal(16000)).astype(np.float32)
    floor = noise_floor(reference)
    assert floor["noise_rmse_cqt"] < 12
    louder = (0.5 * np.random.default_rng(0).standard_normal(16000)).astype(np.float32)
    assert rmse_cqt(louder, reference) > 18
    assert floor["silence_rmse_cqt"] == rmse_cqt(np.zeros_like(reference), reference) > 40
    melody = tone()
    assert noise_floor(melody) == noise_floor(melody.copy())  # a fixed seed: one reference, one floor
    assert noise_floor(melody)["noise_rmse_cqt"] > rmse_cqt(melody * 0.9, melody)


def test_a_score_beside_its_floor():
    floor = {"noise_rmse_cqt": 14.5, "silence_rmse_cqt": 40.0}
    record = against_floor(9.5, floor)
    assert record == {"rmse_cqt": 9.5, "noise_rmse_cqt": 14.5, "silence_rmse_cqt": 40.0, "minus_noise": -5.0}
    assert format_floor(record["minus_noise"], floor) == "model - noise -5.00 (noise 14.50, silence 40.00)"
    summary = {"mean": 1.25, "ci": 0.5, "n": 3}
    assert format_floor(summary, floor) == "model - noise +1.25 ± 0.50 (noise 14.50, silence 40.00)"
