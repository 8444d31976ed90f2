import json
import os

import numpy as np
import pytest
from conftest import run_cli

from nsynth_synth.errors import NsynthSynthError
from nsynth_synth.evaluation.classify import (
    accuracies,
    classify_reconstructions,
    evaluation_notes,
    load_classifier,
    pitch_entanglement,
    predict,
)


def test_accuracies_count_each_label():
    notes = {"pitch": np.array([60, 61, 62, 63]), "family": np.array([0, 1, 2, 3]),
             "qualities": np.zeros((4, 10), bool)}
    predicted = {"pitch": np.array([60, 61, 0, 0]), "family": np.array([0, 1, 2, 0]),
                 "qualities": np.zeros((4, 10), bool)}
    predicted["qualities"][0, :5] = True
    assert accuracies(predicted, notes) == {"pitch": 0.5, "quality": 1 - 5 / 40, "family": 0.75}


@pytest.mark.slow
def test_table1_report(nsynth_runs, tmp_path):
    runs = [nsynth_runs["nsynth_wavenet_ae_small"], nsynth_runs["nsynth_spectral_ae_small"]]
    results = classify_reconstructions(nsynth_runs["nsynth_classifier"], runs, nsynth_runs["data"], str(tmp_path),
                                       split="train", limit=2, progress=False)
    assert list(results["accuracy"]) == ["original", "nsynth_wavenet_ae_small", "nsynth_spectral_ae_small"]
    # The originals' row is the classifier on the notes themselves: a perfect reconstruction.
    model, config = load_classifier(nsynth_runs["nsynth_classifier"])
    notes = evaluation_notes(nsynth_runs["data"], "train", 2)
    assert results["accuracy"]["original"] == {**accuracies(predict(model, config, notes["audio"]), notes),
                                               "quality": None}
    saved = json.load(open(tmp_path / "report.json"))
    assert saved["accuracy"] == results["accuracy"] and saved["quality_labels"] is False
    assert all(a["quality"] is None for a in saved["accuracy"].values())  # no labels: no number
    page = open(tmp_path / "report.md").read()
    assert "nsynth_spectral_ae_small" in page and "no quality labels" in page
    for name in ("note0.png", "note0_original.wav", "note1_nsynth_wavenet_ae_small.wav"):
        assert os.path.getsize(tmp_path / name) > 0


@pytest.mark.slow
def test_entanglement_report(nsynth_runs, tmp_path):
    results = pitch_entanglement(nsynth_runs["nsynth_classifier"], [nsynth_runs["nsynth_wavenet_ae_small_pitch"]],
                                 nsynth_runs["data"], str(tmp_path), shifts=(12,), split="train", limit=2,
                                 progress=False)
    assert [(r["shift"], r["notes"]) for r in results["rows"]] == [(0, 2), (12, 2)]
    for row in results["rows"]:
        assert 0 <= row["follows_conditioning"] <= 1 and 0 <= row["follows_original"] <= 1
        if row["shift"] == 0:
            assert row["follows_conditioning"] == row["follows_original"]
    assert json.load(open(tmp_path / "report.json"))["rows"] == results["rows"]


def test_entanglement_needs_a_pitch_conditioned_model(nsynth_runs, tmp_path):
    with pytest.raises(NsynthSynthError, match="not pitch-conditioned"):
        pitch_entanglement(nsynth_runs["nsynth_classifier"], [nsynth_runs["nsynth_wavenet_ae_small"]],
                           nsynth_runs["data"], str(tmp_path), split="train", limit=1, progress=False)


def test_an_autoencoder_is_not_a_classifier(nsynth_runs):
    with pytest.raises(NsynthSynthError, match="not a note classifier"):
        load_classifier(nsynth_runs["nsynth_spectral_ae_small"])


@pytest.mark.slow
def test_cli_classify(nsynth_runs, tmp_path):
    out = tmp_path / "report"
    result = run_cli("evaluate", "classify", "--classifier", nsynth_runs["nsynth_classifier"], "--model",
                     nsynth_runs["nsynth_spectral_ae_small"], "--data", nsynth_runs["data"], "--split", "train",
                     "--limit", "2", "--out", str(out))
    assert "nsynth_spectral_ae_small" in result.stdout and (out / "report.md").exists()
    assert "quality    n/a" in result.stdout  # a SoundFont set has no quality labels
    assert json.load(open(out / "report.json"))["command"].startswith("nsynth-synth evaluate classify")
