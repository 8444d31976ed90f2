"""Every script under tools/ starts and explains itself (--help), so none rots unnoticed."""

import pathlib
import subprocess
import sys

import pytest

TOOLS = sorted(p for p in (pathlib.Path(__file__).resolve().parents[1] / "tools").glob("*.py") if p.name != "report.py")


@pytest.mark.parametrize("tool", TOOLS, ids=lambda p: p.name)
def test_tool_prints_help(tool):
    done = subprocess.run([sys.executable, str(tool), "--help"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-1500:]
    assert "usage:" in done.stdout


@pytest.mark.slow
def test_synthnet_reproduction_end_to_end_then_resume(tiny_scores, tmp_path):
    """tools/reproduce_synthnet.py on the tiny scores, 2 steps a run: the page, its JSON and the
    listening files; a second call trains nothing and writes the same numbers."""
    import json

    tool = pathlib.Path(__file__).resolve().parents[1] / "tools" / "reproduce_synthnet.py"
    page = tmp_path / "results" / "table3.md"
    command = [sys.executable, str(tool), "--midi", tiny_scores, "--work", str(tmp_path / "work"), "--page", str(page),
               "--steps", "2", "--eval-every", "1", "--styles", "80", "42"]
    first = subprocess.run(command, capture_output=True, text=True, timeout=1200)
    assert first.returncode == 0, first.stderr[-2000:]
    rows = json.loads(page.with_suffix(".json").read_text())["rows"]
    assert {(r["model"], r["program"]) for r in rows} == {
        (m, p) for m in ("synthnet_small", "deepvoice_small", "wavenet_small") for p in (80, 42)}
    for r in rows:
        assert r["steps"] == [1, 2] and len(r["rmse_cqt"]) == 2 and r["final"] == r["rmse_cqt"][-1]
        assert r["regenerated_rmse_cqt"] == pytest.approx(r["final"], abs=1e-3)  # generation is deterministic
        assert r["parameters"] > 0 and r["train_seconds"] > 0
    text = page.read_text()
    for model in ("synthnet_small", "deepvoice_small", "wavenet_small"):
        assert f"| {model} |" in text
    assert "SynthNet < DeepVoice < WaveNet" in text and "SynthNet under 10" in text
    for p in (80, 42):
        folder = page.parent / "table3" / "listening" / f"gm{p}" / "prelude"
        assert sorted(f.name for f in folder.iterdir()) == [
            "deepvoice_small.wav", "reference.wav", "synthnet_small.wav", "wavenet_small.wav"]
        assert (page.parent / "table3" / f"cqt_gm{p}.png").stat().st_size > 0
    again = subprocess.run(command, capture_output=True, text=True, timeout=1200)
    assert again.returncode == 0, again.stderr[-2000:]
    assert again.stdout.count("already trained for 2 of 2 steps") == 6
    assert [r["final"] for r in json.loads(page.with_suffix(".json").read_text())["rows"]] == [r["final"] for r in rows]


@pytest.mark.slow
def test_nsynth_reproduction_end_to_end(tmp_path):
    """tools/reproduce_nsynth.py at toy scale: the page with both tables, its JSON and the reports."""
    import json

    tool = pathlib.Path(__file__).resolve().parents[1] / "tools" / "reproduce_nsynth.py"
    page = tmp_path / "results" / "table1.md"
    command = [sys.executable, str(tool), "--work", str(tmp_path / "work"), "--page", str(page), "--instruments", "6",
               "--pitches", "60-61", "--classifier-steps", "2", "--wavenet-steps", "2", "--baseline-steps", "2",
               "--limit", "3"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=1800)
    assert done.returncode == 0, done.stderr[-2000:]
    record = json.loads(page.with_suffix(".json").read_text())
    assert record["steps"] == {"nsynth_classifier": 2, "nsynth_wavenet_ae_small_pitch": 2,
                               "nsynth_spectral_ae_small_pitch": 2}
    accuracy = record["table1"]["accuracy"]
    assert set(accuracy) == {"original", "nsynth_wavenet_ae_small_pitch", "nsynth_spectral_ae_small_pitch"}
    assert all(0 <= a["pitch"] <= 1 and 0 <= a["family"] <= 1 for a in accuracy.values())
    assert {(r["model"], r["shift"]) for r in record["table2"]["rows"]} >= {
        ("nsynth_wavenet_ae_small_pitch", 12), ("nsynth_spectral_ae_small_pitch", -12)}
    text = page.read_text()
    assert "## Table 1: classifier accuracy" in text and "## Table 2: pitch entanglement" in text
    assert f"{accuracy['original']['pitch']:.1%}" in text
    for report in ("classify", "entanglement"):
        assert (page.parent / "table1" / report / "report.md").exists()
