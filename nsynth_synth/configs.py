"""Model configurations: frozen dataclasses whose fields are the builders' arguments, and named presets.

The three MIDI-conditioned families are points in the design space of the SynthNet paper's
Table 1 (ARCHITECTURES); their sizes follow its Table 2 (filter width F, blocks B, max dilation R,
dilations 1, 2, ..., 2**(R-1) in each block).
"""

import dataclasses
import json

from nsynth_synth.errors import NsynthSynthError


class ConfigError(NsynthSynthError):
    """An unknown preset or a configuration field out of range."""


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
class ModelConfig:
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
    sample_rate: int = 16000
    roll_loss_weight: float = 1.0

    def __post_init__(self):
        if self.family not in ARCHITECTURES:
            raise ConfigError(f"family must be one of {sorted(ARCHITECTURES)}, got {self.family!r}")
        for name in ("filter_width", "blocks", "max_dilation", "residual_channels", "skip_channels"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ConfigError(f"{name} must be a positive integer, got {value!r}")
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

    def to_json(self):
        return json.dumps(dataclasses.asdict(self), indent=2)

    @classmethod
    def from_dict(cls, fields):
        unknown = sorted(set(fields) - {f.name for f in dataclasses.fields(cls)})
        if unknown:
            raise ConfigError(f"unknown ModelConfig fields {unknown}")
        return cls(**fields)

    @classmethod
    def from_json(cls, text):
        return cls.from_dict(json.loads(text))


@dataclasses.dataclass(frozen=True)
class AutoencoderConfig:
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
    sample_rate: int = 16000

    def __post_init__(self):
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if field.type == "int" and (not isinstance(value, int) or value < 1):
                raise ConfigError(f"{field.name} must be a positive integer, got {value!r}")
        if self.filter_width < 2:
            raise ConfigError(f"filter_width must be at least 2, got {self.filter_width}")

    def dilations(self, layers):
        return [2 ** (i % self.dilation_cycle) for i in range(layers)]

    @property
    def receptive_field(self):
        """Samples of past audio one decoder prediction sees (the current input sample included)."""
        return (self.filter_width - 1) * (1 + sum(self.dilations(self.decoder_layers))) + 1


@dataclasses.dataclass(frozen=True)
class SpectralConfig:
    """The NSynth paper's spectral autoencoder baseline (nsynth_synth.models.spectral_autoencoder).

    channels: the encoder's strided 2-D convolution widths (the decoder mirrors them); code: the
    code width (1984 in the paper); pitch_conditioning: a learned pitch embedding concatenated
    with the code.
    """

    channels: tuple = (128, 128, 128, 256, 256, 256, 512, 512, 512)
    code: int = 1984
    pitch_conditioning: bool = False
    pitch_embedding: int = 64
    sample_rate: int = 16000

    def __post_init__(self):
        object.__setattr__(self, "channels", tuple(self.channels))
        if len(self.channels) != 9:
            raise ConfigError(f"channels: 9 strided layers take 512 x 256 spectrograms to 1 x 1, got {len(self.channels)}")


@dataclasses.dataclass(frozen=True)
class ClassifierConfig:
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
    sample_rate: int = 16000

    def __post_init__(self):
        object.__setattr__(self, "channels", tuple(self.channels))
        if not 0 < self.max_frequency <= self.sample_rate / 2:
            raise ConfigError(f"max_frequency must be in (0, {self.sample_rate / 2}], got {self.max_frequency}")
        if self.window < self.fft_size:
            raise ConfigError(f"window ({self.window}) must hold at least one FFT frame ({self.fft_size})")

    @property
    def bins(self):
        return int(self.max_frequency * self.fft_size / self.sample_rate) + 1

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

# The NSynth WaveNet autoencoder as released, and a CPU-sized one (10 + 10 layers, 32/64 channels;
# the same 32 ms hop and 16-dim code). Apart from PRESETS: these are AutoencoderConfigs, trained on
# NSynth notes (nsynth_synth.training.autoencoder); `describe` covers PRESETS only.
SPECTRAL_PRESETS = {
    "nsynth_spectral_ae": SpectralConfig(),
    "nsynth_spectral_ae_small": SpectralConfig(channels=(16, 16, 16, 32, 32, 32, 64, 64, 64), code=256),
    "nsynth_spectral_ae_small_pitch": SpectralConfig(channels=(16, 16, 16, 32, 32, 32, 64, 64, 64), code=256,
                                                     pitch_conditioning=True),
}

_SMALL_AE = dict(encoder_layers=10, encoder_channels=32, decoder_layers=10, residual_channels=64, skip_channels=64)
AUTOENCODER_PRESETS = {
    "nsynth_wavenet_ae": AutoencoderConfig(),
    "nsynth_wavenet_ae_small": AutoencoderConfig(**_SMALL_AE),
    # Pitch-conditioned (the NSynth paper's pitch-entanglement study, Table 2).
    "nsynth_wavenet_ae_small_pitch": AutoencoderConfig(**_SMALL_AE, pitch_conditioning=True),
}
CLASSIFIER_PRESETS = {"nsynth_classifier": ClassifierConfig()}

# Parameter counts of the SynthNet paper's Table 3, for `nsynth-synth describe`.
PAPER_PARAMETERS = {
    "wavenet_l24": 8.23e7, "wavenet_l26": 6.18e7, "wavenet_l48": 1.14e8,
    "deepvoice_l24": 8.90e7, "deepvoice_l26": 6.89e7, "deepvoice_l48": 1.27e8,
    "synthnet_l24": 7.35e6, "synthnet_l26": 7.80e6, "synthnet_l48": 1.36e7,
}


def get_preset(name, **overrides):
    """A preset by name, with fields replaced by `overrides` (e.g. num_styles=7)."""
    if name not in PRESETS:
        known = sorted(PRESETS) + sorted(AUTOENCODER_PRESETS) + sorted(SPECTRAL_PRESETS) + sorted(CLASSIFIER_PRESETS)
        raise ConfigError(f"unknown preset {name!r}; presets: {', '.join(known)}")
    return dataclasses.replace(PRESETS[name], **overrides)
