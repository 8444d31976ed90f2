"""Listening tests: the blind page, the ratings server, MOS, and the page in a real browser."""

import json
import os
import sqlite3
import threading
import urllib.error
import urllib.request

import numpy as np
import pytest
import soundfile

from nsynth_synth.audio import write_wav
from nsynth_synth.cli import main
from nsynth_synth.errors import AudioError, DataError
from nsynth_synth.evaluation import listening

SYSTEMS = ("synthnet_small", "wavenet_base")
STYLES = ("gm42", "gm80")


def make_samples(root, styles=STYLES, items=("bwv1007_prelude",), systems=SYSTEMS, seconds=0.2):
    """SAMPLES/<style>/<item>/reference.wav and <system>.wav: short tones of different pitches."""
    t = np.arange(int(16000 * seconds)) / 16000
    for style in styles:
        for item in items:
            for index, name in enumerate(("reference", *systems)):
                tone = 0.3 * np.sin(2 * np.pi * (220 + 55 * index) * t)
                write_wav(os.path.join(root, style, item, f"{name}.wav"), tone)
    return str(root)


def test_page_is_self_contained_and_blind(tmp_path):
    samples = make_samples(tmp_path / "samples")
    built = listening.build_page(samples, tmp_path / "out", seed=3)
    page = (tmp_path / "out" / "index.html").read_text()
    key = json.loads((tmp_path / "out" / "key.json").read_text())
    assert built["items"] == 2 and built["candidates"] == 4
    assert sorted((v["style"], v["item"], v["system"]) for v in key.values()) == sorted(
        (style, "bwv1007_prelude", system) for style in STYLES for system in SYSTEMS)
    assert all(token in page for token in key)
    for system in SYSTEMS:
        assert system not in page
    assert page.count("data:audio/wav;base64,") == 6  # 2 references + 4 candidates, no links to files
    assert "reference.wav" not in page and samples not in page
    listening.build_page(samples, tmp_path / "again", seed=3)
    assert json.loads((tmp_path / "again" / "key.json").read_text()) == key  # --seed fixes the tokens
    listening.build_page(samples, tmp_path / "other", seed=4)
    assert set(json.loads((tmp_path / "other" / "key.json").read_text())).isdisjoint(key)


def test_bad_samples_name_the_problem(tmp_path):
    samples, item = tmp_path / "samples", tmp_path / "samples" / "gm80" / "bwv1"

    def fails(error, message):
        with pytest.raises(error, match=message):
            listening.build_page(str(samples), str(tmp_path / "out"))

    fails(DataError, "samples: no such samples folder")
    samples.mkdir()
    fails(DataError, "samples: no style folders")
    write_wav(str(item / "synthnet.wav"), np.zeros(800))
    fails(DataError, "bwv1: no reference.wav")
    os.replace(item / "synthnet.wav", item / "reference.wav")
    fails(DataError, "bwv1: no candidates to rate")
    (item / "notes.txt").write_text("not audio")
    fails(AudioError, "notes.txt: not a WAV file")
    os.replace(item / "notes.txt", item / "broken.wav")
    fails(AudioError, "broken.wav: cannot read audio")
    os.unlink(item / "broken.wav")
    soundfile.write(str(item / "flac_inside.wav"), np.zeros(800), 16000, format="FLAC")
    fails(AudioError, "flac_inside.wav: expected WAV audio, found FLAC")
    write_wav(str(item / "flac_inside.wav"), np.zeros(800))
    (samples / "gm80" / "stray.wav").write_bytes(b"")
    fails(DataError, "stray.wav: expected a folder per item")
    assert not (tmp_path / "out").exists()  # nothing is written for bad input


def test_submissions_are_validated_and_stored(tmp_path):
    listening.build_page(make_samples(tmp_path / "samples"), tmp_path / "out", seed=0)
    key = listening.load_key(tmp_path / "out")
    token = sorted(key)[0]
    server = listening.make_server(str(tmp_path / "out"), port=0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}/ratings"

    def post(body):
        request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, json.load(response)
        except urllib.error.HTTPError as error:
            return error.code, json.load(error)

    try:
        bad = [
            (b"{not json", "not JSON"),
            (json.dumps({"listener": "", "ratings": [{"token": token, "rating": 3}]}).encode(), "non-empty name"),
            (json.dumps({"listener": "ann", "ratings": [{"token": "feedbeef", "rating": 3}]}).encode(),
             "unknown token 'feedbeef'"),
            (json.dumps({"listener": "ann", "ratings": [{"token": token, "rating": 6}]}).encode(),
             "from 1 to 5, got 6"),
            (json.dumps({"listener": "ann", "ratings": [{"token": token, "rating": 2.5}]}).encode(), "got 2.5"),
            (json.dumps({"listener": "ann", "ratings": [{"token": token, "rating": 3}] * 2}).encode(), "rated twice"),
        ]
        for body, message in bad:
            status, reply = post(body)
            assert status == 400 and message in reply["error"], (body, reply)
        ratings = [{"token": t, "rating": 1 + i % 5} for i, t in enumerate(sorted(key))]
        assert post(json.dumps({"listener": " ann ", "ratings": ratings}).encode()) == (200, {"stored": 4})
        with urllib.request.urlopen(url.replace("/ratings", "/"), timeout=10) as response:
            assert response.read() == (tmp_path / "out" / "index.html").read_bytes()
    finally:
        server.shutdown()
        server.server_close()
    rows = sqlite3.connect(tmp_path / "out" / "ratings.sqlite").execute(
        "SELECT listener, token, style, item, system, rating FROM ratings ORDER BY id").fetchall()
    assert rows == [("ann", r["token"], key[r["token"]]["style"], key[r["token"]]["item"], key[r["token"]]["system"],
                     r["rating"]) for r in ratings]


def test_mos_and_confidence_intervals_on_known_ratings():
    rows = [("ann", "gm42", "x", "synthnet", 4), ("bob", "gm42", "x", "synthnet", 5),
            ("ann", "gm80", "x", "synthnet", 3), ("ann", "gm42", "x", "wavenet", 2)]
    results = listening.mos(rows)
    assert results["by_style"] == [
        # t(0.975, 1 dof) = 12.7062; sample std of (4, 5) = 0.7071; 12.7062 * 0.7071 / sqrt(2) = 6.3531
        {"system": "synthnet", "style": "gm42", "mean": 4.5, "ci": pytest.approx(6.35310, abs=1e-4), "n": 2},
        {"system": "synthnet", "style": "gm80", "mean": 3.0, "ci": None, "n": 1},
        {"system": "wavenet", "style": "gm42", "mean": 2.0, "ci": None, "n": 1},
    ]
    # all styles: (4, 5, 3): mean 4, std 1, t(0.975, 2) = 4.3027 -> 4.3027 / sqrt(3) = 2.4841
    assert results["by_system"] == [{"system": "synthnet", "mean": 4.0, "ci": pytest.approx(2.48414, abs=1e-4), "n": 3},
                                    {"system": "wavenet", "mean": 2.0, "ci": None, "n": 1}]
    assert listening.format_mos(results).splitlines() == [
        "| system | gm42 | gm80 | all styles |",
        "|---|---|---|---|",
        "| synthnet | 4.50 ± 6.35 (n=2) | 3.00 (n=1) | 4.00 ± 2.48 (n=3) |",
        "| wavenet | 2.00 (n=1) | - | 2.00 (n=1) |",
    ]


def test_cli_builds_the_page_and_reports_mos(tmp_path, capsys):
    samples, out = make_samples(tmp_path / "samples"), str(tmp_path / "out")
    assert main(["listen", "--samples", samples, "--out", out, "--seed", "1"]) == 0
    assert "2 items, 4 candidates to rate" in capsys.readouterr().out
    assert main(["listen", "--results", out]) == 1
    assert "ratings.sqlite: no ratings yet" in capsys.readouterr().err
    key = listening.load_key(out)
    score = {"synthnet_small": 5, "wavenet_base": 2}
    for listener, offset in (("ann", 0), ("bob", -1)):
        body = json.dumps({"listener": listener, "ratings": [
            {"token": token, "rating": score[entry["system"]] + offset} for token, entry in key.items()]})
        listening.store_ratings(os.path.join(out, "ratings.sqlite"), *listening.parse_submission(body, key))
    assert main(["listen", "--results", out]) == 0
    printed = capsys.readouterr().out
    assert "8 ratings from 2 listeners" in printed
    assert "| synthnet_small | 4.50 ± 6.35 (n=2) | 4.50 ± 6.35 (n=2) | 4.50 ± 0.92 (n=4) |" in printed
    report = json.loads((tmp_path / "out" / "results" / "report.json").read_text())
    assert [(r["system"], r["mean"], r["n"]) for r in report["by_system"]] == [("synthnet_small", 4.5, 4),
                                                                              ("wavenet_base", 1.5, 4)]
    assert "| wavenet_base | 1.50 ± 6.35 (n=2)" in (tmp_path / "out" / "results" / "report.md").read_text()
    assert main(["listen", "--samples", str(tmp_path / "nowhere"), "--out", out]) == 1
    assert "nowhere: no such samples folder" in capsys.readouterr().err
    assert main(["listen", "--serve", str(tmp_path / "unbuilt")]) == 1
    assert "key.json: not found" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["listen", "--results", out, "--serve", out])  # the modes are mutually exclusive
    assert "not allowed with argument" in capsys.readouterr().err


def test_the_page_in_headless_chromium(tmp_path, headless_chromium):
    """Ratings stay locked until a candidate has played; a submission lands in SQLite and in the MOS."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    out = str(tmp_path / "out")
    listening.build_page(make_samples(tmp_path / "samples", seconds=0.25), out, seed=5)
    key = listening.load_key(out)
    wanted = {("gm42", "synthnet_small"): 5, ("gm80", "synthnet_small"): 4,
              ("gm42", "wavenet_base"): 2, ("gm80", "wavenet_base"): 1}
    server = listening.make_server(out, port=0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        browser = headless_chromium(f"http://127.0.0.1:{server.server_address[1]}/")
        for system in SYSTEMS:
            assert system not in browser.page_source
        candidates = browser.find_elements(By.CSS_SELECTOR, ".candidate[data-token]")
        assert sorted(c.get_attribute("data-token") for c in candidates) == sorted(key)
        labels = [c.find_element(By.CSS_SELECTOR, ".label").text for c in candidates]
        assert labels == ["A", "B", "A", "B"]
        browser.find_element(By.ID, "listener").send_keys("ann")
        browser.find_element(By.ID, "submit").click()
        status = browser.find_element(By.ID, "status")
        assert "rate every candidate first (4 left)" in status.text  # nothing is sent half-rated
        for candidate in candidates:
            radios = candidate.find_elements(By.CSS_SELECTOR, "input[type=radio]")
            assert len(radios) == 5 and all(not r.is_enabled() for r in radios)
            audio = candidate.find_element(By.TAG_NAME, "audio")
            browser.execute_script("arguments[0].play()", audio)
            WebDriverWait(browser, 10).until(lambda _: browser.execute_script("return arguments[0].ended", audio))
            assert all(r.is_enabled() for r in radios)
            entry = key[candidate.get_attribute("data-token")]
            radios[wanted[entry["style"], entry["system"]] - 1].click()
        browser.find_element(By.ID, "submit").click()
        WebDriverWait(browser, 10).until(lambda _: status.get_attribute("data-state") in ("done", "error"))
        assert status.text == "Thank you, ann: 4 ratings stored.", status.text
    finally:
        server.shutdown()
        server.server_close()
    rows = sqlite3.connect(os.path.join(out, "ratings.sqlite")).execute(
        "SELECT listener, token, style, system, rating FROM ratings").fetchall()
    # the rows name what the key says each token is, with the rating clicked for that system and style
    clicked = [("ann", token, e["style"], e["system"], wanted[e["style"], e["system"]]) for token, e in key.items()]
    assert sorted(rows) == sorted(clicked)
    results = listening.summarize_ratings(out)
    assert [(r["system"], r["mean"], r["n"]) for r in results["by_system"]] == [("synthnet_small", 4.5, 2),
                                                                              ("wavenet_base", 1.5, 2)]
