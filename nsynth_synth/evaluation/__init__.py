"""Metrics (RMSE-CQT, classifier accuracy) and plots."""
