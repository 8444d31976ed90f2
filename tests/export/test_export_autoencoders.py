"""Exported NSynth autoencoders: loaded in a fresh process, they match the in-process codecs."""

import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf
from conftest import run_cli


@pytest.fixture(scope="module")
def exports(nsynth_runs, tmp_path_factory):
    """{preset: (run directory, exported version folder)} of both small NSynth autoencoders."""
    base = tmp_path_factory.mktemp("ae_export")
    runs = {}
    for preset in ("nsynth_wavenet_ae_small", "nsynth_spectral_ae_small"):
        done = run_cli("export", nsynth_runs[preset], "--out", base / "saved_models" / preset, "--max-seconds", "0.5")
        assert done.returncode == 0, done.stderr[-2000:]
        runs[preset] = (nsynth_runs[preset], str(base / "saved_models" / preset / "1"))
    return runs


FRESH = """
import sys, numpy as np, tensorflow as tf
folder, kind, out = sys.argv[1], sys.argv[2], sys.argv[3]
loaded = tf.saved_model.load(folder)
t = np.arange(2048, dtype=np.float32) / 16000
audio = (0.5 * np.sin(2 * np.pi * 440 * t))[None]
if kind == "wavenet":
    code = loaded.signatures["encode"](audio=tf.constant(audio))["code"]
    inputs = dict(code=code, pitch=tf.constant([60]), seed=tf.constant([4]), temperature=tf.constant([1.0]))
    decoded = loaded.signatures["decode"](**inputs)
    loaded.signatures["reset"](batch_size=tf.constant(1))
    streamed = [loaded.signatures["step"](code=code[:, t // 512], pitch=inputs["pitch"], seed=inputs["seed"],
                temperature=inputs["temperature"])["audio_ids"].numpy()[0] for t in range(200)]
    np.savez(out, code=code.numpy(), ids=decoded["audio_ids"].numpy(), streamed=np.array(streamed))
else:
    note = np.pad(audio, [(0, 0), (0, 64000 - 2048)])
    code = loaded.signatures["encode"](audio=tf.constant(note))["code"]
    decoded = loaded.signatures["decode"](code=code, pitch=tf.constant([60]))["audio"]
    np.savez(out, code=code.numpy(), audio=decoded.numpy())
"""


def _fresh(tmp_path, folder, kind):
    script = tmp_path / "load.py"
    script.write_text(FRESH)
    done = subprocess.run([sys.executable, str(script), folder, kind, str(tmp_path / "out.npz")],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return np.load(tmp_path / "out.npz")


@pytest.mark.slow
def test_the_wavenet_autoencoder_export_matches_in_process(exports, tmp_path):
    from nsynth_synth.generate.autoencode import load_codec

    run, folder = exports["nsynth_wavenet_ae_small"]
    out = _fresh(tmp_path, folder, "wavenet")
    codec = load_codec(run)
    audio = (0.5 * np.sin(2 * np.pi * 440 * np.arange(2048, dtype=np.float32) / 16000))
    code = codec.encode(audio)
    np.testing.assert_allclose(out["code"][0], code, atol=1e-4)  # graph and eager convolutions round apart
    from nsynth_synth.sampling.cached_queue import CachedQueueSampler

    sampler = CachedQueueSampler(codec.model, codec.config, upsample="hold")
    ids, _ = sampler.generate(codec.network.conditioning(tf.constant(out["code"])), 512, 2048, [4], 1.0)
    np.testing.assert_array_equal(out["ids"], ids.numpy())
    np.testing.assert_array_equal(out["streamed"], ids.numpy()[0, :200])
    with pytest.raises(tf.errors.InvalidArgumentError, match="max_frames=15"):
        tf.saved_model.load(folder).signatures["decode"](code=tf.zeros([1, 16, 16]), pitch=tf.constant([60]),
                                                         seed=tf.constant([0]), temperature=tf.constant([1.0]))


@pytest.mark.slow
def test_the_spectral_export_matches_in_process_and_lists_its_signatures(exports, tmp_path):
    from nsynth_synth.generate.autoencode import load_codec

    run, folder = exports["nsynth_spectral_ae_small"]
    out = _fresh(tmp_path, folder, "spectral")
    codec = load_codec(run)
    note = np.pad(0.5 * np.sin(2 * np.pi * 440 * np.arange(2048, dtype=np.float32) / 16000), (0, 64000 - 2048))
    np.testing.assert_allclose(out["code"], codec.encode(note), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(out["audio"][0], codec.decode(out["code"], iterations=60, seed=0), atol=1e-4)
    cli = os.path.join(os.path.dirname(sys.executable), "saved_model_cli")
    shown = subprocess.run([cli, "show", "--dir", folder, "--all"], capture_output=True, text=True, timeout=300)
    assert "signature_def['encode']" in shown.stdout and "signature_def['decode']" in shown.stdout
    card = open(os.path.join(folder, "assets", "model_card.md")).read()
    assert "nsynth_spectral_ae_small" in card and "one 4 s note a code" in card
