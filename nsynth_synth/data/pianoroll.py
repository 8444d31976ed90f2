"""The 128-key piano roll: built at a frame rate, stored as packed bits, upsampled in-graph.

Frame f covers audio samples [f * hop, (f + 1) * hop) and holds the keys sounding in it. Note
times are rounded to frame boundaries before rendering, and the renderer starts and stops every
voice exactly on those boundaries (nsynth_synth.data.render), so the stored roll switches on the very
sample where the synthesizer's voice starts: the roll-to-audio alignment error is 0 samples, and
each event sits at most hop / 2 samples (2 ms at hop 64, 16 kHz) from the score's time.

A roll's values are either "binary" (the SynthNet paper's: 1 where a key sounds) or "velocity"
(the struck velocity / 127 where a key sounds: FluidSynth plays velocities, so only this roll
tells a model how loud a note is). The velocities are stored beside the packed bits, one byte for
each set bit in row-major order (frame by frame, key by key), and read back by counting bits.

Upsampling to audio rate keeps that boundary in both modes:
- "hold": every frame repeated `hop` times;
- "linear" (the SynthNet paper's choice): linear interpolation between frame centres, so a key
  ramps over one frame and crosses 0.5 exactly at the frame boundary.
"""

import numpy as np
import tensorflow as tf

NUM_KEYS = 128
PACKED_BYTES = NUM_KEYS // 8
UPSAMPLE_MODES = ("linear", "hold")
ROLL_VALUES = ("binary", "velocity")


def frames_from_notes(pitches, starts, ends, sample_rate, hop):
    """Note times in seconds -> (on_frame, off_frame) int64 arrays, each note at least 1 frame."""
    frame_rate = sample_rate / hop
    on = np.round(np.asarray(starts, dtype=np.float64) * frame_rate).astype(np.int64)
    off = np.round(np.asarray(ends, dtype=np.float64) * frame_rate).astype(np.int64)
    return on, np.maximum(off, on + 1)


def roll_from_frames(pitches, on_frames, off_frames, num_frames, velocities=None):
    """Note frames -> uint8 roll [num_frames, 128]: each sounding key's velocity (clipped to 1-127;
    127 without velocities), 0 where silent. Notes past num_frames are cut; where notes of one key
    overlap, the later struck one holds the key."""
    roll = np.zeros((num_frames, NUM_KEYS), dtype=np.uint8)
    velocities = np.full(len(pitches), 127) if velocities is None else np.clip(velocities, 1, 127)
    for n in np.argsort(on_frames, kind="stable"):
        roll[on_frames[n]:off_frames[n], pitches[n]] = velocities[n]
    return roll


def roll_values(roll, values):
    """uint8 velocity roll [frames, 128] -> float32 roll of `values` ("binary" or "velocity")."""
    check_roll_values(values)
    roll = np.asarray(roll)
    return (roll > 0).astype(np.float32) if values == "binary" else roll.astype(np.float32) / 127.0


def check_roll_values(values):
    if values not in ROLL_VALUES:
        raise ValueError(f"piano-roll values must be one of {ROLL_VALUES}, got {values!r}")


def pack_roll(roll):
    """bool or velocity roll [frames, 128] -> uint8 [frames, 16], a bit for each sounding key
    (numpy.packbits, most significant bit first)."""
    roll = np.asarray(roll) > 0
    if roll.ndim != 2 or roll.shape[1] != NUM_KEYS:
        raise ValueError(f"piano roll must have shape [frames, {NUM_KEYS}], got {roll.shape}")
    return np.packbits(roll, axis=1)


def unpack_roll_np(packed):
    """Inverse of pack_roll: bytes -> bool roll [frames, 128]."""
    bits = np.frombuffer(packed, dtype=np.uint8).reshape(-1, PACKED_BYTES)
    return np.unpackbits(bits, axis=1).astype(bool)


def pack_velocities(roll):
    """uint8 velocity roll [frames, 128] -> bytes: the velocity of each set bit of pack_roll(roll),
    in row-major order."""
    roll = np.asarray(roll, np.uint8)
    return roll[roll > 0].tobytes()


def velocity_offsets(packed_frames):
    """uint8 [frames, 16] packed bits -> int32 [frames]: where each frame's velocities begin in the
    bytes of pack_velocities (TensorFlow)."""
    counts = tf.reduce_sum(tf.cast(tf.raw_ops.PopulationCount(x=packed_frames), tf.int32), axis=1)
    return tf.cumsum(counts, exclusive=True)


def roll_frames(packed, frames, values="binary", velocities=None, offsets=None):
    """Frames `frames` (int32 [n], indices into packed) of a stored roll -> float32 [n, 128].

    packed: uint8 [frames, 16]; for "velocity", velocities (uint8 [set bits], pack_velocities) and
    offsets (velocity_offsets(packed)).
    """
    check_roll_values(values)
    bits = unpack_roll(tf.gather(packed, frames))
    if values == "binary":
        return bits
    rank = tf.cumsum(bits, axis=1, exclusive=True)  # how many keys below sound in the same frame
    index = tf.gather(offsets, frames)[:, None] + tf.cast(rank, tf.int32)
    padded = tf.concat([tf.cast(velocities, tf.float32), [0.0]], axis=0)  # a silent roll stores none
    level = tf.gather(padded, tf.minimum(index, tf.shape(padded)[0] - 1)) / 127.0
    return tf.where(bits > 0, level, 0.0)


def unpack_roll(packed_frames):
    """uint8 [frames, 16] packed bits -> float32 roll [frames, 128] (TensorFlow)."""
    shifts = tf.constant([7, 6, 5, 4, 3, 2, 1, 0], tf.uint8)
    bits = tf.bitwise.bitwise_and(tf.bitwise.right_shift(packed_frames[..., None], shifts), 1)
    return tf.cast(tf.reshape(bits, [-1, NUM_KEYS]), tf.float32)


def _linear_weights(hop):
    """Per-offset weights of the previous, current and next frame, each [hop], float32.

    Sample j of a frame sits at (j + 0.5) / hop - 0.5 frames from the frame's centre: the first
    half blends the previous frame into this one, the second half this one into the next.
    """
    position = (np.arange(hop) + 0.5) / hop - 0.5
    previous = np.where(position < 0, -position, 0.0)
    following = np.where(position >= 0, position, 0.0)
    current = 1.0 - previous - following
    return [tf.constant(w, tf.float32) for w in (previous, current, following)]


def upsample_roll(frames, hop, mode="linear"):
    """Frame-rate roll with one context frame each side -> audio-rate roll.

    frames: float [..., frames + 2, keys]; the first and last frame are the frames just before and
    after the span (repeat the edge frame at a piece's ends: see pad_edges).
    Returns float32 [..., frames * hop, keys].
    """
    if mode not in UPSAMPLE_MODES:
        raise ValueError(f"upsample mode must be one of {UPSAMPLE_MODES}, got {mode!r}")
    frames = tf.convert_to_tensor(frames, tf.float32)
    if mode == "hold":
        return tf.repeat(frames[..., 1:-1, :], hop, axis=-2)
    previous, current, following = _linear_weights(hop)
    blocks = (
        frames[..., :-2, None, :] * previous[:, None]
        + frames[..., 1:-1, None, :] * current[:, None]
        + frames[..., 2:, None, :] * following[:, None]
    )
    shape = tf.shape(frames)
    return tf.reshape(blocks, tf.concat([shape[:-2], [-1, shape[-1]]], axis=0))


def pad_edges(frames):
    """Repeat the first and last frame once: [..., F, keys] -> [..., F + 2, keys]."""
    return tf.concat([frames[..., :1, :], frames, frames[..., -1:, :]], axis=-2)
