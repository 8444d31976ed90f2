"""`nsynth-synth encode`, `decode` and `interpolate` on a tiny autoencoder run."""

import numpy as np
import pytest
import soundfile
from conftest import run_cli, shared_data


@pytest.fixture
def ae_run(nsynth_runs):
    return nsynth_runs["nsynth_wavenet_ae_small"]


@pytest.mark.slow
def test_encode_any_wav_decode_and_interpolate(ae_run, tmp_path):
    t = np.arange(int(0.3 * 44100)) / 44100
    stereo = np.stack([0.5 * np.sin(2 * np.pi * 440 * t), 0.3 * np.sin(2 * np.pi * 220 * t)], 1)
    soundfile.write(tmp_path / "a.wav", stereo, 44100)
    encoded = run_cli("encode", tmp_path / "a.wav", "--model", ae_run, "--out", tmp_path / "a.npy")
    assert encoded.returncode == 0, encoded.stderr[-2000:]
    assert "4800 samples padded with silence to 5120 (10 frames of 512)" in encoded.stdout
    code = np.load(tmp_path / "a.npy")
    assert code.shape == (10, 16) and np.isfinite(code).all()

    decoded = run_cli("decode", tmp_path / "a.npy", "--model", ae_run, "--out", tmp_path / "a_out.wav",
                      "--temperature", "0")
    assert decoded.returncode == 0, decoded.stderr[-2000:]
    audio, rate = soundfile.read(tmp_path / "a_out.wav")
    assert rate == 16000 and len(audio) == 5120

    soundfile.write(tmp_path / "b.wav", 0.4 * np.sin(2 * np.pi * 330 * np.arange(8000) / 16000), 16000)
    mixed = run_cli("interpolate", tmp_path / "a.wav", tmp_path / "b.wav", "--model", ae_run, "--steps", "3",
                    "--out", tmp_path / "interp")
    assert mixed.returncode == 0, mixed.stderr[-2000:]
    names = sorted(p.name for p in (tmp_path / "interp").iterdir())
    assert names == ["interp_0.wav", "interp_1.wav", "interp_2.wav", "mix_0.wav", "mix_1.wav", "mix_2.wav"]
    b, _ = soundfile.read(tmp_path / "b.wav")
    end, _ = soundfile.read(tmp_path / "interp" / "mix_2.wav")
    assert len(end) == 5120  # the shorter of the two, in whole frames
    np.testing.assert_allclose(end, b[:len(end)], atol=1e-4)  # the last step is B itself


def test_bad_input_is_named(ae_run, tmp_path):
    np.save(tmp_path / "wide.npy", np.zeros((4, 8), np.float32))
    wide = run_cli("decode", tmp_path / "wide.npy", "--model", ae_run, "--out", tmp_path / "x.wav")
    assert wide.returncode == 1 and "expected a code [frames, 16], got shape (4, 8)" in wide.stderr
    missing = run_cli("encode", tmp_path / "none.wav", "--model", ae_run, "--out", tmp_path / "x.npy")
    assert missing.returncode == 1 and "none.wav: no such file" in missing.stderr


def test_real_nsynth_notes_encode_from_npy(ae_run, tmp_path):
    notes = np.load(shared_data("nsynth_real", "example_nsynth_audio.npy"))
    np.save(tmp_path / "note.npy", notes[0])
    done = run_cli("encode", tmp_path / "note.npy", "--model", ae_run, "--out", tmp_path / "z.npy")
    assert done.returncode == 0 and "64000 samples: 125 frames" in done.stdout, done.stderr[-1500:]
    assert np.load(tmp_path / "z.npy").shape == (125, 16)


def test_the_spectral_baseline_encodes_one_note_and_decodes_by_griffin_lim(nsynth_runs, tmp_path):
    run = nsynth_runs["nsynth_spectral_ae_small"]
    soundfile.write(tmp_path / "a.wav", 0.5 * np.sin(2 * np.pi * 440 * np.arange(20000) / 16000), 16000)
    encoded = run_cli("encode", tmp_path / "a.wav", "--model", run, "--out", tmp_path / "a.npy")
    assert encoded.returncode == 0, encoded.stderr[-2000:]
    assert "20000 samples padded with silence to one 64000-sample note" in encoded.stdout
    assert np.load(tmp_path / "a.npy").shape == (1, 256)
    decoded = run_cli("decode", tmp_path / "a.npy", "--model", run, "--out", tmp_path / "a_out.wav",
                      "--iterations", "5")
    assert decoded.returncode == 0, decoded.stderr[-2000:]
    audio, rate = soundfile.read(tmp_path / "a_out.wav")
    assert rate == 16000 and len(audio) == 64000 and np.isfinite(audio).all()
