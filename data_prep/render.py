"""Render a Piece with FluidSynth: dry, mono, at 16 kHz, every part on one General MIDI preset.

Timing: FluidSynth applies events at the start of its 64-sample blocks. Note times are rounded to
frame boundaries (a multiple of 64 samples) and the synth is run block-aligned up to each event,
so every voice starts and stops on exactly the sample where the piano roll switches
(see nsynth_synth.data.pianoroll for the bound against the score).
"""

import ctypes
import dataclasses

import numpy as np

from data_prep.system import import_fluidsynth, require_soundfont
from nsynth_synth.data.pianoroll import roll_from_notes
from nsynth_synth.errors import MidiError

FLUID_BLOCK = 64  # FluidSynth's internal block size (FLUID_BUFSIZE)
PEAK_LEVEL = 0.9  # every rendering is scaled to this peak (-0.9 dBFS)
DRUM_CHANNEL = 9
CHANNELS = [c for c in range(16) if c != DRUM_CHANNEL]


@dataclasses.dataclass(frozen=True)
class Rendering:
    """audio: float32 [frames * hop], peak PEAK_LEVEL; roll: bool [frames, 128]; gain: the factor
    that scaled FluidSynth's output to the peak."""

    audio: np.ndarray
    roll: np.ndarray
    gain: float


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
        notes = piece.notes
        roll, on, off = roll_from_notes(notes["pitch"], notes["start"], notes["end"], self.sample_rate, self.hop,
                                        self.tail_seconds)
        num_frames = len(roll)
        parts = np.unique(notes["part"])
        channel_of = {part: CHANNELS[i % len(CHANNELS)] for i, part in enumerate(parts)}
        self._new_synth()
        for channel in channel_of.values():
            self._synth.program_select(channel, self._sfid, 0, program)
        # At equal times note-offs go first, so a repeated key is released before it is struck.
        events = sorted(
            [(int(f) * self.hop, 0, channel_of[n["part"]], int(n["pitch"]), 0) for n, f in zip(notes, off)]
            + [(int(f) * self.hop, 1, channel_of[n["part"]], int(n["pitch"]), int(n["velocity"])) for n, f in zip(notes, on)]
        )
        chunks, position = [], 0
        for sample, is_on, channel, pitch, velocity in events:
            if sample > position:
                chunks.append(self._mono(sample - position))
                position = sample
            if is_on:
                self._synth.noteon(channel, pitch, max(velocity, 1))
            else:
                self._synth.noteoff(channel, pitch)
        chunks.append(self._mono(num_frames * self.hop - position))
        audio = np.concatenate(chunks)
        peak = float(np.abs(audio).max())
        if peak == 0.0:
            raise MidiError(
                f"{piece.ref.path}: renders as silence with program {program} of {self.soundfont}"
            )
        gain = PEAK_LEVEL / peak
        return Rendering(audio=audio * np.float32(gain), roll=roll, gain=gain)

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
