"""The NSynth note classifier that judges reconstructions: config.py (config, preset), model.py
(the network), kind.py (the contract: loss, data, training defaults)."""
