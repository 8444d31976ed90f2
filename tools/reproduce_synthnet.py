#!/usr/bin/env python
"""Reproduce the SynthNet paper's Table 3 at CPU scale: RMSE-CQT of SynthNet, DeepVoice and WaveNet
learning BWV 1007 in several styles, compared at equal wall-clock and at equal steps.

1. data: the BWV 1007 MIDI files (--midi; parts 2-6 train, the Prelude is the validation piece
   every evaluation generates from) rendered with FluidR3 GM in --styles -> WORK/data.
2. runs: for every model and style a normal `nsynth-synth train` run directory,
   WORK/runs/{preset}_gm{program}, trained until --budget-seconds of training time (evaluations
   excluded) or --steps, whichever comes first (batch 1, 16000-sample windows, the paper's
   optimizer, float32, the same data order from --seed). Every --eval-every steps, and at the
   stop, --seconds of the Prelude are generated with --eval-seeds fixed sampling seeds and each is
   scored by RMSE-CQT against its rendering (quality.json records the scores and the training
   seconds so far).
3. results, both read from the same runs:
   - equal wall-clock: each run's last --last evaluations (all within the same training time);
   - equal steps: the last --last evaluation steps every run of the style reached;
   each as the mean and 95% confidence interval over those evaluations and seeds, beside the
   noise floor of the same reference (white noise at its RMS, and silence) and "model - noise".
   Written to --page (Markdown) with its JSON, constant-Q plots of ground truth vs generated (the
   paper's Figure 4) in --page's assets folder, and the final generations as WAV laid out for a
   listening test (assets/listening/gm{P}/prelude/{reference,MODEL}.wav: `nsynth-synth listen
   --samples` takes that folder).

SynthNet's steps are cheaper, so at equal wall-clock it has taken more of them: that is the
paper's claim (it learns faster), and the equal-steps table separates it from the per-step one.
Training seconds depend on what else the machine was doing: run nothing else beside it. Every step
resumes: rerun the same command after an interruption and finished work is skipped (a run stopped
by its time budget is finished). The three small presets share the receptive field (F3 B2 R10:
4093 samples).
"""

import argparse
import os
import subprocess
import sys

import numpy as np
from report import ROOT, parse_reproduction_args, write_report

MODELS = ("synthnet_small", "deepvoice_small", "wavenet_small")
STYLES = (80, 42, 1)
PAPER_GOAL = 10.0  # the SynthNet paper's line for a good generation
PAPER_EPOCHS = 200
SHIPPED = "bwv1007_piano_synthnet_small"  # the ready-to-use model (README)


def prepare_data(midi, styles, out):
    from data_prep.bach import BachSetConfig, build_bach_set
    from nsynth_synth.data.system import DEFAULT_SOUNDFONT

    if os.path.exists(os.path.join(out, "manifest.json")):
        return
    build_bach_set(out, midi=[midi], config=BachSetConfig(styles=tuple(styles), soundfont=DEFAULT_SOUNDFONT))


def train_run(run_dir, preset, program, data, args):
    """One `nsynth-synth train` run, in its own process (it resumes, or says it is finished)."""
    command = [sys.executable, "-m", "nsynth_synth.cli", "train", "--preset", preset, "--data", data,
               "--styles", str(program), "--steps", str(args.steps), "--eval-every", str(args.eval_every),
               "--eval-seconds", str(args.seconds), "--eval-seeds", str(args.eval_seeds),
               # Checkpoints on the evaluations: a resumed run's training time is then exact.
               "--checkpoint-every", str(args.eval_every), "--seed", str(args.seed), "--out", run_dir,
               # The same arithmetic for every model, whatever `auto` would pick for each on this CPU.
               "--precision", "float32", "--jit", "off"]
    if args.budget_seconds:
        command += ["--max-train-seconds", str(args.budget_seconds)]
    print(f"\n== {preset}, GM {program}: {' '.join(command[2:])}", flush=True)
    subprocess.run(command, check=True)


def final_generation(run_dir):
    """(generated audio, reference audio, piece, RMSE-CQT, parameters, the reference's noise floor)
    of the run's last checkpoint, generated as its last evaluation was (the trainer's seed and length)."""
    from nsynth_synth.data.bach import read_manifest
    from nsynth_synth.runs import load_trained_model
    from nsynth_synth.models.midi_conditioned.quality import Tracker as QualityTracker

    model, model_config, record, _ = load_trained_model(run_dir, "latest")
    train = record.train
    tracker = QualityTracker(os.path.join(run_dir, "rescore"), model, model_config, read_manifest(train.data), train,
                             train.styles[0], every=1)
    row, audio = tracker.score(0)
    _, reference, piece, _ = tracker.reference
    return audio, reference, piece, row["rmse_cqt"], model.count_params(), tracker.floor


def seed_scores(evaluations):
    """Every seed's RMSE-CQT of the evaluations (an evaluation with one seed: its score)."""
    return [score for row in evaluations for score in row.get("rmse_cqt_seeds", [row["rmse_cqt"]])]


def pooled(history, steps, floor):
    """The evaluations at `steps`, pooled over seeds: mean and 95% CI, and "model - noise"."""
    from nsynth_synth.metrics.stats import mean_ci

    chosen = [row for row in history if row["step"] in set(steps)]
    scores = seed_scores(chosen)
    return {"steps": [row["step"] for row in chosen], "summary": mean_ci(scores),
            "minus_noise": mean_ci([score - floor["noise_rmse_cqt"] for score in scores]),
            "train_seconds": chosen[-1]["train_seconds"]}


def summarize(run_dir, floor, last):
    """The run's evaluations (quality.json) beside `floor`, its reference's noise floor; equal_time
    pools its last `last` evaluations (equal_steps is added once every run of the style is read)."""
    from nsynth_synth.metrics.stats import mean_ci
    from nsynth_synth.training.quality import read_history

    history = read_history(run_dir)
    scores = [row["rmse_cqt"] for row in history]
    final = history[-1]
    return {
        "steps": [row["step"] for row in history], "seconds": [row["train_seconds"] for row in history],
        "rmse_cqt": scores, "summary": mean_ci(scores), **floor,
        "minus_noise": mean_ci([score - floor["noise_rmse_cqt"] for score in scores]),
        "equal_time": pooled(history, [row["step"] for row in history[-last:]], floor),
        "final": scores[-1], "best": min(scores), "best_step": history[int(np.argmin(scores))]["step"],
        "final_step": final["step"], "train_seconds": final["train_seconds"],
        "steps_per_second": final["step"] / final["train_seconds"],
        "score_gain_nats": final["loss_silent_roll"] - final["loss_with_roll"],
    }


def add_equal_steps(rows, last):
    """Per style, the last `last` evaluation steps every run reached -> each row's equal_steps."""
    from nsynth_synth.training.quality import read_history

    for program in {r["program"] for r in rows}:
        style = [r for r in rows if r["program"] == program]
        common = sorted(set.intersection(*(set(r["steps"]) for r in style)))[-last:]
        for r in style:
            r["equal_steps"] = pooled(read_history(os.path.join(ROOT, r["run_dir"])), common, r)


def write_page(path, rows, styles, models, args):
    from nsynth_synth.metrics.stats import format_mean_ci

    assets = os.path.splitext(os.path.basename(path))[0]
    by = {(r["model"], r["program"]): r for r in rows}
    names = {r["program"]: r["style"] for r in rows}
    budget = (f"until {args.budget_seconds:g} s of training time (evaluations excluded) or step {args.steps}, "
              "whichever came first" if args.budget_seconds else f"for {args.steps} steps")
    lines = [
        "# SynthNet Table 3 at CPU scale",
        "",
        f"Made by `{args.command}` (the numbers below are its output; rerun it to reproduce them).",
        "",
        f"BWV 1007 rendered with FluidR3 GM; parts 2-6 train. Every model trained {budget}: batch 1, "
        "16000-sample windows, Adam 1e-3, the same data order, receptive field 4093 samples (F3 B2 R10), float32 "
        f"on a 2-core CPU. Every {args.eval_every} steps and at the stop, {args.seconds:g} s of the Prelude were "
        f"generated with {args.eval_seeds} fixed sampling seeds and each scored by RMSE-CQT (lower is better; the "
        f"paper's line for a good generation is {PAPER_GOAL:g}).",
        "",
        "Each cell: mean ± 95% confidence interval over the last "
        f"{args.last} evaluations and their seeds ({args.last * args.eval_seeds} scores); in brackets model - noise "
        "(negative beats white noise at the reference's RMS) and the step(s) scored.",
        "",
    ]
    for title, key in ((f"## At equal wall-clock: each run's last evaluations, within {args.budget_seconds:g} s of "
                        "training" if args.budget_seconds else "## At the end of every run", "equal_time"),
                       ("## At equal steps: the last evaluation steps every run of the style reached", "equal_steps")):
        lines += [title, "", "| model | " + " | ".join(f"{names[p]} (GM {p})" for p in styles) + " |",
                  "|---|" + "---|" * len(styles)]
        for model in models:
            cells = []
            for p in styles:
                cell = by[model, p][key]
                shown = cell["steps"][0] if len(cell["steps"]) == 1 else f"{cell['steps'][0]}-{cell['steps'][-1]}"
                cells.append(f"{format_mean_ci(cell['summary'])} ({cell['minus_noise']['mean']:+.2f}; "
                             f"step {shown})")
            lines.append(f"| {model} | " + " | ".join(cells) + " |")
        floors = {p: by[models[0], p] for p in styles}  # one reference per style, so one floor
        for label, floor_key in (("white noise at the reference's RMS", "noise_rmse_cqt"),
                                 ("silence", "silence_rmse_cqt")):
            lines.append(f"| {label} | " + " | ".join(f"{floors[p][floor_key]:.2f}" for p in styles) + " |")
        lines.append("")
    lines += ["A model at or above the noise floor has learned no more of the reference than its loudness."]
    lines += ["", "## Cost and what was learned", "",
              "| model | style | parameters | steps | training s | steps/s | best RMSE-CQT (step) | score gain (nats) |",
              "|---|---|---|---|---|---|---|---|"]
    for model in models:
        for p in styles:
            r = by[model, p]
            lines.append(f"| {model} | GM {p} | {r['parameters']:,} | {r['final_step']} | {r['train_seconds']:.0f} | "
                         f"{r['steps_per_second']:.2f} | {r['best']:.2f} ({r['best_step']}) | "
                         f"{r['score_gain_nats']:+.3f} |")
    lines += ["", "Score gain: the last evaluation's validation loss with a silent piano roll minus with the real "
              "one; near zero means the model predicts from the audio history alone and has not yet learned to "
              "follow the score.", "", "## The paper's claims, checked", ""]
    lines += [f"- {claim}" for claim in check_goals(by, styles, bool(args.budget_seconds))]
    most = max(r["final_step"] for r in rows)
    epochs = most / args.windows_per_epoch
    lines += ["", f"Budget: the run that went furthest saw {most} windows, {epochs:.1f} epochs of its style's training "
              f"audio ({args.windows_per_epoch} windows of 16000 samples an epoch). The paper trained {PAPER_EPOCHS} "
              f"epochs (100-150 were enough for good audio): {PAPER_EPOCHS / epochs:.0f} times that. Where a claim "
              "above is missed, that is what would close it first: more training time on the same data (rerun with "
              "a larger --budget-seconds; the runs continue where they stopped), then the paper's presets "
              "(synthnet_l24 and the baselines) on a GPU. The score gain column shows whether a model had begun to "
              "follow the score at all."]
    lines += shipped_model_lines(most, floors)
    lines += ["", "## Listen and look", ""]
    for p in styles:
        audio = f"{assets}/listening/gm{p}/prelude"
        lines.append(f"- GM {p} ({names[p]}): [reference]({audio}/reference.wav), " + ", ".join(
            f"[{m}]({audio}/{m}.wav)" for m in models) + f"; constant-Q: ![GM {p}]({assets}/cqt_gm{p}.png)")
    samples = os.path.relpath(os.path.join(os.path.dirname(os.path.abspath(path)), assets, "listening"), ROOT)
    lines += ["", f"A blind listening test over these files: `nsynth-synth listen --samples {samples} "
              "--out listening_test`, then `--serve` and `--results` (README: Listening tests)."]
    lines += ["", f"RMSE-CQT during training, by step: ![by step]({assets}/rmse_cqt_curves.png) and by training "
              f"time: ![by time]({assets}/rmse_cqt_by_time.png)", ""]
    from nsynth_synth.fileio import atomic_output

    with atomic_output(path) as tmp, open(tmp, "w") as f:
        f.write("\n".join(lines))
    print(f"wrote {path}")


def shipped_model_lines(steps, floors):
    """A paragraph on the ready-to-use SynthNet in saved_models/, from its exported config (no lines
    when it is not there), beside its noise floor: the export's own, else this page's for its style
    (the same reference, 1 s of the Prelude), else none."""
    import json

    from nsynth_synth.metrics.rmse_cqt import format_floor

    path = os.path.join(ROOT, "saved_models", SHIPPED, "1", "assets", "config.json")
    if not os.path.exists(path):
        return []
    with open(path) as f:
        config = json.load(f)
    export, train = config["export"], config["train"]
    floor = export if "noise_rmse_cqt" in export else floors.get(train["styles"][0])
    beside = "" if floor is None else (
        f" ({format_floor(export['rmse_cqt'] - floor['noise_rmse_cqt'], floor)}"
        + ("" if floor is export else ", the noise floor of this page's reference in the same style") + ")")
    return ["", "## Trained longer: the ready-to-use model", "",
            f"`saved_models/{SHIPPED}/{export['version']}` is {train['preset']} trained the same way on GM "
            f"{', '.join(map(str, train['styles']))} (batch {train['batch_size']}, {train['window']}-sample windows, "
            f"the same optimizer) for longer, evaluated every {train['eval_every']} steps and exported from its best "
            f"checkpoint: RMSE-CQT {export['rmse_cqt']:.2f}{beside} at step {export['step']} "
            f"({export['step'] / steps:.0f} times the steps of the furthest run here), {'under' if export['rmse_cqt'] < PAPER_GOAL else 'above'} the paper's line "
            f"of {PAPER_GOAL:g}. Being the best of its evaluations, that number is optimistic by selection. "
            + ("Its run had no fixed seed, so it cannot be repeated bit for bit. " if train["seed"] is None else "")
            + f"Over five sampling seeds on this page's rendering: `nsynth-synth evaluate rmse-cqt --model "
            f"saved_models/{SHIPPED} --data runs/synthnet_table3/data --style {train['styles'][0]} "
            "--seeds 0 1 2 3 4 --out REPORT` "
            "([an example report](examples/rmse_cqt/report.md))."]


def check_goals(by, styles, timed=True):
    """The paper's claims and the issue's goals, each with its margin (computed, never edited):
    SynthNet below both baselines at equal wall-clock (and the full ordering at equal steps), every
    model clearly below the noise floor (its 95% interval of model - noise entirely below 0), and
    SynthNet under the paper's line. timed: the runs had a time budget (else "equal wall-clock"
    reads "at the end of every run")."""
    from nsynth_synth.metrics.stats import format_mean_ci

    claims, wins = [], 0
    when = "at equal wall-clock" if timed else "at the end of every run"
    baselines = [m for m in MODELS[1:] if all((m, p) in by for p in styles)]
    for p in styles:
        if ("synthnet_small", p) not in by or not baselines:
            continue
        means = {m: by[m, p]["equal_time"]["summary"]["mean"] for m in ["synthnet_small", *baselines]}
        won = all(means["synthnet_small"] < means[m] for m in baselines)
        wins += won
        claims.append(f"GM {p}, {when}: SynthNet below {' and '.join(baselines)} "
                      f"{'holds' if won else 'does not hold'}: " +
                      ", ".join(f"{m} {means[m]:.2f}" for m in sorted(means, key=means.get)))
    if baselines:
        claims.append(f"SynthNet below both baselines {when} in {wins} of {len(styles)} styles "
                      f"(goal: at least {min(2, len(styles))})")
    for p in styles:
        means = {m: by[m, p]["equal_steps"]["summary"]["mean"] for m in MODELS if (m, p) in by}
        order = sorted(means, key=means.get)
        held = order == [m for m in MODELS if m in means]
        claims.append(f"GM {p}, equal steps: SynthNet < DeepVoice < WaveNet {'holds' if held else 'does not hold'}: "
                      + " < ".join(f"{m} {means[m]:.2f}" for m in order))
    clear = []
    for p in styles:
        ours = [m for m in MODELS if (m, p) in by]
        margins = {m: by[m, p]["equal_time"]["minus_noise"] for m in ours}
        below = [m for m in ours if margins[m]["mean"] + (margins[m]["ci"] or 0.0) < 0]
        clear += [(m, p) for m in below]
        claims.append(f"GM {p}: clearly below white noise at the reference's RMS ({by[ours[0], p]['noise_rmse_cqt']:.2f}) "
                      f"{when}: {', '.join(below) or 'no model'} (model - noise: "
                      + ", ".join(f"{m} {format_mean_ci(margins[m])}" for m in ours) + ")")
    total = sum((m, p) in by for m in MODELS for p in styles)
    claims.append(f"Every model clearly below the noise floor: {'met' if len(clear) == total else 'missed'} "
                  f"({len(clear)} of {total} runs)")
    best = min((by["synthnet_small", p]["best"], p) for p in styles if ("synthnet_small", p) in by)
    mean = min((by["synthnet_small", p]["equal_time"]["summary"]["mean"], p) for p in styles
               if ("synthnet_small", p) in by)
    claims.append(f"SynthNet under {PAPER_GOAL:g}: best single evaluation {best[0]:.2f} (GM {best[1]}), "
                  f"{'met' if best[0] < PAPER_GOAL else f'missed by {best[0] - PAPER_GOAL:.2f}'}; "
                  f"best mean {when} {mean[0]:.2f} (GM {mean[1]}), "
                  f"{'met' if mean[0] < PAPER_GOAL else f'missed by {mean[0] - PAPER_GOAL:.2f}'}")
    return claims


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--midi", default=os.path.join(ROOT, "..", "shared", "data", "bach_cello_bwv1007"),
                        help="BWV 1007 as MIDI files (default ../shared/data/bach_cello_bwv1007)")
    parser.add_argument("--models", nargs="+", default=list(MODELS))
    parser.add_argument("--styles", nargs="+", type=int, default=list(STYLES), help="GM programs (default 80 42 1)")
    parser.add_argument("--budget-seconds", type=float, default=800,
                        help="training seconds for every run, evaluations excluded (default 800; 0: --steps only)")
    parser.add_argument("--steps", type=int, default=100000, help="at most this many steps a run (default 100000)")
    parser.add_argument("--eval-every", type=int, default=100, help="steps between evaluations (default 100)")
    parser.add_argument("--seconds", type=float, default=2.0, help="seconds generated per evaluation (default 2)")
    parser.add_argument("--eval-seeds", type=int, default=3, help="sampling seeds per evaluation (default 3)")
    parser.add_argument("--last", type=int, default=3, help="evaluations pooled per summary (default 3)")
    args = parse_reproduction_args(parser, "synthnet_table3", "synthnet_table3_cpu.md")
    if not os.path.isdir(args.midi):
        parser.error(f"--midi {args.midi}: no such folder (BWV 1007 as MIDI files)")

    data = os.path.join(args.work, "data")
    prepare_data(args.midi, args.styles, data)
    runs = {(m, p): os.path.join(args.work, "runs", f"{m}_gm{p}") for p in args.styles for m in args.models}
    for (model, program), run_dir in runs.items():
        train_run(run_dir, model, program, data, args)

    from nsynth_synth.audio import write_wav
    from nsynth_synth.data.bach import read_manifest, windows_per_epoch
    from nsynth_synth.metrics.plots import curves_png, save_cqt_plot, save_png
    from nsynth_synth.metrics.stats import format_mean_ci

    manifest = read_manifest(data)
    names = {s["program"]: s["name"] for s in manifest["styles"]}
    args.windows_per_epoch = windows_per_epoch(manifest, "train", 16000) // len(manifest["styles"])
    assets = os.path.join(os.path.dirname(args.page), os.path.splitext(os.path.basename(args.page))[0])
    rows = []
    for p in args.styles:
        panels = []
        for m in args.models:
            audio, reference, piece, score, parameters, floor = final_generation(runs[m, p])
            row = {"model": m, "program": p, "style": names[p], "run_dir": os.path.relpath(runs[m, p], ROOT),
                   "parameters": parameters, **summarize(runs[m, p], floor, args.last)}
            row["regenerated_rmse_cqt"] = score  # equals "final": generation is deterministic
            rows.append(row)
            write_wav(os.path.join(assets, "listening", f"gm{p}", "prelude", f"{m}.wav"), audio, 16000)
            panels.append((f"{m}: RMSE-CQT {score:.2f}", audio))
        write_wav(os.path.join(assets, "listening", f"gm{p}", "prelude", "reference.wav"), reference, 16000)
        save_cqt_plot([(f"ground truth: {piece}, {names[p]}", reference)] + panels,
                      os.path.join(assets, f"cqt_gm{p}.png"))
    add_equal_steps(rows, args.last)
    title = f"{args.seconds:g} s of the Prelude, mean of {args.eval_seeds} seeds"
    for axis, key, name in (("step", "steps", "rmse_cqt_curves.png"), ("training seconds", "seconds",
                                                                          "rmse_cqt_by_time.png")):
        curves = {f"{r['model']} GM {r['program']}": (r[key], r["rmse_cqt"]) for r in rows}
        save_png(curves_png(curves, axis, "RMSE-CQT", title), os.path.join(assets, name))

    print(f"\n{'model':<18}{'GM':>4}{'params':>10}{'steps':>7}{'train s':>9}{'equal time':>16}{'-noise':>8}"
          f"{'equal steps':>16}{'-noise':>8}")
    for r in rows:
        time_cell, step_cell = r["equal_time"], r["equal_steps"]
        print(f"{r['model']:<18}{r['program']:>4}{r['parameters']:>10,}{r['final_step']:>7}{r['train_seconds']:>9.0f}"
              f"{format_mean_ci(time_cell['summary']):>16}{time_cell['minus_noise']['mean']:>+8.2f}"
              f"{format_mean_ci(step_cell['summary']):>16}{step_cell['minus_noise']['mean']:>+8.2f}")
    by = {(r["model"], r["program"]): r for r in rows}
    for claim in check_goals(by, args.styles, bool(args.budget_seconds)):
        print(claim)
    write_page(args.page, rows, args.styles, args.models, args)
    write_report(os.path.splitext(args.page)[0] + ".json", command=args.command, steps=args.steps,
                 budget_seconds=args.budget_seconds, eval_every=args.eval_every, seconds=args.seconds,
                 eval_seeds=args.eval_seeds, last=args.last, seed=args.seed, rows=rows)


if __name__ == "__main__":
    main()
