"""The command line end to end, each run in a fresh process."""

import json

from conftest import C_MAJOR, cli, run_cli, write_midi


def test_prepare_bach_two_chorales_one_style(tmp_path):
    out = tmp_path / "chorales"
    result = run_cli("prepare", "bach", "--corpus", "chorales", "--limit", "2", "--styles", "42", "--out", out)
    assert result.returncode == 0, result.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    assert [s["program"] for s in manifest["styles"]] == [42]
    assert sorted(manifest["splits"]) == ["train", "validation"]  # two pieces: one is held out
    assert sum(s["examples"] for s in manifest["splits"].values()) == 2
    assert "Bach set in" in result.stdout and "Cello" in result.stdout
    again = run_cli("prepare", "bach", "--corpus", "chorales", "--limit", "2", "--styles", "42", "--out", out)
    assert again.returncode == 0 and "resuming: 2 of 2 shards already complete" in again.stdout
    described = run_cli("describe-data", out, "--json")
    assert json.loads(described.stdout) == manifest


def test_bad_input_exits_nonzero_and_names_the_problem(tmp_path):
    write_midi(tmp_path / "good.mid", C_MAJOR)
    write_midi(tmp_path / "empty.mid", [])
    (tmp_path / "corrupt.mid").write_bytes(b"MThd garbage")
    cases = [
        (["--midi", tmp_path / "missing.mid"], "missing.mid: no such MIDI file or folder"),
        (["--midi", tmp_path / "good.mid", "--styles", "130"], "0-127, got 130"),
        (["--midi", tmp_path / "corrupt.mid"], "corrupt.mid: not a readable score"),
        (["--midi", tmp_path / "empty.mid"], "empty.mid: the score has no pitched notes"),
        (["--midi", tmp_path / "good.mid", "--soundfont", tmp_path / "none.sf2"], "none.sf2: no such SoundFont"),
        (["--midi", tmp_path / "good.mid", "--validation", "nope"], "--validation names ['nope']"),
    ]
    # The installed command once (its entry point turns errors into one line), the rest in this process.
    result = run_cli("prepare", "bach", *cases[0][0], "--out", tmp_path / "out")
    assert result.returncode == 1 and cases[0][1] in result.stderr and "Traceback" not in result.stderr, result.stderr
    for args, message in cases[1:]:
        status, _, err = cli("prepare", "bach", *args, "--out", tmp_path / "out")
        assert status == 1, (args, err)
        assert message in err, (args, err)
        assert not (tmp_path / "out" / "manifest.json").exists()
    status, out, err = cli("prepare", "bach", "--midi", tmp_path, "--styles", "80", "--skip-bad", "--out",
                           tmp_path / "kept")
    assert status == 0, err
    assert "skipped" in out and "corrupt.mid" in out and "empty.mid" in out
    status, _, err = cli("describe-data", tmp_path / "nowhere")
    assert status == 1 and "no such data directory" in err


def test_describe_prints_paper_comparison_and_json():
    result = run_cli("describe", "deepvoice_l26")
    assert result.returncode == 0, result.stderr
    assert "68,900,480 parameters (paper, Table 3: 68,900,000; +0.0%)" in result.stdout
    assert "receptive field 16384 samples = 1.0240 s" in result.stdout
    report = json.loads(run_cli("describe", "synthnet_small", "--json").stdout)
    assert report["receptive_field_samples"] == 4093 and report["architecture"]["separable"] is True
    unknown = run_cli("describe", "synthnet_l99")
    assert unknown.returncode == 1 and "unknown preset 'synthnet_l99'" in unknown.stderr
