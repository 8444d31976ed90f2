"""Metrics on audio arrays: RMSE-CQT with its noise floor, confidence intervals, constant-Q plots."""
