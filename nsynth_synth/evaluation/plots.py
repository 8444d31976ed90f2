"""Plots written as PNG with matplotlib (no display needed)."""

import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after choosing the backend)

from nsynth_synth.evaluation.rmse_cqt import CQT, SAMPLE_RATE, cqt_db  # noqa: E402
from nsynth_synth.fileio import atomic_output  # noqa: E402


def _png(figure):
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100)
    plt.close(figure)
    return buffer.getvalue()


def save_png(png, path):
    """PNG bytes written to `path`, atomically."""
    with atomic_output(str(path)) as tmp, open(tmp, "wb") as f:
        f.write(png)


def cqt_png(panels, title=""):
    """Constant-Q power in dB (the RMSE-CQT definition's) of 16 kHz mono audio -> PNG bytes.

    panels: one audio [samples], or [(label, audio [samples]), ...] stacked on a shared time axis,
    e.g. the ground truth above each generation (the SynthNet paper's Figure 4).
    """
    if not isinstance(panels, (list, tuple)):
        panels = [(title or "constant-Q power", panels)]
    figure, axes = plt.subplots(len(panels), 1, figsize=(10, 1 + 3 * len(panels)), squeeze=False, sharex=True)
    for axis, (label, audio) in zip(axes[:, 0], panels):
        spectrogram = cqt_db(audio)
        seconds = spectrogram.shape[1] * CQT["hop_length"] / SAMPLE_RATE
        image = axis.imshow(spectrogram, origin="lower", aspect="auto", cmap="magma", vmin=-80, vmax=0,
                            extent=[0, seconds, 0, CQT["n_bins"]])
        axis.set_yticks(range(0, CQT["n_bins"] + 1, 12), [f"C{o + 1}" for o in range(CQT["n_bins"] // 12 + 1)])
        axis.set_title(label)
        figure.colorbar(image, ax=axis, label="dB")
    axes[-1, 0].set_xlabel("seconds")
    if len(panels) > 1 and title:
        figure.suptitle(title)
    figure.tight_layout()
    return _png(figure)


def save_cqt_plot(panels, path, title=""):
    """cqt_png written to `path`, atomically."""
    save_png(cqt_png(panels, title), path)


def curves_png(curves, xlabel, ylabel, title=""):
    """Line plot: curves {label: (x [n], y [n])} -> PNG bytes."""
    figure, axis = plt.subplots(figsize=(7, 4))
    for label, (x, y) in curves.items():
        axis.plot(x, y, marker="o", label=label)
    axis.set_xlabel(xlabel)
    axis.set_ylabel(ylabel)
    axis.set_title(title)
    axis.grid(alpha=0.3)
    axis.legend()
    figure.tight_layout()
    return _png(figure)
