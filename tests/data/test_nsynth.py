"""NSynth readers on records in the exact original schema, and `prepare nsynth` from FluidR3 GM."""

import json
import os

import numpy as np
import pytest
import tensorflow as tf
from conftest import run_cli

from nsynth_synth.data.nsynth import NOTE_SAMPLES, notes, tfrecord_notes
from nsynth_synth.errors import DataError


def _original_example(note_str, pitch, velocity, family, family_str, source_str, audio):
    """A note written feature by feature as the NSynth release has it (independent of our writer)."""
    def f(kind, values):
        return tf.train.Feature(**{kind: {"int64_list": tf.train.Int64List, "float_list": tf.train.FloatList,
                                          "bytes_list": tf.train.BytesList}[kind](value=values)})

    features = {
        "note": f("int64_list", [201034]), "note_str": f("bytes_list", [note_str.encode()]),
        "instrument": f("int64_list", [417]), "instrument_str": f("bytes_list", [note_str[:-8].encode()]),
        "pitch": f("int64_list", [pitch]), "velocity": f("int64_list", [velocity]),
        "sample_rate": f("int64_list", [16000]), "audio": f("float_list", audio),
        "qualities": f("int64_list", [1, 0, 0, 0, 0, 0, 0, 1, 0, 0]),
        "qualities_str": f("bytes_list", [b"bright", b"percussive"]),
        "instrument_family": f("int64_list", [family]), "instrument_family_str": f("bytes_list", [family_str.encode()]),
        "instrument_source": f("int64_list", [0]), "instrument_source_str": f("bytes_list", [source_str.encode()]),
    }
    return tf.train.Example(features=tf.train.Features(feature=features)).SerializeToString()


@pytest.fixture
def original_file(tmp_path):
    path = str(tmp_path / "nsynth-test.tfrecord")
    ramp = np.linspace(-1, 1, NOTE_SAMPLES, dtype=np.float32)
    with tf.io.TFRecordWriter(path) as writer:
        writer.write(_original_example("keyboard_acoustic_004-060-025", 60, 25, 4, "keyboard", "acoustic", ramp))
        writer.write(_original_example("bass_synthetic_033-040-100", 40, 100, 0, "bass", "acoustic", -ramp))
    return path


def test_reads_the_original_schema_filters_crops_and_encodes(original_file):
    (first, second) = list(tfrecord_notes(original_file).as_numpy_iterator())
    assert first["note_str"] == b"keyboard_acoustic_004-060-025" and first["pitch"] == 60
    assert first["instrument_family_str"] == b"keyboard" and first["qualities"].tolist()[7] == 1
    assert first["audio"].shape == (NOTE_SAMPLES,) and second["velocity"] == 100

    kept = list(notes(tfrecord_notes(original_file), families=["keyboard"]).as_numpy_iterator())
    assert [n["pitch"] for n in kept] == [60]
    assert [n["pitch"] for n in notes(tfrecord_notes(original_file), pitches=(30, 50)).as_numpy_iterator()] == [40]
    assert not list(notes(tfrecord_notes(original_file), velocities=[75]).as_numpy_iterator())

    centred = next(notes(tfrecord_notes(original_file), crop_length=6144, centred=True).as_numpy_iterator())
    start = (NOTE_SAMPLES - 6144) // 2
    np.testing.assert_array_equal(centred["audio"], np.linspace(-1, 1, NOTE_SAMPLES, dtype=np.float32)[start:start + 6144])
    assert centred["audio_ids"].dtype == np.int32 and centred["audio_ids"].shape == (6144,)
    assert 0 <= centred["audio_ids"].min() and centred["audio_ids"].max() <= 255
    a = [n["audio"] for n in notes(tfrecord_notes(original_file), crop_length=6144, seed=3).as_numpy_iterator()]
    b = [n["audio"] for n in notes(tfrecord_notes(original_file), crop_length=6144, seed=3).as_numpy_iterator()]
    np.testing.assert_array_equal(a[0], b[0])
    with pytest.raises(DataError, match="unknown instrument family"):
        notes(tfrecord_notes(original_file), families=["kazoo"])


def test_a_file_that_is_not_nsynth_names_what_is_missing(tmp_path):
    path = str(tmp_path / "other.tfrecord")
    example = tf.train.Example(features=tf.train.Features(feature={
        "audio": tf.train.Feature(float_list=tf.train.FloatList(value=[0.0] * 10)),
        "pitch": tf.train.Feature(int64_list=tf.train.Int64List(value=[60]))}))
    with tf.io.TFRecordWriter(path) as writer:
        writer.write(example.SerializeToString())
    with pytest.raises(DataError, match=r"other.tfrecord: not an NSynth TFRecord; missing features: note, note_str"):
        tfrecord_notes(path)
    with pytest.raises(DataError, match="no such NSynth TFRecord file"):
        tfrecord_notes(str(tmp_path / "missing.tfrecord"))


def test_prepare_nsynth_small_build_has_correct_labels_and_resumes(tmp_path):
    import librosa

    out = tmp_path / "ns"
    args = ["prepare", "nsynth", "--out", out, "--limit-instruments", "4", "--pitches", "57-60", "--velocities",
            "50,127"]
    first = run_cli(*args)
    assert first.returncode == 0, first.stderr[-2000:]
    manifest = json.loads((out / "manifest.json").read_text())
    assert len(manifest["instruments"]) == 4 and manifest["notes"] > 0
    for instrument in manifest["instruments"]:
        records = list(tfrecord_notes(str(out / instrument["file"])).as_numpy_iterator())
        assert len(records) == instrument["notes"]
        peak = max(np.abs(r["audio"]).max() for r in records)
        assert abs(peak - 0.9) < 1e-4  # one gain per instrument: its loudest note peaks at 0.9
        for r in records:
            assert r["note_str"].decode() == f"{instrument['instrument_str']}-{r['pitch']:03d}-{r['velocity']:03d}"
            assert r["instrument_family_str"].decode() == instrument["family"]
            if instrument["family"] in ("keyboard", "string", "flute", "brass", "reed") and r["velocity"] == 127:
                f0 = librosa.yin(r["audio"][4000:36000], fmin=60, fmax=1000, sr=16000)
                assert abs(np.median(librosa.hz_to_midi(f0)) - r["pitch"]) < 0.5, (instrument["preset"], r["pitch"])
    piano = next(i for i in manifest["instruments"] if i["program"] == 0)
    assert (piano["family"], piano["source"]) == ("keyboard", "acoustic")

    shard = out / manifest["instruments"][1]["file"]
    original = shard.read_bytes()
    os.unlink(shard)
    again = run_cli(*args)
    assert again.returncode == 0 and "resuming: 3 of 4 instruments already complete" in again.stdout
    assert shard.read_bytes() == original  # rendering is deterministic, so a resumed build is the same
    other = run_cli(*args[:-1], "100")
    assert other.returncode == 1 and "holds a different NSynth build" in other.stderr


def test_a_tfds_prepared_directory_reads_into_the_same_dicts(original_file, tmp_path):
    import tensorflow_datasets as tfds

    from nsynth_synth.data.nsynth import QUALITIES, tfds_notes

    # A prepared `nsynth/full` directory written with the registered builder's own features and metadata.
    builder = tfds.builder("nsynth/full", data_dir=str(tmp_path))
    os.makedirs(builder.data_dir)
    originals = list(tfrecord_notes(original_file).as_numpy_iterator())
    shard = os.path.join(builder.data_dir, "nsynth-test.tfrecord-00000-of-00001")
    with tf.io.TFRecordWriter(shard) as writer:
        for note in originals:
            writer.write(builder.info.features.serialize_example({
                "id": note["note_str"].decode(), "audio": note["audio"], "pitch": int(note["pitch"]),
                "velocity": int(note["velocity"]),
                "instrument": {"label": 7, "family": note["instrument_family_str"].decode(),
                               "source": note["instrument_source_str"].decode()},
                "qualities": {q: bool(v) for q, v in zip(QUALITIES, note["qualities"])},
            }))
    split = tfds.core.SplitInfo(name="test", shard_lengths=[len(originals)], num_bytes=os.path.getsize(shard))
    tfds.folder_dataset.write_metadata(data_dir=builder.data_dir, features=builder.info.features, split_infos=[split])

    from_tfds = sorted(tfds_notes(str(tmp_path), split="test").as_numpy_iterator(), key=lambda n: n["note_str"])
    for a, b in zip(sorted(originals, key=lambda n: n["note_str"]), from_tfds):
        assert set(a) == set(b)
        for key in a:
            if key != "instrument":  # TFDS keeps the label index, not the release's instrument id
                np.testing.assert_array_equal(a[key], b[key], err_msg=key)
    with pytest.raises(DataError, match="no prepared TFDS nsynth/full split 'train'"):
        tfds_notes(str(tmp_path), split="train")
