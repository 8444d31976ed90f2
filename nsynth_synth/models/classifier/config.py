"""The NSynth note classifier's config and preset."""

import dataclasses

from nsynth_synth.audio import SAMPLE_RATE
from nsynth_synth.errors import ConfigError
from nsynth_synth.models.contract import Config, check_positive_ints


@dataclasses.dataclass(frozen=True)
class ClassifierConfig(Config):
    """The NSynth paper's multi-task note classifier (its Table 1 and 2 protocol): from the first
    `window` samples of a note, the pitch (128-way), the 10 note qualities (multi-label) and the
    instrument family (11-way; SoundFont note sets carry no quality labels, so the family is
    their timbre task).

    fft_size, hop: the log-magnitude STFT front end; max_frequency: the bins kept (Hz);
    channels: 3x3 convolutions, each followed by 2x2 max pooling; dense: the shared hidden layer.
    """

    window: int = 16000
    fft_size: int = 1024
    hop: int = 256
    max_frequency: float = 5000.0
    channels: tuple = (16, 32, 64, 64)
    dense: int = 256
    sample_rate: int = SAMPLE_RATE

    def __post_init__(self):
        object.__setattr__(self, "channels", tuple(self.channels))
        check_positive_ints(self, ("window", "fft_size", "hop", "dense", "sample_rate"))
        if not 0 < self.max_frequency <= self.sample_rate / 2:
            raise ConfigError(f"max_frequency must be in (0, {self.sample_rate / 2}], got {self.max_frequency}")
        if self.window < self.fft_size:
            raise ConfigError(f"window ({self.window}) must hold at least one FFT frame ({self.fft_size})")

    @property
    def bins(self):
        return int(self.max_frequency * self.fft_size / self.sample_rate) + 1


PRESETS = {"nsynth_classifier": ClassifierConfig()}
