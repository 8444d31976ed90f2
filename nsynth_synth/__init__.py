"""nsynth-synth: learning musical-instrument synthesizers from raw audio (NSynth, SynthNet)."""

__version__ = "0.1.0"
