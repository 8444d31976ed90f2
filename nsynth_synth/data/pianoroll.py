"""The 128-key binary piano roll: built at a frame rate, stored as packed bits, upsampled in-graph.

Frame f covers audio samples [f * hop, (f + 1) * hop) and holds the keys sounding in it. Note
times are rounded to frame boundaries before rendering, and the renderer starts and stops every
voice exactly on those boundaries (nsynth_synth.data.render), so the stored roll switches on the very
sample where the synthesizer's voice starts: the roll-to-audio alignment error is 0 samples, and
each event sits at most hop / 2 samples (2 ms at hop 64, 16 kHz) from the score's time.

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


def frames_from_notes(pitches, starts, ends, sample_rate, hop):
    """Note times in seconds -> (on_frame, off_frame) int64 arrays, each note at least 1 frame."""
    frame_rate = sample_rate / hop
    on = np.round(np.asarray(starts, dtype=np.float64) * frame_rate).astype(np.int64)
    off = np.round(np.asarray(ends, dtype=np.float64) * frame_rate).astype(np.int64)
    return on, np.maximum(off, on + 1)


def roll_from_frames(pitches, on_frames, off_frames, num_frames):
    """Note frames -> bool roll [num_frames, 128]; notes past num_frames are cut."""
    roll = np.zeros((num_frames, NUM_KEYS), dtype=bool)
    for pitch, on, off in zip(pitches, on_frames, off_frames):
        roll[on:off, pitch] = True
    return roll


def pack_roll(roll):
    """bool roll [frames, 128] -> uint8 [frames, 16] (numpy.packbits, most significant bit first)."""
    roll = np.asarray(roll, dtype=bool)
    if roll.ndim != 2 or roll.shape[1] != NUM_KEYS:
        raise ValueError(f"piano roll must have shape [frames, {NUM_KEYS}], got {roll.shape}")
    return np.packbits(roll, axis=1)


def unpack_roll_np(packed):
    """Inverse of pack_roll: bytes -> bool roll [frames, 128]."""
    bits = np.frombuffer(packed, dtype=np.uint8).reshape(-1, PACKED_BYTES)
    return np.unpackbits(bits, axis=1).astype(bool)


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
