"""Model builders."""

from nsynth_synth.models.midi_conditioned import MidiConditionedNetwork, build_model

__all__ = ["MidiConditionedNetwork", "build_model"]
