"""The NSynth WaveNet autoencoder's config and presets."""

import dataclasses

from nsynth_synth.audio import SAMPLE_RATE
from nsynth_synth.errors import ConfigError
from nsynth_synth.models.contract import Config, check_positive_ints


@dataclasses.dataclass(frozen=True)
class AutoencoderConfig(Config):
    """The NSynth WaveNet autoencoder (Engel et al. 2017; Magenta's released h512_bo16).

    encoder_layers, encoder_channels: the non-causal dilated encoder (ReLU, 1x1 residuals);
    bottleneck: code channels; hop: samples averaged into one code frame (512 = 32 ms);
    decoder_layers, residual_channels, skip_channels: the WaveNet decoder;
    dilation_cycle: dilations 1, 2, ..., 2**(cycle - 1), repeated, in both halves;
    pitch_conditioning: a one-hot MIDI pitch concatenated with the code (the paper's Figure 1).
    """

    encoder_layers: int = 30
    encoder_channels: int = 128
    bottleneck: int = 16
    hop: int = 512
    decoder_layers: int = 30
    residual_channels: int = 512
    skip_channels: int = 256
    filter_width: int = 3
    dilation_cycle: int = 10
    pitch_conditioning: bool = False
    sample_rate: int = SAMPLE_RATE

    def __post_init__(self):
        check_positive_ints(self, [f.name for f in dataclasses.fields(self) if f.name != "pitch_conditioning"])
        if self.filter_width < 2:
            raise ConfigError(f"filter_width must be at least 2, got {self.filter_width}")

    def dilations(self, layers):
        return [2 ** (i % self.dilation_cycle) for i in range(layers)]

    @property
    def receptive_field(self):
        """Samples of past audio one decoder prediction sees (the current input sample included)."""
        return (self.filter_width - 1) * (1 + sum(self.dilations(self.decoder_layers))) + 1


# The autoencoder as released, and a CPU-sized one (10 + 10 layers, 32/64 channels; the same
# 32 ms hop and 16-dim code).
_SMALL = dict(encoder_layers=10, encoder_channels=32, decoder_layers=10, residual_channels=64, skip_channels=64)
PRESETS = {
    "nsynth_wavenet_ae": AutoencoderConfig(),
    "nsynth_wavenet_ae_small": AutoencoderConfig(**_SMALL),
    # Pitch-conditioned (the NSynth paper's pitch-entanglement study, Table 2).
    "nsynth_wavenet_ae_small_pitch": AutoencoderConfig(**_SMALL, pitch_conditioning=True),
}
