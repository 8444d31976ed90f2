"""Summaries the papers report: a mean with its 95% confidence interval."""

import math

import numpy as np


def mean_ci(values, confidence=0.95):
    """values [n] -> {"mean", "ci" (half-width, Student's t), "n"}; ci is None for n < 2."""
    from scipy import stats

    values = np.asarray(values, dtype=np.float64)
    if values.size == 0:
        raise ValueError("mean_ci needs at least one value")
    mean = float(values.mean())
    if values.size < 2:
        return {"mean": mean, "ci": None, "n": 1}
    half = stats.t.ppf(0.5 + confidence / 2, values.size - 1) * values.std(ddof=1) / math.sqrt(values.size)
    return {"mean": mean, "ci": float(half), "n": int(values.size)}


def format_mean_ci(summary, digits=2):
    """{"mean", "ci"} -> "12.34 ± 0.56" (just the mean when there is no interval)."""
    if summary["ci"] is None:
        return f"{summary['mean']:.{digits}f}"
    return f"{summary['mean']:.{digits}f} ± {summary['ci']:.{digits}f}"
