import librosa
import numpy as np
import pytest
from conftest import C_MAJOR, write_midi

from nsynth_synth.data.render import PEAK_LEVEL, FluidSynthRenderer, bend_roll, score_events
from nsynth_synth.data.scores import ScoreRef, read_piece
from nsynth_synth.data.system import DEFAULT_SOUNDFONT
from nsynth_synth.errors import MidiError, SystemDependencyError


@pytest.fixture(scope="module")
def renderer():
    r = FluidSynthRenderer(DEFAULT_SOUNDFONT, tail_seconds=0.5)
    yield r
    r.close()


def scale_piece(tmp_path, **kwargs):
    path = write_midi(tmp_path / "scale.mid", C_MAJOR, **kwargs)
    return read_piece(ScoreRef("scale", path, "midi"))


def note_onsets(roll):
    """First frame of each note (the roll switching from no key to some key)."""
    return np.flatnonzero(np.diff(roll.any(axis=1).astype(int), prepend=0) == 1)


@pytest.mark.parametrize("program", [0, 24, 42, 56, 75, 80])
def test_rendered_pitch_matches_the_score(tmp_path, renderer, program):
    piece = scale_piece(tmp_path, note_seconds=0.4, gap_seconds=0.1)
    rendering = renderer.render(piece, program)
    assert len(rendering.audio) == len(rendering.roll) * renderer.hop
    assert np.abs(rendering.audio).max() == pytest.approx(PEAK_LEVEL, rel=1e-6)
    heard = []
    for frame in note_onsets(rendering.roll):
        steady = rendering.audio[frame * 64 + 800: frame * 64 + 800 + 4096]  # past the attack
        f0 = librosa.yin(steady, fmin=60, fmax=1100, sr=16000, frame_length=1024, hop_length=256, center=False)
        heard.append(int(np.round(librosa.hz_to_midi(np.median(f0)))))
    assert heard == C_MAJOR


def test_roll_onsets_match_audio_onsets(tmp_path, renderer):
    # Square lead (80): instant attack and release, so the audio's onset is unambiguous.
    piece = scale_piece(tmp_path, note_seconds=0.2, gap_seconds=0.3, start=0.1003)
    rendering = renderer.render(piece, 80)
    roll_onsets = note_onsets(rendering.roll) * 64
    envelope = np.abs(rendering.audio) > 0.02 * PEAK_LEVEL
    audio_onsets = np.flatnonzero(np.diff(envelope.astype(int), prepend=0) == 1)
    audio_onsets = [a for a in audio_onsets if not envelope[max(a - 400, 0):a].any()]  # first crossing after silence
    assert len(audio_onsets) == len(roll_onsets) == len(C_MAJOR)
    delays = np.array(audio_onsets) - roll_onsets
    assert np.all((0 <= delays) & (delays <= 16)), delays  # the voice starts on the roll's sample
    # Against the score, events moved by at most half a frame (32 samples).
    score_onsets = piece.notes["start"] * 16000
    assert np.abs(roll_onsets - score_onsets).max() <= 32


def test_dry_render_is_silent_after_release(tmp_path, renderer):
    piece = scale_piece(tmp_path, note_seconds=0.1)
    rendering = renderer.render(piece, 80)  # reverb would leave a tail here
    assert np.abs(rendering.audio[-2000:]).max() < 1e-4


def test_bad_presets_and_soundfonts(tmp_path, renderer):
    piece = scale_piece(tmp_path)
    for program in (128, -1, "42"):
        with pytest.raises(MidiError, match="0-127"):
            renderer.render(piece, program)
    with pytest.raises(SystemDependencyError, match="no such SoundFont"):
        FluidSynthRenderer(str(tmp_path / "missing.sf2"))
    with pytest.raises(ValueError, match="multiple of"):
        FluidSynthRenderer(DEFAULT_SOUNDFONT, hop=100)


def test_rendering_does_not_depend_on_what_was_rendered_before(tmp_path, renderer):
    piece = scale_piece(tmp_path)
    first = renderer.render(piece, 80)
    renderer.render(scale_piece(tmp_path, note_seconds=0.7), 42)
    np.testing.assert_array_equal(renderer.render(piece, 80).audio, first.audio)


def pedal_piece(tmp_path, bend=0):
    """A4 struck at 0.1 s and released at 0.3 s while the sustain pedal is down from 0.2 s to 0.7 s,
    then A4 again from 0.9 s to 1.0 s without the pedal; pitch bend `bend` from 0 s."""
    import pretty_midi

    midi = pretty_midi.PrettyMIDI(initial_tempo=120)
    part = pretty_midi.Instrument(program=80)
    part.notes += [pretty_midi.Note(100, 69, 0.1, 0.3), pretty_midi.Note(100, 69, 0.9, 1.0)]
    part.control_changes += [pretty_midi.ControlChange(64, 127, 0.2), pretty_midi.ControlChange(64, 0, 0.7)]
    if bend:
        part.pitch_bends.append(pretty_midi.PitchBend(bend, 0.0))
    midi.instruments.append(part)
    midi.write(str(tmp_path / "pedal.mid"))
    return read_piece(ScoreRef("pedal", str(tmp_path / "pedal.mid"), "midi"))


def test_the_sustain_pedal_holds_the_note_in_the_audio_and_the_roll(tmp_path, renderer):
    rendering = renderer.render(pedal_piece(tmp_path), 80)  # square lead: sounds exactly while held
    sounding = np.flatnonzero(rendering.roll[:, 69])
    frame = 16000 // 64
    # Held from 0.1 s to the pedal's lift at 0.7 s, not to the key's release at 0.3 s; then 0.9-1.0 s.
    assert list(sounding) == list(range(int(0.1 * frame), int(0.7 * frame))) + list(range(int(0.9 * frame), frame))
    envelope = np.abs(rendering.audio).reshape(-1, 64).max(axis=1) > 0.02 * PEAK_LEVEL
    assert envelope[int(0.1 * frame) + 1:int(0.7 * frame)].all()  # the audio holds it as long
    assert not envelope[int(0.85 * frame):int(0.9 * frame)].any()  # and releases (0.1 s) when the pedal lifts


def test_pitch_bend_is_played_and_the_roll_keeps_the_struck_key(tmp_path, renderer):
    rendering = renderer.render(pedal_piece(tmp_path, bend=4096), 80)  # +1 semitone (range 2)
    steady = rendering.audio[int(0.15 * 16000):int(0.15 * 16000) + 4096]
    f0 = librosa.yin(steady, fmin=200, fmax=1000, sr=16000, frame_length=1024, hop_length=256, center=False)
    assert int(np.round(librosa.hz_to_midi(np.median(f0)))) == 70
    assert rendering.roll[:, 69].any() and not rendering.roll[:, 70].any()
    # The bend roll says what FluidSynth played: the struck key up a semitone, from its note-on on.
    roll, events = score_events(pedal_piece(tmp_path, bend=4096), 16000, 64, 1.0)
    bends = bend_roll(events, len(roll), 64)
    assert bends.shape == roll.shape and np.allclose(bends[int(0.1 * 250):, 69], 1.0)
    assert not bends[:int(0.1 * 250)].any() and not bends[:, 70].any()
    assert bend_roll(score_events(pedal_piece(tmp_path), 16000, 64, 1.0)[1], len(roll), 64) is None
