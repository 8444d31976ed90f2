"""Model kinds, one folder each (their config and presets, network, loss), the contract they fulfil
(contract.py) and the registry (kinds.py)."""
