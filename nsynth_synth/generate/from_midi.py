"""`nsynth-synth generate`: play a MIDI file with a trained model (a run directory, through the
cached-queue sampler, or an exported SavedModel, through its `generate` signature)."""

import math
import os
import warnings

import numpy as np
from tqdm import tqdm

from nsynth_synth.audio import write_wav
from nsynth_synth.data.heard import departures, model_heard
from nsynth_synth.data.pianoroll import roll_values
from nsynth_synth.errors import MidiError, NsynthSynthError
from nsynth_synth.fileio import check_output_file
from nsynth_synth.generate.segments import render_segments


def midi_roll(midi_path, sample_rate, hop, tail_seconds=1.0, values="binary"):
    """A MIDI file -> (float32 roll [frames, 128] of `values` ("binary" or "velocity"), the Piece);
    errors name the file. The roll is the one a Bach set stores for the same score: notes held
    under the sustain pedal sound on."""
    from nsynth_synth.data.render import score_events
    from nsynth_synth.data.scores import ScoreRef, read_piece

    if not os.path.isfile(midi_path):
        raise MidiError(f"{midi_path}: no such MIDI file")
    piece = read_piece(ScoreRef(os.path.splitext(os.path.basename(midi_path))[0], midi_path, "midi"))
    roll, _ = score_events(piece, sample_rate, hop, tail_seconds)
    return roll_values(roll, values), piece


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
    -> (run record, render). render(roll float32 [frames, 128], style_id, seed, temperature,
    progress) -> audio float32 [frames * hop]; style_id is None for a one-style model."""
    import tensorflow as tf

    from nsynth_synth.runs import is_run_dir, load_trained_model, read_export_record, resolve_export, saved_model_call
    from nsynth_synth.sampling.cached_queue import CachedQueueSampler

    folder = resolve_export(model_path)
    if folder is not None:
        record = read_export_record(folder)
        if not record.plays_midi:
            raise MidiError(f"{model_path}: an NSynth autoencoder, which plays codes, not MIDI "
                            "(its signatures: encode, decode)")
        call, hop = saved_model_call(folder), record.data["frame_hop"]

        def render(roll, style_id, seed, temperature, progress):
            return render_segments(call, roll, hop, record.export["max_frames"], seed=seed,
                                   temperature=temperature, style_id=style_id or 0, progress=progress)

        return record, render
    if not is_run_dir(model_path):
        raise MidiError(f"{model_path}: neither a run directory (config.json) nor a SavedModel from `nsynth-synth export`")
    model, config, record, _ = load_trained_model(model_path)
    sampler = CachedQueueSampler(model, config, upsample=record.train.upsample)
    hop = record.data["frame_hop"]

    def render(roll, style_id, seed, temperature, progress):
        num_samples = len(roll) * hop
        with tqdm(total=num_samples, desc="generating", unit="sample", unit_scale=True, disable=not progress) as bar:
            _, audio = sampler.generate(
                tf.constant(roll[None]), hop, num_samples, tf.constant([seed], tf.int32), temperature,
                None if style_id is None else tf.constant([style_id]), progress=lambda done: bar.update(done - bar.n),
            )
        return audio.numpy()[0]

    return record, render


def generate_midi(model_path, midi_path, out_path, *, style=None, seconds=None, seed=0, temperature=1.0,
                  plot=False, progress=True):
    """Render `midi_path` with a trained model (run directory or export) into a 16 kHz WAV at `out_path`.

    seconds: generate only the first `seconds` (default: the whole piece plus 1 s of tail).
    Returns a dict: samples, seconds, the WAV path, the plot path (if any), audio. Warns, naming
    them, of pitches, polyphony and velocities the model did not hear in training.
    """
    check_request(seconds, out_path)
    record, render = load_synthesizer(model_path)
    rate, hop = record.model.sample_rate, record.data["frame_hop"]
    roll, piece = midi_roll(midi_path, rate, hop, values=record.train.roll)
    # Only what is played is checked: the notes struck in the first `seconds`.
    notes = piece.notes if seconds is None else piece.notes[piece.notes["start"] < seconds]
    played = roll if seconds is None else roll[:max(-(-int(seconds * rate) // hop), 1)]
    for message in departures(notes["pitch"], notes["velocity"], played, rate / hop, model_heard(record.data, style)):
        warnings.warn(f"{midi_path}: {message}", stacklevel=2)
    title = f"{os.path.basename(midi_path)} by {record.train.preset}"
    return render_roll(render, record, roll, style, seconds, seed, temperature, out_path, plot, title, progress)


def generate_piece(model_path, data_dir, piece, out_path, *, style=None, seconds=None, seed=0, temperature=1.0,
                   plot=False, progress=True):
    """Like generate_midi, for a piece of a built Bach set (its piano roll), and also scores the
    result by RMSE-CQT against the set's rendering of that piece in the same style, beside that
    rendering's noise floor (the result's rmse_cqt, noise_rmse_cqt, silence_rmse_cqt, minus_noise)."""
    from nsynth_synth.data.bach import read_manifest, whole_pieces
    from nsynth_synth.metrics.rmse_cqt import against_floor, noise_floor, rmse_cqt

    check_request(seconds, out_path)
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
    roll = example["piano_roll"].numpy()
    title = f"{piece} (style {program}) by {record.train.preset}"
    result = render_roll(render, record, roll, program if record.model.num_styles else style, seconds, seed,
                     temperature, out_path, plot, title, progress)
    reference = example["audio"].numpy()[:result["samples"]]
    result.update(against_floor(rmse_cqt(result["audio"], reference), noise_floor(reference)))
    return result


def render_roll(render, record, roll, style, seconds, seed, temperature, out_path, plot, title, progress):
    """Play a frame roll [frames, 128] (cut or padded with silence to `seconds`; None: all of it)
    with a synthesizer from load_synthesizer and write the WAV (and, with plot, its constant-Q
    plot) -> {"wav", "samples", "seconds", "audio"[, "plot"]}."""
    hop, rate = record.data["frame_hop"], record.model.sample_rate
    num_samples = len(roll) * hop if seconds is None else int(seconds * rate)
    if num_samples < 1:
        raise NsynthSynthError(f"--seconds {seconds:g} is shorter than one sample (1/{rate} s)")
    frames = -(-num_samples // hop)
    # Past the roll's end nothing is played.
    roll = np.pad(roll[:frames], [(0, max(frames - len(roll), 0)), (0, 0)]).astype(np.float32)
    audio = render(roll, style_id_for(record, style), seed, temperature, progress)[:num_samples]
    write_wav(out_path, audio, rate)
    result = {"wav": out_path, "samples": len(audio), "seconds": len(audio) / rate, "audio": audio}
    if plot:
        from nsynth_synth.metrics.plots import save_cqt_plot

        result["plot"] = os.path.splitext(out_path)[0] + ".cqt.png"
        save_cqt_plot(audio, result["plot"], title)
    return result
