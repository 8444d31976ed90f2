"""The NSynth spectral autoencoder baseline's config and presets."""

import dataclasses

from nsynth_synth.audio import SAMPLE_RATE
from nsynth_synth.errors import ConfigError
from nsynth_synth.models.contract import Config, check_positive_ints


@dataclasses.dataclass(frozen=True)
class SpectralConfig(Config):
    """The NSynth paper's spectral autoencoder baseline (nsynth_synth.models.spectral_autoencoder).

    channels: the encoder's strided 2-D convolution widths (the decoder mirrors them); code: the
    code width (1984 in the paper); pitch_conditioning: a learned pitch embedding concatenated
    with the code.
    """

    channels: tuple = (128, 128, 128, 256, 256, 256, 512, 512, 512)
    code: int = 1984
    pitch_conditioning: bool = False
    pitch_embedding: int = 64
    sample_rate: int = SAMPLE_RATE

    def __post_init__(self):
        object.__setattr__(self, "channels", tuple(self.channels))
        if len(self.channels) != 9:
            raise ConfigError(f"channels: 9 strided layers take 512 x 256 spectrograms to 1 x 1, got {len(self.channels)}")
        check_positive_ints(self, ("code", "pitch_embedding", "sample_rate"))


_SMALL = (16, 16, 16, 32, 32, 32, 64, 64, 64)
PRESETS = {
    "nsynth_spectral_ae": SpectralConfig(),
    "nsynth_spectral_ae_small": SpectralConfig(channels=_SMALL, code=256),
    "nsynth_spectral_ae_small_pitch": SpectralConfig(channels=_SMALL, code=256, pitch_conditioning=True),
}
