#!/usr/bin/env python
"""Benchmark training speed: precision and XLA variants of each preset, side by side in one run.

Each preset runs in its own process (so its peak memory is its own). There every variant builds
the trainer's own compiled step (tools/random_step.py, the window the trainer uses for the
preset), is warmed up, and then the variants take turns, one step each per round, so a machine
that slows down slows them all alike; the table gives medians over the rounds. Variants:

  float32          today's default on a CPU
  mixed_bfloat16   bf16 compute, float32 variables (fast where the CPU has bf16 matrix units)
  float32+xla      the whole step XLA-compiled (--jit on)
  mixed_bfloat16+xla

It prints steps/s, each variant's speed relative to float32, the % of this machine's matmul peak
(float32 and bfloat16 peaks measured in the same run) that the step's arithmetic reaches, the CPU's
bf16 units (from its flags), and SynthNet's speed relative to the baselines of its size; writes
JSON (--out). The kinds' speed tables (their KIND's bf16_speedup and jit_speedup, read by
nsynth_synth.training.precision) are read off this benchmark.
"""

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time

from random_step import matmul_gflops, random_train_step, training_macs
from report import write_report

VARIANTS = ("float32", "mixed_bfloat16", "float32+xla", "mixed_bfloat16+xla")


def measure(preset, variants, window, batch, rounds):
    """Runs in a child process: -> dict for one preset, every variant timed in alternation."""
    steps, model = {}, None
    for variant in variants:
        precision, _, xla = variant.partition("+")
        train_step, iterator, model = random_train_step(preset, precision, "on" if xla else "off", window, batch)
        for _ in range(2):  # trace, compile, warm up
            losses = train_step(iterator)
        steps[variant] = (train_step, iterator, float(losses[0]))
    times = {variant: [] for variant in variants}
    for _ in range(rounds):
        for variant, (train_step, iterator, _) in steps.items():
            start = time.perf_counter()
            train_step(iterator)[0].numpy()
            times[variant].append(time.perf_counter() - start)
    from nsynth_synth.training.trainer import TrainConfig, with_preset_defaults

    window = with_preset_defaults(TrainConfig(preset, "unused", window=window)).window
    flops = 3 * 2 * training_macs(model) * batch * window
    return {"preset": preset, "parameters": model.count_params(), "window": window, "batch": batch,
            "rounds": rounds, "flops_per_step": flops,
            "variants": {v: {"steps_per_second": 1 / statistics.median(t), "seconds": t, "loss": steps[v][2]}
                         for v, t in times.items()},
            "peak_memory_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    # The paper presets take minutes a step here: ask for them (e.g. --presets synthnet_l24 deepvoice_l24 --window 4000).
    parser.add_argument("--presets", nargs="+", default=["synthnet_small", "wavenet_small", "deepvoice_small",
                                                         "nsynth_wavenet_ae_small"])
    # XLA is opt-in: XLA's depthwise convolution makes a SynthNet step about 90x slower on a CPU.
    parser.add_argument("--variants", nargs="+", default=["float32", "mixed_bfloat16"], choices=VARIANTS,
                        help="default float32 mixed_bfloat16; add float32+xla for the baselines")
    parser.add_argument("--window", type=int, default=None, help="samples per window (default: the trainer's, "
                        "16000 for the MIDI-conditioned presets, 6144 for the autoencoder)")
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=3, help="steps timed per variant (alternating)")
    parser.add_argument("--paper-rounds", type=int, default=1, help="rounds for the *_l24 presets")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    parser.add_argument("--out", default="bench_out/bench_train.json")
    args = parser.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if args.one:
        preset, rounds = args.one.split(":")
        print("RESULT " + json.dumps(measure(preset, args.variants, args.window, args.batch, int(rounds))))
        return
    from nsynth_synth.training.precision import cpu_class

    peaks = {dtype: matmul_gflops(dtype) for dtype in ("float32", "bfloat16")}
    rows = []
    for preset in args.presets:
        rounds = args.paper_rounds if preset.endswith(("_l24", "_l26", "_l48")) else args.rounds
        command = [sys.executable, __file__, "--one", f"{preset}:{rounds}", "--batch", str(args.batch),
                   "--variants", *args.variants] + (["--window", str(args.window)] if args.window else [])
        child = subprocess.run(command, capture_output=True, text=True)
        if child.returncode:
            sys.exit(f"{preset} failed:\n{child.stderr[-2000:]}")
        rows.append(json.loads(child.stdout.split("RESULT ", 1)[1]))
        print(f"measured {preset}", flush=True)

    units = cpu_class()
    print(f"\nbatch {args.batch}, {os.cpu_count()} cores, CPU class {units}; matmul peak "
          f"float32 {peaks['float32']:.0f} GFLOP/s, bfloat16 {peaks['bfloat16']:.0f} GFLOP/s")
    header = f"{'preset':<25}{'window':>7}{'variant':>20}{'steps/s':>9}{'vs f32':>8}{'% peak':>8}"
    print(header)
    for row in rows:
        base = row["variants"].get("float32", {}).get("steps_per_second")
        for variant, v in row["variants"].items():
            peak = peaks["bfloat16" if variant.startswith("mixed_bfloat16") else "float32"]
            v["percent_of_peak"] = 100 * row["flops_per_step"] * v["steps_per_second"] / 1e9 / peak
            ratio = f"{v['steps_per_second'] / base:.2f}x" if base else ""
            print(f"{row['preset']:<25}{row['window']:>7}{variant:>20}{v['steps_per_second']:>9.3f}{ratio:>8}"
                  f"{v['percent_of_peak']:>7.1f}%")
    by_name = {r["preset"]: r for r in rows}
    for row in rows:
        family, _, size = row["preset"].partition("_")
        if family != "synthnet":
            continue
        for baseline in ("wavenet", "deepvoice"):
            other = by_name.get(f"{baseline}_{size}")
            if other:
                best = {name: max(r["variants"].values(), key=lambda v: v["steps_per_second"])["steps_per_second"]
                        for name, r in (("s", row), ("b", other))}
                print(f"synthnet_{size} trains {best['s'] / best['b']:.2f}x as fast as {baseline}_{size} "
                      "(each at its fastest variant)")
    write_report(args.out, cpu_class=units, matmul_gflops=peaks, rows=rows)


if __name__ == "__main__":
    main()
