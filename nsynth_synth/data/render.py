"""Render a Piece with FluidSynth: dry, mono, at 16 kHz, every part on one General MIDI preset.

Timing: FluidSynth applies events at the start of its 64-sample blocks. Note times are rounded to
frame boundaries (a multiple of 64 samples) and the synth is run block-aligned up to each event,
so every voice starts and stops on exactly the sample where the piano roll switches
(see nsynth_synth.data.pianoroll for the bound against the score).

The sustain pedal (CC 64) and pitch bend are played too, on the same frame grid. A key released
while its part's pedal is down sounds on until the pedal lifts (or the key is struck again), and
the piano roll holds the note that long: the roll shows what sounds. Pitch bend moves the pitch
by up to FluidSynth's default range (2 semitones; range messages are not read) and leaves the
roll on the struck key.
"""

import ctypes
import dataclasses
import typing

import numpy as np

from nsynth_synth.audio import PEAK_LEVEL
from nsynth_synth.data.pianoroll import frames_from_notes, roll_from_frames
from nsynth_synth.data.scores import PITCH_BEND, SUSTAIN
from nsynth_synth.data.system import import_fluidsynth, require_soundfont
from nsynth_synth.errors import MidiError

FLUID_BLOCK = 64  # FluidSynth's internal block size (FLUID_BUFSIZE)
DRUM_CHANNEL = 9
CHANNELS = [c for c in range(16) if c != DRUM_CHANNEL]
NOTE_OFF, CONTROL, NOTE_ON = 0, 1, 2  # the order of events at one sample


@dataclasses.dataclass(frozen=True)
class Rendering:
    """audio: float32 [frames * hop], peak PEAK_LEVEL; roll: uint8 [frames, 128], each sounding
    key's velocity (1-127), 0 where silent; onsets: uint8 [frames, 128], 1 where a key is struck
    (onset_roll); gain: the factor that scaled FluidSynth's output to the peak."""

    audio: np.ndarray
    roll: np.ndarray
    onsets: np.ndarray
    gain: float


class Event(typing.NamedTuple):
    """One synthesizer event; sorted, events run in time and, at one sample, note-offs first (a
    repeated key is released before it is struck), then controls in score order, then note-ons."""

    sample: int
    order: int  # NOTE_OFF, CONTROL or NOTE_ON
    channel: int
    key: int  # a note's pitch; a control's place in its channel's sequence
    value: int  # a note-on's velocity; the pedal (0 or 127) or the bend (-8192..8191)
    control: int = SUSTAIN  # of a CONTROL event: SUSTAIN or PITCH_BEND


def score_events(piece, sample_rate, hop, tail_seconds):
    """A Piece on the frame grid, as FluidSynth plays it -> (uint8 velocity roll [frames, 128], sorted
    [Event]).

    Each part gets its own MIDI channel (CHANNELS in turn). A note sounds from its on frame to its
    key-off frame or, when the key is released while the channel's pedal is down, to the frame the
    pedal lifts or the key is struck again, whichever comes first; the roll shows that. The frames
    run to the last sounding note plus tail_seconds. Only changes of pedal and bend are sent, and
    none past the end.
    """
    notes = piece.notes
    on, off = frames_from_notes(notes["pitch"], notes["start"], notes["end"], sample_rate, hop)
    channel_of = {part: CHANNELS[i % len(CHANNELS)] for i, part in enumerate(np.unique(notes["part"]))}
    channels = np.array([channel_of[p] for p in notes["part"]])
    sounding, sequences = off.copy(), []
    for channel in sorted(set(channel_of.values())):
        pedal, sequence = _pedal_and_bends(piece.controls, channel_of, channel, sample_rate / hop, int(off.max()))
        for down, up in pedal:
            for n in np.flatnonzero((channels == channel) & (down < off) & (off < up)):
                again = on[(channels == channel) & (notes["pitch"] == notes["pitch"][n]) & (on >= off[n])]
                sounding[n] = min(up, int(again.min())) if len(again) else up
        sequences.append((channel, sequence))
    num_frames = int(sounding.max()) + int(np.ceil(tail_seconds * sample_rate / hop))
    events = [Event(frame * hop, CONTROL, channel, i, value, control)
              for channel, sequence in sequences for i, (frame, control, value) in enumerate(sequence)
              if frame < num_frames]
    events += [Event(int(f) * hop, NOTE_OFF, int(c), int(p), 0) for f, c, p in zip(off, channels, notes["pitch"])]
    events += [Event(int(f) * hop, NOTE_ON, int(c), int(p), int(v))
               for f, c, p, v in zip(on, channels, notes["pitch"], notes["velocity"])]
    return roll_from_frames(notes["pitch"], on, sounding, num_frames, notes["velocity"]), sorted(events)


def _pedal_and_bends(controls, channel_of, channel, frame_rate, last_frame):
    """One channel's controls -> (pedal [(down frame, up frame)] with up > down, sequence
    [(frame, SUSTAIN or PITCH_BEND, value)] of the changes in score order). A pedal never lifted
    is held to last_frame (the last key-off)."""
    pedal, sequence, down, bend = [], [], None, 0
    for c in controls:
        if c["part"] not in channel_of or channel_of[c["part"]] != channel:
            continue
        frame = int(np.round(c["time"] * frame_rate))
        if c["control"] == PITCH_BEND:
            if c["value"] != bend:
                bend = int(c["value"])
                sequence.append((frame, PITCH_BEND, bend))
        elif c["value"] >= 64 and down is None:
            down = frame
        elif c["value"] < 64 and down is not None:
            pedal.append((down, frame))
            down = None
    if down is not None:
        pedal.append((down, last_frame))
    pedal = [(d, u) for d, u in pedal if u > d]
    sequence += [item for d, u in pedal for item in ((d, SUSTAIN, 127), (u, SUSTAIN, 0))]
    sequence.sort(key=lambda item: item[0])  # stable: a lift and a press on one frame keep their order
    return pedal, sequence


def onset_roll(events, num_frames, hop):
    """The frames where keys are struck, from score_events' events -> uint8 [num_frames, 128], 1 at
    each note-on. The roll merges a key struck again while it sounds into one long note; this roll
    keeps every strike, so "time since onset" can be read from the two together."""
    onsets = np.zeros((num_frames, 128), np.uint8)
    for event in events:
        if event.order == NOTE_ON and event.sample // hop < num_frames:
            onsets[event.sample // hop, event.key] = 1
    return onsets


BEND_RANGE = 2.0  # semitones at a full bend: FluidSynth's and General MIDI's default (range messages are not read)


def bend_roll(events, num_frames, hop):
    """The pitch bend each key sounds with, from score_events' events -> float32 [num_frames, 128]
    semitones, or None when the score never bends. A key follows the bend of the channel that
    struck it last, from that note-on on (through its release), as FluidSynth plays it."""
    bends = [e for e in events if e.order == CONTROL and e.control == PITCH_BEND]
    if not any(e.value for e in bends):
        return None
    channels = sorted({e.channel for e in events})
    curves = np.zeros((len(channels) + 1, num_frames), np.float32)  # row 0: no channel, no bend
    for e in bends:
        curves[channels.index(e.channel) + 1, e.sample // hop:] = e.value / 8192.0 * BEND_RANGE
    struck = np.zeros((num_frames, 128), np.int64)  # at a note-on: 1 + the channel's row
    for e in events:
        if e.order == NOTE_ON and e.sample // hop < num_frames:
            struck[e.sample // hop, e.key] = channels.index(e.channel) + 1
    # Forward-fill each key's last striking channel over the frames.
    last = np.maximum.accumulate(np.where(struck > 0, np.arange(num_frames)[:, None], 0), axis=0)
    owner = np.take_along_axis(struck, last, axis=0)
    return curves[owner, np.arange(num_frames)[:, None]]


class FluidSynthRenderer:
    """One synthesizer with one SoundFont loaded, reused for many renderings."""

    def __init__(self, soundfont, sample_rate=16000, hop=64, tail_seconds=1.0):
        if hop % FLUID_BLOCK:
            raise ValueError(f"hop must be a multiple of FluidSynth's {FLUID_BLOCK}-sample block, got {hop}")
        self._fluidsynth = fluidsynth = import_fluidsynth()
        self.soundfont = require_soundfont(soundfont)
        self.sample_rate = sample_rate
        self.hop = hop
        self.tail_seconds = tail_seconds
        self._synth = None
        self._new_synth()
        self._write_float = fluidsynth.cfunc(
            "fluid_synth_write_float", ctypes.c_int, ("synth", ctypes.c_void_p, 1),
            ("len", ctypes.c_int, 1), ("lout", ctypes.c_void_p, 1), ("loff", ctypes.c_int, 1),
            ("lincr", ctypes.c_int, 1), ("rout", ctypes.c_void_p, 1), ("roff", ctypes.c_int, 1),
            ("rincr", ctypes.c_int, 1),
        )

    def _new_synth(self):
        """A fresh synthesizer. FluidSynth keeps state across notes that system_reset does not
        clear (the same piece rendered twice on one synth differs), so each rendering gets its
        own, which makes builds byte-for-byte reproducible and resumable."""
        if self._synth is not None:
            self._synth.delete()
        settings = {"synth.reverb.active": 0, "synth.chorus.active": 0}
        self._synth = self._fluidsynth.Synth(gain=1.0, samplerate=float(self.sample_rate), **settings)
        self._sfid = self._synth.sfload(self.soundfont)
        if self._sfid < 0:
            raise MidiError(f"{self.soundfont}: FluidSynth cannot load this SoundFont")

    def preset_name(self, program):
        """The SoundFont's name for bank 0, `program` (0-127); MidiError if it has none."""
        check_program(program)
        name = self._synth.sfpreset_name(self._sfid, 0, program)
        if not name:
            raise MidiError(f"{self.soundfont}: no preset at bank 0, program {program}")
        return name

    def _mono(self, samples):
        """Run the synth for `samples` (a multiple of the block) -> float32 mono [samples]."""
        left = np.zeros(samples, np.float32)
        right = np.zeros(samples, np.float32)
        self._write_float(self._synth.synth, samples, left.ctypes.data, 0, 1, right.ctypes.data, 0, 1)
        return 0.5 * (left + right)

    def render(self, piece, program):
        """Piece, GM program (0-127) -> Rendering; the audio lasts the score plus tail_seconds."""
        self.preset_name(program)
        roll, events = score_events(piece, self.sample_rate, self.hop, self.tail_seconds)
        self._new_synth()
        for channel in sorted({event.channel for event in events}):
            self._synth.program_select(channel, self._sfid, 0, program)
        chunks, position = [], 0
        for event in events:
            if event.sample > position:
                chunks.append(self._mono(event.sample - position))
                position = event.sample
            if event.order == NOTE_ON:
                self._synth.noteon(event.channel, event.key, max(event.value, 1))
            elif event.order == NOTE_OFF:
                self._synth.noteoff(event.channel, event.key)
            elif event.control == SUSTAIN:
                self._synth.cc(event.channel, 64, event.value)
            else:
                self._synth.pitch_bend(event.channel, event.value)
        chunks.append(self._mono(len(roll) * self.hop - position))
        audio = np.concatenate(chunks)
        peak = float(np.abs(audio).max())
        if peak == 0.0:
            raise MidiError(
                f"{piece.ref.path}: renders as silence with program {program} of {self.soundfont}"
            )
        gain = PEAK_LEVEL / peak
        return Rendering(audio=audio * np.float32(gain), roll=roll, onsets=onset_roll(events, len(roll), self.hop),
                         gain=gain)

    def render_notes(self, program, notes, hold_samples, total_samples):
        """Isolated notes of one preset, as NSynth was recorded: for each (pitch, velocity), note-on
        at sample 0, note-off at hold_samples, total_samples in all (both multiples of the block).
        Yields raw float32 mono [total_samples], not normalised. One fresh synth per call, and every
        sound is cut between notes, so a call's output depends only on its arguments."""
        self.preset_name(program)
        if hold_samples % FLUID_BLOCK or total_samples % FLUID_BLOCK or not 0 < hold_samples <= total_samples:
            raise ValueError(f"hold {hold_samples} and total {total_samples} samples must be multiples of "
                             f"{FLUID_BLOCK} with 0 < hold <= total")
        self._new_synth()
        self._synth.program_select(0, self._sfid, 0, program)
        for pitch, velocity in notes:
            self._synth.noteon(0, int(pitch), int(velocity))
            held = self._mono(hold_samples)
            self._synth.noteoff(0, int(pitch))
            released = self._mono(total_samples - hold_samples)
            self._synth.all_sounds_off(0)
            self._mono(4 * FLUID_BLOCK)  # let the cut voices finish their fade before the next note
            yield np.concatenate([held, released])

    def close(self):
        self._synth.delete()


def check_program(program):
    if not isinstance(program, (int, np.integer)) or not 0 <= program <= 127:
        raise MidiError(f"a General MIDI preset (style) must be an integer 0-127, got {program!r}")
