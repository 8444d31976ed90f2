"""Plots written as PNG with matplotlib (no display needed)."""

import io

import matplotlib
import numpy as np

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from nsynth_synth.fileio import atomic_output
from nsynth_synth.metrics.rmse_cqt import CQT, FLOOR, SAMPLE_RATE, constant_q, cqt_db


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


# The rainbowgram's constant-Q transform: the RMSE-CQT hop and range (C1-B7) at 4 bins a semitone,
# with the narrower filters (filter_scale 0.8) of the NSynth paper's figures.
RAINBOW_BINS_PER_OCTAVE = 48
RAINBOW_CQT = {**CQT, "n_bins": CQT["n_bins"] // CQT["bins_per_octave"] * RAINBOW_BINS_PER_OCTAVE,
               "bins_per_octave": RAINBOW_BINS_PER_OCTAVE, "filter_scale": 0.8}
RAINBOW_RANGE_DB = 70.0  # brightness spans the 70 dB below each panel's peak


def rainbowgram_layers(audio):
    """16 kHz mono audio [samples] -> (brightness [336, frames] in [0, 1], frequency [336, frames] in [-1, 1]).

    brightness: log magnitude of the complex CQT, 1 at the panel's peak and 0 at RAINBOW_RANGE_DB
    below it or at -80 dB full scale (the RMSE-CQT floor), whichever is higher, so silence stays black.
    frequency: instantaneous frequency, the frame-to-frame difference of the phase unwrapped along
    time, divided by pi (per hop of 256 samples; the first frame repeats the second's). A steady
    partial gives the bins around it one constant value, so it shows as a band of one colour.
    """
    spectrum = constant_q(audio, RAINBOW_CQT)
    level = 20.0 * np.log10(np.maximum(np.abs(spectrum), FLOOR))
    top = level.max()
    bottom = max(top - RAINBOW_RANGE_DB, 20.0 * np.log10(FLOOR))
    brightness = np.clip((level - bottom) / (top - bottom), 0.0, 1.0) if top > bottom else np.zeros_like(level)
    phase = np.unwrap(np.angle(spectrum), axis=1)
    step = np.diff(phase, axis=1) / np.pi
    frequency = np.concatenate([step[:, :1], step], axis=1) if step.shape[1] else np.zeros_like(phase)
    return brightness.astype(np.float32), frequency.astype(np.float32)


def rainbowgram(audio):
    """16 kHz mono audio [samples] -> RGB float32 [336, frames, 3] in [0, 1] (row 0: C1): the
    instantaneous frequency's colour on the rainbow colormap, scaled by the brightness (see
    rainbowgram_layers), so quiet bins fade to black (Engel et al. 2017, Figures 2 and 3)."""
    brightness, frequency = rainbowgram_layers(audio)
    colour = matplotlib.colormaps["rainbow"]((frequency + 1.0) / 2.0)[..., :3]
    return (colour * brightness[..., None]).astype(np.float32)


def rainbowgram_png(panels, title="", columns=1):
    """[(label, 16 kHz mono audio [samples]), ...] -> PNG bytes: one rainbowgram per panel, laid out
    row by row `columns` to a row (e.g. one row per model, one column per interpolation step)."""
    rows = -(-len(panels) // columns)
    figure, axes = plt.subplots(rows, columns, figsize=(4 * columns, 0.6 + 2.4 * rows), squeeze=False,
                                sharex=True, sharey=True)
    octaves = RAINBOW_CQT["n_bins"] // RAINBOW_BINS_PER_OCTAVE
    for axis, (label, audio) in zip(axes.flat, panels):
        image = rainbowgram(audio)
        seconds = image.shape[1] * CQT["hop_length"] / SAMPLE_RATE
        axis.imshow(image, origin="lower", aspect="auto", interpolation="nearest",
                    extent=[0, seconds, 0, RAINBOW_CQT["n_bins"]])
        axis.set_yticks([o * RAINBOW_BINS_PER_OCTAVE for o in range(octaves + 1)],
                        [f"C{o + 1}" for o in range(octaves + 1)])
        axis.set_title(label, fontsize=9)
    for axis in axes.flat[len(panels):]:
        axis.axis("off")
    for axis in axes[-1]:
        axis.set_xlabel("seconds")
    if title:
        figure.suptitle(title)
    figure.tight_layout()
    return _png(figure)


def save_rainbowgrams(panels, path, title="", columns=1):
    """rainbowgram_png written to `path`, atomically."""
    save_png(rainbowgram_png(panels, title, columns), path)


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


PROJECTION_MARKERS = "osD^vP*Xph<>"


def projection_png(points, values, groups, value_label, group_label, title=""):
    """Scatter of 2-D points [n, 2]: colour by a number values [n] (a colourbar labelled value_label),
    marker shape by label groups [n] (a legend titled group_label), e.g. a t-SNE map of layers (colour) and styles (shape)
    -> PNG bytes."""
    points, values = np.asarray(points), np.asarray(values)
    figure, axis = plt.subplots(figsize=(7, 5.5))
    norm = matplotlib.colors.Normalize(values.min(), values.max())
    handles = []
    for n, group in enumerate(dict.fromkeys(groups)):
        chosen = np.array([g == group for g in groups])
        marker = PROJECTION_MARKERS[n % len(PROJECTION_MARKERS)]
        image = axis.scatter(points[chosen, 0], points[chosen, 1], c=values[chosen], cmap="viridis", norm=norm,
                             marker=marker, s=50, edgecolors="black", linewidths=0.5)
        # Legend entries in grey: the colour belongs to the colourbar, the shape to the group.
        handles.append(matplotlib.lines.Line2D([], [], marker=marker, linestyle="", color="lightgrey",
                                               markeredgecolor="black", label=str(group)))
    colourbar = figure.colorbar(image, ax=axis, label=value_label)
    if np.issubdtype(values.dtype, np.integer):
        colourbar.ax.yaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
    axis.legend(handles=handles, title=group_label, loc="best", fontsize=8)
    axis.set_xticks([])
    axis.set_yticks([])
    axis.set_title(title)
    figure.tight_layout()
    return _png(figure)
