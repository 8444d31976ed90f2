import numpy as np
import pytest
import tensorflow as tf

from nsynth_synth import audio
from nsynth_synth.errors import AudioError


def test_mu_law_round_trip_within_bound():
    x = np.concatenate([np.linspace(-1, 1, 200001), np.random.default_rng(0).uniform(-1, 1, 100000)]).astype(np.float32)
    error = np.abs(audio.mu_law_decode_np(audio.mu_law_encode_np(x)) - x)
    assert np.all(error <= audio.mu_law_error_bound(x) + 1e-7)
    assert error.max() > 0.5 * audio.mu_law_error_bound(1.0)  # the bound is tight, not loose


def test_mu_law_tf_and_numpy_agree_exactly_including_boundaries():
    b = audio.MU_LAW_BOUNDARIES
    x = np.concatenate([
        np.linspace(-1.2, 1.2, 100001, dtype=np.float32), b, np.nextafter(b, np.float32(-2)),
        np.nextafter(b, np.float32(2)), [0.0, -0.0, 1.0, -1.0],
    ]).astype(np.float32)
    ids_np = audio.mu_law_encode_np(x)
    np.testing.assert_array_equal(audio.mu_law_encode(tf.constant(x)).numpy(), ids_np)
    all_ids = np.arange(256)
    np.testing.assert_array_equal(audio.mu_law_decode(tf.constant(all_ids)).numpy(), audio.mu_law_decode_np(all_ids))


def test_mu_law_classes_cover_0_to_255_monotonically():
    ids = audio.mu_law_encode_np(np.linspace(-1, 1, 1000001))
    assert ids.min() == 0 and ids.max() == 255
    assert np.all(np.diff(ids) >= 0)
    assert len(np.unique(ids)) == 256
    np.testing.assert_array_equal(audio.mu_law_encode_np(audio.MU_LAW_LEVELS), np.arange(256))
    assert audio.mu_law_encode_np(np.float32([5.0, -5.0])).tolist() == [255, 0]


@pytest.mark.parametrize("form", ["numpy", "tensorflow"])
def test_triangular_dither_statistics(form):
    n = 400000
    if form == "numpy":
        noise = audio.triangular_dither_np(n, seed=3)
        again = audio.triangular_dither_np(n, seed=3)
        other = audio.triangular_dither_np(n, seed=4)
    else:
        noise, again, other = (audio.triangular_dither([n], tf.constant(s, tf.int64)).numpy() for s in ([3, 0], [3, 0], [4, 0]))
    limit = audio.DITHER_LIMIT
    assert noise.dtype == np.float32
    assert np.abs(noise).max() <= limit
    assert abs(noise.mean()) < 5e-5
    assert noise.var() == pytest.approx(limit**2 / 6, rel=0.02)  # triangular, mode 0
    # The density falls linearly from the mode: the central fifth holds 1 - 0.8**2 = 36% of draws.
    assert np.mean(np.abs(noise) < limit / 5) == pytest.approx(0.36, abs=0.01)
    np.testing.assert_array_equal(noise, again)
    assert not np.array_equal(noise, other)


def test_wav_round_trip_pcm16_and_float(tmp_path):
    t = np.arange(16000) / 16000
    tone = (0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    audio.write_wav(tmp_path / "a.wav", tone, subtype="pcm16")
    audio.write_wav(tmp_path / "b.wav", tone, subtype="float")
    pcm, rate = audio.read_wav(tmp_path / "a.wav")
    flt, _ = audio.read_wav(tmp_path / "b.wav")
    assert rate == 16000 and pcm.shape == (16000, 1)
    assert np.abs(pcm[:, 0] - tone).max() <= 1 / 32767
    np.testing.assert_array_equal(flt[:, 0], tone)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.wav", "b.wav"]  # no temporary files left


def test_load_audio_downmixes_and_resamples(tmp_path):
    t = np.arange(44100) / 44100
    left = 0.6 * np.sin(2 * np.pi * 1000 * t)
    stereo = np.stack([left, np.zeros_like(left)], axis=1).astype(np.float32)
    audio.write_wav(tmp_path / "s.wav", stereo, sample_rate=44100, subtype="float")
    mono = audio.load_audio(tmp_path / "s.wav")
    assert mono.shape == (16000,) and mono.dtype == np.float32
    spectrum = np.abs(np.fft.rfft(mono))
    assert np.argmax(spectrum) == 1000  # 1 Hz bins over one second
    assert np.abs(mono[1000:-1000]).max() == pytest.approx(0.3, abs=0.01)


def test_bad_audio_paths_name_the_file(tmp_path):
    with pytest.raises(AudioError, match="missing.wav: no such audio file"):
        audio.read_wav(tmp_path / "missing.wav")
    (tmp_path / "junk.wav").write_bytes(b"not a wav at all")
    with pytest.raises(AudioError, match="junk.wav: cannot read audio"):
        audio.read_wav(tmp_path / "junk.wav")
    with pytest.raises(AudioError, match="subtype"):
        audio.write_wav(tmp_path / "x.wav", np.zeros(4), subtype="pcm24")
