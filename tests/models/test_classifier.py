import dataclasses

import numpy as np
import pytest

from nsynth_synth.errors import ConfigError
from nsynth_synth.models.classifier.config import PRESETS as CLASSIFIER_PRESETS
from nsynth_synth.models.classifier.config import ClassifierConfig
from nsynth_synth.models.classifier.model import build_classifier, log_spectrogram


def test_outputs_have_one_logit_per_class():
    config = dataclasses.replace(CLASSIFIER_PRESETS["nsynth_classifier"], window=4096, channels=(4, 8))
    outputs = build_classifier(config)({"audio": np.zeros((3, 4096), np.float32)})
    assert {k: tuple(v.shape) for k, v in outputs.items()} == {
        "pitch_logits": (3, 128), "quality_logits": (3, 10), "family_logits": (3, 11)}


def test_a_tone_peaks_at_its_frequency_bin():
    config = CLASSIFIER_PRESETS["nsynth_classifier"]
    frequency = 440.0
    tone = 0.5 * np.sin(2 * np.pi * frequency * np.arange(config.window) / config.sample_rate)
    spectrogram = np.asarray(log_spectrogram(tone[None].astype(np.float32), config))[0, :, :, 0]
    assert spectrogram.shape[1] == config.bins
    peak = spectrogram.mean(axis=0).argmax()
    assert peak == round(frequency * config.fft_size / config.sample_rate)


def test_bad_settings_name_the_field():
    with pytest.raises(ConfigError, match="max_frequency"):
        ClassifierConfig(max_frequency=9000.0)
    with pytest.raises(ConfigError, match="window"):
        ClassifierConfig(window=512)
