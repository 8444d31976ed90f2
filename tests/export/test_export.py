"""SavedModel export: signatures, a fresh-process load that matches the in-process sampler, the TF
Serving configs parsed with the real protos, and the REST client against a stand-in server."""

import json
import os
import socket
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf
from conftest import run_cli, write_midi

from nsynth_synth.export.saved_model import ExportError, export_run
from nsynth_synth.generate.segments import segment_bounds
from nsynth_synth.training.trainer import TrainConfig, train

HERE = os.path.dirname(os.path.abspath(__file__))
MAX_SECONDS = 0.5  # 125 frames of 64 samples


@pytest.fixture(scope="module")
def exported(tiny_set, tmp_path_factory):
    """A two-style synthnet_live run (2 steps) exported from the command line:
    (run dir, saved_models root, version folder)."""
    folder, _ = tiny_set
    base = tmp_path_factory.mktemp("export")
    run = str(base / "run")
    train(run, TrainConfig("synthnet_live", folder, steps=2, window=1000, eval_every=2, seed=0), progress=False)
    root = base / "saved_models"
    result = run_cli("export", run, "--out", root / "tiny", "--max-seconds", MAX_SECONDS)
    assert result.returncode == 0, result.stderr[-2000:]
    return run, str(root), str(root / "tiny" / "1")


def _roll(frames, seed=0):
    rng = np.random.default_rng(seed)
    roll = np.zeros([2, frames, 128], np.float32)
    for b in range(2):
        for start in range(0, frames, 20):
            roll[b, start:start + 15, rng.integers(40, 70)] = 1.0
    return roll


FRESH_PROCESS = """
import sys, numpy as np, tensorflow as tf, keras
folder, data = sys.argv[1], dict(np.load(sys.argv[2]))
loaded = tf.saved_model.load(folder)
inputs = {k: tf.constant(data[k]) for k in ("piano_roll", "style_id", "seed", "temperature")}
out = loaded.signatures["generate"](**inputs)
layer = keras.layers.TFSMLayer(folder, call_endpoint="generate")
via_layer = layer(inputs["piano_roll"], style_id=inputs["style_id"], seed=inputs["seed"],
                  temperature=inputs["temperature"])
loaded.signatures["reset"](batch_size=tf.constant(2))
step = loaded.signatures["step"]
streamed = [step(piano_roll=tf.constant(data["audio_rate"][:, t]), style_id=inputs["style_id"], seed=inputs["seed"],
                 temperature=inputs["temperature"])["audio_ids"].numpy() for t in range(data["audio_rate"].shape[1])]
np.savez(sys.argv[3], ids=out["audio_ids"].numpy(), audio=out["audio"].numpy(),
         layer_ids=via_layer["audio_ids"].numpy(), streamed=np.stack(streamed, 1))
"""


def test_a_fresh_process_reproduces_the_in_process_sampler(exported, tmp_path):
    from nsynth_synth.data.pianoroll import pad_edges, upsample_roll
    from nsynth_synth.runs import load_trained_model
    from nsynth_synth.sampling.cached_queue import CachedQueueSampler

    run, _, folder = exported
    roll = _roll(12)
    style, seed, temperature = np.array([1, 0], np.int32), np.array([3, 4], np.int32), np.array([1.0, 0.8], np.float32)
    audio_rate = upsample_roll(pad_edges(tf.constant(roll)), 64, "linear").numpy()[:, :300]
    np.savez(tmp_path / "in.npz", piano_roll=roll, style_id=style, seed=seed, temperature=temperature,
             audio_rate=audio_rate)
    script = tmp_path / "load.py"
    script.write_text(FRESH_PROCESS)
    done = subprocess.run([sys.executable, str(script), folder, str(tmp_path / "in.npz"), str(tmp_path / "out.npz")],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    out = np.load(tmp_path / "out.npz")

    model, config, record, _ = load_trained_model(run, "best")
    sampler = CachedQueueSampler(model, config, upsample=record["train"]["upsample"])
    ids, audio = sampler.generate(roll, 64, 12 * 64, seed, temperature, style)
    assert out["ids"].shape == (2, 12 * 64)
    np.testing.assert_array_equal(out["ids"], ids.numpy())
    np.testing.assert_array_equal(out["audio"], audio.numpy())
    np.testing.assert_array_equal(out["layer_ids"], ids.numpy())
    np.testing.assert_array_equal(out["streamed"], ids.numpy()[:, :300])


def test_saved_model_cli_lists_every_signature_with_shapes(exported):
    cli = os.path.join(os.path.dirname(sys.executable), "saved_model_cli")
    shown = subprocess.run([cli, "show", "--dir", exported[2], "--all"], capture_output=True, text=True, timeout=300)
    assert shown.returncode == 0, shown.stderr[-2000:]
    listing = shown.stdout
    for name in ("generate", "serving_default", "reset", "step"):
        assert f"signature_def['{name}']" in listing
    generate = listing.split("signature_def['generate']")[1].split("signature_def[")[0]
    assert "inputs['piano_roll']" in generate and "shape: (-1, -1, 128)" in generate
    for name in ("seed", "style_id", "temperature"):
        assert f"inputs['{name}']" in generate
    assert "outputs['audio']" in generate and "outputs['audio_ids']" in generate
    step = listing.split("signature_def['step']")[1].split("signature_def[")[0]
    assert "shape: (-1, 128)" in step


def test_bad_requests_fail_with_clear_errors(exported):
    loaded = tf.saved_model.load(exported[2])
    generate = loaded.signatures["generate"]
    one = {"style_id": tf.constant([0]), "seed": tf.constant([0]), "temperature": tf.constant([1.0])}
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"request too long .* max_frames=125 frames \(0.5 s"):
        generate(piano_roll=tf.zeros([1, 126, 128]), **one)
    assert generate(piano_roll=tf.zeros([1, 125, 128]), **one)["audio"].shape == (1, 125 * 64)
    with pytest.raises(tf.errors.InvalidArgumentError, match="seed needs one entry per piano_roll batch row"):
        generate(piano_roll=tf.zeros([2, 5, 128]), style_id=tf.constant([0, 1]), seed=tf.constant([0]),
                 temperature=tf.constant([1.0, 1.0]))
    with pytest.raises(tf.errors.InvalidArgumentError, match="style_id must be below 2"):
        generate(piano_roll=tf.zeros([1, 5, 128]), style_id=tf.constant([2]), seed=tf.constant([0]),
                 temperature=tf.constant([1.0]))


def test_export_assets_and_versions(exported):
    run, root, folder = exported
    record = json.load(open(os.path.join(folder, "assets", "config.json")))
    assert record["export"]["max_frames"] == 125 and record["export"]["step"] == 2
    assert record["model"]["family"] == "synthnet" and record["train"]["preset"] == "synthnet_live"
    card = open(os.path.join(folder, "assets", "model_card.md")).read()
    assert "synthnet_live" in card and "RMSE-CQT at export" in card and "style_id 1" in card
    # The set by what it is, not by the folder it was built in.
    assert "- data: a Bach set of 3 MIDI files, rendered with FluidR3_GM.sf2 in GM 42, 80" in card
    assert record["train"]["data"] not in card
    # The score beside its noise floor, from the exported step's quality.json row.
    [row] = [r for r in json.load(open(os.path.join(run, "quality.json"))) if r["step"] == 2]
    export = record["export"]
    assert (export["rmse_cqt"], export["noise_rmse_cqt"], export["minus_noise"]) == (
        row["rmse_cqt"], row["noise_rmse_cqt"], row["minus_noise"])
    assert f"{row['rmse_cqt']:.2f}, model - noise {row['minus_noise']:+.2f} (noise {row['noise_rmse_cqt']:.2f}" in card
    # What the model heard, per style: the tiny scores, one key at a time at velocity 100.
    for line in ("- heard in training, GM program 42 (Cello): pitches 48-72, at most 1 key at once, velocities 100-100",
                 "- heard in training, GM program 80 (Square Lead): pitches 48-72,"):
        assert line in card, card
    with pytest.raises(ExportError, match="exists; export as another --version"):
        export_run(run, os.path.join(root, "tiny"), version=1)
    assert sorted(os.listdir(os.path.join(root, "tiny"))) == ["1"]  # no half-written leftovers


def test_serving_configs_and_warmup_parse_with_the_real_protos(exported):
    from tensorflow_serving.apis import prediction_log_pb2

    from nsynth_synth.export.serving import BATCHING_CONFIG, MODELS_CONFIG, MONITORING_CONFIG, parse_config

    _, root, folder = exported
    models = parse_config(os.path.join(root, MODELS_CONFIG))
    (entry,) = models.model_config_list.config
    assert (entry.name, entry.base_path, entry.model_platform) == ("tiny", "/models/tiny", "tensorflow")
    assert entry.model_version_policy.latest.num_versions == 1
    batching = parse_config(os.path.join(root, BATCHING_CONFIG))
    assert batching.max_batch_size.value == 16 and batching.pad_variable_length_inputs
    monitoring = parse_config(os.path.join(root, MONITORING_CONFIG))
    assert monitoring.prometheus_config.enable and monitoring.prometheus_config.path.startswith("/monitoring")

    records = list(tf.data.TFRecordDataset(os.path.join(folder, "assets.extra", "tf_serving_warmup_requests")))
    assert len(records) == 1
    log = prediction_log_pb2.PredictionLog.FromString(records[0].numpy())
    request = log.predict_log.request
    assert request.model_spec.signature_name == "generate"
    inputs = {key: tf.constant(tf.make_ndarray(value)) for key, value in request.inputs.items()}
    # The warmup request is one the model accepts.
    audio = tf.saved_model.load(folder).signatures["generate"](**inputs)["audio"]
    assert audio.shape[0] == 1 and audio.shape[1] > 0


def test_a_broken_config_is_named(tmp_path):
    from nsynth_synth.export.serving import ServingConfigError, parse_config

    path = tmp_path / "batching.config"
    path.write_text("max_batch_size: 16\n")  # a wrapper message, not a number
    with pytest.raises(ServingConfigError, match="batching.config: not a valid BatchingParameters"):
        parse_config(str(path))


def test_segments_cover_the_piece_and_prefer_rests():
    roll = np.zeros([50, 128], np.float32)
    roll[:, 60] = 1.0
    roll[[12, 13, 33], 60] = 0.0  # rests
    bounds = segment_bounds(roll, 16)
    assert bounds[0] == (0, 14)  # just after the last rest in the second half of the first 16 frames
    assert bounds[-1][1] == 50 and all(b[0] == a[1] for a, b in zip(bounds, bounds[1:]))
    assert all(0 < end - start <= 16 for start, end in bounds)
    assert segment_bounds(roll, 100) == [(0, 50)]


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def standin_server(exported):
    port = _free_port()
    server = subprocess.Popen([sys.executable, os.path.join(HERE, "tf_serving_standin.py"), exported[1], str(port)],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert server.stdout.readline().strip() == "ready"
        yield f"http://127.0.0.1:{port}"
    finally:
        server.kill()
        server.wait()


def test_client_through_the_rest_api_matches_local_generation(exported, standin_server, tmp_path):
    from nsynth_synth.audio import read_wav
    from nsynth_synth.export.client import model_status

    _, root, _ = exported
    assert model_status(standin_server, "tiny")["model_version_status"][0]["state"] == "AVAILABLE"
    midi = write_midi(tmp_path / "long.mid", [60, 62, 64, 65, 67], note_seconds=0.3)  # 2.5 s: 5 requests of <= 0.5 s
    remote = run_cli("client", "--url", standin_server, "--model", "tiny", "--midi", midi, "--out",
                     tmp_path / "remote.wav", "--style-id", "1", "--seed", "5")
    assert remote.returncode == 0, remote.stderr[-2000:]
    local = run_cli("generate", "--model", os.path.join(root, "tiny"), "--midi", midi, "--out", tmp_path / "local.wav",
                    "--style", "80", "--seed", "5")
    assert local.returncode == 0, local.stderr[-2000:]
    remote_audio, rate = read_wav(str(tmp_path / "remote.wav"))
    local_audio, _ = read_wav(str(tmp_path / "local.wav"))
    assert rate == 16000 and len(remote_audio) == len(local_audio) == 2.5 * 16000  # 1.5 s of notes + 1 s tail
    np.testing.assert_array_equal(remote_audio, local_audio)


def test_client_errors_name_the_problem(exported, standin_server, tmp_path):
    midi = write_midi(tmp_path / "short.mid", [60], note_seconds=0.1)
    unknown = run_cli("client", "--url", standin_server, "--model", "nope", "--midi", midi, "--out", tmp_path / "a.wav")
    assert unknown.returncode == 1 and "HTTP 404" in unknown.stderr and "Servable not found" in unknown.stderr
    assert not (tmp_path / "a.wav").exists()
    bad_style = run_cli("client", "--url", standin_server, "--model", "tiny", "--midi", midi, "--out",
                        tmp_path / "b.wav", "--style-id", "7")
    assert bad_style.returncode == 1 and "HTTP 400" in bad_style.stderr and "style_id must be below 2" in bad_style.stderr
    closed = run_cli("client", "--url", f"http://127.0.0.1:{_free_port()}", "--model", "tiny", "--midi", midi,
                     "--out", tmp_path / "c.wav")
    assert closed.returncode == 1 and "cannot reach the server" in closed.stderr and "Traceback" not in closed.stderr


def test_export_and_serving_config_refuse_bad_input(tmp_path):
    empty = run_cli("serving-config", tmp_path)
    assert empty.returncode == 1 and "no exported models" in empty.stderr
    not_a_run = run_cli("export", tmp_path, "--out", tmp_path / "m")
    assert not_a_run.returncode == 1 and "not a run directory" in not_a_run.stderr
    assert not (tmp_path / "m").exists()
    no_model = run_cli("generate", "--model", tmp_path, "--midi", write_midi(tmp_path / "a.mid", [60]), "--out",
                       tmp_path / "a.wav")
    assert no_model.returncode == 1 and "neither a run directory" in no_model.stderr


SHIPPED = {"bwv1007_piano_synthnet_small": ("synthnet_small", None),
           "bach_seven_styles_synthnet_small": ("synthnet_small", 42),
           "bach_seven_styles_synthnet_live": ("synthnet_live", 80),
           "bach_seven_styles_harmonic": ("harmonic_small", 9)}


@pytest.mark.parametrize("name", SHIPPED)
def test_the_shipped_models_play_a_midi_file(name, tmp_path):
    """Each model committed in saved_models/ plays a MIDI file (in one of its styles) from a fresh
    process, and its card names its preset and its export score."""
    shipped = os.path.join(os.path.dirname(HERE), "..", "saved_models", name)
    preset, style = SHIPPED[name]
    midi = write_midi(tmp_path / "c.mid", [48, 55, 60], note_seconds=0.1)
    chosen = ["--style", style] if style else []
    done = run_cli("generate", "--model", shipped, "--midi", midi, "--seconds", "0.25", *chosen, "--out",
                   tmp_path / "c.wav")
    assert done.returncode == 0, done.stderr[-2000:]
    card = open(os.path.join(shipped, "1", "assets", "model_card.md")).read()
    assert preset in card and "RMSE-CQT at export" in card
