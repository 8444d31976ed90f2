"""`nsynth-synth generate`: play a MIDI file with a trained model (a run directory or an exported
SavedModel), through its kind's generation stage (models/<kind>/generation.py): SynthNet's
cached-queue sampler, the harmonic kind's block synthesis. A style for the whole file, or one for
each of its tracks; the WAV at the model's rate or resampled to another."""

import math
import os
import warnings

import numpy as np

from nsynth_synth.audio import PEAK_LEVEL, peak_rule, resample, write_wav
from nsynth_synth.data.heard import departures, model_heard
from nsynth_synth.data.pianoroll import roll_values
from nsynth_synth.errors import MidiError, NsynthSynthError
from nsynth_synth.fileio import check_output_file

OUTPUT_RATES = (16000, 22050, 44100, 48000)  # --sample-rate: what a WAV may be written at


def midi_roll(midi_path, sample_rate, hop, tail_seconds=1.0, values="binary"):
    """A MIDI file -> (float32 roll [frames, 128] of `values` ("binary" or "velocity"), float32
    onsets [frames, 128] (1 where a key is struck), float32 bends [frames, 128] (semitones) or None
    when it never bends, the Piece); errors name the file. Roll and onsets are the ones a Bach set
    stores for the same score: notes held under the sustain pedal sound on."""
    from nsynth_synth.data.scores import ScoreRef, read_piece

    if not os.path.isfile(midi_path):
        raise MidiError(f"{midi_path}: no such MIDI file")
    piece = read_piece(ScoreRef(os.path.splitext(os.path.basename(midi_path))[0], midi_path, "midi"))
    return (*piece_roll(piece, sample_rate, hop, tail_seconds, values), piece)


def piece_roll(piece, sample_rate, hop, tail_seconds=1.0, values="binary"):
    """A Piece -> (float32 roll [frames, 128] of `values`, float32 onsets [frames, 128], float32
    bends [frames, 128] in semitones or None: data.render's onset_roll and bend_roll)."""
    from nsynth_synth.data.render import bend_roll, onset_roll, score_events

    roll, events = score_events(piece, sample_rate, hop, tail_seconds)
    return (roll_values(roll, values), onset_roll(events, len(roll), hop).astype(np.float32),
            bend_roll(events, len(roll), hop))


def check_request(seconds, out_path):
    """Refuse, before a model loads, a span or an output path that cannot give a WAV."""
    check_output_file(out_path)
    if seconds is not None and not (math.isfinite(seconds) and seconds > 0):
        raise NsynthSynthError(f"--seconds must be a positive number of seconds, got {seconds:g}")


def style_id_for(record, program):
    """GM program -> the run's style id; None for a model without styles."""
    styles = record.data["styles"]
    if not record.model.num_styles:
        trained = list(record.train.styles or [s["program"] for s in styles])
        if program is not None and program not in trained:
            raise MidiError(f"this model was trained on style {trained} only, not {program}")
        return None
    by_program = {s["program"]: s["style_id"] for s in styles}
    if program is None:
        raise MidiError(f"this model plays several styles; choose one with --style from {sorted(by_program)}")
    if program not in by_program:
        raise MidiError(f"--style {program} is not one of the model's styles {sorted(by_program)}")
    return by_program[program]


def load_synthesizer(model_path):
    """A run directory or an export (a SavedModel folder, or a folder of versions: the newest)
    -> (run record, render), render from its kind's generation stage: render(roll float32 [frames,
    128], onsets float32 [frames, 128], num_samples, style_id, seed, temperature, progress,
    bends=None) -> audio float32 [num_samples]; style_id is None for a one-style model; bends
    (semitones [frames, 128]) are played where the stage's PITCH_BEND says so."""
    from nsynth_synth.runs import is_run_dir, load_trained_model, read_export_record, resolve_export

    folder = resolve_export(model_path)
    if folder is not None:
        record = read_export_record(folder)
        return record, _generation(model_path, record).export_synthesizer(folder, record)
    if not is_run_dir(model_path):
        raise MidiError(f"{model_path}: neither a run directory (config.json) nor a SavedModel from `nsynth-synth export`")
    model, config, record, _ = load_trained_model(model_path)
    return record, _generation(model_path, record).synthesizer(model, config, record)


def _generation(model_path, record):
    generation = record.kind.stage("generation")
    if generation is None:
        raise MidiError(f"{model_path}: a {record.kind.name} model, which does not play MIDI "
                        "(an NSynth autoencoder plays codes: encode, decode)")
    return generation


def generate_midi(model_path, midi_path, out_path, *, style=None, track_styles=None, seconds=None, seed=0,
                  temperature=1.0, sample_rate=None, plot=False, progress=True):
    """Render `midi_path` with a trained model (run directory or export) into a WAV at `out_path`.

    style: the GM program of a several-style model; track_styles: one per pitched track (part) of
    the file, in order, each track played in its own style and the tracks mixed (a chorale's four
    voices as four instruments of one model). seconds: only the first `seconds` (default: the whole
    piece plus 1 s of tail). sample_rate: write the WAV at this rate (resampled; default the model's).
    Returns a dict: samples, seconds, the WAV path, the plot path (if any), audio (at the model's
    rate). Warns, naming them, of pitches, polyphony and velocities the model did not hear in
    training.
    """
    from nsynth_synth.data.scores import split_parts

    check_request(seconds, out_path)
    check_sample_rate(sample_rate)
    record, render = load_synthesizer(model_path)
    rate, hop = record.model.sample_rate, record.data["frame_hop"]
    *_, piece = midi_roll(midi_path, rate, hop, values=record.train.roll)
    parts = split_parts(piece) if track_styles else [piece]
    if track_styles and len(track_styles) != len(parts):
        raise MidiError(f"{midi_path}: --track-styles gives {len(track_styles)} styles for its {len(parts)} pitched "
                        "tracks; give one a track")
    tracks = []
    for part, program in zip(parts, track_styles or [style]):
        roll, onsets, bends = piece_roll(part, rate, hop, values=record.train.roll)
        # Only what is played is checked: the notes struck in the first `seconds`.
        notes = part.notes if seconds is None else part.notes[part.notes["start"] < seconds]
        played = roll if seconds is None else roll[:max(-(-int(seconds * rate) // hop), 1)]
        for message in departures(notes["pitch"], notes["velocity"], played, rate / hop,
                                  model_heard(record.data, program)):
            warnings.warn(f"{midi_path}: {message}", stacklevel=2)
        tracks.append((roll, onsets, bends, program))
    title = f"{os.path.basename(midi_path)} by {record.train.preset}"
    return render_roll(render, record, tracks, seconds, seed, temperature, out_path, plot, title, progress,
                       sample_rate)


def check_sample_rate(sample_rate):
    if sample_rate is not None and sample_rate not in OUTPUT_RATES:
        raise NsynthSynthError(f"--sample-rate must be one of {', '.join(map(str, OUTPUT_RATES))}, got {sample_rate}")


def generate_piece(model_path, data_dir, piece, out_path, *, style=None, seconds=None, seed=0, temperature=1.0,
                   sample_rate=None, plot=False, progress=True):
    """Like generate_midi, for a piece of a built Bach set (its piano roll and onsets), and also
    scores the result by RMSE-CQT against the set's rendering of that piece in the same style, beside
    that rendering's floors (the result's rmse_cqt, noise_rmse_cqt, silence_rmse_cqt, late_rmse_cqt,
    minus_noise)."""
    from nsynth_synth.data.bach import read_manifest, whole_pieces
    from nsynth_synth.metrics.rmse_cqt import against_floor, noise_floor, rmse_cqt

    check_request(seconds, out_path)
    check_sample_rate(sample_rate)
    record, render = load_synthesizer(model_path)
    manifest = read_manifest(data_dir)
    entry = next((p for p in manifest["pieces"] if p["name"] == piece), None)
    if entry is None:
        raise MidiError(f"{data_dir} has no piece {piece!r}; it has {[p['name'] for p in manifest['pieces']]}")
    program = style if style is not None else (record.train.styles or [manifest["styles"][0]["program"]])[0]
    example = next(
        (ex for ex in whole_pieces(data_dir, split=entry["split"], styles=[program], roll=record.train.roll)
         if ex["piece"].numpy().decode() == piece),
        None,
    )
    if example is None:
        raise MidiError(f"{data_dir} has no rendering of {piece!r} in style {program}")
    title = f"{piece} (style {program}) by {record.train.preset}"
    tracks = [(example["piano_roll"].numpy(), example["onsets"].numpy(), None,
               program if record.model.num_styles else style)]
    result = render_roll(render, record, tracks, seconds, seed, temperature, out_path, plot, title, progress,
                         sample_rate)
    reference = example["audio"].numpy()[:result["samples"]]
    result.update(against_floor(rmse_cqt(result["audio"], reference), noise_floor(reference)))
    return result


def render_roll(render, record, tracks, seconds, seed, temperature, out_path, plot, title, progress,
                sample_rate=None):
    """Play tracks [(frame roll [frames, 128], onsets [frames, 128], bends [frames, 128] or None, GM
    program or None)], each cut or
    padded with silence to `seconds` (None: all of the longest), with a synthesizer from
    load_synthesizer, mix them and write the WAV at sample_rate (None: the model's; and, with plot,
    its constant-Q plot) -> {"wav", "samples", "seconds", "sample_rate", "audio" (at the model's
    rate)[, "plot"]}. A kind whose generation plays at its learned level (PEAK_RULE) gets the
    builder's peak rule over the whole mix; a mix of tracks that would clip is scaled to it too."""
    hop, rate = record.data["frame_hop"], record.model.sample_rate
    whole = max(len(track[0]) for track in tracks) * hop
    num_samples = whole if seconds is None else int(seconds * rate)
    if num_samples < 1:
        raise NsynthSynthError(f"--seconds {seconds:g} is shorter than one sample (1/{rate} s)")
    generation = record.kind.stage("generation")
    learned_level = generation.PEAK_RULE
    if not generation.PITCH_BEND and any(bends is not None for _, _, bends, _ in tracks):
        warnings.warn(f"the score bends its pitch; a {record.kind.name} model's piano roll has no pitch bend, so it "
                      "plays the struck keys", stacklevel=2)
    # Under the peak rule the whole piece is rendered (cheap for such kinds), so its peak sets the level.
    rendered = max(whole, num_samples) if learned_level else num_samples
    audio = np.zeros(rendered, np.float32)
    for roll, onsets, bends, program in tracks:
        audio += render(roll, onsets, rendered, style_id_for(record, program), seed, temperature, progress, bends)
    if learned_level or (len(tracks) > 1 and np.abs(audio).max() > PEAK_LEVEL):
        audio = peak_rule(audio)
    audio = audio[:num_samples]
    out_rate = sample_rate or rate
    write_wav(out_path, audio if out_rate == rate else resample(audio, rate, out_rate), out_rate)
    result = {"wav": out_path, "samples": len(audio), "seconds": len(audio) / rate, "sample_rate": out_rate,
              "audio": audio}
    if plot:
        from nsynth_synth.metrics.plots import save_cqt_plot

        result["plot"] = os.path.splitext(out_path)[0] + ".cqt.png"
        save_cqt_plot(audio, result["plot"], title)
    return result
