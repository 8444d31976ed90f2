"""Notes -> voices: the score's keys, frame by frame, assigned to V voices as a synthesizer does.

A voice holds one note at a time: its key, its onset velocity, the frames since its onset and the
frames since its release (-1 while the key is held). A held key keeps its voice; a key struck again
while it sounds (an onset in the onset roll) restarts in the voice it has; a released note sounds on
in its voice through its decay, until release_frames have passed or the voice is taken. A new note
takes, in this order, a free voice, the voice released longest ago, then the quietest held voice
when it is at least as loud; a note that finds none is dropped, and so is a held note whose voice
is taken (both are counted). Among notes struck together the loudest are placed first.

Allocation is causal and runs over frames from a carried state, so a whole piece, a training
window (read from the whole piece's allocation) and a stream of blocks give the same voices.

State and outputs, per batch row and voice, int32 unless said: key [b, V] (-1: none), velocity
float32 [b, V] (the roll's value at the onset: velocity / 127, or 1 for a binary roll),
frames_on [b, V] and frames_off [b, V] (-1 while held), and for pitch bend, float32: bend [b, V]
(semitones: the bend roll's value at the voice's key in the frame) and bend_frames [b, V], what
the bend added to the note's phase since its onset, in frames of its unbent f0 (the sum over the
frames before of 2 ** (bend / 12) - 1): the oscillators' phase is f0 x (frames_on + bend_frames).
"""

import functools

import numpy as np
import tensorflow as tf

from nsynth_synth.data.pianoroll import NUM_KEYS

FIELDS = ("key", "velocity", "frames_on", "frames_off", "bend", "bend_frames")
BEND_FIELDS = ("bend", "bend_frames")  # all zeros where the score never bends
STATE = (*FIELDS, "sounding")  # the allocator's state: the voices and the keys that sounded in the frame before


def initial_state(batch, voices):
    """Every voice free, no key sounding."""
    ints = tf.fill([batch, voices], -1)
    return {"key": ints, "velocity": tf.zeros([batch, voices]), "frames_on": tf.zeros([batch, voices], tf.int32),
            "frames_off": ints, "bend": tf.zeros([batch, voices]), "bend_frames": tf.zeros([batch, voices]),
            "sounding": tf.zeros([batch, NUM_KEYS])}


def allocate_step(state, roll, onsets, release_frames, bends=None):
    """One frame: state (STATE: FIELDS, each [b, V], and sounding [b, 128]), roll float32 [b, 128]
    (the frame's sounding keys: their velocity / 127 or 1), onsets float32 [b, 128] (1 where a key
    is struck), bends float32 [b, 128] (semitones per key; None: none) -> (state after the frame,
    dropped int32 [b]: notes dropped in it).

    A key that starts to sound with no voice and no onset is a new note too, so a roll without
    onsets (all zeros) plays as SynthNet's roll does: every rising edge a note. A dropped note is
    not tried again while its key stays down.
    """
    key, velocity, frames_on, frames_off = (state[name] for name in ("key", "velocity", "frames_on", "frames_off"))
    voices = key.shape[-1] or tf.shape(key)[-1]
    has_note = key >= 0
    frames_on = tf.where(has_note, frames_on + 1, frames_on)
    frames_off = tf.where(has_note & (frames_off >= 0), frames_off + 1, frames_off)
    sounding = roll > 0
    key_sounds = tf.gather(sounding, tf.maximum(key, 0), batch_dims=1)
    frames_off = tf.where(has_note & (frames_off < 0) & ~key_sounds, 0, frames_off)  # released now
    expired = has_note & (frames_off >= release_frames)
    key = tf.where(expired, -1, key)
    has_note = key >= 0
    held = has_note & (frames_off < 0)

    voice_keys = tf.one_hot(key, NUM_KEYS, on_value=True, off_value=False, dtype=tf.bool)  # [b, V, 128]; none for -1
    key_has_voice = tf.reduce_any(voice_keys, axis=1)
    key_has_held = tf.reduce_any(voice_keys & held[..., None], axis=1)
    new = sounding & ((onsets > 0) | (~key_has_held & ~(state["sounding"] > 0)))
    # A new note of a key that has a voice restarts there (a re-strike, or a released note struck again).
    restruck = tf.reduce_any(voice_keys & (new & key_has_voice)[:, None, :], axis=2)  # [b, V]
    key_velocity = tf.gather(roll, tf.maximum(key, 0), batch_dims=1)
    velocity = tf.where(restruck, key_velocity, velocity)
    frames_on = tf.where(restruck, 0, frames_on)
    frames_off = tf.where(restruck, -1, frames_off)

    fresh = new & ~key_has_voice  # [b, 128]: notes that need a voice
    # Voices ranked for taking: free, then released (longest ago first), then held (quietest, then oldest).
    released = has_note & (frames_off >= 0)
    age = tf.cast(tf.minimum(tf.where(released, frames_off, frames_on), 99999), tf.float32) / 1e5
    # Age only breaks ties: 1e-3 x age (< 1e-3) stays under half a velocity step (0.5 / 127) of a held voice.
    priority = tf.where(~has_note, 4.0, tf.where(released, 2.0 + age, 1.0 - 0.5 * velocity + 1e-3 * age))
    priority = tf.where(restruck, -1.0, priority)
    order = tf.argsort(priority, axis=1, direction="DESCENDING", stable=True)  # [b, V]
    # The fresh notes, loudest first (ties: lower key first), one for each voice rank.
    # The key only breaks ties: 1e-5 x key (< 1.3e-3) stays under one velocity step (1 / 127).
    note_rank = tf.where(fresh, 2.0 + roll, 0.0) - tf.range(NUM_KEYS, dtype=tf.float32) * 1e-5
    candidates = tf.math.top_k(note_rank, k=voices)
    new_key = candidates.indices  # [b, V], by rank
    is_note = candidates.values > 1.0
    new_velocity = tf.gather(roll, new_key, batch_dims=1)
    voice = order  # the voice offered to the note of each rank
    offered_priority = tf.gather(priority, voice, batch_dims=1)
    offered_velocity = tf.gather(velocity, voice, batch_dims=1)
    takes = is_note & ((offered_priority >= 2.0) | ((offered_priority >= 0.0) & (new_velocity >= offered_velocity)))
    # Back from ranks to voices.
    rank_of_voice = tf.argsort(order, axis=1, stable=True)
    taken = tf.gather(takes, rank_of_voice, batch_dims=1)
    stolen = taken & held & ~restruck
    key = tf.where(taken, tf.gather(new_key, rank_of_voice, batch_dims=1), key)
    velocity = tf.where(taken, tf.gather(new_velocity, rank_of_voice, batch_dims=1), velocity)
    frames_on = tf.where(taken, 0, frames_on)
    frames_off = tf.where(taken, -1, frames_off)
    placed = tf.reduce_sum(tf.cast(takes, tf.int32), axis=1)
    dropped = tf.reduce_sum(tf.cast(fresh, tf.int32), axis=1) - placed + tf.reduce_sum(tf.cast(stolen, tf.int32), 1)
    # The bend's phase carries on from the frame before, from 0 at an onset.
    carried = state["bend_frames"] + tf.pow(2.0, state["bend"] / 12.0) - 1.0
    bend_frames = tf.where(frames_on == 0, 0.0, carried)
    bend = tf.zeros_like(velocity) if bends is None else tf.gather(bends, tf.maximum(key, 0), batch_dims=1)
    bend = tf.where(key >= 0, bend, 0.0)
    return ({"key": key, "velocity": velocity, "frames_on": frames_on, "frames_off": frames_off,
             "bend": bend, "bend_frames": bend_frames, "sounding": tf.cast(sounding, tf.float32)}, dropped)


def allocate(roll, onsets, voices, release_frames, state=None, bends=None):
    """A span of at least one frame: roll, onsets and bends (None: no bend) float32 [b, frames, 128]
    -> (voices {FIELDS: [b, frames, V]}, the state after the last frame (STATE), dropped int32 [b]:
    notes dropped over the span). state: carried from the span before (None: every voice free)."""
    roll = tf.convert_to_tensor(roll, tf.float32)
    onsets = tf.convert_to_tensor(onsets, tf.float32)
    bends = tf.zeros_like(roll) if bends is None else tf.convert_to_tensor(bends, tf.float32)
    if state is None:
        state = initial_state(tf.shape(roll)[0], voices)

    def step(carry, frame):
        after, count = allocate_step(carry[0], frame[0], frame[1], release_frames, frame[2])
        return after, carry[1] + count

    frames = tuple(tf.transpose(x, [1, 0, 2]) for x in (roll, onsets, bends))
    states, counts = tf.scan(step, frames, initializer=(state, tf.zeros([tf.shape(roll)[0]], tf.int32)))
    return ({name: tf.transpose(states[name], [1, 0, 2]) for name in FIELDS},
            {name: states[name][-1] for name in STATE}, counts[-1])


BUCKET = 4096  # frames: whole pieces are padded to a multiple, so XLA compiles a few shapes, not one a piece


@functools.cache
def _compiled(voices, release_frames):
    return tf.function(lambda roll, onsets: allocate(roll, onsets, voices, release_frames), jit_compile=True)


def allocate_pieces(roll, onsets, voices, release_frames):
    """Whole pieces, XLA-compiled: roll and onsets [b, frames, 128] -> ({FIELDS: numpy [b, frames, V]},
    dropped numpy [b]). Silence is appended up to a multiple of BUCKET frames and cut off again
    (allocation is causal, so it changes nothing before)."""
    roll, onsets = np.asarray(roll, np.float32), np.asarray(onsets, np.float32)
    frames = roll.shape[1]
    padded = -(-max(frames, 1) // BUCKET) * BUCKET
    pad = [(0, 0), (0, padded - frames), (0, 0)]
    out, _, dropped = _compiled(voices, release_frames)(np.pad(roll, pad), np.pad(onsets, pad))
    return {name: value.numpy()[:, :frames] for name, value in out.items()}, dropped.numpy()
