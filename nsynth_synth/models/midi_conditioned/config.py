"""The MIDI-conditioned models' config and presets.

The three families are points in the design space of the SynthNet paper's Table 1
(ARCHITECTURES); their sizes follow its Table 2 (filter width F, blocks B, max dilation R,
dilations 1, 2, ..., 2**(R-1) in each block).
"""

import dataclasses

from nsynth_synth.audio import SAMPLE_RATE
from nsynth_synth.errors import ConfigError
from nsynth_synth.models.contract import Config, check_positive_ints


@dataclasses.dataclass(frozen=True)
class Architecture:
    """One row of the SynthNet paper's Table 1 (plus where the piano roll enters)."""

    audio_input: str  # "scalar" (mu-law value in [-1, 1]), "one_hot" (256) or "embedding"
    input_activation: str | None  # applied to the audio input layer's output
    separable: bool  # dilated convolutions depthwise (plus the 1x1 residual) or full
    skip: str  # "shared": the residual 1x1 output is also the skip; "separate": own 1x1; "none"
    final_activation: str  # of the final block
    conditioning: str  # "every_layer" (Eq. 2, 4) or "input" (Eq. 7-8)
    roll_head: bool  # predicts the next piano-roll frame too (Eq. 9)


ARCHITECTURES = {
    "wavenet": Architecture("scalar", None, False, "shared", "relu", "every_layer", False),
    "deepvoice": Architecture("one_hot", "tanh", False, "separate", "relu", "every_layer", False),
    "synthnet": Architecture("embedding", "tanh", True, "none", "selu", "input", True),
}


@dataclasses.dataclass(frozen=True)
class ModelConfig(Config):
    """A MIDI-conditioned autoregressive audio model.

    family: "wavenet", "deepvoice" or "synthnet" (ARCHITECTURES).
    filter_width, blocks, max_dilation: F, B and R of Table 2.
    residual_channels, skip_channels: hidden widths (skip unused by synthnet).
    final_channels: widths of the final block's 1x1 convolutions before the 256-way logits.
    num_styles: styles for global conditioning (Table 4); 0 turns it off.
    roll_loss_weight: weight of the piano-roll head's loss (synthnet, Eq. 9).
    """

    family: str
    filter_width: int = 3
    blocks: int = 2
    max_dilation: int = 12
    residual_channels: int = 512
    skip_channels: int = 512
    final_channels: tuple = (512, 384)
    num_styles: int = 0
    sample_rate: int = SAMPLE_RATE
    roll_loss_weight: float = 1.0

    def __post_init__(self):
        if self.family not in ARCHITECTURES:
            raise ConfigError(f"family must be one of {sorted(ARCHITECTURES)}, got {self.family!r}")
        check_positive_ints(self, ("filter_width", "blocks", "max_dilation", "residual_channels", "skip_channels",
                                   "sample_rate"))
        if self.filter_width < 2:
            raise ConfigError(f"filter_width must be at least 2, got {self.filter_width}")
        if not self.final_channels or any(not isinstance(c, int) or c < 1 for c in self.final_channels):
            raise ConfigError(f"final_channels must be positive integers, got {self.final_channels!r}")
        if not isinstance(self.num_styles, int) or self.num_styles < 0:
            raise ConfigError(f"num_styles must be an integer >= 0, got {self.num_styles!r}")
        object.__setattr__(self, "final_channels", tuple(self.final_channels))

    @property
    def architecture(self):
        return ARCHITECTURES[self.family]

    @property
    def dilations(self):
        """Dilation of every dilated layer, block by block."""
        return [2**i for _ in range(self.blocks) for i in range(self.max_dilation)]

    @property
    def receptive_field(self):
        """Samples of past audio that one prediction sees (the current input sample included)."""
        input_taps = 1 if self.architecture.audio_input == "embedding" else self.filter_width
        return (input_taps - 1) + sum((self.filter_width - 1) * d for d in self.dilations) + 1


def _paper(family, layers):
    """Table 2: L24 = F3 B2 R12, L26 = F2 B2 R13, L48 = F2 B4 R12; 512 channels; final 512, 384."""
    width, blocks, dilation = {24: (3, 2, 12), 26: (2, 2, 13), 48: (2, 4, 12)}[layers]
    return ModelConfig(family, filter_width=width, blocks=blocks, max_dilation=dilation)


# Receptive field of the small presets: F3 B2 R10 -> 4093 samples (0.256 s); synthnet_live:
# F2 B1 R11 -> 2048 samples (0.128 s) with 32 channels, for real-time generation on a CPU.
PRESETS = {
    **{f"{family}_l{layers}": _paper(family, layers) for family in ARCHITECTURES for layers in (24, 26, 48)},
    **{
        f"{family}_small": ModelConfig(family, filter_width=3, blocks=2, max_dilation=10, residual_channels=64,
                                       skip_channels=64, final_channels=(128, 128))
        for family in ARCHITECTURES
    },
    "synthnet_live": ModelConfig("synthnet", filter_width=2, blocks=1, max_dilation=11, residual_channels=32,
                                 skip_channels=32, final_channels=(64,)),
}

# Parameter counts of the SynthNet paper's Table 3, for `nsynth-synth describe`.
PAPER_PARAMETERS = {
    "wavenet_l24": 8.23e7, "wavenet_l26": 6.18e7, "wavenet_l48": 1.14e8,
    "deepvoice_l24": 8.90e7, "deepvoice_l26": 6.89e7, "deepvoice_l48": 1.27e8,
    "synthnet_l24": 7.35e6, "synthnet_l26": 7.80e6, "synthnet_l48": 1.36e7,
}
