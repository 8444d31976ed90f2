"""Generated coverage scores: what they span, that they are deterministic and split the same way
every time, and a real build (FluidSynth, TFRecords) of them beside a MIDI score."""

import numpy as np
import pytest
import tensorflow as tf
from conftest import run_cli

from data_prep import coverage
from data_prep.bach import PAPER_STYLES
from nsynth_synth.data.bach import FEATURES, read_manifest, split_files, windows_per_epoch
from nsynth_synth.data.pianoroll import frames_from_notes, roll_from_frames, unpack_roll_np


def roll_from_notes(pitches, starts, ends, sample_rate, hop, tail_seconds):
    """Notes (times in seconds) -> (bool roll [frames, 128], on_frames, off_frames), the frames
    running to the last note-off plus tail_seconds (the roll a set stores, without the pedal)."""
    on, off = frames_from_notes(pitches, starts, ends, sample_rate, hop)
    num_frames = int(off.max()) + int(np.ceil(tail_seconds * sample_rate / hop))
    return roll_from_frames(pitches, on, off, num_frames) > 0, on, off


def notes_of(pieces, split=None, kind=""):
    chosen = [p for p in pieces if (split is None or p.split == split) and f"_{kind}" in p.name]
    return np.concatenate([p.notes for p in chosen])


def roll_of(piece):
    n = piece.notes
    return roll_from_notes(n["pitch"], n["start"], n["end"], 16000, 64, 0.0)[0]


@pytest.mark.parametrize("program", PAPER_STYLES)
def test_training_material_spans_the_styles_range_velocities_and_chords(program):
    pieces = coverage.coverage_pieces([program])
    low, high = coverage.PLAYABLE[program]
    train = notes_of(pieces, "train")
    assert set(train["pitch"]) == set(range(low, high + 1))  # every playable pitch, none outside
    assert set(train["velocity"]) == set(coverage.VELOCITIES)
    chords = [p for p in pieces if p.split == "train" and "_chords_" in p.name]
    sizes = {int(n) for p in chords for n in np.unique(p.notes["start"], return_counts=True)[1]}
    assert sizes == {2, 3, 4}
    assert max(roll_of(p).sum(axis=1).max() for p in pieces) == 4
    assert {p.programs for p in pieces} == {(program,)}


def test_repeats_are_struck_again_and_holds_are_released_into_silence():
    for piece in coverage.coverage_pieces([42]):
        roll = roll_of(piece)
        if "_repeats_" in piece.name:
            # Every strike of a repeated key shows in the piano roll as its own onset.
            onsets = np.logical_and(roll[1:], ~roll[:-1]).sum() + roll[0].sum()
            assert onsets == len(piece.notes) == 3 * len(coverage.REPEAT_LENGTHS) * len(coverage.VELOCITIES)
            assert len(set(np.round(piece.notes["end"] - piece.notes["start"], 3))) == len(coverage.REPEAT_LENGTHS)
        if "_holds_" in piece.name:
            gaps = piece.notes["start"][1:] - piece.notes["end"][:-1]
            assert np.allclose(gaps, coverage.RELEASE_SECONDS)


def test_generation_and_splits_are_deterministic_with_held_out_material_of_every_kind():
    first, again = coverage.coverage_pieces([1, 80]), coverage.coverage_pieces([1, 80])
    assert [p.name for p in first] == [p.name for p in again]
    assert all(np.array_equal(a.notes, b.notes) and a.sha256() == b.sha256() and a.split == b.split
               for a, b in zip(first, again))
    for program in (1, 80):
        for kind in coverage.KINDS:
            splits = [p.split for p in first if p.name.startswith(f"coverage_gm{program:03d}_{kind}_")]
            assert splits.count("validation") == 1 and splits.count("test") == 1 and splits.count("train") == 6
    assert coverage.playable_range(0) == coverage.DEFAULT_RANGE == (36, 96)
    assert notes_of(coverage.coverage_pieces([0]))["pitch"].max() == 96


# A few generated pieces of each style, so the build renders in seconds: held-out ones included.
FEW = (("scales", 0), ("repeats", 0), ("holds", 0), ("chords", 6), ("holds", 7))


@pytest.fixture(scope="module")
def built(tiny_scores, tmp_path_factory):
    """A real build (FluidSynth, TFRecords) of the tiny scores with FEW coverage pieces of GM 9 and
    GM 80: (folder, manifest, the summary `prepare bach` prints)."""
    from data_prep import bach
    from nsynth_synth.data.bach import summarize_manifest

    out = str(tmp_path_factory.mktemp("coverage") / "set")
    config = bach.BachSetConfig(styles=(9, 80), tail_seconds=0.5, examples_per_shard=8)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(bach, "coverage_pieces", lambda programs: [
            coverage.coverage_piece(p, kind, variant) for p in programs for kind, variant in FEW])
        manifest = bach.build_bach_set(out, corpus="coverage", midi=[tiny_scores], validation=["tiny_1_prelude"],
                                       config=config, progress=False)
    return out, manifest, summarize_manifest(out, manifest)


def records(folder, split):
    return [tf.io.parse_single_example(r, FEATURES) for f in split_files(folder, split)
            for r in tf.data.TFRecordDataset(f)]


def test_a_coverage_build_plays_each_generated_piece_in_its_own_style(built):
    folder, manifest, stdout = built
    rows = {p["name"]: p for p in manifest["pieces"]}
    generated = [name for name in rows if name.startswith("coverage_")]
    assert len(generated) == 2 * len(FEW)
    assert all(rows[n]["styles"] == [int(n.split("_")[1][2:])] for n in generated)
    assert rows["tiny_2_allemande"]["styles"] == [9, 80]
    assert sorted(manifest["splits"]) == ["test", "train", "validation"]
    played = {}
    for split in manifest["splits"]:
        played[split] = [(r["piece"].numpy().decode(), int(r["program"])) for r in records(folder, split)]
        assert all(program in rows[name]["styles"] and rows[name]["split"] == split for name, program in played[split])
    assert {("tiny_2_allemande", 9), ("tiny_2_allemande", 80), ("coverage_gm080_scales_0", 80)} <= set(played["train"])
    assert set(played["test"]) == {("coverage_gm009_holds_7", 9), ("coverage_gm080_holds_7", 80)}
    assert ("tiny_1_prelude", 9) in played["validation"] and ("coverage_gm009_chords_6", 9) in played["validation"]
    assert windows_per_epoch(manifest, "train", 16000) == sum(
        int(np.ceil(rows[name]["seconds"])) for name, _ in played["train"] if rows[name]["seconds"] >= 1)
    # What a model trained on each style hears: the tiny scores (48-72, velocity 100, one key at a
    # time) and its own training material (chords are only in validation here).
    assert manifest["heard"]["9"] == {**manifest["heard"]["9"], "pitch_range": [48, 108], "max_polyphony": 1,
                                      "velocity_range": [16, 127], "pieces": 5}
    assert manifest["heard"]["80"]["pitch_range"] == [36, 96]
    assert "train, GM 9 Glockenspiel: pitches 48-108, at most 1 key at once, velocities 16-127" in stdout
    assert read_manifest(folder) == manifest


def test_rendered_coverage_follows_its_velocities_and_releases(built):
    folder, _, _ = built
    by_name = {r["piece"].numpy().decode(): r for r in records(folder, "train") if int(r["program"]) == 80}

    def audio(name):
        return np.frombuffer(by_name[name]["audio"].numpy(), "<i2") / 32767.0

    def rms(x, start, end):
        return float(np.sqrt(np.mean(x[int(start * 16000):int(end * 16000)] ** 2)))

    piece = coverage.coverage_piece(80, "repeats", 0)
    loud = audio("coverage_gm080_repeats_0")
    levels = {int(n["velocity"]): rms(loud, n["start"], n["end"]) for n in piece.notes[:len(coverage.VELOCITIES)]}
    assert levels[127] > 3 * levels[16]  # the velocities are heard, not just written
    piece = coverage.coverage_piece(80, "holds", 0)
    held = audio("coverage_gm080_holds_0")
    first = piece.notes[0]
    assert rms(held, first["end"] + coverage.RELEASE_SECONDS - 0.2, first["end"] + coverage.RELEASE_SECONDS) \
        < 0.05 * rms(held, first["start"] + 0.1, first["end"])  # released into silence before the next note
    np.testing.assert_array_equal(unpack_roll_np(by_name["coverage_gm080_holds_0"]["piano_roll"].numpy()),
                                  roll_from_notes(piece.notes["pitch"], piece.notes["start"], piece.notes["end"],
                                                  16000, 64, 0.5)[0])


def test_the_command_line_combines_corpora_with_midi_files(capsys):
    from nsynth_synth.cli import build_parser

    args = build_parser().parse_args(["prepare", "bach", "--corpus", "chorales", "coverage", "--midi", "bwv1007",
                                      "--out", "o"])
    assert (args.corpus, args.midi) == (["chorales", "coverage"], ["bwv1007"])
    with pytest.raises(SystemExit):
        build_parser().parse_args(["prepare", "bach", "--corpus", "cover", "--out", "o"])
    assert "invalid choice: 'cover'" in capsys.readouterr().err


@pytest.mark.slow
def test_prepare_bach_corpus_coverage_from_the_command_line(tmp_path):
    """The whole generated corpus of one style renders (no piece is silent) and describe-data says
    what a model trained on it hears."""
    out = tmp_path / "glockenspiel"
    done = run_cli("prepare", "bach", "--corpus", "coverage", "--styles", "9", "--out", out)
    assert done.returncode == 0, done.stderr[-2000:]
    manifest = read_manifest(str(out))
    assert {split: len(info["pieces"]) for split, info in manifest["splits"].items()} == {
        "train": 30, "validation": 5, "test": 5}
    described = run_cli("describe-data", out)
    assert "train, GM 9 Glockenspiel: pitches 79-108, at most 4 keys at once, velocities 16-127, " in described.stdout
