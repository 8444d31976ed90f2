"""Plots written as PNG with matplotlib (no display needed)."""

import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after choosing the backend)

from nsynth_synth.evaluation.rmse_cqt import CQT, SAMPLE_RATE, cqt_db  # noqa: E402
from nsynth_synth.fileio import atomic_output  # noqa: E402


def cqt_png(audio, title=""):
    """Constant-Q power in dB (the RMSE-CQT definition's) of 16 kHz mono audio -> PNG bytes."""
    spectrogram = cqt_db(audio)
    figure, axis = plt.subplots(figsize=(10, 4))
    seconds = spectrogram.shape[1] * CQT["hop_length"] / SAMPLE_RATE
    image = axis.imshow(spectrogram, origin="lower", aspect="auto", cmap="magma", vmin=-80, vmax=0,
                        extent=[0, seconds, 0, CQT["n_bins"]])
    axis.set_yticks(range(0, CQT["n_bins"] + 1, 12), [f"C{o + 1}" for o in range(CQT["n_bins"] // 12 + 1)])
    axis.set_xlabel("seconds")
    axis.set_title(title or "constant-Q power")
    figure.colorbar(image, ax=axis, label="dB")
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100)
    plt.close(figure)
    return buffer.getvalue()


def save_cqt_plot(audio, path, title=""):
    """cqt_png written to `path`, atomically."""
    with atomic_output(str(path)) as tmp, open(tmp, "wb") as f:
        f.write(cqt_png(audio, title))
