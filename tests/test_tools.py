"""Every script under tools/ starts and explains itself (--help), so none rots unnoticed."""

import pathlib
import subprocess
import sys

import pytest

TOOLS_DIR = pathlib.Path(__file__).resolve().parents[1] / "tools"
TOOLS = sorted(p for p in TOOLS_DIR.glob("*.py") if p.name not in ("report.py", "random_step.py"))  # those two are modules


@pytest.mark.parametrize("tool", TOOLS, ids=lambda p: p.name)
def test_tool_prints_help(tool):
    done = subprocess.run([sys.executable, str(tool), "--help"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-1500:]
    assert "usage:" in done.stdout


@pytest.mark.slow
def test_profile_step_accounts_for_a_steps_ops(tmp_path):
    """tools/profile_step.py on a tiny window: every op of the step lands in a group, the
    depthwise convolutions and the 1x1s among them, in both directions."""
    import json

    out = tmp_path / "profile.json"
    done = subprocess.run([sys.executable, str(TOOLS_DIR / "profile_step.py"), "synthnet_live", "--window", "1000",
                           "--out", str(out)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-1500:]
    report = json.loads(out.read_text())
    groups = {(r["group"], r["direction"]) for r in report["rows"]}
    assert {("depthwise conv", "forward"), ("depthwise conv", "backward"), ("matmul", "forward"),
            ("matmul", "backward")} <= groups
    assert sum(r["percent"] for r in report["rows"]) == pytest.approx(100)
    assert 0 < report["op_self_ms"] and "depthwise conv" in done.stdout


@pytest.mark.slow
def test_bench_train_times_the_variants_side_by_side(tmp_path):
    import json

    out = tmp_path / "bench.json"
    done = subprocess.run([sys.executable, str(TOOLS_DIR / "bench_train.py"), "--presets", "synthnet_live",
                           "--variants", "float32", "mixed_bfloat16", "--window", "1000", "--rounds", "2",
                           "--out", str(out)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-1500:]
    (row,) = json.loads(out.read_text())["rows"]
    assert set(row["variants"]) == {"float32", "mixed_bfloat16"} and row["window"] == 1000
    for variant in row["variants"].values():
        assert len(variant["seconds"]) == 2 and variant["steps_per_second"] > 0 and variant["percent_of_peak"] > 0
    assert "1.00x" in done.stdout  # float32 against itself


@pytest.mark.slow
def test_synthnet_reproduction_end_to_end_then_resume(tiny_scores, tmp_path):
    """tools/reproduce_synthnet.py on the tiny scores, 2 steps a run, 2 seeds an evaluation: the
    page with its equal wall-clock and equal steps tables, its JSON and the listening files; a
    second call trains nothing and writes the same numbers."""
    import json

    import numpy as np

    tool = pathlib.Path(__file__).resolve().parents[1] / "tools" / "reproduce_synthnet.py"
    page = tmp_path / "results" / "table3.md"
    command = [sys.executable, str(tool), "--midi", tiny_scores, "--work", str(tmp_path / "work"), "--page", str(page),
               "--steps", "2", "--eval-every", "1", "--styles", "80", "42", "--budget-seconds", "0",
               "--seconds", "0.25", "--eval-seeds", "2", "--last", "2"]
    first = subprocess.run(command, capture_output=True, text=True, timeout=1200)
    assert first.returncode == 0, first.stderr[-2000:]
    rows = json.loads(page.with_suffix(".json").read_text())["rows"]
    assert {(r["model"], r["program"]) for r in rows} == {
        (m, p) for m in ("synthnet_small", "deepvoice_small", "wavenet_small") for p in (80, 42)}
    for r in rows:
        assert r["steps"] == [1, 2] and len(r["rmse_cqt"]) == 2 and r["final"] == r["rmse_cqt"][-1]
        history = json.loads((pathlib.Path(tool).parents[1] / r["run_dir"] / "quality.json").read_text())
        seeds = [score for row in history for score in row["rmse_cqt_seeds"]]
        assert len(seeds) == 4 and r["rmse_cqt"] == pytest.approx([np.mean(row["rmse_cqt_seeds"]) for row in history])
        for key in ("equal_time", "equal_steps"):  # both pool the last 2 evaluations' 2 seeds here
            assert r[key]["steps"] == [1, 2] and r[key]["summary"]["n"] == 4
            assert r[key]["summary"]["mean"] == pytest.approx(np.mean(seeds))
            assert r[key]["minus_noise"]["mean"] == pytest.approx(np.mean(seeds) - r["noise_rmse_cqt"])
        assert r["regenerated_rmse_cqt"] == pytest.approx(r["final"], abs=1e-3)  # generation is deterministic
        assert r["parameters"] > 0 and r["train_seconds"] > 0
        # Beside the scores, the noise floor of the style's reference (the same for every model).
        assert r["minus_noise"]["mean"] == pytest.approx(np.mean(r["rmse_cqt"]) - r["noise_rmse_cqt"])
        same_style = [o for o in rows if o["program"] == r["program"]]
        assert {(o["noise_rmse_cqt"], o["silence_rmse_cqt"]) for o in same_style} == {
            (r["noise_rmse_cqt"], r["silence_rmse_cqt"])}
    text = page.read_text()
    assert "| white noise at the reference's RMS |" in text and "| silence |" in text
    assert "## At equal wall-clock" not in text and "## At the end of every run" in text  # no time budget given
    assert "## At equal steps" in text and "clearly below white noise at the reference's RMS" in text
    assert "SynthNet below both baselines at the end of every run in" in text
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


@pytest.mark.slow
def test_ready_model_script_trains_scores_exports_then_resumes(tmp_path):
    """tools/train_ready_model.py on a tiny two-style set named like BWV 1007 (the Prelude held out
    as validation, the Gigue as test), 2 steps: both splits scored beside noise, the goals checked on
    the page, the export with its card playing a MIDI file in each style; a second call trains and
    scores nothing."""
    import json

    from conftest import C_MAJOR, run_cli, write_midi

    from data_prep.bach import BachSetConfig, build_bach_set

    scores = tmp_path / "scores"
    scores.mkdir()
    for name, pitches in (("1_prelude", C_MAJOR), ("2_allemande", C_MAJOR[::-1]), ("7_gigue", [60, 64, 67, 72])):
        write_midi(scores / f"bwv1007_{name}.mid", pitches, note_seconds=0.2)
    data = str(tmp_path / "set")
    build_bach_set(data, midi=[str(scores)], config=BachSetConfig(styles=(42, 80), tail_seconds=0.5), progress=False)
    export = tmp_path / "saved_models" / "tiny_two_styles"
    command = [sys.executable, str(TOOLS_DIR / "train_ready_model.py"), "--work", str(tmp_path / "work"),
               "--data", data, "--styles", "42,80", "--steps", "2", "--eval-every", "1", "--seconds", "0.1",
               "--seeds", "0", "--export", str(export)]
    first = subprocess.run(command, capture_output=True, text=True, timeout=1200)
    assert first.returncode == 0, first.stderr[-2000:]
    page = (export / "scores.md").read_text()
    assert "## test (held out) split" in page and "## validation split" in page
    for piece in ("bwv1007_7_gigue", "bwv1007_1_prelude"):
        assert all(f"| {piece} | {program} |" in page for program in (42, 80))
    assert "## Goals" in page and "in every style: " in page and "of 2 (pieces other than the Prelude" in page
    assert "The Prelude below 10 in at least 2 of 2 styles: " in page
    record = json.loads((tmp_path / "work" / "ready_model.json").read_text())
    assert record["styles"] == [42, 80] and set(record["splits"]) == {"test", "validation"}
    assert set(record["splits"]["test"]["styles"]) == {"42", "80"}
    card = (export / "1" / "assets" / "model_card.md").read_text()
    assert "synthnet_small" in card and "GM program 42" in card and "GM program 80" in card
    midi = write_midi(tmp_path / "c.mid", [55, 60, 64], note_seconds=0.1)
    for program in (42, 80):
        played = run_cli("generate", "--model", export, "--midi", midi, "--style", program, "--seconds", "0.2",
                         "--out", tmp_path / f"c{program}.wav")
        assert played.returncode == 0, played.stderr[-1500:]
    again = subprocess.run(command, capture_output=True, text=True, timeout=1200)
    assert again.returncode == 0, again.stderr[-2000:]
    assert "already trained for 2 of 2 steps" in again.stdout and "pieces:" not in again.stderr
    assert (export / "scores.md").read_text() == page


@pytest.mark.slow
def test_listening_page_plays_every_file_in_headless_chromium(style_runs, tiny_set, tmp_path, headless_chromium):
    """tools/listening_page.py over two real `evaluate rmse-cqt` reports: the summary, and in a real
    browser every player loads its WAV and every plot its PNG; a piece not scored is named."""
    from conftest import run_cli
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    folder, _ = tiny_set
    reports = []
    for seed in ("0", "1"):
        reports.append(tmp_path / f"seed{seed}")
        done = run_cli("evaluate", "rmse-cqt", "--model", style_runs[0], "--data", folder, "--split", "validation",
                       "--seconds", "0.1", "--seeds", seed, "--out", reports[-1])
        assert done.returncode == 0, done.stderr[-1500:]
    out = tmp_path / "page"
    command = [sys.executable, str(TOOLS_DIR / "listening_page.py"), "--out", str(out),
               "--report", f"first={reports[0]}", f"second={reports[1]}"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-1500:]
    assert "1 pieces x 2 models, 1 to listen to" in done.stdout
    page = (out / "index.md").read_text()
    assert "| validation | chorales and other scores | 1 |" in page and "| tiny_1_prelude (validation) (noise " in page
    assert "a Bach set of 3 MIDI files" in page and str(tiny_set[0]) not in page  # named by what it is
    assert page.index("## Listen") < page.index("## Against the noise floor") < page.index("## Summary")
    styled = subprocess.run(command[:3] + [str(tmp_path / "styled")] + command[4:] + ["--by-style"],
                            capture_output=True, text=True, timeout=300)
    assert styled.returncode == 0, styled.stderr[-1500:]
    assert "| validation | chorales and other scores | GM 42 | 1 |" in (tmp_path / "styled" / "index.md").read_text()
    wrong = subprocess.run(command + ["--listen", "nope"], capture_output=True, text=True, timeout=300)
    assert wrong.returncode == 1 and "--listen nope: not scored by every model" in wrong.stderr

    browser = headless_chromium((out / "index.html").as_uri())
    players = browser.find_elements(By.TAG_NAME, "audio")
    images = browser.find_elements(By.TAG_NAME, "img")
    # The reference once, then each model's generation and plot; the chart of the styles.
    assert len(players) == 3 and len(images) == 3
    for player in players:
        browser.execute_script("arguments[0].preload = 'auto'; arguments[0].load()", player)
        WebDriverWait(browser, 10).until(lambda _: browser.execute_script(
            "return arguments[0].readyState >= 1 || arguments[0].error !== null", player))
        assert browser.execute_script("return arguments[0].error", player) is None
        assert browser.execute_script("return arguments[0].duration", player) == pytest.approx(0.1, abs=0.01)
    for image in images:
        assert browser.execute_script("return arguments[0].complete && arguments[0].naturalWidth", image) > 0
