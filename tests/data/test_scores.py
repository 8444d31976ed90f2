import pytest
from conftest import shared_data, write_midi

from nsynth_synth.data import scores
from nsynth_synth.errors import MidiError

BWV1007 = [f"bwv1007_{i}_{n}" for i, n in enumerate(
    ["prelude", "allemande", "courante", "sarabande", "menuet1", "menuet2", "gigue"], start=1)]


def test_bwv1007_default_splits_follow_the_paper():
    splits = scores.assign_splits(BWV1007)
    assert [n for n in BWV1007 if splits[n] == "validation"] == ["bwv1007_1_prelude"]
    assert [n for n in BWV1007 if splits[n] == "train"] == BWV1007[1:6]
    assert splits["bwv1007_7_gigue"] == "test"


def test_bwv1007_keeps_the_papers_split_beside_other_scores():
    names = BWV1007 + [f"bwv{i}.6" for i in range(100, 140)]
    splits = scores.assign_splits(names)
    assert [n for n in BWV1007 if splits[n] != "train"] == ["bwv1007_1_prelude", "bwv1007_7_gigue"]
    assert (splits["bwv1007_1_prelude"], splits["bwv1007_7_gigue"]) == ("validation", "test")
    others = scores.assign_splits(names[len(BWV1007):])
    assert all(splits[n] == others[n] for n in names[len(BWV1007):])  # the others split as on their own


def test_holdout_is_stable_and_never_empty():
    names = [f"bwv{i}" for i in range(100, 140)]
    full = scores.assign_splits(names)
    held = [n for n in names if full[n] == "validation"]
    assert 1 <= len(held) < len(names) / 4
    subset = scores.assign_splits(names[:20])
    assert all(subset[n] == full[n] for n in names[:20] if full[n] == "validation")
    assert "validation" in scores.assign_splits(["a", "b"]).values()


def test_test_split_holds_scores_of_the_same_kind():
    names = [f"bwv{i}.6" for i in range(100, 140)]
    splits = scores.assign_splits(names)
    tested = [n for n in names if splits[n] == "test"]
    assert 1 <= len(tested) < len(names) / 4
    subset = scores.assign_splits(names[:scores.TEST_FROM])
    assert all(subset[n] == "test" for n in tested if n in subset)
    assert "test" not in scores.assign_splits(names[:scores.TEST_FROM - 1]).values()  # small sets keep them
    assert "test" not in scores.assign_splits(names, ["bwv100.6"]).values()  # a named validation is all


def test_named_validation_must_exist():
    assert scores.assign_splits(["a", "b", "c"], ["b"]) == {"a": "train", "b": "validation", "c": "train"}
    with pytest.raises(MidiError, match=r"--validation names \['zz'\]"):
        scores.assign_splits(["a", "b"], ["zz"])


def test_chorale_limit_is_deterministic_and_spread():
    all_refs = scores.chorale_refs()
    assert len(all_refs) > 350 and all(r.path.endswith((".mxl", ".xml", ".krn")) for r in all_refs)
    four = scores.chorale_refs(4)
    assert [r.name for r in four] == [r.name for r in scores.chorale_refs(4)]
    assert [r.name for r in four] == [all_refs[i * len(all_refs) // 4].name for i in range(4)]


def test_chorale_reads_as_four_or_more_parts():
    piece = scores.read_piece(scores.chorale_refs(1)[0])
    assert len(set(piece.notes["part"])) >= 4 and piece.end_seconds > 10


def test_bad_midi_files_are_named(tmp_path):
    (tmp_path / "corrupt.mid").write_bytes(b"MThd\x00\x00\x00\x06garbage")
    with pytest.raises(MidiError, match="corrupt.mid: not a readable score"):
        scores.read_piece(scores.ScoreRef("corrupt", str(tmp_path / "corrupt.mid"), "midi"))
    empty = write_midi(tmp_path / "empty.mid", [])
    with pytest.raises(MidiError, match="empty.mid: the score has no pitched notes"):
        scores.read_piece(scores.ScoreRef("empty", empty, "midi"))
    with pytest.raises(MidiError, match="nowhere: no such MIDI file or folder"):
        scores.midi_refs([str(tmp_path / "nowhere")])
    (tmp_path / "sub").mkdir()
    with pytest.raises(MidiError, match="folder holds no MIDI files"):
        scores.midi_refs([str(tmp_path / "sub")])


def test_shared_bwv1007_reads_with_the_documented_lengths():
    folder = shared_data("bach_cello_bwv1007")
    refs = scores.midi_refs([folder])
    assert [r.name for r in refs] == BWV1007
    prelude = scores.read_piece(refs[0])
    assert len(prelude.notes) == 656 and prelude.end_seconds == pytest.approx(126.0, abs=0.5)
