#!/usr/bin/env python
"""Benchmark training speed: steps/s and audio samples/s at equal window and batch, side by side.

Each preset runs in its own process (so its peak memory is its own): the trainer's own compiled
step (nsynth_synth.training.trainer.make_train_step) on random windows, after one warm-up step.
Defaults: the small presets of the three families for several steps, and the paper presets
synthnet_l24 and deepvoice_l24 for one step each. Prints a table with the SynthNet : baseline
speed ratios (the paper reports SynthNet training several times faster) and writes JSON (--out).
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import time

from report import write_report


def measure(preset, window, batch, steps):
    """Runs in a child process: -> dict for one preset."""
    import numpy as np
    import tensorflow as tf

    from nsynth_synth.configs import get_preset
    from nsynth_synth.models import build_model
    from nsynth_synth.training.trainer import TrainConfig, make_optimizer, make_train_step

    config = get_preset(preset)
    model = build_model(config)
    optimizer = make_optimizer(TrainConfig(preset, "unused"), "float32", model)
    step = tf.Variable(0, dtype=tf.int64)
    train_step = make_train_step(model, optimizer, config, tf.distribute.get_strategy(), "float32", step)
    rng = np.random.default_rng(0)
    inputs = {"audio_ids": tf.constant(rng.integers(0, 256, (batch, window - 1)), tf.int32),
              "piano_roll": tf.constant(rng.random((batch, window - 1, 128)) < 0.05, tf.float32)}
    targets = {"audio_ids": inputs["audio_ids"], "piano_roll": inputs["piano_roll"]}
    iterator = iter(tf.data.Dataset.from_tensors((inputs, targets)).repeat())
    train_step(iterator)[0].numpy()  # trace and warm up
    start = time.perf_counter()
    for _ in range(steps):
        loss = train_step(iterator)[0]
    loss.numpy()
    rate = steps / (time.perf_counter() - start)
    return {"preset": preset, "parameters": model.count_params(), "window": window, "batch": batch,
            "steps_timed": steps, "steps_per_second": rate, "samples_per_second": rate * batch * (window - 1),
            "peak_memory_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--small", nargs="+", default=["synthnet_small", "wavenet_small", "deepvoice_small"])
    parser.add_argument("--paper", nargs="+", default=["synthnet_l24", "deepvoice_l24"])
    parser.add_argument("--window", type=int, default=8000)
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--steps", type=int, default=10, help="steps timed for the small presets")
    parser.add_argument("--paper-steps", type=int, default=1, help="steps timed for the paper presets")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    parser.add_argument("--out", default="bench_out/bench_train.json")
    args = parser.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if args.one:
        preset, steps = args.one.split(":")
        print("RESULT " + json.dumps(measure(preset, args.window, args.batch, int(steps))))
        return
    rows = []
    for preset, steps in [(p, args.steps) for p in args.small] + [(p, args.paper_steps) for p in args.paper]:
        child = subprocess.run([sys.executable, __file__, "--one", f"{preset}:{steps}", "--window", str(args.window),
                                "--batch", str(args.batch)], capture_output=True, text=True)
        if child.returncode:
            sys.exit(f"{preset} failed:\n{child.stderr[-2000:]}")
        rows.append(json.loads(child.stdout.split("RESULT ", 1)[1]))
        print(f"measured {preset}", flush=True)
    print(f"\nwindow {args.window} samples, batch {args.batch}, float32, {os.cpu_count()} cores")
    print(f"{'preset':<18}{'parameters':>13}{'steps/s':>10}{'samples/s':>12}{'peak GB':>9}{'vs synthnet':>13}")
    by_name = {r["preset"]: r for r in rows}
    for r in rows:
        family_size = r["preset"].split("_", 1)[1]
        synthnet = by_name.get(f"synthnet_{family_size}")
        ratio = f"{synthnet['steps_per_second'] / r['steps_per_second']:.2f}x" if synthnet else ""
        print(f"{r['preset']:<18}{r['parameters']:>13,}{r['steps_per_second']:>10.3f}{r['samples_per_second']:>12,.0f}"
              f"{r['peak_memory_gb']:>9.2f}{ratio:>13}")
    print("'vs synthnet': how many times faster SynthNet of the same size trains")
    write_report(args.out, rows=rows)


if __name__ == "__main__":
    main()
