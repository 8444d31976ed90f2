"""The polyphonic harmonic-plus-noise synthesizer (DDSP line): config.py (config, presets),
voices.py (notes -> voices), synthesis.py (oscillators, filtered noise, reverb, spectral loss:
plain functions of control tensors), model.py (the network that predicts the controls), kind.py
(the contract), and the kind's stages: quality.py, generation.py, export.py."""
