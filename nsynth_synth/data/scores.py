"""Scores to play: MIDI files and folders, and the Bach chorales that music21 ships (generated
material is in data_prep.coverage).

Every source ends as a Piece: a name, where it came from, the sha256 of its bytes and its notes
(pitch, velocity, part, start and end in seconds). Drum tracks are left out: a style plays every
pitched part with one preset.
"""

import dataclasses
import hashlib
import io
import os
import warnings
import zlib

import numpy as np

from nsynth_synth.errors import MidiError

NOTE_DTYPE = np.dtype(
    [("pitch", np.int16), ("velocity", np.int16), ("part", np.int16), ("start", np.float64), ("end", np.float64)]
)
# What a score plays besides notes: the sustain pedal (CC 64, down while its value is >= 64) and
# pitch bend (-8192..8191, 0 is none), each on a part, at a time in seconds.
CONTROL_DTYPE = np.dtype([("part", np.int16), ("time", np.float64), ("control", np.int8), ("value", np.int16)])
SUSTAIN, PITCH_BEND = 0, 1
MIDI_SUFFIXES = (".mid", ".midi")
CHORALE_SUFFIXES = (".mxl", ".xml", ".krn")  # music21's Bach folder also holds .rntxt analyses


@dataclasses.dataclass(frozen=True)
class ScoreRef:
    """A score not yet read. kind: "midi" (a file), "music21" (a corpus file, read by music21) or
    "generated" (no file: path names the generator)."""

    name: str
    path: str
    kind: str

    def sha256(self):
        with open(self.path, "rb") as f:
            return hashlib.sha256(f.read()).hexdigest()


@dataclasses.dataclass(frozen=True)
class Piece:
    """programs: the GM programs it is played in (None: every style of the set); split: its fixed
    split (None: assign_splits decides by name)."""

    ref: ScoreRef
    notes: np.ndarray  # NOTE_DTYPE [notes], sorted by start
    programs: tuple | None = None
    split: str | None = None
    controls: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(0, CONTROL_DTYPE))  # sorted by time

    def sha256(self):
        """Of the score file; a generated piece has none, so of its notes."""
        if self.ref.kind == "generated":
            return hashlib.sha256(self.notes.tobytes()).hexdigest()
        return self.ref.sha256()

    @property
    def name(self):
        return self.ref.name

    @property
    def end_seconds(self):
        return float(self.notes["end"].max())


def split_parts(piece):
    """A Piece -> one Piece for each of its pitched parts (tracks), in part order, each with its
    part's notes and controls."""
    return [dataclasses.replace(piece, notes=piece.notes[piece.notes["part"] == part],
                                controls=piece.controls[piece.controls["part"] == part])
            for part in np.unique(piece.notes["part"])]


def midi_refs(paths):
    """Files or folders (searched recursively for .mid/.midi) -> [ScoreRef] sorted by name."""
    refs = []
    for path in paths:
        if os.path.isdir(path):
            found = sorted(
                os.path.join(root, name)
                for root, _, names in os.walk(path)
                for name in names
                if name.lower().endswith(MIDI_SUFFIXES)
            )
            if not found:
                raise MidiError(f"{path}: folder holds no MIDI files (*.mid, *.midi)")
        elif os.path.isfile(path):
            found = [path]
        else:
            raise MidiError(f"{path}: no such MIDI file or folder")
        refs.extend(ScoreRef(os.path.splitext(os.path.basename(f))[0], f, "midi") for f in found)
    names = [ref.name for ref in refs]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise MidiError(f"two MIDI files share the piece name(s) {duplicates}; rename one of each")
    return sorted(refs, key=lambda ref: ref.name)


def chorale_refs(limit=None):
    """The Bach chorales in music21's corpus -> [ScoreRef] sorted by name.

    `limit` picks that many spread evenly over the sorted list (deterministic).
    """
    from music21 import corpus

    by_name = {}
    for path in sorted(corpus.getComposer("bach"), key=str):
        if path.suffix in CHORALE_SUFFIXES:
            # One score per chorale: prefer MusicXML over the few Humdrum duplicates.
            by_name.setdefault(path.stem, ScoreRef(path.stem, str(path), "music21"))
    refs = sorted(by_name.values(), key=lambda ref: ref.name)
    if limit is not None:
        if limit < 1:
            raise MidiError(f"--limit must be at least 1, got {limit}")
        count = min(limit, len(refs))
        refs = [refs[i * len(refs) // count] for i in range(count)]
    return refs


def _midi_bytes(ref):
    if ref.kind == "music21":
        from music21 import converter, midi

        score = converter.parse(ref.path)
        return midi.translate.music21ObjectToMidiFile(score).writestr()
    with open(ref.path, "rb") as f:
        return f.read()


def read_piece(ref):
    """ScoreRef -> Piece; MidiError naming the file if it cannot be read or has no pitched notes."""
    import pretty_midi

    try:
        data = _midi_bytes(ref)
        with warnings.catch_warnings():
            # LilyPond writes tempo events on the instrument track; pretty_midi reads them right
            # (the shared BWV 1007 durations match) but warns on every file.
            warnings.filterwarnings("ignore", message="Tempo, Key or Time signature change")
            midi = pretty_midi.PrettyMIDI(io.BytesIO(data))
    except Exception as error:  # mido, pretty_midi and music21 raise many unrelated types
        raise MidiError(f"{ref.path}: not a readable score ({type(error).__name__}: {error})") from error
    parts = list(enumerate(i for i in midi.instruments if not i.is_drum))
    rows = [
        (note.pitch, note.velocity, part, note.start, note.end)
        for part, instrument in parts
        for note in instrument.notes
        if note.end > note.start
    ]
    if not rows:
        raise MidiError(f"{ref.path}: the score has no pitched notes to play")
    notes = np.array(rows, dtype=NOTE_DTYPE)
    controls = np.array(
        [(part, c.time, SUSTAIN, c.value) for part, instrument in parts for c in instrument.control_changes
         if c.number == 64]
        + [(part, b.time, PITCH_BEND, b.pitch) for part, instrument in parts for b in instrument.pitch_bends],
        dtype=CONTROL_DTYPE)
    # In file order at equal times: a pedal lifted and pressed on one tick stays pressed.
    controls = controls[np.argsort(controls["time"], kind="stable")]
    return Piece(ref, np.sort(notes, order=["start", "pitch"]), controls=controls)


def is_bwv1007(name):
    return "bwv1007" in name.lower()


TEST_FROM = 10  # score pieces a set needs before a tenth of them is held out for test


def default_validation(names):
    """Validation pieces when none are named.

    BWV 1007's parts follow the SynthNet paper in any set: the Prelude (part 1) validates. Every
    other piece is held out when its name hashes (crc32) to 0 mod 10, about a tenth, stable
    whatever --limit is; a set of two or more pieces always holds out at least one (the last by name).
    """
    held = [n for n in names if is_bwv1007(n) and ("prelude" in n.lower() or "_1_" in n)]
    held += [n for n in names if not is_bwv1007(n) and zlib.crc32(n.encode()) % 10 == 0]
    if not held and len(names) >= 2:
        held = [sorted(names)[-1]]
    return held


def default_test(names):
    """Test pieces when no validation is named: BWV 1007's Gigue (unused by the paper) and, in a set
    of TEST_FROM or more pieces, every other piece whose name hashes (crc32) to 1 mod 10, another
    tenth, so the test split holds music of the same kind as the training pieces."""
    tested = [n for n in names if is_bwv1007(n) and ("gigue" in n.lower() or "_7_" in n)]
    if len(names) >= TEST_FROM:
        tested += [n for n in names if not is_bwv1007(n) and zlib.crc32(n.encode()) % 10 == 1]
    return tested


def assign_splits(names, validation=None):
    """Piece names -> {name: "train" | "validation" | "test"}.

    Without --validation, default_validation and default_test decide; a named --validation holds
    out exactly those pieces and nothing for test.
    The train split is never empty: when the default rule would hold out every piece (a set of
    one piece), the first by name trains and the set has no validation split; a --validation
    naming every piece is refused.
    """
    held = default_validation(names) if validation is None else list(validation)
    tested = set(default_test(names)) - set(held) if validation is None else set()
    unknown = sorted(set(held) - set(names))
    if unknown:
        raise MidiError(f"--validation names {unknown}, which are not among the pieces {sorted(names)}")
    splits = {}
    for name in names:
        if name in held:
            splits[name] = "validation"
        elif name in tested:
            splits[name] = "test"
        else:
            splits[name] = "train"
    if "train" not in splits.values():
        if validation is not None:
            raise MidiError(f"--validation {sorted(held)} holds out every piece; leave at least one to train on")
        splits[sorted(names)[0]] = "train"
    return splits
