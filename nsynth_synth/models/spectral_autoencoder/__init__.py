"""The NSynth spectral autoencoder baseline: config.py (config, presets), model.py (the network,
Griffin-Lim), kind.py (the contract: loss, data, training defaults)."""
