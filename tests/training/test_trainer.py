"""Training from the command line on a tiny set, resuming, and bad input."""

import dataclasses
import json
import os

import numpy as np
import pytest
from conftest import cli, run_cli

from nsynth_synth.export.saved_model import export_run
from nsynth_synth.metrics.rmse_cqt import noise_floor as evaluation_floor
from nsynth_synth.runs import load_run_config, load_trained_model
from nsynth_synth.training.quality import read_history
from nsynth_synth.training.trainer import TrainConfig, TrainingError, train


def test_two_steps_from_the_command_line_then_resume(tiny_set, tmp_path):
    folder, _ = tiny_set
    run = tmp_path / "run"
    args = ["train", "--preset", "synthnet_live", "--data", folder, "--out", run, "--window", "2000",
            "--checkpoint-every", "1", "--seed", "0", "--eval-seconds", "0.05"]
    first = run_cli(*args, "--steps", "2")
    assert first.returncode == 0, first.stderr
    assert "to step 2" in first.stdout
    record = json.loads((run / "config.json").read_text())
    assert record["train"]["learning_rate"] == 1e-3 and record["train"]["weight_decay"] == 1e-5
    assert record["model"]["num_styles"] == 2  # the set has two styles
    assert sorted(os.listdir(run / "checkpoints"))[-1].startswith("ckpt-2")
    again = run_cli(*args, "--steps", "2")
    assert again.returncode == 0 and "already trained for 2 of 2 steps" in again.stdout
    longer = run_cli(*args, "--steps", "3")
    assert longer.returncode == 0 and "to step 3" in longer.stdout
    train_config, model_config = load_run_config(str(run))
    assert train_config.steps == 3 and model_config.family == "synthnet"


def test_losses_are_finite_and_bfloat16_keeps_float32_variables(tiny_set, tmp_path, monkeypatch):
    from nsynth_synth.models.midi_conditioned import quality

    samplers, sampler = [], quality.CachedQueueSampler  # the compute dtype each quality sampler generates in

    def recording_sampler(model, *args, **kwargs):
        samplers.append(model.dtype_policy.compute_dtype)
        return sampler(model, *args, **kwargs)

    monkeypatch.setattr(quality, "CachedQueueSampler", recording_sampler)
    folder, _ = tiny_set
    summary = train(str(tmp_path / "bf16"), TrainConfig("synthnet_live", folder, steps=2, window=1000, styles=(80,),
                                                         precision="mixed_bfloat16", seed=1, eval_seconds=0.05),
                    progress=False)
    assert np.isfinite(summary["loss"]) and summary["precision"] == "mixed_bfloat16"
    import tensorflow as tf

    reader = tf.train.load_checkpoint(str(tmp_path / "bf16" / "checkpoints"))
    dtypes = reader.get_variable_to_dtype_map()
    # The object graph saves each model variable once, under the optimizer that tracks it.
    weights = [k for k in dtypes if k.startswith("optimizer/_trainable_variables/")]
    assert weights and all(dtypes[k] == tf.float32 for k in weights)
    # Generation, scoring and export run in float32 whatever the training policy.
    assert samplers == ["float32"]
    (row,) = read_history(str(tmp_path / "bf16"))
    assert np.isfinite(row["rmse_cqt"])
    model, *_ = load_trained_model(str(tmp_path / "bf16"))
    assert {layer.compute_dtype for layer in model.layers} == {"float32"}
    folder = export_run(str(tmp_path / "bf16"), str(tmp_path / "saved"), max_seconds=0.1, jit_compile=False)
    saved = tf.train.load_checkpoint(os.path.join(folder, "variables", "variables")).get_variable_to_dtype_map()
    assert {dtype for dtype in saved.values() if dtype.is_floating} == {tf.float32}
    roll = np.zeros([1, 20, 128], np.float32)
    roll[:, :, 60] = 1.0
    out = tf.saved_model.load(folder).signatures["generate"](
        piano_roll=tf.constant(roll), style_id=tf.constant([0]), seed=tf.constant([1]), temperature=tf.constant([1.0]))
    assert out["audio"].dtype == tf.float32 and np.all(np.isfinite(out["audio"].numpy()))


def test_bad_input_is_refused_before_anything_is_written(tiny_set, tmp_path):
    folder, _ = tiny_set
    cases = [
        (["--preset", "synthnet_l99", "--data", folder], "unknown preset 'synthnet_l99'"),
        (["--preset", "synthnet_live", "--data", tmp_path / "none"], "no such data directory"),
        (["--preset", "synthnet_live", "--data", folder, "--window", "10000000"], "longer than every train piece"),
        (["--preset", "synthnet_live", "--data", folder, "--styles", "5"], "styles [5] are not in this set"),
        (["--preset", "synthnet_live", "--data", folder, "--model-set", "voices=8"], "expected NAME=VALUE with NAME one of"),
        (["--preset", "synthnet_live", "--data", folder, "--model-set", "blocks=many"], "blocks must be of type int, not 'many'"),
        (["--preset", "synthnet_live", "--data", folder, "--model-set", "sample_rate=8000"],
         "--model-set sample_rate=8000: the data decides sample_rate (16000"),
    ]
    # The installed command once (its entry point turns errors into one line), the rest in this process.
    result = run_cli("train", *cases[0][0], "--out", tmp_path / "bad", "--steps", "1")
    assert result.returncode == 1 and cases[0][1] in result.stderr and "Traceback" not in result.stderr, result.stderr
    for args, message in cases[1:]:
        status, _, err = cli("train", *args, "--out", tmp_path / "bad", "--steps", "1")
        assert status == 1 and message in err, (args, err[-800:])
        assert not (tmp_path / "bad").exists()
    run = tmp_path / "other"
    train(str(run), TrainConfig("synthnet_live", folder, steps=1, window=1000, eval_seconds=0.02), progress=False)
    with pytest.raises(TrainingError, match="was made with preset='synthnet_live', not 'wavenet_small'"):
        train(str(run), TrainConfig("wavenet_small", folder, steps=1, window=1000, eval_seconds=0.02), progress=False)
    with pytest.raises(TrainingError, match=r"was made with model_set=\[\], not \['blocks=1'\]"):
        train(str(run), TrainConfig("synthnet_live", folder, steps=1, window=1000, eval_seconds=0.02,
                                    model_set=["blocks=1"]), progress=False)
    # The same data folder by a relative path is the same run (it is finished: nothing to do).
    again = train(str(run), TrainConfig("synthnet_live", os.path.relpath(folder), steps=1, window=1000,
                                        eval_seconds=0.02), progress=False)
    assert again["finished"] and again["steps"] == 1
    checkpoint = sorted((run / "checkpoints").glob("ckpt-1.data*"))[0]
    checkpoint.write_bytes(b"garbage")
    with pytest.raises(TrainingError, match="cannot restore this checkpoint"):
        train(str(run), TrainConfig("synthnet_live", folder, steps=2, window=1000, eval_seconds=0.02), progress=False)


def test_generate_from_a_trained_run_writes_the_requested_length(tiny_set, tiny_scores, tmp_path):
    import soundfile
    from conftest import write_midi

    folder, _ = tiny_set
    run = tmp_path / "run"
    train(str(run), TrainConfig("synthnet_live", folder, steps=2, window=1000, eval_seconds=0.02, styles=(42,)),
          progress=False)
    midi = write_midi(tmp_path / "high.mid", [60, 100], note_seconds=0.2)
    result = run_cli("generate", "--model", run, "--midi", midi, "--seconds", "0.25", "--out", tmp_path / "g.wav",
                     "--plot")
    assert result.returncode == 0, result.stderr[-800:]
    audio, rate = soundfile.read(tmp_path / "g.wav")
    assert rate == 16000 and len(audio) == 4000
    assert (tmp_path / "g.cqt.png").read_bytes()[:4] == b"\x89PNG"
    assert "pitches [100] lie outside the training pieces' range" in result.stderr  # a warning, not a crash
    wrong = run_cli("generate", "--model", run, "--midi", midi, "--style", "80", "--out", tmp_path / "x.wav")
    assert wrong.returncode == 1 and "trained on style [42] only" in wrong.stderr
    missing = run_cli("generate", "--model", run, "--midi", tmp_path / "none.mid", "--out", tmp_path / "x.wav")
    assert missing.returncode == 1 and "none.mid: no such MIDI file" in missing.stderr


def test_quality_tracking_scores_generation_and_keeps_the_best(tiny_set, tmp_path, monkeypatch):
    from nsynth_synth.training import quality
    from nsynth_synth.training.quality import read_history, validation_reference

    folder, manifest = tiny_set
    run = tmp_path / "q"
    floors = []  # the noise floor is computed once per run: the reference is the same every evaluation

    def counted(reference):
        floors.append(evaluation_floor(reference))
        return floors[-1]

    monkeypatch.setattr(quality, "noise_floor", counted)
    summary = train(str(run), TrainConfig("synthnet_live", folder, steps=4, window=1000, styles=(80,),
                                          eval_every=2, eval_seconds=0.3), progress=False)
    history = read_history(str(run))
    reference = validation_reference(folder, manifest, 80, 0.3)[1]
    assert len(floors) == 1 and floors[0] == evaluation_floor(reference)
    for row in history:
        assert (row["noise_rmse_cqt"], row["silence_rmse_cqt"]) == (floors[0]["noise_rmse_cqt"],
                                                                    floors[0]["silence_rmse_cqt"])
        assert row["minus_noise"] == pytest.approx(row["rmse_cqt"] - row["noise_rmse_cqt"])
    record = json.loads((run / "config.json").read_text())["data"]
    assert record["heard"]["80"]["pitch_range"] == record["pitch_range"] == [48, 72]
    assert record["heard"]["80"]["max_polyphony"] == 1 and record["heard"]["80"]["velocity_range"] == [100, 100]
    assert [row["step"] for row in history] == [2, 4]
    assert all(np.isfinite(row["rmse_cqt"]) and row["rmse_cqt"] > 0 for row in history)
    assert all(0 < row["loss_with_roll"] < 10 and 0 < row["loss_silent_roll"] < 10 for row in history)
    assert history[0]["loss_with_roll"] != history[0]["loss_silent_roll"]  # the roll reaches the audio path
    assert history[0]["piece"] == "tiny_1_prelude"
    best_step = min(history, key=lambda row: row["rmse_cqt"])["step"]
    assert summary["best"]["step"] == best_step
    assert os.path.basename(__import__("tensorflow").train.latest_checkpoint(str(run / "best"))) == f"ckpt-{best_step}"
    assert any(name.startswith("events") for name in os.listdir(run / "logs"))


MIRRORED_SCRIPT = """
import sys, tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
from nsynth_synth.training.trainer import TrainConfig, train
summary = train(sys.argv[2], TrainConfig("synthnet_live", sys.argv[1], steps=2, batch_size=2, window=1000,
                                         styles=(80,), distribute="mirrored", eval_every=2, eval_seconds=0.2),
                progress=False)
print("REPLICATED", summary["steps"], summary["loss"], summary["replicas"])
"""


@pytest.mark.slow
def test_mirrored_training_over_two_devices(tiny_set, tmp_path):
    """MirroredStrategy over two logical CPU devices: the same code path as several GPUs."""
    import subprocess
    import sys

    folder, _ = tiny_set
    result = subprocess.run([sys.executable, "-c", MIRRORED_SCRIPT, folder, str(tmp_path / "m")],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    steps, loss, replicas = result.stdout.split("REPLICATED")[1].split()
    assert steps == "2" and np.isfinite(float(loss)) and replicas == "2"


@pytest.mark.slow
def test_multi_worker_training_with_two_local_processes(tiny_set, tmp_path):
    """MultiWorkerMirroredStrategy: two workers as two processes talking over loopback ports."""
    import socket
    import subprocess

    folder, _ = tiny_set
    ports = []
    for _ in range(2):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            ports.append(s.getsockname()[1])
    cluster = {"worker": [f"127.0.0.1:{p}" for p in ports]}
    run = tmp_path / "mw"
    workers = []
    for index in range(2):
        env = dict(os.environ, TF_CONFIG=json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}}))
        command = [os.path.join(os.path.dirname(__import__("sys").executable), "nsynth-synth"), "train",
                   "--preset", "synthnet_live", "--data", folder, "--out", str(run), "--steps", "2",
                   "--batch-size", "2", "--window", "1000", "--styles", "80", "--distribute", "multi_worker",
                   "--eval-every", "2", "--eval-seconds", "0.2"]
        workers.append(subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    outputs = [w.communicate(timeout=600) for w in workers]
    for worker, (out, err) in zip(workers, outputs):
        assert worker.returncode == 0, err[-2000:]
    assert "to step 2" in outputs[0][0]  # the chief reports; the other worker stays quiet
    assert sorted(os.listdir(run / "checkpoints"))[-1].startswith("ckpt-2")


@pytest.mark.slow
def test_resume_after_kill_9(tiny_set, tmp_path):
    import signal
    import subprocess
    import sys
    import time

    folder, _ = tiny_set
    run = tmp_path / "killed"
    command = [os.path.join(os.path.dirname(sys.executable), "nsynth-synth"), "train", "--preset", "synthnet_live",
               "--data", folder, "--out", str(run), "--steps", "400", "--window", "1000", "--styles", "80",
               "--checkpoint-every", "1", "--eval-every", "1000"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 300
    while time.time() < deadline and not list(run.glob("checkpoints/ckpt-5.index")):
        time.sleep(0.2)
    process.send_signal(signal.SIGKILL)
    process.wait()
    import tensorflow as tf

    killed_at = int(tf.train.latest_checkpoint(str(run / "checkpoints")).rsplit("-", 1)[1])
    assert 5 <= killed_at < 400
    command[command.index("--steps") + 1] = str(killed_at + 2)
    resumed = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stderr[-1500:]
    assert f"to step {killed_at + 2}" in resumed.stdout


def test_generate_a_held_out_piece_scores_rmse_cqt(tiny_set, tmp_path):
    folder, _ = tiny_set
    run = tmp_path / "run"
    train(str(run), TrainConfig("synthnet_live", folder, steps=1, window=1000, eval_seconds=0.02, styles=(80,)),
          progress=False)
    result = run_cli("generate", "--model", run, "--data", folder, "--piece", "tiny_1_prelude", "--seconds", "0.3",
                     "--out", tmp_path / "p.wav")
    assert result.returncode == 0, result.stderr[-800:]
    score, floor = result.stdout.split("RMSE-CQT against the rendered reference:")[1].split(", ", 1)
    assert float(score) > 0 and floor.startswith("model - noise ") and "silence" in floor
    missing = run_cli("generate", "--model", run, "--data", folder, "--piece", "nope", "--out", tmp_path / "x.wav")
    assert missing.returncode == 1 and "has no piece 'nope'" in missing.stderr


def test_epochs_set_the_steps_from_the_windows_per_epoch(tiny_set, tmp_path):
    from nsynth_synth.data.bach import windows_per_epoch

    folder, manifest = tiny_set
    summary = train(str(tmp_path / "e"), TrainConfig("synthnet_live", folder, epochs=1, batch_size=2, window=4000,
                                                     eval_every=1000, eval_seconds=0.02), progress=False)
    assert summary["steps"] == windows_per_epoch(manifest, "train", 4000) // 2
    assert load_run_config(str(tmp_path / "e"))[0].steps == summary["steps"]


@pytest.mark.slow
def test_the_nsynth_autoencoders_train_on_a_soundfont_nsynth_and_resume(tmp_path):
    from nsynth_synth.models.wavenet_autoencoder.config import AutoencoderConfig
    from nsynth_synth.runs import load_trained_model

    data = tmp_path / "ns"
    built = run_cli("prepare", "nsynth", "--out", data, "--limit-instruments", "6", "--pitches", "60-61",
                    "--velocities", "100")
    assert built.returncode == 0, built.stderr[-2000:]
    run = tmp_path / "ae"
    args = ["train", "--preset", "nsynth_wavenet_ae_small", "--data", data, "--out", run, "--checkpoint-every", "1",
            "--window", "1024", "--seed", "0"]
    first = run_cli(*args, "--steps", "2")
    assert first.returncode == 0, first.stderr[-2000:]
    record = json.loads((run / "config.json").read_text())
    assert record["train"]["ema"] == 0.9999 and record["train"]["weight_decay"] == 0.0
    assert record["train"]["learning_rate"] is None  # the released schedule
    assert record["data"] == {"format": "nsynth"}
    again = run_cli(*args, "--steps", "3")
    assert again.returncode == 0 and "to step 3" in again.stdout, again.stderr[-2000:]

    import tensorflow as tf

    reader = tf.train.load_checkpoint(str(run / "checkpoints"))
    averages = [k for k in reader.get_variable_to_shape_map() if k.startswith("ema/averages/")]
    assert averages, "the weight average is checkpointed"
    model, config, _, path = load_trained_model(str(run))
    assert isinstance(config, AutoencoderConfig) and path.endswith("ckpt-3")
    # Evaluation uses the averaged weights: the first average equals the loaded first weight.
    np.testing.assert_array_equal(model.trainable_variables[0].numpy(), reader.get_tensor(sorted(averages)[0]))

    spectral = run_cli("train", "--preset", "nsynth_spectral_ae_small", "--data", data, "--out", tmp_path / "spec",
                       "--steps", "2", "--batch-size", "2", "--seed", "0")
    assert spectral.returncode == 0 and "to step 2" in spectral.stdout, spectral.stderr[-2000:]
    record = json.loads((tmp_path / "spec" / "config.json").read_text())
    assert (record["train"]["learning_rate"], record["train"]["beta_1"], record["train"]["window"]) == (1e-4, 0.5, 64000)


def test_the_learning_rate_schedule_steps_down_as_released():
    from nsynth_synth.models.wavenet_autoencoder.kind import learning_rate_schedule

    schedule = learning_rate_schedule(1000)
    rates = [float(schedule(step)) for step in (0, 449, 451, 601, 751, 901, 999)]
    np.testing.assert_allclose(rates, [2e-4, 2e-4, 4e-4 / 3, 6e-5, 4e-5, 2e-5, 2e-5], rtol=1e-6)


@pytest.mark.filterwarnings("ignore:.*velocities .* lie outside the training pieces")
def test_a_velocity_roll_run_plays_velocities_and_a_binary_one_cannot(tiny_set, tmp_path):
    """The same score at two velocities: a model trained on the velocity roll is fed different
    rolls and plays different audio; a binary-roll model is fed the same roll, so plays the same.
    `generate` builds the roll the run's record names."""
    from conftest import write_midi

    from nsynth_synth.export.saved_model import roll_card
    from nsynth_synth.generate.from_midi import generate_midi, load_synthesizer, midi_roll

    folder, _ = tiny_set
    soft = write_midi(tmp_path / "soft.mid", [60, 64], note_seconds=0.1, velocity=30)
    loud = write_midi(tmp_path / "loud.mid", [60, 64], note_seconds=0.1, velocity=120)
    played = {}
    for roll in ("binary", "velocity"):
        run = str(tmp_path / roll)
        train(run, TrainConfig("synthnet_live", folder, steps=1, window=1000, eval_seconds=0.02, styles=(42,),
                               roll=roll, seed=0),
              progress=False)
        record, render = load_synthesizer(run)
        assert record.train.roll == roll and roll in roll_card(record["train"])
        rolls = [midi_roll(midi, 16000, 64, values=roll)[0][:25] for midi in (soft, loud)]
        assert rolls[1].max() == (1.0 if roll == "binary" else pytest.approx(120 / 127))
        played[roll] = [render(r, np.zeros_like(r), len(r) * 64, None, 0, 1.0, False) for r in rolls]
    np.testing.assert_array_equal(*played["binary"])
    assert not np.array_equal(*played["velocity"])
    generated = generate_midi(run, loud, str(tmp_path / "loud.wav"), seconds=0.1, progress=False)["audio"]
    np.testing.assert_array_equal(generated, played["velocity"][1])  # generate fed the velocity roll
    with pytest.raises(TrainingError, match="made with roll='velocity', not 'binary'"):
        train(str(tmp_path / "velocity"), TrainConfig("synthnet_live", folder, steps=2, window=1000, eval_seconds=0.02,
                                                      styles=(42,)),
              progress=False)


def test_a_time_budget_stops_the_run_with_an_evaluation_and_a_checkpoint(tiny_set, tmp_path):
    """--max-train-seconds: the run stops at the step that spends it, scored (here with two
    sampling seeds, averaged) and checkpointed there; rerun, it is finished; a larger budget goes on."""
    folder, _ = tiny_set
    run = tmp_path / "run"
    config = TrainConfig("synthnet_live", folder, steps=50, window=1000, styles=(42,), eval_every=100,
                         eval_seconds=0.05, eval_seeds=2, max_train_seconds=1e-3, seed=0)
    assert train(str(run), config, progress=False)["steps"] == 1
    (row,) = read_history(str(run))
    assert row["step"] == 1 and len(row["rmse_cqt_seeds"]) == 2 and row["rmse_cqt_seeds"][0] != row["rmse_cqt_seeds"][1]
    assert row["rmse_cqt"] == pytest.approx(np.mean(row["rmse_cqt_seeds"])) and row["train_seconds"] > 1e-3
    assert os.path.exists(run / "checkpoints" / "ckpt-1.index")
    again = train(str(run), config, progress=False)
    assert again["steps"] == 1 and "already trained for" in again["message"] and "of 0.001 s" in again["message"]
    longer = train(str(run), dataclasses.replace(config, steps=2, max_train_seconds=1e6), progress=False)
    assert longer["steps"] == 2 and [r["step"] for r in read_history(str(run))] == [1, 2]
    with pytest.raises(TrainingError, match="--max-train-seconds must be positive"):
        dataclasses.replace(config, max_train_seconds=0)
