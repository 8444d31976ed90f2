"""Shared fixtures: tiny scores written with pretty_midi, and tiny Bach sets built from them."""

import os
import pathlib

import pretty_midi
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"
C_MAJOR = [60, 62, 64, 65, 67, 69, 71, 72]


def write_midi(path, pitches, note_seconds=0.25, gap_seconds=0.0, start=0.0, velocity=100, program=0, parts=1):
    """A MIDI file playing `pitches` one after another (on `parts` identical tracks); returns its path."""
    midi = pretty_midi.PrettyMIDI(initial_tempo=120)
    for _ in range(parts):
        instrument = pretty_midi.Instrument(program=program)
        t = start
        for pitch in pitches:
            instrument.notes.append(pretty_midi.Note(velocity, pitch, t, t + note_seconds))
            t += note_seconds + gap_seconds
        midi.instruments.append(instrument)
    midi.write(str(path))
    return str(path)


def shared_data(*parts):
    """A path under ../shared/data, or skip the test when that folder is absent (a user's machine)."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is not present")
    return str(path)


@pytest.fixture(scope="session")
def tiny_scores(tmp_path_factory):
    """Three short pieces (named like BWV 1007 parts so the paper's split rule applies)."""
    folder = tmp_path_factory.mktemp("scores")
    write_midi(folder / "tiny_1_prelude.mid", C_MAJOR, note_seconds=0.2)
    write_midi(folder / "tiny_2_allemande.mid", C_MAJOR[::-1] + C_MAJOR, note_seconds=0.15)
    write_midi(folder / "tiny_3_courante.mid", [48, 55, 52, 60, 64, 67, 72], note_seconds=0.3, parts=2)
    return str(folder)


@pytest.fixture(scope="session")
def tiny_set(tiny_scores, tmp_path_factory):
    """A built set: 3 pieces x 2 styles, tiny_1_prelude held out; returns (folder, manifest)."""
    from data_prep.bach import BachSetConfig, build_bach_set

    out = str(tmp_path_factory.mktemp("sets") / "tiny")
    config = BachSetConfig(styles=(42, 80), tail_seconds=0.5, examples_per_shard=2)
    manifest = build_bach_set(out, midi=[tiny_scores], validation=["tiny_1_prelude"], config=config, progress=False)
    return out, manifest


@pytest.fixture(scope="session")
def style_runs(tiny_set, tmp_path_factory):
    """1-step synthnet_live runs on the tiny set, one per style (GM 42 and 80): [run directory, ...]."""
    from nsynth_synth.training.trainer import TrainConfig, train

    folder, _ = tiny_set
    base = tmp_path_factory.mktemp("style_runs")
    runs = []
    for program in (42, 80):
        runs.append(str(base / f"s{program}"))
        train(runs[-1], TrainConfig("synthnet_live", folder, steps=1, window=1000, styles=(program,),
                                    eval_seconds=0.02, seed=0), progress=False)
    return runs


def cli(*argv):
    """nsynth-synth in this process -> (exit status, stdout, stderr): no start-up cost, so most
    bad-input checks run here (run_cli runs the installed command, for the entry point itself).
    Warnings are written to stderr when they are raised, as the command line shows them. An
    exception other than argparse's exit propagates: the traceback a user would have seen."""
    import contextlib
    import io
    import warnings

    from nsynth_synth.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), warnings.catch_warnings():
        warnings.simplefilter("always")
        warnings.showwarning = lambda message, *_, **__: err.write(f"warning: {message}\n")
        try:
            status = main([str(a) for a in argv])
        except SystemExit as exit:  # argparse's usage errors
            status = exit.code
    return status, out.getvalue(), err.getvalue()


def run_cli(*args, cwd=None):
    """Run the installed `nsynth-synth` in a fresh process; returns the CompletedProcess."""
    import subprocess
    import sys

    command = [os.path.join(os.path.dirname(sys.executable), "nsynth-synth"), *map(str, args)]
    return subprocess.run(command, capture_output=True, text=True, cwd=cwd, timeout=600)


@pytest.fixture(scope="session")
def nsynth_runs(tmp_path_factory):
    """A tiny SoundFont NSynth (6 instruments, middle C) and 2-step runs of both small NSynth
    autoencoders, the pitch-conditioned WaveNet one and the note classifier on it:
    {"data": folder, preset name: run directory}."""
    from data_prep.nsynth import NsynthSetConfig, build_nsynth_set
    from nsynth_synth.training.trainer import TrainConfig, train

    base = tmp_path_factory.mktemp("nsynth_runs")
    data = str(base / "ns")
    build_nsynth_set(data, NsynthSetConfig(pitches=(60, 60), velocities=(100,), limit_instruments=6), progress=False)
    runs = {"data": data}
    for preset, window in (("nsynth_wavenet_ae_small", 1024), ("nsynth_spectral_ae_small", None),
                           ("nsynth_wavenet_ae_small_pitch", 1024), ("nsynth_classifier", 2048)):
        runs[preset] = str(base / preset)
        train(runs[preset], TrainConfig(preset, data, steps=2, window=window, seed=0), progress=False)
    return runs


SHARED_FIXTURES = ("nsynth_runs", "style_runs", "exported")


def pytest_itemcollected(item):
    """Under pytest-xdist (`make test` runs two workers, --dist loadgroup) the tests that share an
    expensive session fixture run on one worker, so each fixture is built once."""
    for name in SHARED_FIXTURES:
        if name in item.fixturenames:
            item.add_marker(pytest.mark.xdist_group(name))
            break


@pytest.fixture
def headless_chromium(tmp_path):
    """open(url) -> a WebDriver on Debian's Chromium showing `url`, with a fresh profile and the
    flags this sandbox needs (no GPU, no background connections: the network is closed). A browser
    that dies while loading the first page (CI saw its renderer lost once, at the first load) is
    started again once; a page that kills it twice fails the test."""
    import shutil

    chromium, driver_path = shutil.which("chromium"), shutil.which("chromedriver")
    if not chromium or not driver_path:
        pytest.skip("needs Debian's chromium and chromium-driver (tools/install_system_deps.sh installs them)")
    from selenium import webdriver
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.chrome.service import Service

    browsers = []

    def start(url, attempt):
        options = webdriver.ChromeOptions()
        options.binary_location = chromium
        for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--mute-audio",
                     "--autoplay-policy=no-user-gesture-required", "--no-first-run", "--disable-sync",
                     "--disable-background-networking", "--disable-component-update", "--disable-quic",
                     f"--user-data-dir={tmp_path / f'chromium_profile_{attempt}'}"):
            options.add_argument(flag)
        browsers.append(webdriver.Chrome(options=options, service=Service(driver_path)))
        browsers[-1].get(url)
        return browsers[-1]

    def open_page(url):
        try:
            return start(url, 0)
        except WebDriverException as error:
            print(f"chromium died loading {url} ({str(error).splitlines()[0]}); starting it again")
            return start(url, 1)

    yield open_page
    for browser in browsers:
        try:
            browser.quit()
        except Exception:  # a crashed browser has nothing left to close
            pass
