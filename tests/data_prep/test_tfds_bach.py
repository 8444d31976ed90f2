import numpy as np
import tensorflow_datasets as tfds

import data_prep.tfds_bach  # noqa: F401  (registers the builder)
from data_prep.bach import BachSetConfig, build_bach_set
from nsynth_synth.data.bach import whole_pieces


def test_tfds_load_builds_offline_and_matches_prepare_bach(tmp_path):
    splits = tfds.load("bach_synth/chorales_small", data_dir=str(tmp_path / "tfds"))
    assert sorted(splits) == ["train", "validation"]
    loaded = {ex["piece"].decode(): ex for ex in tfds.as_numpy(splits["validation"])}
    manifest = build_bach_set(str(tmp_path / "set"), corpus="chorales", limit=4,
                              config=BachSetConfig(styles=(42,)), progress=False)
    assert sorted(loaded) == manifest["splits"]["validation"]["pieces"]
    velocity_rolls = {ex["piece"].numpy().decode(): ex["piano_roll"].numpy()
                      for ex in whole_pieces(str(tmp_path / "set"), roll="velocity")}
    for ex in whole_pieces(str(tmp_path / "set")):
        tfds_ex = loaded[ex["piece"].numpy().decode()]
        np.testing.assert_array_equal(tfds_ex["audio"], np.round(ex["audio"].numpy() * 32767).astype(np.int16))
        bits = np.unpackbits(tfds_ex["piano_roll"], axis=1)
        np.testing.assert_array_equal(bits, ex["piano_roll"].numpy())
        velocity = velocity_rolls[ex["piece"].numpy().decode()]
        np.testing.assert_allclose(velocity[bits > 0], tfds_ex["velocities"] / 127.0, atol=1e-6)
        assert tfds_ex["program"] == 42 and tfds_ex["style_id"] == 0
