"""Losses, the trainer and its callbacks."""
