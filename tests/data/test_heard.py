"""What a model heard: per-style summaries of a manifest, old manifests, and where a score leaves it."""

import numpy as np

from nsynth_synth.data.bach import windows_per_epoch
from nsynth_synth.data.heard import combine, departures, format_heard, heard, model_heard, score_summary


def piece(name, split, seconds, pitches, velocities, polyphony, styles=None):
    row = {"name": name, "split": split, "seconds": seconds, "pitch_range": pitches, "velocity_range": velocities,
           "max_polyphony": polyphony}
    return row if styles is None else {**row, "styles": styles}


MANIFEST = {
    "config": {"sample_rate": 16000},
    "styles": [{"program": 9, "style_id": 0}, {"program": 42, "style_id": 1}],
    "pieces": [
        piece("chorale", "train", 60.0, [40, 70], [90, 90], 4, styles=[9, 42]),
        piece("coverage_gm009_scales_0", "train", 30.0, [79, 108], [16, 127], 1, styles=[9]),
        piece("coverage_gm042_chords_0", "train", 30.0, [36, 81], [16, 127], 4, styles=[42]),
        piece("coverage_gm042_chords_6", "validation", 600.0, [20, 120], [1, 1], 9, styles=[42]),
    ],
}


def test_each_style_hears_its_own_training_pieces():
    assert heard(MANIFEST, 9) == {"pieces": 2, "minutes": 1.5, "pitch_range": [40, 108], "velocity_range": [16, 127],
                                  "max_polyphony": 4}
    assert heard(MANIFEST, 42)["pitch_range"] == [36, 81]  # the validation piece is not heard
    assert heard(MANIFEST, 42, split="validation")["max_polyphony"] == 9
    assert heard(MANIFEST, 80) is None
    both = combine([heard(MANIFEST, 9), heard(MANIFEST, 42)])
    assert both == {"pieces": 4, "minutes": 3.0, "pitch_range": [36, 108], "velocity_range": [16, 127],
                    "max_polyphony": 4}
    assert format_heard(both) == "pitches 36-108, at most 4 keys at once, velocities 16-127, 3.0 min in 4 pieces"
    # Windows are counted per piece in each style it is played in: 2 + 1 + 1 pieces of 1 window a second.
    assert windows_per_epoch(MANIFEST, "train", 16000) == 60 * 2 + 30 + 30


def test_an_old_manifest_still_reads():
    """Sets built before pieces recorded their styles, velocities and polyphony: every piece plays
    in every style, and only the pitch range is known."""
    old = {**MANIFEST, "pieces": [{k: v for k, v in p.items() if k in ("name", "split", "seconds", "pitch_range")}
                                  for p in MANIFEST["pieces"]]}
    assert heard(old, 9) == {"pieces": 3, "minutes": 2.0, "pitch_range": [36, 108], "velocity_range": None,
                             "max_polyphony": None}
    assert format_heard(heard(old, 9)) == "pitches 36-108, 2.0 min in 3 pieces"
    assert windows_per_epoch(old, "train", 16000) == (60 + 30 + 30) * 2
    record = {"pitch_range": [36, 67]}  # a run record from before "heard"
    assert model_heard(record) == {"pitch_range": [36, 67]}
    assert departures([30], [100], np.ones([1, 128]), 250.0, model_heard(record)) == [
        "pitches [30] lie outside the training pieces' range 36-67; the model has not heard them"]


def test_departures_name_what_leaves_what_was_heard():
    summary = {"pitch_range": [40, 70], "velocity_range": [64, 100], "max_polyphony": 2}
    roll = np.zeros([500, 128], bool)
    roll[250:300, [50, 54, 57]] = True  # a triad from 1.0 s
    assert score_summary([50, 54, 57], [80, 80, 80], roll) == {
        "pitch_range": [50, 57], "velocity_range": [80, 80], "max_polyphony": 3}
    messages = departures([50, 54, 57, 30, 90], [64, 100, 127, 1, 64], roll, 250.0, summary)
    assert messages == [
        "pitches [30, 90] lie outside the training pieces' range 40-70; the model has not heard them",
        "up to 3 keys sound at once (first more than 2 at 1.00 s), but the training pieces never held more than 2",
        "velocities [1, 127] lie outside the training pieces' range 64-100",
    ]
    assert departures([50, 54], [64, 100], roll[:, :55], 250.0, summary) == []
    record = {"pitch_range": [36, 108], "heard": {"9": heard(MANIFEST, 9), "42": heard(MANIFEST, 42)}}
    assert model_heard(record, 42) == heard(MANIFEST, 42)
    assert model_heard(record) == combine([heard(MANIFEST, 9), heard(MANIFEST, 42)])
