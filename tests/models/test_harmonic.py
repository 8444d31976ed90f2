"""The harmonic kind: its voices, its synthesis against what physics says, blocks against whole
pieces, training that learns, and an export that plays as the run does in a fresh process."""

import json
import os

import numpy as np
import pytest
import soundfile
import tensorflow as tf

from nsynth_synth.models.harmonic import voices
from nsynth_synth.models.harmonic.blocks import Renderer
from nsynth_synth.models.harmonic.config import PRESETS, HarmonicConfig
from nsynth_synth.models.harmonic.model import build_model
from tests.conftest import ROOT, cli, run_cli, write_midi

RATE, HOP = 16000, 64


def _score(frames, notes):
    """notes [(key, first frame, last frame + 1, velocity / 127)] -> (roll, onsets) [1, frames, 128]."""
    roll, onsets = np.zeros((1, frames, 128), np.float32), np.zeros((1, frames, 128), np.float32)
    for key, on, off, level in notes:
        roll[0, on:off, key] = level
        onsets[0, on, key] = 1.0
    return roll, onsets


def _allocate(roll, onsets, count=4, release_frames=50):
    out, _, dropped = voices.allocate(roll, onsets, count, release_frames)
    return {name: value.numpy()[0] for name, value in out.items()}, int(dropped[0])


def test_a_held_key_keeps_its_voice_and_a_restrike_restarts_in_it():
    roll, onsets = _score(40, [(60, 0, 30, 0.7), (64, 5, 30, 0.7)])
    onsets[0, 20, 60] = 1.0  # struck again while it sounds
    out, dropped = _allocate(roll, onsets)
    voice = int(np.flatnonzero(out["key"][0] == 60)[0])
    assert (out["key"][:30, voice] == 60).all() and dropped == 0
    assert out["frames_on"][19, voice] == 19 and out["frames_on"][20, voice] == 0  # the re-strike
    assert out["frames_off"][29, voice] == -1 and out["frames_off"][35, voice] == 5  # released at 30, decaying


def test_released_voices_give_way_before_held_ones_and_the_quietest_held_are_dropped():
    # Four voices: three held notes and one released; two new notes come, then a quiet one.
    roll, onsets = _score(30, [(60, 0, 30, 0.9), (62, 0, 30, 0.5), (64, 0, 30, 0.9), (65, 0, 5, 0.9),
                               (67, 10, 30, 0.9), (69, 10, 30, 0.2)])
    out, dropped = _allocate(roll, onsets)
    keys = set(out["key"][12])
    assert {60, 64, 67} <= keys and 65 not in keys  # the released note gave way to 67
    # 69 (quieter than every held note) finds no voice that may give way: dropped.
    assert 69 not in keys and dropped == 1
    roll, onsets = _score(30, [(60, 0, 30, 0.9), (62, 0, 30, 0.5), (64, 0, 30, 0.9), (65, 0, 30, 0.9),
                               (67, 10, 30, 0.9)])
    out, dropped = _allocate(roll, onsets)
    assert 67 in out["key"][12] and 62 not in out["key"][12] and dropped == 1  # the quietest held note gave way


def test_loudness_decides_before_age_or_key():
    # One voice, two notes struck together: the louder (by one velocity step) wins, whatever its key.
    roll, onsets = _score(5, [(120, 0, 5, 65 / 127), (10, 0, 5, 64 / 127)])
    out, dropped = _allocate(roll, onsets, count=1)
    assert out["key"][0, 0] == 120 and dropped == 1
    # Two held voices, the quieter struck long after the louder: a new note between them takes the quieter's.
    roll, onsets = _score(6001, [(60, 0, 6001, 0.512), (62, 5000, 6001, 0.504), (64, 6000, 6001, 0.508)])
    out, dropped = _allocate(roll, onsets, count=2, release_frames=10000)
    assert sorted(out["key"][6000]) == [60, 64] and dropped == 1


def test_a_roll_without_onsets_plays_every_rising_edge():
    roll, _ = _score(20, [(60, 2, 8, 1.0), (60, 12, 18, 1.0)])
    out, _ = _allocate(roll, np.zeros_like(roll))
    voice = int(np.flatnonzero(out["key"][3] == 60)[0])
    assert out["frames_on"][2, voice] == 0 and out["frames_on"][12, voice] == 0


def _synthesize(config, key, frames, held, partial_logits, noise=-30.0, amplitude=2.0, bends=None):
    """One voice on `key` held for `held` frames (bent by bends [frames] semitones) -> audio
    [frames * hop] through the synthesizer layer."""
    model = build_model(config)
    roll, onsets = _score(frames, [(key, 0, held, 1.0)])
    bend_roll = None if bends is None else np.repeat(np.asarray(bends, np.float32)[None, :, None], 128, axis=2)
    allocated, _, _ = voices.allocate(roll, onsets, config.voices, config.release_frames, bends=bend_roll)
    shape = allocated["key"].shape
    inputs = {**allocated, "noise_seed": tf.constant([0]), "first_frame": tf.constant([0]),
              "amplitude": tf.fill(shape, amplitude),
              "partials": tf.broadcast_to(tf.constant(partial_logits, tf.float32), [*shape, config.partials]),
              "noise": tf.fill([*shape, config.noise_bands], noise)}
    audio, _ = model.get_layer("synthesizer")(inputs)
    return audio.numpy()[0]


def _peak_hz(audio):
    spectrum = np.abs(np.fft.rfft(audio * np.hanning(len(audio))))
    return np.argmax(spectrum) * RATE / len(audio), spectrum


def test_one_voice_at_a_known_key_peaks_at_its_f0():
    config = PRESETS["harmonic_small"]
    logits = -0.7 * np.arange(config.partials)  # partial amplitudes falling with k
    for key in (45, 69, 81):
        audio = _synthesize(config, key, 200, 200, logits)
        f0 = 440.0 * 2 ** ((key - 69) / 12)
        assert abs(_peak_hz(audio[2000:])[0] - f0) / f0 < 0.01, key


def test_a_bent_voice_follows_the_bend_with_its_phase_unbroken():
    config = PRESETS["harmonic_small"]
    logits = np.where(np.arange(config.partials) == 0, 0.0, -1e9)  # the fundamental alone: a pure sine
    bends = np.concatenate([np.zeros(100), np.linspace(0.0, 2.0, 100), np.full(200, 2.0)])  # up a whole tone
    audio = _synthesize(config, 69, 400, 400, logits, noise=-1e9, bends=bends)
    assert abs(_peak_hz(audio[:100 * HOP][2000:])[0] - 440.0) < 4.4
    bent = 440.0 * 2 ** (2 / 12)
    assert abs(_peak_hz(audio[200 * HOP:])[0] - bent) / bent < 0.01
    # No jump where the frames meet: the largest sample-to-sample step is a sine's at the highest f0.
    steps = np.abs(np.diff(audio[HOP:]))
    assert steps.max() < 1.05 * np.abs(audio).max() * 2 * np.pi * bent / RATE


def test_nothing_sounds_at_or_above_nyquist():
    config = PRESETS["harmonic_small"]
    logits = np.zeros(config.partials)  # every partial equally loud: three lie below 8 kHz, the rest above
    audio = _synthesize(config, 100, 200, 200, logits)  # f0 2637 Hz
    _, spectrum = _peak_hz(audio[2000:])
    freqs = np.fft.rfftfreq(len(audio[2000:]), 1 / RATE)
    partials = [2637.0 * k for k in (1, 2, 3)]
    near = np.zeros_like(freqs, bool)
    for f in partials:
        near |= np.abs(freqs - f) < 60
    # An aliased partial above Nyquist would fold back between them (10548 Hz -> 5452 Hz, ...).
    assert spectrum[~near].max() < 1e-3 * spectrum.max()
    assert np.abs(_synthesize(config, 121, 100, 100, logits)).max() < 1e-4  # f0 above Nyquist: silence


def test_a_released_note_falls_silent_after_its_release_and_reverb():
    config = HarmonicConfig(release_seconds=0.5, reverb_seconds=0.25)
    audio = _synthesize(config, 60, 600, 100, np.zeros(config.partials), noise=0.0)
    held = np.abs(audio[:100 * HOP]).max()
    silent_from = (100 + config.release_frames) * HOP + config.reverb_samples + HOP
    assert held > 0.01 and np.abs(audio[silent_from:]).max() < 1e-6 * held


@pytest.fixture(scope="module", params=[0.05, 0.0], ids=["reverb", "dry"])
def tiny_harmonic(request):
    config = HarmonicConfig(voices=6, partials=12, noise_bands=8, hidden=16, layers=2,
                            reverb_seconds=request.param, release_seconds=0.3, num_styles=2)
    return build_model(config), config


def test_blocks_of_any_size_equal_the_whole_piece_and_the_training_graph(tiny_harmonic):
    model, config = tiny_harmonic
    roll, onsets = _score(300, [(60, 0, 120, 0.8), (64, 30, 200, 0.5), (67, 90, 95, 1.0), (60, 150, 260, 0.6)])
    bends = np.zeros_like(roll)
    bends[0, 40:240, 64] = np.sin(np.arange(200) / 9.0)  # a vibrato across the block boundaries
    whole, _ = Renderer.from_model(model, config).render(roll, onsets, [1], [7], bends=bends)
    small = Renderer(config, *_parts(model, config), chunk_frames=37).render(roll, onsets, [1], [7], bends=bends)[0]
    np.testing.assert_allclose(small, whole, atol=1e-5)
    assert np.abs(whole - Renderer.from_model(model, config).render(roll, onsets, [1], [7])[0]).max() > 1e-4
    allocated, _, _ = voices.allocate(roll, onsets, config.voices, config.release_frames, bends=bends)
    graph = model({**allocated, "noise_seed": tf.constant([7]), "first_frame": tf.constant([0]),
                   "style_id": tf.constant([1])})["audio"].numpy()
    np.testing.assert_allclose(graph, whole, atol=1e-5)
    assert np.abs(whole).max() > 0


def _parts(model, config):
    renderer = Renderer.from_model(model, config)
    return renderer.block, renderer.initial


def test_two_interleaved_streams_equal_their_whole_pieces(tiny_harmonic):
    from nsynth_synth.models.harmonic.export import STATE_PREFIX, HarmonicModule, state_specs

    model, config = tiny_harmonic
    module = HarmonicModule(model, config, max_frames=400, jit_compile=False)
    scores = [_score(200, [(60, 0, 120, 0.8), (67, 50, 180, 0.4)]), _score(200, [(48, 10, 190, 1.0)])]
    bends = [np.zeros_like(scores[0][0]), np.full_like(scores[1][0], -0.5)]
    bends[0][0, 60:160, 60] = np.linspace(0.0, 1.5, 100)
    styles, seeds = [0, 1], [3, 4]
    wholes = [module.generate(tf.constant(r), tf.constant(o), tf.constant(b), tf.constant([s]),
                              tf.constant([seed]))["audio"].numpy()
              for (r, o), b, s, seed in zip(scores, bends, styles, seeds)]
    states = [module.initial_state(tf.constant(1)) for _ in scores]
    pieces = [[], []]
    for start in range(0, 200, 50):  # the two streams take turns, block by block
        for i, ((roll, onsets), bend, style, seed) in enumerate(zip(scores, bends, styles, seeds)):
            span = slice(start, start + 50)
            out = module.stream(tf.constant(roll[:, span]), tf.constant(onsets[:, span]), tf.constant(bend[:, span]),
                                tf.constant([style]), tf.constant([seed]),
                                *[states[i][name] for name in state_specs(config)])
            states[i] = {name: out[name] for name in state_specs(config)}
            pieces[i].append(out["audio"].numpy())
            assert all(name.startswith(STATE_PREFIX) for name in states[i])
    for whole, streamed in zip(wholes, pieces):
        np.testing.assert_allclose(np.concatenate(streamed, axis=1), whole, atol=1e-5)


@pytest.fixture(scope="module")
def one_note_set(tmp_path_factory):
    """One rendered piano note (1 s, middle C) as a Bach set, and its folder."""
    from data_prep.bach import BachSetConfig, build_bach_set

    base = tmp_path_factory.mktemp("one_note")
    write_midi(base / "note.mid", [60], note_seconds=1.0)
    out = str(base / "set")
    build_bach_set(out, midi=[str(base / "note.mid")], config=BachSetConfig(styles=(1,), tail_seconds=0.5),
                   progress=False)
    return out


def test_training_on_one_rendered_note_lowers_the_spectral_loss(one_note_set):
    from nsynth_synth.data.bach import read_manifest
    from nsynth_synth.models.kinds import get_preset, preset_kind
    from nsynth_synth.training.trainer import TrainConfig, make_optimizer, with_preset_defaults

    train = with_preset_defaults(TrainConfig("harmonic_small", one_note_set, window=8000, batch_size=2, seed=0))
    kind = preset_kind("harmonic_small")
    config = kind.run_config(get_preset("harmonic_small"), train, read_manifest(one_note_set))
    model = kind.build(config, "one_note")
    optimizer = make_optimizer(train, "float32", model)
    batches = iter(kind.examples(train, config))
    fixed = next(batches)

    def loss_of(inputs, targets):
        return float(kind.loss(config, model(inputs), targets)[0])

    @tf.function
    def step(inputs, targets):
        with tf.GradientTape() as tape:
            loss = kind.loss(config, model(inputs, training=True), targets)[0]
        optimizer.apply(tape.gradient(loss, model.trainable_variables), model.trainable_variables)

    before = loss_of(*fixed)
    for _ in range(40):
        step(*next(batches))
    assert loss_of(*fixed) < 0.8 * before


def test_a_set_without_onsets_is_refused_in_one_line(tiny_set, tmp_path):
    import shutil

    folder, manifest = tiny_set
    old = tmp_path / "old"
    shutil.copytree(folder, old)
    (old / "manifest.json").write_text(json.dumps({**manifest, "onsets": False, "builder_version": "1.2.0"}))
    status, _, err = cli("train", "--preset", "harmonic_small", "--data", old, "--out", tmp_path / "run", "--steps", 1)
    assert status == 1 and "stores no note onsets" in err and "Traceback" not in err
    assert not (tmp_path / "run").exists()


@pytest.fixture(scope="module")
def harmonic_run(tiny_set, tmp_path_factory):
    """A 2-step harmonic_small run on the tiny set's two styles, and its export."""
    base = tmp_path_factory.mktemp("harmonic_run")
    folder, _ = tiny_set
    status, out, err = cli("train", "--preset", "harmonic_small", "--data", folder, "--out", base / "run",
                           "--steps", 2, "--window", 8000, "--batch-size", 2, "--eval-every", 2,
                           "--eval-seconds", 0.5)
    assert status == 0, err
    status, _, err = cli("export", base / "run", "--out", base / "saved" / "tiny_harmonic", "--max-seconds", 20)
    assert status == 0, err
    return str(base / "run"), str(base / "saved" / "tiny_harmonic" / "1")


def test_the_export_in_a_fresh_process_plays_the_runs_samples(harmonic_run, tmp_scores_dir):
    run, export = harmonic_run
    midi = write_midi(tmp_scores_dir / "chord.mid", [60, 64, 67], note_seconds=0.4, parts=2)
    status, _, err = cli("generate", "--model", run, "--midi", midi, "--style", 42, "--out", tmp_scores_dir / "run.wav")
    assert status == 0, err
    done = run_cli("generate", "--model", export, "--midi", midi, "--style", 42, "--out", tmp_scores_dir / "export.wav")
    assert done.returncode == 0, done.stderr
    a, rate = soundfile.read(tmp_scores_dir / "run.wav")
    b, _ = soundfile.read(tmp_scores_dir / "export.wav")
    assert rate == RATE and len(a) == len(b) and np.abs(a).max() == pytest.approx(0.9, abs=1e-3)  # the peak rule
    np.testing.assert_allclose(a, b, atol=2 / 32767)
    card = open(os.path.join(export, "assets", "model_card.md")).read()
    assert "harmonic kind" in card and "20 ms late" in card


def test_generate_drops_notes_past_its_voices_plays_each_track_in_its_style_and_resamples(harmonic_run,
                                                                                        tmp_scores_dir):
    run, _ = harmonic_run
    cluster = write_midi(tmp_scores_dir / "cluster.mid", list(range(40, 60)), note_seconds=1.0, gap_seconds=-1.0)
    status, _, err = cli("generate", "--model", run, "--midi", cluster, "--style", 80, "--out",
                         tmp_scores_dir / "cluster.wav")
    assert status == 0 and "4 notes dropped" in err, err  # 20 keys at once, 16 voices
    two = write_midi(tmp_scores_dir / "two.mid", [60, 62], note_seconds=0.3, parts=2)
    status, out, err = cli("generate", "--model", run, "--midi", two, "--track-styles", "42,80", "--sample-rate",
                           44100, "--out", tmp_scores_dir / "two.wav")
    assert status == 0, err
    info = soundfile.info(str(tmp_scores_dir / "two.wav"))
    assert info.samplerate == 44100 and "written at 44100 Hz" in out
    for args, message in ((("--style", 9), "--style 9 is not one of the model's styles"),
                          (("--track-styles", "42"), "gives 1 styles for its 2 pitched tracks")):
        status, _, err = cli("generate", "--model", run, "--midi", two, *args, "--out", tmp_scores_dir / "x.wav")
        assert status == 1 and message in err and "Traceback" not in err, err
        assert not (tmp_scores_dir / "x.wav").exists()


@pytest.fixture
def tmp_scores_dir(tmp_path):
    return tmp_path


def test_the_client_streams_through_the_rest_api_with_the_state_carried(harmonic_run, tmp_scores_dir):
    """TF Serving's REST API (the tests' stand-in server, tests/export) in blocks of 0.5 s: the state
    travels with each request, so the piece plays as local generation does."""
    import socket
    import subprocess
    import sys

    run, export = harmonic_run
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    root = os.path.dirname(os.path.dirname(export))
    server = subprocess.Popen([sys.executable, str(ROOT / "tests" / "export" / "tf_serving_standin.py"), root, str(port)],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert server.stdout.readline().strip() == "ready"
        midi = write_midi(tmp_scores_dir / "line.mid", [60, 62, 64, 65], note_seconds=0.4)
        status, _, err = cli("client", "--url", f"http://127.0.0.1:{port}", "--model", "tiny_harmonic", "--midi", midi,
                             "--style-id", 1, "--seed", 3, "--max-seconds", 0.5, "--out", tmp_scores_dir / "remote.wav")
        assert status == 0, err
    finally:
        server.kill()
        server.wait()
    status, _, err = cli("generate", "--model", export, "--midi", midi, "--style", 80, "--seed", 3, "--out",
                         tmp_scores_dir / "local.wav")
    assert status == 0, err
    remote, _ = soundfile.read(tmp_scores_dir / "remote.wav")
    local, _ = soundfile.read(tmp_scores_dir / "local.wav")
    assert len(remote) == len(local)
    np.testing.assert_allclose(remote, local, atol=2 / 32767)
