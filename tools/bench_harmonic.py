#!/usr/bin/env python
"""Benchmark a harmonic-kind export: its training speed against SynthNet's, and its generation,
whole-piece and streaming, in process and through the loaded SavedModel, side by side in one run.

  training     the trainer's own compiled step (tools/random_step.py) of the export's preset and of
               synthnet_small, each at its trainer defaults (batch, window): seconds of training
               audio per second of training, medians over --rounds alternating steps
  whole piece  the first --seconds of a chorale from music21 (the embedded default score), played
               in GM --style by blocks.Renderer in its 2048-frame chunks: in process (the Keras
               model, weights restored from the export) and loaded (the export's `stream`
               signature in the same chunks); batch 1 and 16 (16 streams at once)
  streaming    the same score in blocks of --block samples with the state carried, as a live
               player feeds them: per-block latency (median and 95th percentile) beside the
               block's own duration (a block must be made faster than it plays)

Samples/s counts every stream together; "x real time" is per stream (above 1: faster than the
audio plays). Before timing, the in-process and loaded whole pieces are checked to agree (the same
weights). Prints a table and writes JSON (--out). Goals on 2 cores: whole piece at least 100x
real time at batch 1, streaming at least 10x.
"""

import argparse
import os
import statistics
import time

import numpy as np
from report import ROOT, write_report

TRAINING_BASELINE = "synthnet_small"


def training_rates(presets, rounds):
    """{preset: {"audio_seconds_per_second", "steps_per_second", "batch", "window"}}: steps taken in turn."""
    from random_step import random_train_step

    from nsynth_synth.training.trainer import TrainConfig, with_preset_defaults

    steps = {}
    for preset in presets:
        defaults = with_preset_defaults(TrainConfig(preset, "unused"))
        step, iterator, _ = random_train_step(preset, window=defaults.window, batch=defaults.batch_size)
        for _ in range(2):  # trace, compile, warm up
            step(iterator)
        steps[preset] = (step, iterator, defaults)
    times = {preset: [] for preset in presets}
    for _ in range(rounds):
        for preset, (step, iterator, _) in steps.items():
            start = time.perf_counter()
            step(iterator)[0].numpy()
            times[preset].append(time.perf_counter() - start)
    rates = {}
    for preset, (_, _, defaults) in steps.items():
        seconds = statistics.median(times[preset])
        rates[preset] = {"steps_per_second": 1 / seconds, "batch": defaults.batch_size, "window": defaults.window,
                         "audio_seconds_per_second": defaults.batch_size * defaults.window / 16000 / seconds}
    return rates


def chorale_score(seconds, hop, rate, roll_values):
    """The first `seconds` of music21's first Bach chorale -> (name, roll, onsets) [frames, 128]."""
    from nsynth_synth.data.scores import chorale_refs, read_piece
    from nsynth_synth.generate.from_midi import piece_roll

    ref = chorale_refs()[0]
    roll, onsets, _ = piece_roll(read_piece(ref), rate, hop, values=roll_values)
    frames = int(seconds * rate) // hop
    return ref.name, np.pad(roll, [(0, max(frames - len(roll), 0)), (0, 0)])[:frames], \
        np.pad(onsets, [(0, max(frames - len(onsets), 0)), (0, 0)])[:frames]


def harmonic_export(path):
    """--model -> (its SavedModel folder, its run record), or exit naming what is wrong."""
    from nsynth_synth.runs import read_export_record, resolve_export

    folder = resolve_export(path)
    if folder is None:
        raise SystemExit(f"{path}: not a SavedModel from `nsynth-synth export`")
    return folder, read_export_record(folder)


def restored_model(folder, record):
    """The Keras model of the export's config, its weights restored from the export's variables
    (the module tracks the model as `model`)."""
    import tensorflow as tf

    model = record.kind.build(record.model, record.train.preset)
    # The model's variables only (a Checkpoint's save counter is not in a SavedModel); main() then
    # checks that both renderers play the same audio.
    tf.train.Checkpoint(model=model).restore(os.path.join(folder, "variables", "variables")).expect_partial()
    return model


def in_process_renderer(folder, record, chunk_frames):
    """blocks.Renderer over restored_model."""
    from nsynth_synth.models.harmonic.blocks import Renderer

    renderer = Renderer.from_model(restored_model(folder, record), record.model)
    renderer.chunk = chunk_frames
    return renderer


def loaded_renderer(folder, record, chunk_frames):
    from nsynth_synth.models.harmonic.generation import export_renderer

    renderer = export_renderer(folder, record.model, record.export["max_frames"])
    renderer.chunk = chunk_frames
    return renderer


def timed_render(renderer, roll, onsets, batch, style, repeats):
    """Fastest of `repeats` renders of `batch` streams (after a warm-up) -> (seconds, audio [batch, samples])."""
    rolls, ons = np.repeat(roll[None], batch, 0), np.repeat(onsets[None], batch, 0)
    styles, seeds = [style] * batch, list(range(batch))
    audio, _ = renderer.render(rolls, ons, styles, seeds)
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        renderer.render(rolls, ons, styles, seeds)
        best = min(best, time.perf_counter() - start)
    return best, audio


def block_latencies(renderer, roll, onsets, batch, style, block_frames):
    """One pass of the score in blocks with the state carried -> per-block seconds (after one warm-up block)."""
    import tensorflow as tf

    rolls, ons = np.repeat(roll[None], batch, 0), np.repeat(onsets[None], batch, 0)
    bends = np.zeros_like(rolls)
    style, seed = tf.constant([style] * batch, tf.int32), tf.constant(list(range(batch)), tf.int32)
    state = renderer.initial(batch)
    span = slice(0, block_frames)
    renderer.block(state, tf.constant(rolls[:, span]), tf.constant(ons[:, span]), tf.constant(bends[:, span]),
                   style, seed)
    latencies = []
    for start in range(0, len(roll) - block_frames + 1, block_frames):
        span = slice(start, start + block_frames)
        began = time.perf_counter()
        audio, state = renderer.block(state, tf.constant(rolls[:, span]), tf.constant(ons[:, span]),
                                      tf.constant(bends[:, span]), style, seed)
        np.asarray(audio)
        latencies.append(time.perf_counter() - began)
    return latencies


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=os.path.join(ROOT, "saved_models", "bach_seven_styles_harmonic"),
                        help="a harmonic-kind export (default saved_models/bach_seven_styles_harmonic)")
    parser.add_argument("--style", type=int, default=1, help="GM program to play (default 1, piano)")
    parser.add_argument("--seconds", type=float, default=20.0, help="seconds of the chorale played")
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 16])
    parser.add_argument("--block", type=int, default=512, help="samples a streaming block (default 512)")
    parser.add_argument("--repeats", type=int, default=2, help="timed whole-piece renders (the fastest counts)")
    parser.add_argument("--rounds", type=int, default=5, help="training steps timed per preset")
    parser.add_argument("--out", default="bench_out/bench_harmonic.json")
    args = parser.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from nsynth_synth.generate.from_midi import style_id_for
    from nsynth_synth.models.harmonic.blocks import CHUNK_FRAMES

    folder, record = harmonic_export(args.model)
    hop, rate = record.data["frame_hop"], record.model.sample_rate
    if args.block % hop:
        raise SystemExit(f"--block {args.block} must be a multiple of the model's hop ({hop} samples)")
    style = style_id_for(record, args.style) or 0
    name, roll, onsets = chorale_score(args.seconds, hop, rate, record.train.roll)
    samples = len(roll) * hop
    chunk = min(CHUNK_FRAMES, record.export["max_frames"])
    renderers = {"in process": in_process_renderer(folder, record, chunk),
                 "loaded": loaded_renderer(folder, record, chunk)}

    rows = []
    for batch in args.batches:
        audio = {}
        for where, renderer in renderers.items():
            seconds, audio[where] = timed_render(renderer, roll, onsets, batch, style, args.repeats)
            rows.append({"mode": "whole piece", "where": where, "batch": batch, "seconds": seconds,
                         "samples_per_second": batch * samples / seconds, "x_real_time": samples / rate / seconds})
        difference = float(np.abs(audio["in process"] - audio["loaded"]).max())
        if difference > 1e-4:
            raise SystemExit(f"the in-process and loaded renderings differ by {difference:g}: not the same weights")
        for where, renderer in renderers.items():
            latencies = block_latencies(renderer, roll, onsets, batch, style, args.block // hop)
            median = statistics.median(latencies)
            rows.append({"mode": f"stream {args.block}", "where": where, "batch": batch, "seconds": sum(latencies),
                         "samples_per_second": batch * args.block / median, "x_real_time": args.block / rate / median,
                         "block_ms_median": 1000 * median,
                         "block_ms_p95": 1000 * float(np.percentile(latencies, 95)),
                         "block_ms_audio": 1000 * args.block / rate})
    training = training_rates([record.train.preset, TRAINING_BASELINE], args.rounds)

    print(f"\n{folder}: {record.train.preset}, {name} first {args.seconds:g} s in GM {args.style}, "
          f"{os.cpu_count()} cores")
    print(f"{'mode':<12}{'where':>11}{'batch':>6}{'samples/s':>12}{'x real time':>13}{'block ms (p95)':>17}")
    for row in rows:
        block = (f"{row['block_ms_median']:.1f} ({row['block_ms_p95']:.1f}) of {row['block_ms_audio']:.0f}"
                 if "block_ms_median" in row else "")
        print(f"{row['mode']:<12}{row['where']:>11}{row['batch']:>6}{row['samples_per_second']:>12,.0f}"
              f"{row['x_real_time']:>12.1f}x{block:>17}")
    print(f"\n{'training':<16}{'batch':>6}{'window':>8}{'steps/s':>9}{'audio s/s':>11}")
    for preset, rate_row in training.items():
        print(f"{preset:<16}{rate_row['batch']:>6}{rate_row['window']:>8}{rate_row['steps_per_second']:>9.2f}"
              f"{rate_row['audio_seconds_per_second']:>11.2f}")
    ratio = (training[record.train.preset]["audio_seconds_per_second"]
             / training[TRAINING_BASELINE]["audio_seconds_per_second"])
    print(f"{record.train.preset} trains on {ratio:.1f}x as much audio a second as {TRAINING_BASELINE}")
    write_report(args.out, model=os.path.relpath(folder, ROOT), preset=record.train.preset, piece=name,
                 seconds=args.seconds, style=args.style, generation=rows, training=training,
                 training_ratio=ratio)


if __name__ == "__main__":
    main()
