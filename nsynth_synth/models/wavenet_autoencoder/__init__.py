"""The NSynth WaveNet autoencoder: config.py (config, presets), model.py (encoder and decoder),
kind.py (the contract: loss, data, training defaults)."""
