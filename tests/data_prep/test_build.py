import json
import os
import shutil

import numpy as np
import pytest
import tensorflow as tf
from conftest import C_MAJOR, write_midi

from data_prep.bach import BachSetConfig, build_bach_set, score_refs
from data_prep.plan import PLAN
from nsynth_synth.data.bach import FEATURES, MANIFEST, read_manifest, split_files, training_dataset
from nsynth_synth.data.pianoroll import unpack_roll_np
from nsynth_synth.data.render import FluidSynthRenderer
from nsynth_synth.data.scores import midi_refs, read_piece
from nsynth_synth.errors import DataError, MidiError

CONFIG = BachSetConfig(styles=(42, 80), tail_seconds=0.5, examples_per_shard=2)


def records(path):
    return [tf.io.parse_single_example(r, FEATURES) for r in tf.data.TFRecordDataset(path)]


def test_manifest_describes_the_set(tiny_set):
    folder, manifest = tiny_set
    assert [s["program"] for s in manifest["styles"]] == [42, 80]
    assert [s["name"] for s in manifest["styles"]] == ["Cello", "Square Lead"]
    assert manifest["splits"]["validation"]["pieces"] == ["tiny_1_prelude"]
    assert manifest["splits"]["train"]["pieces"] == ["tiny_2_allemande", "tiny_3_courante"]
    assert manifest["splits"]["train"]["examples"] == 4 and len(manifest["splits"]["train"]["shards"]) == 2
    piece = next(p for p in manifest["pieces"] if p["name"] == "tiny_3_courante")
    assert piece["pitch_range"] == [48, 72] and len(piece["sha256"]) == 64
    assert piece["seconds"] == pytest.approx(7 * 0.3 + 0.5, abs=0.01)
    assert manifest == read_manifest(folder)


def test_tfrecord_round_trip_matches_a_direct_rendering(tiny_set, tiny_scores):
    folder, manifest = tiny_set
    piece = read_piece(next(r for r in midi_refs([tiny_scores]) if r.name == "tiny_2_allemande"))
    direct = FluidSynthRenderer(CONFIG.soundfont, tail_seconds=CONFIG.tail_seconds).render(piece, 80)
    stored = [r for f in split_files(folder, "train") for r in records(f)
              if r["piece"] == b"tiny_2_allemande" and r["program"] == 80]
    assert len(stored) == 1
    ex = stored[0]
    pcm = np.frombuffer(ex["audio"].numpy(), "<i2")
    assert int(ex["num_samples"]) == len(pcm) == len(direct.audio)
    assert np.abs(pcm / 32767.0 - direct.audio).max() <= 0.5 / 32767 + 1e-7
    np.testing.assert_array_equal(unpack_roll_np(ex["piano_roll"].numpy()), direct.roll > 0)
    # One velocity byte for each sounding key and frame, the score's (every tiny note is struck at 100).
    velocities = np.frombuffer(ex["velocities"].numpy(), np.uint8)
    assert len(velocities) == (direct.roll > 0).sum() and set(velocities) == {100}
    assert manifest["velocities"] and manifest["builder_version"] == "1.4.0" and manifest["onsets"]
    assert ex["split"] == b"train" and int(ex["style_id"]) == 1 and int(ex["frame_hop"]) == 64
    assert float(ex["gain"]) == pytest.approx(direct.gain, rel=1e-6)


def test_rerun_resumes_only_missing_shards_with_identical_bytes(tiny_set, tiny_scores, tmp_path):
    folder, _ = tiny_set
    copy = tmp_path / "copy"
    build_bach_set(str(copy), midi=[tiny_scores], validation=["tiny_1_prelude"], config=CONFIG, progress=False)
    shards = sorted(f for f in os.listdir(copy) if f.endswith(".tfrecord"))
    before = {f: (copy / f).read_bytes() for f in shards}
    # An interrupted run: one shard gone, the manifest gone, a half-written temporary left behind.
    (copy / shards[0]).unlink()
    (copy / MANIFEST).unlink()
    (copy / f".tmp-xyz-{shards[0]}").write_bytes(b"half")
    mtimes = {f: os.path.getmtime(copy / f) for f in shards[1:]}
    with pytest.raises(DataError, match="no manifest.json"):
        read_manifest(str(copy))
    build_bach_set(str(copy), midi=[tiny_scores], validation=["tiny_1_prelude"], config=CONFIG, progress=False)
    assert {f: (copy / f).read_bytes() for f in shards} == before  # rendering is deterministic
    assert mtimes == {f: os.path.getmtime(copy / f) for f in shards[1:]}  # complete shards untouched
    assert read_manifest(str(copy))["splits"] == read_manifest(folder)["splits"]


def test_a_different_build_in_the_same_folder_is_refused(tiny_set, tiny_scores):
    folder, _ = tiny_set
    with pytest.raises(DataError, match="holds a different build"):
        build_bach_set(folder, midi=[tiny_scores], config=BachSetConfig(styles=(1,)), progress=False)
    assert os.path.exists(os.path.join(folder, MANIFEST)) and os.path.exists(os.path.join(folder, PLAN))


def test_corrupt_shard_is_named(tiny_set, tmp_path):
    folder, manifest = tiny_set
    copy = tmp_path / "corrupt"
    copy.mkdir()
    for f in os.listdir(folder):
        shutil.copy(os.path.join(folder, f), copy / f)
    shard = manifest["splits"]["train"]["shards"][1]["file"]
    data = bytearray((copy / shard).read_bytes())
    data[len(data) // 2] ^= 0xFF
    (copy / shard).write_bytes(bytes(data))
    with pytest.raises(DataError, match=f"{shard}: corrupt shard"):
        training_dataset(str(copy), window=1000, batch_size=2)


def test_bad_scores_stop_the_build_or_are_skipped(tmp_path):
    scores = tmp_path / "scores"
    scores.mkdir()
    write_midi(scores / "good.mid", C_MAJOR)
    write_midi(scores / "silent.mid", [])
    (scores / "broken.mid").write_bytes(b"\x00\x01 not midi")
    with pytest.raises(MidiError, match="broken.mid: not a readable score"):
        build_bach_set(str(tmp_path / "a"), midi=[str(scores)], config=BachSetConfig(styles=(80,)), progress=False)
    assert not os.path.exists(tmp_path / "a" / MANIFEST)
    manifest = build_bach_set(str(tmp_path / "b"), midi=[str(scores)], config=BachSetConfig(styles=(80,)),
                              skip_bad=True, progress=False)
    assert [p["name"] for p in manifest["pieces"]] == ["good"]
    skipped = {os.path.basename(s["source"]): s["error"] for s in manifest["skipped"]}
    assert set(skipped) == {"broken.mid", "silent.mid"} and "no pitched notes" in skipped["silent.mid"]
    assert json.load(open(tmp_path / "b" / MANIFEST))["skipped"] == manifest["skipped"]


def test_shared_bwv1007_builds_with_the_papers_splits(tmp_path):
    from conftest import shared_data

    folder = shared_data("bach_cello_bwv1007")
    manifest = build_bach_set(str(tmp_path / "bwv"), midi=[folder], config=BachSetConfig(styles=(42,)), progress=False)
    assert manifest["splits"]["validation"]["pieces"] == ["bwv1007_1_prelude"]
    assert manifest["splits"]["train"]["pieces"] == [
        "bwv1007_2_allemande", "bwv1007_3_courante", "bwv1007_4_sarabande", "bwv1007_5_menuet1", "bwv1007_6_menuet2"]
    seconds = {p["name"]: p["seconds"] for p in manifest["pieces"]}
    assert seconds["bwv1007_1_prelude"] == pytest.approx(126.0 + 1.0, abs=0.5)  # score + 1 s tail
    assert seconds["bwv1007_4_sarabande"] == pytest.approx(48.0 + 1.0, abs=0.5)


def test_sources_combine_and_bad_ones_are_named(tiny_scores, tmp_path):
    refs = score_refs(["chorales", "coverage"], midi=[tiny_scores], limit=2)
    assert [r.kind for r in refs] == ["music21", "music21", "midi", "midi"]  # coverage is generated, not read
    assert score_refs("coverage") == []
    with pytest.raises(MidiError, match=r"--corpus takes chorales and coverage, got \['nope'\]"):
        score_refs("nope")
    with pytest.raises(MidiError, match="choose a source"):
        score_refs()
    write_midi(tmp_path / "coverage_gm080_holds_0.mid", C_MAJOR)
    with pytest.raises(MidiError, match=r"two pieces share the name\(s\) \['coverage_gm080_holds_0'\]"):
        build_bach_set(str(tmp_path / "set"), corpus="coverage", midi=[str(tmp_path)], config=BachSetConfig(styles=(80,)),
                       progress=False)
