import numpy as np
import pytest
import tensorflow as tf

from nsynth_synth.data import pianoroll


def random_roll(frames=50, seed=0):
    return np.random.default_rng(seed).random((frames, 128)) < 0.1


def test_pack_unpack_round_trip_numpy_and_tf():
    roll = random_roll()
    packed = pianoroll.pack_roll(roll)
    assert packed.shape == (50, 16) and packed.dtype == np.uint8
    np.testing.assert_array_equal(pianoroll.unpack_roll_np(packed.tobytes()), roll)
    frames = tf.constant(packed)
    np.testing.assert_array_equal(pianoroll.unpack_roll(frames).numpy(), roll.astype(np.float32))
    with pytest.raises(ValueError, match=r"\[frames, 128\]"):
        pianoroll.pack_roll(np.zeros((4, 88), bool))


def test_frames_from_notes_rounds_to_within_half_a_frame():
    rate, hop = 16000, 64
    starts = np.random.default_rng(1).uniform(0, 10, 1000)
    on, off = pianoroll.frames_from_notes(np.zeros(1000), starts, starts + 0.001, rate, hop)
    assert np.abs(on * hop - starts * rate).max() <= hop / 2
    assert np.all(off >= on + 1)  # even a 1 ms note keeps one frame


@pytest.mark.parametrize("hop", [64, 128])
def test_linear_upsampling_matches_numpy_interp_between_frame_centres(hop):
    roll = random_roll(40).astype(np.float32)
    out = pianoroll.upsample_roll(pianoroll.pad_edges(tf.constant(roll)), hop, "linear").numpy()
    assert out.shape == (40 * hop, 128)
    centres = np.arange(40) * hop + (hop - 1) / 2
    samples = np.arange(40 * hop)
    for key in range(0, 128, 7):
        np.testing.assert_allclose(out[:, key], np.interp(samples, centres, roll[:, key]), atol=1e-6)


def test_both_modes_switch_at_the_frame_boundary():
    hop = 64
    roll = np.zeros((6, 128), np.float32)
    roll[2:4, 60] = 1  # on at sample 128, off at sample 256
    for mode in pianoroll.UPSAMPLE_MODES:
        out = pianoroll.upsample_roll(pianoroll.pad_edges(tf.constant(roll)), hop, mode).numpy()[:, 60]
        crossings = np.flatnonzero(np.diff((out > 0.5).astype(int)))
        assert crossings.tolist() == [127, 255], mode  # above 0.5 from sample 128 to 255
    held = pianoroll.upsample_roll(pianoroll.pad_edges(tf.constant(roll)), hop, "hold").numpy()[:, 60]
    np.testing.assert_array_equal(np.flatnonzero(held), np.arange(128, 256))
    with pytest.raises(ValueError, match="cubic"):
        pianoroll.upsample_roll(roll, hop, "cubic")


def test_velocity_roll_round_trips_through_a_record():
    """Each sounding key reads back its velocity / 127 (the later of two overlapping notes of one
    key holds it), silent frames read 0, frames past either end read the edge frame, and a roll
    with no notes stores no velocities."""
    from nsynth_synth.data import bach

    pitches, on, off, velocity = np.array([60, 64, 60, 67]), np.array([0, 2, 3, 5]), np.array([4, 6, 7, 6]), \
        np.array([20, 127, 90, 1])
    roll = pianoroll.roll_from_frames(pitches, on, off, 9, velocity)
    assert roll[3, 60] == 90 and roll[2, 60] == 20 and roll[5, 67] == 1 and roll[8].sum() == 0

    def decoded(roll):
        record = bach.serialize_example(np.zeros(len(roll) * 4), pianoroll.pack_roll(roll), sample_rate=16000,
                                        frame_hop=4, program=0, style_id=0, piece="p", split="train", gain=1.0,
                                        velocities=pianoroll.pack_velocities(roll))
        return bach.decode_record(tf.constant(record))

    example = decoded(roll)
    frames = bach.example_frames(example, -1, len(roll) + 2, "velocity").numpy()
    np.testing.assert_allclose(frames[1:-1], roll / 127.0, atol=1e-7)
    np.testing.assert_allclose(frames[0], roll[0] / 127.0, atol=1e-7)
    np.testing.assert_allclose(frames[-1], roll[-1] / 127.0, atol=1e-7)
    np.testing.assert_array_equal(bach.example_frames(example, 0, len(roll), "binary").numpy(), roll > 0)
    np.testing.assert_allclose(pianoroll.roll_values(roll, "velocity"), roll / 127.0)

    silent = decoded(np.zeros((3, 128), np.uint8))
    assert silent["velocities"].shape == (0,)
    assert not bach.example_frames(silent, 0, 3, "velocity").numpy().any()
    with pytest.raises(ValueError, match="piano-roll values"):
        pianoroll.roll_values(roll, "loud")
