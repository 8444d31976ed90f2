"""Generated scores that cover what people play on an instrument (`prepare bach --corpus coverage`).

Bach's music leaves most of an instrument unheard: BWV 1007 is one cello line over pitches 36-67 at
one velocity, never a chord. This material spans each style's playable range (PLAYABLE) with five
kinds of piece, each in VARIANTS variants:

  scales     a major scale up the whole range and down, a key a variant (circle of fifths)
  arpeggios  a major or minor triad broken up the whole range and down, each note ringing into
             the next (two keys at once), a root a variant (circle of fourths)
  repeats    three pitches a variant, each struck at every velocity at every length
  chords     2-4 note chords (intervals, triads, sevenths) walked up the range, held, released
  holds      single notes held 1 s and released into 0.75 s of silence (the release tail)

Velocities cycle through VELOCITIES note by note, so every kind is heard soft and loud. Everything
is deterministic: the same program always gives the same notes. Every piece is played only in its
own style. Splits are fixed per variant (SPLIT_OF_VARIANT): every kind of material has held-out
variants in validation and in test, in every style.
"""

import numpy as np

from nsynth_synth.data.scores import NOTE_DTYPE, Piece, ScoreRef

# Sounding ranges (MIDI pitches) of the SynthNet paper's seven styles, 0-based GM programs:
PLAYABLE = {
    1: (21, 108),   # Bright Acoustic Piano: the 88-key piano, A0-C8
    9: (79, 108),   # Glockenspiel: written G3-C6, sounding two octaves higher, G5-C8 (D. Darling,
                    # Encyclopedia of Music, "glockenspiel")
    24: (40, 83),   # Acoustic Guitar (nylon): open low E, E2, to the 19th fret of the high E string,
                    # B5 (sounding; guitar is written an octave higher)
    42: (36, 81),   # Cello: open C string, C2, to A5 (S. Adler, The Study of Orchestration, range chart)
    56: (52, 82),   # Trumpet in Bb: written F#3-C6, sounding a tone lower, E3-Bb5 (Adler, as above)
    75: (60, 103),  # Pan Flute: the Romanian concert panflute in C, c1-g4 in Helmholtz names, C4-G7
                    # (blackpencil.org, "Writing for panflute: types & tuning")
    80: (36, 96),   # Lead 1 (square): a synthesizer has no acoustic limit; the 61-key keyboard, C2-C7
}
DEFAULT_RANGE = (36, 96)  # every other program: the 61-key keyboard (C2-C7) most MIDI controllers have
VELOCITIES = (16, 40, 64, 88, 112, 127)
VARIANTS = 8
SPLIT_OF_VARIANT = ("train",) * 6 + ("validation", "test")
KINDS = ("scales", "arpeggios", "repeats", "chords", "holds")

MAJOR = (0, 2, 4, 5, 7, 9, 11)
SCALE_STEPS = (0.12, 0.18, 0.25)  # seconds a note, one per variant in turn
ARPEGGIO_STEP = 0.15
REPEAT_LENGTHS = (0.08, 0.2, 0.5)
REPEAT_GAP = 0.06  # a re-struck key needs a gap, or the piano roll shows one long note
CHORD_SHAPES = ((0, 4), (0, 7), (0, 12), (0, 4, 7), (0, 3, 7), (0, 4, 7, 12), (0, 4, 7, 10), (0, 3, 7, 10),
                (0, 4, 7, 11))
CHORD_SECONDS, CHORD_GAP, CHORD_ROOT_STEP = 0.6, 0.1, 5
HOLD_SECONDS, RELEASE_SECONDS, HOLD_PITCH_STEP = 1.0, 0.75, 7


def playable_range(program):
    """GM program (0-based) -> (lowest, highest) MIDI pitch its coverage material spans."""
    return PLAYABLE.get(program, DEFAULT_RANGE)


def _up_and_down(pitches):
    return list(pitches) + list(pitches[-2::-1])


def _scales(low, high, variant):
    key = variant * 7 % 12
    pitches = _up_and_down([p for p in range(low, high + 1) if (p - key) % 12 in MAJOR])
    step = SCALE_STEPS[variant % len(SCALE_STEPS)]
    return [(p, i * step, (i + 1) * step) for i, p in enumerate(pitches)]


def _arpeggios(low, high, variant):
    root = variant * 5 % 12
    triad = (0, 4, 7) if variant % 2 == 0 else (0, 3, 7)
    pitches = _up_and_down([p for p in range(low, high + 1) if (p - root) % 12 in triad])
    return [(p, i * ARPEGGIO_STEP, (i + 2) * ARPEGGIO_STEP) for i, p in enumerate(pitches)]


def _repeats(low, high, variant):
    span = high - low
    pitches = [low + round(span * (i + (variant + 0.5) / VARIANTS) / 3) for i in range(3)]
    notes, t = [], 0.0
    for pitch in pitches:
        for length in REPEAT_LENGTHS:
            for _ in VELOCITIES:
                notes.append((pitch, t, t + length))
                t += length + REPEAT_GAP
    return notes


def _chords(low, high, variant):
    notes, t = [], 0.0
    widest = max(max(shape) for shape in CHORD_SHAPES)
    for i, root in enumerate(range(low + variant % CHORD_ROOT_STEP, high - widest + 1, CHORD_ROOT_STEP)):
        for interval in CHORD_SHAPES[(i + variant) % len(CHORD_SHAPES)]:
            notes.append((root + interval, t, t + CHORD_SECONDS))
        t += CHORD_SECONDS + CHORD_GAP
    return notes


def _holds(low, high, variant):
    pitches = range(low + variant % HOLD_PITCH_STEP, high + 1, HOLD_PITCH_STEP)
    step = HOLD_SECONDS + RELEASE_SECONDS
    return [(p, i * step, i * step + HOLD_SECONDS) for i, p in enumerate(pitches)]


GENERATORS = {"scales": _scales, "arpeggios": _arpeggios, "repeats": _repeats, "chords": _chords, "holds": _holds}


def coverage_piece(program, kind, variant):
    """One generated Piece: `kind` (one of KINDS), variant 0..VARIANTS-1, over the program's range;
    played only in that program, in the split SPLIT_OF_VARIANT[variant]."""
    low, high = playable_range(program)
    events = GENERATORS[kind](low, high, variant)
    # Velocities cycle note by note (chord notes share their chord's), offset by the variant.
    onsets = sorted({start for _, start, _ in events})
    velocity_at = {start: VELOCITIES[(i + variant) % len(VELOCITIES)] for i, start in enumerate(onsets)}
    notes = np.array([(p, velocity_at[start], 0, start, end) for p, start, end in events], dtype=NOTE_DTYPE)
    name = f"coverage_gm{program:03d}_{kind}_{variant}"
    ref = ScoreRef(name, f"data_prep.coverage/{name}", "generated")
    return Piece(ref, np.sort(notes, order=["start", "pitch"]), programs=(program,),
                 split=SPLIT_OF_VARIANT[variant])


def coverage_pieces(programs):
    """Every kind and variant for each GM program, in a fixed order -> [Piece]."""
    return [coverage_piece(program, kind, variant) for program in programs for kind in KINDS
            for variant in range(VARIANTS)]
