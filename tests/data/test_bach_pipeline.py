import numpy as np
import pytest
import tensorflow as tf

from nsynth_synth import audio
from nsynth_synth.data import bach, pianoroll
from nsynth_synth.errors import DataError

WINDOW = 4000


def whole(folder, split):
    """{(piece, style_id): (audio [T], audio-rate roll [T, 128] by linear upsampling)}."""
    out = {}
    for ex in bach.whole_pieces(folder, split=split):
        roll = pianoroll.upsample_roll(pianoroll.pad_edges(ex["piano_roll"]), 64, "linear").numpy()
        out[(ex["piece"].numpy().decode(), int(ex["style_id"]))] = (ex["audio"].numpy(), roll)
    return out


def test_training_batches_have_the_documented_shapes(tiny_set):
    folder, _ = tiny_set
    batch = next(iter(bach.training_dataset(folder, WINDOW, 3, seed=0)))
    assert batch["audio"].shape == (3, WINDOW) and batch["audio"].dtype == tf.float32
    assert batch["audio_ids"].shape == (3, WINDOW) and batch["audio_ids"].dtype == tf.int32
    assert batch["piano_roll"].shape == (3, WINDOW, 128) and batch["piano_roll"].dtype == tf.float32
    assert batch["style_id"].shape == (3,) and batch["style_id"].dtype == tf.int32
    ids = batch["audio_ids"].numpy()
    assert 0 <= ids.min() and ids.max() <= 255


def test_windows_are_aligned_slices_of_the_pieces(tiny_set):
    folder, _ = tiny_set
    pieces = whole(folder, "train")
    for batch in bach.training_dataset(folder, WINDOW, 4, seed=1).take(3):
        for a, roll, ids, style in zip(batch["audio"].numpy(), batch["piano_roll"].numpy(),
                                       batch["audio_ids"].numpy(), batch["style_id"].numpy()):
            matches = []
            for (name, sid), (full, full_roll) in pieces.items():
                if sid != style:
                    continue
                hits = [s for s in range(len(full) - WINDOW + 1) if full[s] == a[0] and np.array_equal(full[s:s + WINDOW], a)]
                matches += [(name, s, full_roll) for s in hits]
            assert len(matches) >= 1
            _, start, full_roll = matches[0]
            np.testing.assert_allclose(roll, full_roll[start:start + WINDOW], atol=1e-6)
            # Dither moved each sample by at most 0.009 before mu-law: decoded ids stay that close.
            decoded = audio.mu_law_decode_np(ids)
            assert np.all(np.abs(decoded - a) <= audio.DITHER_LIMIT + audio.mu_law_error_bound(a + 0.009) + 1e-6)


def test_seeded_pipeline_is_deterministic_and_unseeded_is_not(tiny_set):
    folder, _ = tiny_set
    take = lambda seed: [b["audio_ids"].numpy() for b in bach.training_dataset(folder, WINDOW, 2, seed=seed).take(4)]
    np.testing.assert_array_equal(take(7), take(7))
    assert not all(np.array_equal(a, b) for a, b in zip(take(7), take(8)))


def test_style_filter_and_unknown_style(tiny_set):
    folder, _ = tiny_set
    batch = next(iter(bach.training_dataset(folder, WINDOW, 4, styles=[80], seed=0)))
    assert set(batch["style_id"].numpy()) == {1}
    with pytest.raises(DataError, match=r"styles \[5\] are not in this set"):
        bach.training_dataset(folder, WINDOW, 4, styles=[5])


def test_validation_windows_are_fixed_and_cover_each_piece(tiny_set):
    folder, manifest = tiny_set
    first = [b["audio_ids"].numpy() for b in bach.validation_dataset(folder, WINDOW, 2)]
    second = [b["audio_ids"].numpy() for b in bach.validation_dataset(folder, WINDOW, 2)]
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)
    seconds = manifest["pieces"][0]["seconds"]
    assert sum(len(b) for b in first) == 2 * int(seconds * 16000 // WINDOW)  # two styles


def test_window_longer_than_every_piece_and_missing_sets(tiny_set, tmp_path):
    folder, _ = tiny_set
    with pytest.raises(DataError, match="longer than every train piece"):
        bach.training_dataset(folder, 16000 * 60, 1)
    with pytest.raises(DataError, match="no such data directory"):
        bach.training_dataset(str(tmp_path / "nothing"), WINDOW, 1)
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="it is empty"):
        bach.training_dataset(str(tmp_path / "empty"), WINDOW, 1)
    with pytest.raises(DataError, match="no split 'test'"):
        bach.split_files(folder, "test")


def test_windows_per_epoch_counts_every_piece_once(tiny_set):
    _, manifest = tiny_set
    expected = sum(int(np.ceil(p["seconds"] * 16000 / WINDOW)) for p in manifest["pieces"] if p["split"] == "train")
    assert bach.windows_per_epoch(manifest, "train", WINDOW) == 2 * expected


def test_velocity_roll_windows_hold_the_scores_velocity(tiny_set, tmp_path):
    """The tiny scores play every note at velocity 100: a velocity window is the binary window
    scaled by 100 / 127, sample for sample. A set built before velocities were stored is refused."""
    folder, manifest = tiny_set
    assert manifest["velocities"]
    take = lambda roll: next(iter(bach.training_dataset(folder, WINDOW, 2, seed=3, roll=roll)))
    binary, velocity = take("binary"), take("velocity")
    np.testing.assert_array_equal(binary["audio"], velocity["audio"])
    assert binary["piano_roll"].numpy().max() == 1.0
    np.testing.assert_allclose(velocity["piano_roll"], binary["piano_roll"] * (100 / 127), atol=1e-6)

    import json
    import shutil

    old = tmp_path / "old"
    shutil.copytree(folder, old)
    before = {k: v for k, v in manifest.items() if k != "velocities"}
    (old / bach.MANIFEST).write_text(json.dumps({**before, "builder_version": "1.1.0"}))
    with pytest.raises(DataError, match="stores no note velocities.*--roll binary"):
        bach.training_dataset(str(old), WINDOW, 2, roll="velocity")
    bach.training_dataset(str(old), WINDOW, 2)  # the binary roll still reads it
