"""Rainbowgrams (NSynth paper figures): colour from instantaneous frequency, brightness from level."""

import matplotlib
import numpy as np

from nsynth_synth.metrics.plots import (
    RAINBOW_BINS_PER_OCTAVE,
    RAINBOW_CQT,
    rainbowgram,
    rainbowgram_layers,
    save_rainbowgrams,
)

RATE, HOP = 16000, RAINBOW_CQT["hop_length"]


def tone(frequency, seconds=1.0):
    return (0.5 * np.sin(2 * np.pi * frequency * np.arange(int(seconds * RATE)) / RATE)).astype(np.float32)


def bin_of(frequency):
    return int(round(RAINBOW_BINS_PER_OCTAVE * np.log2(frequency / RAINBOW_CQT["fmin"])))


def phase_advance(frequency):
    """A steady tone's phase advance per hop, wrapped to [-1, 1) in units of pi."""
    cycles = frequency * HOP / RATE
    return 2 * ((cycles + 0.5) % 1 - 0.5)


def test_a_pure_tone_is_one_bright_band_of_one_colour_at_its_bin():
    image = rainbowgram(tone(440.0))
    assert image.shape == (RAINBOW_CQT["n_bins"], 1 + 16000 // HOP, 3) == (336, 63, 3)
    assert image.dtype == np.float32 and 0 <= image.min() and image.max() <= 1
    brightness, frequency = rainbowgram_layers(tone(440.0))
    middle = slice(10, -10)  # away from the edges, where the zero padding adds a click
    level = brightness[:, middle].mean(axis=1)
    assert abs(int(level.argmax()) - bin_of(440.0)) <= 1
    far = np.abs(np.arange(len(level)) - bin_of(440.0)) > RAINBOW_BINS_PER_OCTAVE // 2
    assert level[far].max() < 0.3 * level.max()
    k = bin_of(440.0)
    np.testing.assert_allclose(frequency[k, middle], phase_advance(440.0), atol=1e-3)
    expected = np.array(matplotlib.colormaps["rainbow"]((phase_advance(440.0) + 1) / 2)[:3])
    np.testing.assert_allclose(image[k, middle] / brightness[k, middle, None], np.tile(expected, (43, 1)),
                               atol=1e-2)


def test_another_frequency_shows_another_colour_and_silence_is_black():
    _, at_440 = rainbowgram_layers(tone(440.0))
    _, at_470 = rainbowgram_layers(tone(470.0))
    assert abs(phase_advance(470.0) - phase_advance(440.0)) > 0.5
    np.testing.assert_allclose(at_470[bin_of(470.0), 10:-10], phase_advance(470.0), atol=1e-3)
    assert rainbowgram(np.zeros(8000)).max() == 0
    assert rainbowgram(0.01 * tone(440.0)).max() > 0.9  # each panel is scaled to its own peak


def test_labelled_panels_in_a_grid_are_written_as_one_png(tmp_path):
    panels = [(f"{f} Hz", tone(f, 0.5)) for f in (220.0, 330.0, 440.0)] + [("silence", np.zeros(4000))]
    path = tmp_path / "grid.png"
    save_rainbowgrams(panels, path, title="four panels", columns=2)
    data = path.read_bytes()
    assert data[:4] == b"\x89PNG"
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert width == 800 and height == 540  # 2 columns x 2 rows at 100 dpi
    assert [p.name for p in tmp_path.iterdir()] == ["grid.png"]  # no temporary left behind
