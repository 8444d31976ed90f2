"""`evaluate gram` (SynthNet Figure 1): Gram matrices, block outputs, the report, bad input."""

import json
import pathlib

import keras
import numpy as np
import pytest
from conftest import run_cli

from nsynth_synth.errors import NsynthSynthError
from nsynth_synth.evaluation.gram import block_output_model, gram_matrix, gram_projection, upper_triangle
from nsynth_synth.models.kinds import get_preset
from nsynth_synth.models.midi_conditioned.model import build_model

LAYERS = len(get_preset("synthnet_live").dilations)


def test_gram_matrix_and_its_upper_triangle_match_numpy():
    activations = np.random.default_rng(0).normal(size=(2, 7, 3)).astype(np.float32)
    gram = keras.ops.convert_to_numpy(gram_matrix(activations))
    expected = np.stack([a.T @ a / 7 for a in activations])
    np.testing.assert_allclose(gram, expected, rtol=1e-5, atol=1e-6)
    known = np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 5.0], [3.0, 5.0, 6.0]])
    np.testing.assert_array_equal(upper_triangle(known), [1, 2, 3, 4, 5, 6])


@pytest.mark.parametrize("family", ["synthnet", "wavenet", "deepvoice"])
def test_one_output_per_dilated_block(family):
    config = get_preset(f"{family}_small")
    model = build_model(config)
    rng = np.random.default_rng(0)
    inputs = {"audio_ids": rng.integers(0, 256, (1, 50)).astype("int32"),
              "piano_roll": (rng.random((1, 50, 128)) > 0.9).astype("float32")}
    outputs = block_output_model(model, config)(inputs)
    # DeepVoice's last block has no residual 1x1, so no Eq. 3 output.
    assert len(outputs) == len(config.dilations) - (family == "deepvoice")
    assert all(tuple(x.shape) == (1, 50, config.residual_channels) for x in outputs)
    if family == "synthnet":
        # Without skips the last block's output is what the final block turns into the logits.
        out = keras.ops.selu(outputs[-1])
        for j in range(len(config.final_channels)):
            out = keras.ops.selu(model.get_layer(f"final{j}")(out))
        np.testing.assert_allclose(keras.ops.convert_to_numpy(model.get_layer("logits")(out)),
                                   keras.ops.convert_to_numpy(model(inputs)["audio_logits"]), rtol=1e-5, atol=1e-5)


@pytest.mark.slow
def test_evaluate_gram_writes_the_report(style_runs, tmp_path):
    out = tmp_path / "gram"
    result = run_cli("evaluate", "gram", *style_runs, "--out", out, "--seconds", "0.25")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "silhouette on gram" in result.stdout
    report = json.loads((out / "report.json").read_text())
    assert [r["program"] for r in report["runs"]] == [42, 80] and all(r["step"] == 1 for r in report["runs"])
    assert report["samples"] == 4000 and report["piece"] == "tiny_1_prelude"
    points = report["points"]
    assert len(points) == 2 * LAYERS
    assert sorted((p["run"], p["layer"]) for p in points) == sorted((r, i) for r in style_runs for i in range(LAYERS))
    assert np.isfinite([[p["x"], p["y"]] for p in points]).all()
    assert report["features_per_point"] == 32 * 33 // 2
    assert set(report["silhouette"]) == {"gram", "tsne"}
    assert all(-1 <= v <= 1 for scores in report["silhouette"].values() for v in scores.values())
    assert [row["layer"] for row in report["layer_separation"]] == list(range(LAYERS))
    page = (out / "report.md").read_text()
    assert "![Gram matrix projection](gram_tsne.png)" in page and "synthnet_live" in page
    assert (out / "gram_tsne.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def _fake_run(source, target, train=(), model=()):
    """A copy of a run's config.json (enough for the checks made before loading) with fields of its
    train and model records changed."""
    target.mkdir()
    record = json.loads((pathlib.Path(source) / "config.json").read_text())
    record["train"].update(train)
    record["model"].update(model)
    (target / "config.json").write_text(json.dumps(record))
    return str(target)


def test_bad_input_names_the_run(style_runs, tiny_scores, tmp_path):
    from data_prep.bach import BachSetConfig, build_bach_set

    first, second = style_runs
    with pytest.raises(NsynthSynthError, match="at least 2 run directories"):
        gram_projection([first], str(tmp_path / "out"), progress=False)
    empty = tmp_path / "empty"
    empty.mkdir()
    result = run_cli("evaluate", "gram", first, empty, "--out", tmp_path / "out")
    assert result.returncode == 1 and f"{empty}: no config.json; not a run directory" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    both = _fake_run(first, tmp_path / "both", {"styles": [42, 80]})
    with pytest.raises(NsynthSynthError, match=f"{both}: trained on styles \\[42, 80\\]"):
        gram_projection([first, both], str(tmp_path / "out"), progress=False)
    notes = _fake_run(first, tmp_path / "notes", {"preset": "nsynth_wavenet_ae_small"})
    with pytest.raises(NsynthSynthError, match=f"{notes}: a nsynth_wavenet_ae_small run; the Gram projection compares the autoregressive"):
        gram_projection([first, notes], str(tmp_path / "out"), progress=False)
    # A set of the same scores holding out another piece: a different excerpt.
    other_set = str(tmp_path / "other_set")
    build_bach_set(other_set, midi=[tiny_scores], validation=["tiny_2_allemande"],
                   config=BachSetConfig(styles=(80,), tail_seconds=0.5, examples_per_shard=2), progress=False)
    other = _fake_run(second, tmp_path / "other", {"data": other_set})
    with pytest.raises(NsynthSynthError, match=f"{other}: its excerpt is tiny_2_allemande .* but {first} has "
                                               "tiny_1_prelude"):
        gram_projection([first, other], str(tmp_path / "out"), progress=False)
    assert not (tmp_path / "out").exists()


def test_runs_of_another_width_are_refused(style_runs, tmp_path):
    first, second = style_runs
    wide = _fake_run(second, tmp_path / "wide", model={"residual_channels": 64})
    with pytest.raises(NsynthSynthError, match=f"{wide}: residual channels 64, but {first} has 32"):
        gram_projection([first, wide], str(tmp_path / "out"), progress=False)
