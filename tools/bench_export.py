#!/usr/bin/env python
"""Benchmark the exported SavedModel against the in-process sampler, side by side.

For each preset and batch size, samples per second (all voices together) of
  in-process   CachedQueueSampler.generate on the Keras model (XLA-compiled sample loop)
  loaded       the `generate` signature of the export, loaded with tf.saved_model.load
  loaded/no-xla  the same, exported with --no-xla (what a server without XLA runs)
and the seconds tf.saved_model.load takes. The goal: the loaded model within 10% of in-process.
"x real time" is the loaded signature's rate per voice over 16,000 samples/s (above 1: faster
than the audio plays). Random weights (speed does not depend on training). Prints a table and writes JSON (--out).
"""

import argparse
import os
import tempfile
import time

import numpy as np
from report import write_report

from nsynth_synth.audio import SAMPLE_RATE


def best_rate(fn, samples, repeats):
    """Samples per second of the fastest of `repeats` calls (after one warm-up call)."""
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return samples / min(times)


def bench_preset(name, batches, args, workdir):
    import tensorflow as tf

    from nsynth_synth.export.saved_model import export_model
    from nsynth_synth.models.kinds import get_preset
    from nsynth_synth.models.midi_conditioned.model import build_model
    from nsynth_synth.sampling import CachedQueueSampler

    config = get_preset(name)
    model = build_model(config)
    record = {"train": {"preset": name, "data": "(random weights)", "styles": None, "upsample": "linear"},
              "model": {"family": config.family, "num_styles": 0, "sample_rate": config.sample_rate},
              "data": {"frame_hop": 64, "styles": [], "pitch_range": [0, 127]}}
    folders = {xla: export_model(model, config, record, os.path.join(workdir, f"{name}_{xla}"), jit_compile=xla,
                                 warmup=False) for xla in (True, False)}
    load_seconds = []
    for _ in range(3):
        start = time.perf_counter()
        loaded = {xla: tf.saved_model.load(folder) for xla, folder in folders.items()}
        load_seconds.append((time.perf_counter() - start) / 2)
    sampler = CachedQueueSampler(model, config)
    frames = args.samples // 64
    rows = []
    for batch in batches:
        rng = np.random.default_rng(0)
        roll = tf.constant((rng.random((batch, frames, 128)) < 0.05).astype(np.float32))
        seeds, temperature = tf.range(batch), tf.ones([batch])
        samples = frames * 64 * batch
        row = {"preset": name, "batch": batch, "load_seconds": min(load_seconds)}
        row["in_process"] = best_rate(lambda: sampler.generate(roll, 64, frames * 64, seeds, temperature)[0].numpy(),
                                      samples, args.repeats)
        for xla, key in ((True, "loaded"), (False, "loaded_no_xla")):
            signature = loaded[xla].signatures["generate"]
            row[key] = best_rate(lambda: signature(piano_roll=roll, style_id=tf.zeros([batch], tf.int32), seed=seeds,
                                                   temperature=temperature)["audio_ids"].numpy(), samples, args.repeats)
        rows.append(row)
        print(f"measured {name} batch {batch}", flush=True)
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--presets", nargs="+", default=["synthnet_live", "synthnet_small"])
    parser.add_argument("--batches", nargs="+", type=int, default=[1, 16])
    parser.add_argument("--samples", type=int, default=8192, help="samples generated per voice and call")
    parser.add_argument("--repeats", type=int, default=3, help="timed calls per cell (the fastest counts)")
    parser.add_argument("--out", default="bench_out/bench_export.json")
    args = parser.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

    rows = []
    with tempfile.TemporaryDirectory() as workdir:
        for name in args.presets:
            rows += bench_preset(name, args.batches, args, workdir)
    header = (f"{'preset':<16}{'batch':>6}{'in-process':>12}{'loaded':>10}{'loaded/in':>11}{'no-xla':>10}"
              f"{'no-xla/in':>11}{'load s':>8}{'x real time':>13}")
    print("\n" + header)
    for r in rows:
        print(f"{r['preset']:<16}{r['batch']:>6}{r['in_process']:>12,.0f}{r['loaded']:>10,.0f}"
              f"{r['loaded'] / r['in_process']:>11.2f}{r['loaded_no_xla']:>10,.0f}"
              f"{r['loaded_no_xla'] / r['in_process']:>11.2f}{r['load_seconds']:>8.2f}"
              f"{r['loaded'] / r['batch'] / SAMPLE_RATE:>13.2f}")
    print("rates are samples per second, all voices of the batch together; load s: tf.saved_model.load")
    write_report(args.out, rows=rows)


if __name__ == "__main__":
    main()
