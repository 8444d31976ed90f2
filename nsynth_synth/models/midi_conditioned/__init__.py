"""The SynthNet paper's MIDI-conditioned models (WaveNet, DeepVoice, SynthNet): config.py (config,
presets), model.py (the network), kind.py (the contract: loss, data, training defaults)."""
