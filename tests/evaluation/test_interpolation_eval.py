"""`nsynth-synth evaluate interpolate`: the NSynth paper's timbre interpolation (Figure 3)."""

import json
from types import SimpleNamespace

import numpy as np
import pytest
import soundfile
from conftest import run_cli

from nsynth_synth.errors import NsynthSynthError
from nsynth_synth.evaluation.interpolation import interpolate_codec, read_notes
from nsynth_synth.metrics.rmse_cqt import rmse_cqt

RATE = 16000


def tone(frequency, seconds=0.5):
    return (0.4 * np.sin(2 * np.pi * frequency * np.arange(int(seconds * RATE)) / RATE)).astype(np.float32)


class IdentityCodec:
    """A codec whose code is the audio itself: decoding a mixed code gives the mixed audio."""

    config = SimpleNamespace(pitch_conditioning=False)
    OPTIONS = ("temperature", "iterations", "progress")  # the decode options it takes
    NAME = "IdentityCodec"
    hop = None  # one code for the whole sound

    def fit(self, audio):
        return audio, "as it is"

    def encode_batch(self, audio):
        return np.asarray(audio)

    def decode_batch(self, codes, pitches, seeds, temperature, iterations, progress):
        return np.asarray(codes)


def test_interpolated_codes_move_from_a_to_b_as_alpha_grows():
    a, b = tone(220.0), tone(660.0)
    decoded = interpolate_codec(IdentityCodec(), a, b, [0.0, 0.25, 0.75, 1.0], length=4000)
    assert decoded.shape == (4, 4000)
    np.testing.assert_allclose(decoded[0], a[:4000])
    np.testing.assert_allclose(decoded[-1], b[:4000])
    to_a = [rmse_cqt(x, a[:4000]) for x in decoded]
    to_b = [rmse_cqt(x, b[:4000]) for x in decoded]
    assert to_a[0] == 0 and to_b[-1] == 0
    assert to_a == sorted(to_a) and to_b == sorted(to_b, reverse=True)


@pytest.mark.slow
def test_notes_from_files_and_from_an_nsynth_set_through_both_autoencoders(nsynth_runs, tmp_path):
    from nsynth_synth.data.nsynth import split_files, tfrecord_notes

    data = nsynth_runs["data"]
    names = [n["note_str"].decode() for n in tfrecord_notes(split_files(data, "train")).take(2).as_numpy_iterator()]
    soundfile.write(tmp_path / "low.wav", np.stack([tone(220.0, 0.3)] * 2, axis=1), RATE)
    soundfile.write(tmp_path / "high.wav", tone(880.0, 0.3), RATE)
    out = tmp_path / "report"
    runs = [nsynth_runs["nsynth_wavenet_ae_small"], nsynth_runs["nsynth_spectral_ae_small"]]
    done = run_cli("evaluate", "interpolate", "--model", *runs, "--pair", *names,
                   "--pair", tmp_path / "low.wav", tmp_path / "high.wav", "--data", data, "--split", "train",
                   "--seconds", "0.1", "--temperature", "0", "--iterations", "2", "--out", out)
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads((out / "report.json").read_text())
    assert [(p["a"], p["b"]) for p in report["pairs"]] == [tuple(names), (str(tmp_path / "low.wav"),
                                                                          str(tmp_path / "high.wav"))]
    models = ["nsynth_wavenet_ae_small", "nsynth_spectral_ae_small"]
    assert list(report["models"]) == models
    page = (out / "report.md").read_text()
    for i, pair in enumerate(report["pairs"]):
        assert pair["samples"] == 1600 and (out / pair["plot"]).read_bytes()[:4] == b"\x89PNG"
        rows = {(r["audio"], r["alpha"]): r for r in pair["rows"]}
        assert sorted(rows) == sorted((m, a) for m in ["mix", *models] for a in (0.0, 0.5, 1.0))
        for row in rows.values():
            audio, rate = soundfile.read(out / row["wav"])
            assert rate == RATE and len(audio) == 1600
            assert np.isfinite([row["rmse_cqt_to_a"], row["rmse_cqt_to_b"]]).all()
            assert f"{row['rmse_cqt_to_a']:.2f} | {row['rmse_cqt_to_b']:.2f}" in page
        if i == 1:  # two different tones: the audio mix starts at A and ends at B
            start, middle, end = rows[("mix", 0.0)], rows[("mix", 0.5)], rows[("mix", 1.0)]
            assert start["rmse_cqt_to_a"] < 0.1 and start["toward_b"] < 0.01  # A, through 16-bit PCM
            assert end["rmse_cqt_to_b"] < 0.1 and end["toward_b"] > 0.99
            assert 0.1 < middle["toward_b"] < 0.9


def test_unknown_notes_are_named(nsynth_runs, tmp_path):
    with pytest.raises(NsynthSynthError, match="a.wav: no such file \\(give --data"):
        read_notes([str(tmp_path / "a.wav"), "b"])
    with pytest.raises(NsynthSynthError, match="no file and no note_str 'nope-060-100' in its train split"):
        read_notes(["nope-060-100", "nope-061-100"], nsynth_runs["data"], "train")
