"""The SynthNet paper's Tables 3-4 (`evaluate rmse-cqt`): RMSE-CQT of generated audio against the
rendering of the same score, as the mean and 95% confidence interval over sampling seeds.

Three ways in: two audio files (any rate and channels, brought to 16 kHz mono); a model and a
Bach set (every piece of a split in every style the model plays); a model, a MIDI file and its
rendering. The model is a run directory or an export; it generates the first `seconds` of each
score once per seed.
"""

import os

import numpy as np
from tqdm import tqdm

from nsynth_synth.audio import load_audio, write_wav
from nsynth_synth.errors import AudioError, NsynthSynthError
from nsynth_synth.evaluation.report import markdown_table, write_report
from nsynth_synth.metrics.rmse_cqt import CQT, SAMPLE_RATE, against_floor, noise_floor, rmse_cqt
from nsynth_synth.metrics.stats import format_mean_ci, mean_ci

FLOOR_KEYS = ("noise_rmse_cqt", "silence_rmse_cqt", "late_rmse_cqt")


def load_scored_audio(path):
    """A WAV (any rate and channels) -> float32 mono [samples] at 16 kHz; AudioError naming the
    file when it is missing, unreadable, or too short to score."""
    audio = load_audio(path, SAMPLE_RATE)
    if len(audio) < CQT["hop_length"]:
        held = "no audio" if len(audio) == 0 else f"only {len(audio)} samples at {SAMPLE_RATE} Hz"
        raise AudioError(f"{path}: holds {held}; RMSE-CQT needs at least {CQT['hop_length']}")
    return audio


def rmse_cqt_files(generated_path, reference_path):
    """RMSE-CQT of two audio files, each brought to 16 kHz mono (the longer cut to the shorter),
    beside the reference's noise floor -> {"rmse_cqt", "noise_rmse_cqt", "silence_rmse_cqt",
    "minus_noise"}."""
    generated, reference = load_scored_audio(generated_path), load_scored_audio(reference_path)
    reference = reference[:len(generated)]
    return against_floor(rmse_cqt(generated, reference), noise_floor(reference))


def model_styles(record):
    """The GM programs a synthesizer's run record says it plays."""
    return list(record.train.styles or [s["program"] for s in record.data["styles"]])


def _score_seeds(render, record, roll, onsets, bends, program, reference, seeds, seconds, temperature, out_dir, stem,
                 progress):
    """Generate the roll's first `seconds` once per seed -> (rows [{seed, rmse_cqt, minus_noise,
    wav}], the reference's noise_floor); writes STEM_seedS.wav, STEM_reference.wav and STEM.png
    (the rendering above the first seed's CQT)."""
    from nsynth_synth.generate.from_midi import render_roll
    from nsynth_synth.metrics.plots import save_cqt_plot

    rate = record.model.sample_rate
    reference = reference[:int(round(seconds * rate))]
    floor = noise_floor(reference, rate)
    rows, first = [], None
    for seed in seeds:
        wav = f"{stem}_seed{seed}.wav"
        result = render_roll(render, record, [(roll, onsets, bends, program)], seconds, seed, temperature,
                             os.path.join(out_dir, wav), False, stem, progress)
        score = against_floor(rmse_cqt(result["audio"], reference, rate), floor)
        rows.append({"seed": seed, "rmse_cqt": score["rmse_cqt"], "minus_noise": score["minus_noise"], "wav": wav})
        first = result["audio"] if first is None else first
    write_wav(os.path.join(out_dir, f"{stem}_reference.wav"), reference, rate)
    save_cqt_plot([("rendering (ground truth)", reference), (f"generated, seed {seeds[0]}", first)],
                  os.path.join(out_dir, f"{stem}.png"), stem)
    return rows, floor


def _report(out_dir, title, intro, scores, settings):
    """scores [{piece, program, rows, plot, noise_rmse_cqt, silence_rmse_cqt, late_rmse_cqt}] ->
    results; writes the tables per score and per style, each score beside its floors."""
    for score in scores:
        score["summary"] = mean_ci([row["rmse_cqt"] for row in score["rows"]])
        score["minus_noise"] = mean_ci([row["minus_noise"] for row in score["rows"]])
    programs = sorted({score["program"] for score in scores})
    styles, floors = {}, {}
    for p in programs:
        ours = [s for s in scores if s["program"] == p]
        styles[str(p)] = mean_ci([row["rmse_cqt"] for s in ours for row in s["rows"]])
        # Each generation counts once, against its own piece's floor.
        floors[str(p)] = {key: float(np.mean([s[key] for s in ours for _ in s["rows"]]))
                          for key in FLOOR_KEYS}
        floors[str(p)]["minus_noise"] = mean_ci([row["minus_noise"] for s in ours for row in s["rows"]])
    per_score = markdown_table(
        ["piece", "style (GM program)", "RMSE-CQT (mean ± 95% CI)", "model - noise", "noise", "silence",
         "20 ms late", "per seed", "plot"],
        [[s["piece"], s["program"], format_mean_ci(s["summary"]), format_mean_ci(s["minus_noise"]),
          f"{s['noise_rmse_cqt']:.2f}", f"{s['silence_rmse_cqt']:.2f}", f"{s['late_rmse_cqt']:.2f}",
          ", ".join(f"[{row['rmse_cqt']:.2f}]({row['wav']})" for row in s["rows"]), f"[cqt]({s['plot']})"]
         for s in scores])
    per_style = markdown_table(
        ["style (GM program)", "RMSE-CQT (mean ± 95% CI)", "model - noise", "noise", "silence", "20 ms late",
         "scores"],
        [[p, format_mean_ci(summary), format_mean_ci(floors[p]["minus_noise"]), f"{floors[p]['noise_rmse_cqt']:.2f}",
          f"{floors[p]['silence_rmse_cqt']:.2f}", f"{floors[p]['late_rmse_cqt']:.2f}", summary["n"]]
         for p, summary in styles.items()])
    sections = [intro, "## Per piece and style", per_score, "## Per style, over all pieces and seeds", per_style,
                "Lower is better; identical audio scores 0, and the SynthNet paper's good line is 10. Noise is white "
                "noise at the reference's RMS (a fixed seed), silence is silence and 20 ms late is the reference "
                "itself played 20 ms late, each scored against the same reference: a model beats noise where "
                "model - noise is negative (per style: the mean over pieces)."]
    results = {**settings, "scores": scores, "styles": styles, "styles_floor": floors}
    write_report(out_dir, title, sections, results)
    return results


def score_bach_set(model_path, data_dir, out_dir, split="validation", seconds=1.0, seeds=(0, 1, 2, 3, 4),
                   styles=None, temperature=1.0, progress=True, pieces=None):
    """Tables 3-4: every piece of `split` (or those of it named in `pieces`) in every style (GM
    programs; default: all the model plays), generated once per seed and scored against the set's
    rendering -> results dict; writes the report folder out_dir."""
    from nsynth_synth.data.bach import read_manifest, whole_pieces
    from nsynth_synth.generate.from_midi import load_synthesizer, style_id_for

    _check(seconds, seeds)
    record, render = load_synthesizer(model_path)
    programs = list(styles) if styles else model_styles(record)
    for program in programs:
        style_id_for(record, program)  # fails for a style the model does not play
    manifest = read_manifest(data_dir)
    if pieces is not None:
        in_split = {p["name"] for p in manifest["pieces"] if p["split"] == split}
        missing = sorted(set(pieces) - in_split)
        if missing:
            raise NsynthSynthError(f"{data_dir}: the {split} split has no piece {', '.join(missing)}")
    program_of = {s["style_id"]: s["program"] for s in manifest["styles"]}
    examples = [example for example in
                whole_pieces(data_dir, split=split, styles=programs, roll=record.train.roll).as_numpy_iterator()
                if pieces is None or example["piece"].decode() in pieces]
    if not examples:
        raise NsynthSynthError(f"{data_dir}: the {split} split holds no pieces in styles {programs}")
    os.makedirs(out_dir, exist_ok=True)
    scores = []
    for example in tqdm(examples, desc="pieces", unit="piece", disable=not progress):
        piece, program = example["piece"].decode(), program_of[int(example["style_id"])]
        stem = f"{piece}_gm{program}"
        rows, floor = _score_seeds(render, record, example["piano_roll"], example["onsets"], None, program,
                                   example["audio"], seeds, seconds, temperature, out_dir, stem, progress)
        scores.append({"piece": piece, "program": program, "rows": rows, "plot": f"{stem}.png", **floor})
    intro = (f"`{model_path}` ({record.train.preset}) played the first {seconds:g} s of the {split} pieces of "
             f"`{data_dir}` with seeds {', '.join(map(str, seeds))} (temperature {temperature:g}); each generation "
             "is scored by RMSE-CQT against the set's rendering of the same piece and style.")
    settings = {"model": model_path, "data": data_dir, "split": split, "seconds": seconds, "seeds": list(seeds),
                "temperature": temperature, "pieces": pieces}
    return _report(out_dir, "RMSE-CQT of generated against rendered audio (SynthNet Tables 3-4)", intro, scores,
                   settings)


def score_midi(model_path, midi_path, reference_path, out_dir, style=None, seconds=1.0, seeds=(0, 1, 2, 3, 4),
               temperature=1.0, progress=True):
    """A MIDI file generated once per seed and scored against its rendering (any WAV) -> results
    dict; writes the report folder out_dir."""
    from nsynth_synth.generate.from_midi import load_synthesizer, midi_roll, style_id_for

    _check(seconds, seeds)
    reference = load_scored_audio(reference_path)
    record, render = load_synthesizer(model_path)
    # A one-style model plays its style without --style; a several-style model needs one.
    program = model_styles(record)[0] if style is None and not record.model.num_styles else style
    style_id_for(record, program)
    roll, onsets, bends, _ = midi_roll(midi_path, record.model.sample_rate, record.data["frame_hop"],
                                       values=record.train.roll)
    piece = os.path.splitext(os.path.basename(midi_path))[0]
    os.makedirs(out_dir, exist_ok=True)
    stem = f"{piece}_gm{program}"
    rows, floor = _score_seeds(render, record, roll, onsets, bends, program, reference, seeds, seconds, temperature,
                               out_dir, stem, progress)
    scores = [{"piece": piece, "program": program, "rows": rows, "plot": f"{stem}.png", **floor}]
    intro = (f"`{model_path}` ({record.train.preset}) played the first {seconds:g} s of `{midi_path}` with "
             f"seeds {', '.join(map(str, seeds))} (temperature {temperature:g}), scored by RMSE-CQT against "
             f"`{reference_path}`.")
    settings = {"model": model_path, "midi": midi_path, "reference": reference_path, "seconds": seconds,
                "seeds": list(seeds), "temperature": temperature}
    return _report(out_dir, f"RMSE-CQT of {piece} against its rendering", intro, scores, settings)


def _check(seconds, seeds):
    if seconds <= 0:
        raise NsynthSynthError(f"--seconds must be positive, got {seconds}")
    if not seeds:
        raise NsynthSynthError("give at least one seed (--seeds)")
