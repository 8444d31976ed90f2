"""The harmonic kind's config and presets."""

import dataclasses
import math

from nsynth_synth.audio import SAMPLE_RATE
from nsynth_synth.errors import ConfigError
from nsynth_synth.models.contract import Config, check_positive_ints


@dataclasses.dataclass(frozen=True)
class HarmonicConfig(Config):
    """A polyphonic harmonic-plus-noise synthesizer driven by the score.

    voices: V, the notes that can sound at once (DDSP-Piano's 16); a note past them is dropped.
    partials: K, sinusoids a voice; each sits at k x f0, times a learned stretch (stretch=True).
    noise_bands: band magnitudes of the filtered noise, linear from 0 to Nyquist.
    hidden, layers: the control network's width and depth (shared by every voice and style).
    reverb_seconds: length of each style's learned impulse response (0: none, a single tap, a gain).
    release_seconds: a released voice falls silent this long after its key's release at the latest.
    num_styles: styles of one model (0: one style, no embedding).
    hop: samples a control frame (the set's frame hop).
    """

    voices: int = 16
    partials: int = 48
    noise_bands: int = 32
    hidden: int = 128
    layers: int = 3
    reverb_seconds: float = 0.5
    release_seconds: float = 2.0
    stretch: bool = True
    num_styles: int = 0
    sample_rate: int = SAMPLE_RATE
    hop: int = 64

    def __post_init__(self):
        check_positive_ints(self, ("voices", "partials", "noise_bands", "hidden", "layers", "sample_rate", "hop"))
        if not isinstance(self.num_styles, int) or isinstance(self.num_styles, bool) or self.num_styles < 0:
            raise ConfigError(f"num_styles must be an integer >= 0, got {self.num_styles!r}")
        for name, allowed, test in (("reverb_seconds", ">= 0", lambda v: v >= 0),
                                    ("release_seconds", "> 0", lambda v: v > 0)):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or not math.isfinite(value) or not test(value):
                raise ConfigError(f"{name} must be a number of seconds {allowed}, got {value!r}")

    @property
    def reverb_samples(self):
        return max(int(round(self.reverb_seconds * self.sample_rate)), 1)

    @property
    def lead_in_frames(self):
        """Frames synthesized before a training window, so the reverb has its history (its L - 1 samples)
        and that history has its own frame before it (the noise's overlap, the amplitudes' ramp)."""
        return -(-(self.reverb_samples - 1) // self.hop) + 1

    @property
    def release_frames(self):
        return max(int(round(self.release_seconds * self.sample_rate / self.hop)), 1)


PRESETS = {
    # 16 voices, 48 partials, a 3 x 128 network: all seven styles train in 30 minutes on 2 cores.
    "harmonic_small": HarmonicConfig(),
    # Twice the partials and width: for an accelerator or a longer budget.
    "harmonic_base": HarmonicConfig(partials=96, noise_bands=64, hidden=256, layers=4, reverb_seconds=1.0),
}
