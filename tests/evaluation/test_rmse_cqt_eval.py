"""`nsynth-synth evaluate rmse-cqt`: two files, a model on a Bach set, a model on a MIDI file."""

import json

import numpy as np
import pytest
import soundfile
from conftest import run_cli

from nsynth_synth.errors import AudioError
from nsynth_synth.evaluation.synthesis import load_scored_audio, rmse_cqt_files
from nsynth_synth.metrics.rmse_cqt import against_floor, noise_floor


def melody(rate, seconds=1.0, freqs=(220.0, 330.0, 440.0)):
    """One tone after another at `rate` Hz, the same sound at any rate."""
    t = np.arange(int(seconds * rate)) / rate
    return (0.4 * np.sin(2 * np.pi * np.asarray(freqs)[np.minimum((t * 3 / seconds).astype(int), 2)] * t)).astype(
        np.float32)


@pytest.fixture
def wavs(tmp_path):
    paths = {"mono16": tmp_path / "mono16.wav", "stereo44": tmp_path / "stereo44.wav", "other": tmp_path / "other.wav"}
    soundfile.write(paths["mono16"], melody(16000), 16000)
    soundfile.write(paths["stereo44"], np.stack([melody(44100)] * 2, axis=1), 44100)
    soundfile.write(paths["other"], melody(16000, freqs=(247.0, 370.0, 494.0)), 16000)
    return {k: str(v) for k, v in paths.items()}


def test_the_same_sound_scores_zero_at_any_rate_and_channels_and_another_sound_higher(wavs):
    same = rmse_cqt_files(wavs["mono16"], wavs["mono16"])
    assert same["rmse_cqt"] == 0.0
    resampled = rmse_cqt_files(wavs["stereo44"], wavs["mono16"])["rmse_cqt"]
    other = rmse_cqt_files(wavs["other"], wavs["mono16"])["rmse_cqt"]
    assert resampled < 1.0 and other > 10 * max(resampled, 0.1)
    # Beside every score, the reference's floor: white noise at its RMS and silence.
    assert same == against_floor(0.0, noise_floor(load_scored_audio(wavs["mono16"])))
    assert same["minus_noise"] == -same["noise_rmse_cqt"] < -10


def test_bad_files_are_named(wavs, tmp_path):
    soundfile.write(tmp_path / "empty.wav", np.zeros(0, np.float32), 16000)
    (tmp_path / "garbage.wav").write_bytes(b"not a wav at all")
    with pytest.raises(AudioError, match="empty.wav: holds no audio"):
        rmse_cqt_files(str(tmp_path / "empty.wav"), wavs["mono16"])
    with pytest.raises(AudioError, match="garbage.wav: cannot read audio"):
        rmse_cqt_files(wavs["mono16"], str(tmp_path / "garbage.wav"))
    with pytest.raises(AudioError, match="none.wav: no such audio file"):
        rmse_cqt_files(str(tmp_path / "none.wav"), wavs["mono16"])


def test_the_command_prints_the_score_and_names_a_bad_file(wavs, tmp_path):
    same = run_cli("evaluate", "rmse-cqt", wavs["stereo44"], wavs["mono16"])
    assert same.returncode == 0, same.stderr[-1500:]
    score, floor = same.stdout.split(", ", 1)
    assert float(score) < 1.0 and floor.startswith("model - noise -") and "silence" in floor
    missing = run_cli("evaluate", "rmse-cqt", wavs["mono16"], tmp_path / "none.wav")
    assert missing.returncode == 1 and "none.wav: no such audio file" in missing.stderr


def test_a_model_on_a_bach_set_and_on_a_midi_file(tiny_set, tiny_scores, style_runs, tmp_path):
    folder, _ = tiny_set
    run = style_runs[1]  # GM 80
    out = tmp_path / "set"
    done = run_cli("evaluate", "rmse-cqt", "--model", run, "--data", folder, "--seconds", "0.1", "--seeds", "0", "1",
                   "--out", out)
    assert done.returncode == 0, done.stderr[-1500:]
    report = json.loads((out / "report.json").read_text())
    [score] = report["scores"]  # the one validation piece in the one style the model plays
    assert (score["piece"], score["program"], [r["seed"] for r in score["rows"]]) == ("tiny_1_prelude", 80, [0, 1])
    values = [r["rmse_cqt"] for r in score["rows"]]
    assert all(v > 0 for v in values)
    assert score["summary"]["mean"] == pytest.approx(np.mean(values)) and score["summary"]["n"] == 2
    assert report["styles"]["80"] == score["summary"]
    # One floor for the piece, against the same 0.1 s of its rendering the seeds are scored on.
    rendered = load_scored_audio(str(out / "tiny_1_prelude_gm80_reference.wav"))
    assert score["noise_rmse_cqt"] == pytest.approx(noise_floor(rendered)["noise_rmse_cqt"], abs=0.05)
    assert [r["minus_noise"] for r in score["rows"]] == pytest.approx([v - score["noise_rmse_cqt"] for v in values])
    assert score["minus_noise"]["mean"] == pytest.approx(np.mean(values) - score["noise_rmse_cqt"])
    assert report["styles_floor"]["80"]["minus_noise"] == score["minus_noise"]
    assert report["styles_floor"]["80"]["silence_rmse_cqt"] == score["silence_rmse_cqt"]
    for name in ("tiny_1_prelude_gm80_seed0.wav", "tiny_1_prelude_gm80_seed1.wav", "tiny_1_prelude_gm80.png"):
        assert (out / name).is_file()
    audio, rate = soundfile.read(out / "tiny_1_prelude_gm80_seed0.wav")
    assert rate == 16000 and len(audio) == 1600
    page = (out / "report.md").read_text()
    assert f"{values[0]:.2f}" in page and "tiny_1_prelude" in page
    assert "model - noise" in page and f"{score['noise_rmse_cqt']:.2f}" in page
    assert "model - noise" in done.stdout

    reference = out / "tiny_1_prelude_gm80_reference.wav"
    midi = run_cli("evaluate", "rmse-cqt", "--model", run, "--midi", f"{tiny_scores}/tiny_1_prelude.mid",
                   "--reference", reference, "--seconds", "0.1", "--seeds", "0", "--out", tmp_path / "midi")
    assert midi.returncode == 0, midi.stderr[-1500:]
    [score] = json.loads((tmp_path / "midi" / "report.json").read_text())["scores"]
    assert score["program"] == 80 and score["summary"]["ci"] is None
    assert score["noise_rmse_cqt"] == pytest.approx(noise_floor(load_scored_audio(str(reference)))["noise_rmse_cqt"],
                                                    abs=1e-4)
    # The MIDI file is the score the set rendered, so seed 0 plays the same roll.
    assert score["rows"][0]["rmse_cqt"] == pytest.approx(values[0], abs=1e-3)

    wrong = run_cli("evaluate", "rmse-cqt", "--model", run, "--data", folder, "--style", "42", "--out", tmp_path / "x")
    assert wrong.returncode == 1 and "trained on style [80] only" in wrong.stderr
    chosen = run_cli("evaluate", "rmse-cqt", "--model", run, "--data", folder, "--split", "train", "--pieces",
                     "tiny_3_courante", "--seconds", "0.1", "--seeds", "0", "--out", tmp_path / "chosen")
    assert chosen.returncode == 0, chosen.stderr[-1500:]
    assert [s["piece"] for s in json.loads((tmp_path / "chosen" / "report.json").read_text())["scores"]] == \
        ["tiny_3_courante"]
    unknown = run_cli("evaluate", "rmse-cqt", "--model", run, "--data", folder, "--pieces", "tiny_3_courante",
                      "--out", tmp_path / "unknown")
    assert unknown.returncode == 1 and "the validation split has no piece tiny_3_courante" in unknown.stderr
    assert not (tmp_path / "unknown").exists()
