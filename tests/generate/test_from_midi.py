"""`generate` warns, naming them, of what a score holds that the model never heard."""

import warnings

import pretty_midi
import pytest

from nsynth_synth.generate.from_midi import generate_midi


def chord_midi(path):
    """A three-note chord at velocity 30 (0.2 s), then at 0.3 s pitch 100 at velocity 100."""
    midi = pretty_midi.PrettyMIDI(initial_tempo=120)
    part = pretty_midi.Instrument(program=0)
    part.notes += [pretty_midi.Note(30, pitch, 0.0, 0.2) for pitch in (60, 64, 67)]
    part.notes.append(pretty_midi.Note(100, 100, 0.3, 0.4))
    midi.instruments.append(part)
    midi.write(str(path))
    return str(path)


def test_generate_names_pitches_polyphony_and_velocities_it_never_heard(style_runs, tmp_path):
    run = style_runs[1]  # GM 80 on the tiny scores: pitches 48-72, one key at a time, velocity 100
    midi = chord_midi(tmp_path / "chord.mid")
    with pytest.warns(UserWarning) as caught:
        generate_midi(run, midi, str(tmp_path / "all.wav"), seconds=0.35, progress=False)
    messages = [str(w.message) for w in caught]
    assert f"{midi}: pitches [100] lie outside the training pieces' range 48-72; the model has not heard them" \
        in messages
    assert (f"{midi}: up to 3 keys sound at once (first more than 1 at 0.00 s), but the training pieces never held "
            "more than 1") in messages
    assert f"{midi}: velocities [30] lie outside the training pieces' range 100-100" in messages
    # Only what is played is checked: the first 0.25 s hold no pitch 100.
    with warnings.catch_warnings(record=True) as first_second:
        warnings.simplefilter("always")
        generate_midi(run, midi, str(tmp_path / "first.wav"), seconds=0.25, progress=False)
    assert not any(": pitches [" in str(w.message) for w in first_second)
    assert any("3 keys sound at once" in str(w.message) for w in first_second)
