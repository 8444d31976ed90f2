#!/usr/bin/env python
"""Benchmark generation: the three ways to sample a MIDI-conditioned model, side by side.

For each preset and batch size, samples per second (all voices together) of
  (a) in-graph  CachedQueueSampler.generate: the whole cached-queue loop in one graph (XLA)
  (b) py-loop   a Python loop calling a compiled single-step function once per sample
                (StreamingSampler.step, the approach of Magenta's NSynth fastgen)
  (c) naive     recomputing the receptive field for every sample (the full model on the last
                receptive-field window; only a few samples are timed)
plus multiply-accumulates per sample, and this machine's float32 matmul GFLOP/s measured in the
same run, so each rate is also a fraction of the machine's peak. Random weights: speed does not
depend on training. `nsynth_wavenet_ae` is the NSynth autoencoder's decoder, conditioned on code
frames (Magenta's fastgen generated about 100 samples/s with it on a GPU). "x real time" is (a)'s
rate per voice over 16,000 samples/s: above 1, each voice is generated faster than it plays.
Prints a table and writes JSON (--out).
"""

import argparse
import os
import statistics
import time

import numpy as np
from random_step import matmul_gflops
from report import write_report

from nsynth_synth.audio import SAMPLE_RATE


def timed(fn, count, rounds):
    """count / the median of fn's seconds over `rounds` runs."""
    seconds = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        seconds.append(time.perf_counter() - start)
    return count / statistics.median(seconds)


def _setup(name, batch, samples):
    """-> (config, model, network, hop, upsample, frame-rate conditioning [batch, frames, channels],
    naive(ids, conditioning) -> argmax of the last sample over a receptive-field window)."""
    import tensorflow as tf

    from nsynth_synth.models.kinds import get_preset
    from nsynth_synth.models.midi_conditioned.model import build_model
    from nsynth_synth.models.wavenet_autoencoder.config import PRESETS as AUTOENCODER_PRESETS
    from nsynth_synth.models.wavenet_autoencoder.model import build_autoencoder
    from nsynth_synth.sampling.cached_queue import network_of

    rng = np.random.default_rng(0)
    if name in AUTOENCODER_PRESETS:
        config = AUTOENCODER_PRESETS[name]
        model, hop, upsample = build_autoencoder(config), config.hop, "hold"
        frames = tf.constant(rng.normal(size=(batch, samples // hop + 1, config.bottleneck)).astype(np.float32))
        network = network_of(model, config)
        decode = tf.function(lambda ids, c: tf.argmax(
            network.decode(ids, c, lambda layer, x: network.layers[layer](x))[:, -1], -1))
        return config, model, network, hop, upsample, frames, decode
    config = get_preset(name)
    model = build_model(config)
    frames = tf.constant((rng.random((batch, samples // 64 + 1, 128)) < 0.05).astype(np.float32))
    naive = tf.function(lambda ids, r: tf.argmax(model({"audio_ids": ids, "piano_roll": r})["audio_logits"][:, -1], -1))
    return config, model, network_of(model, config), 64, "linear", frames, naive


def bench_preset(name, batch, args):
    import tensorflow as tf

    from nsynth_synth.models.summary import per_sample_macs
    from nsynth_synth.sampling import CachedQueueSampler, StreamingSampler

    probe = args.samples
    config, model, network, hop, upsample, frames, naive_fn = _setup(name, batch, probe)
    paper_size = config.residual_channels >= 512
    samples = args.paper_samples if paper_size else args.samples
    sampler = CachedQueueSampler(model, config, chunk=samples, upsample=upsample)
    seeds = tf.range(batch)
    generate = tf.function(sampler.generate)
    generate(frames, hop, samples, seeds, 1.0)[0].numpy()  # compile
    in_graph = timed(lambda: generate(frames, hop, samples, seeds, 1.0)[0].numpy(), samples, args.rounds)

    stream = StreamingSampler(sampler)
    stream.reset(batch)
    step = tf.function(stream.step, jit_compile=True)
    conditioning_t = tf.zeros([batch, frames.shape[-1]])
    step(conditioning_t, seeds, 1.0)[0].numpy()
    steps = args.loop_steps

    def loop():
        for _ in range(steps):
            ids, _ = step(conditioning_t, seeds, 1.0)
        ids.numpy()

    py_loop = timed(loop, steps, args.rounds)

    field = config.receptive_field
    window_ids = tf.zeros([batch, field], tf.int32)
    window_conditioning = tf.zeros([batch, field, frames.shape[-1]])
    naive_fn(window_ids, window_conditioning).numpy()
    naive_samples = args.paper_naive if paper_size else args.naive

    def naive():
        for _ in range(naive_samples):
            naive_fn(window_ids, window_conditioning).numpy()

    naive_rate = timed(naive, naive_samples, args.rounds)
    return {"preset": name, "batch": batch, "receptive_field": field, "macs_per_sample": per_sample_macs(model, network),
            "in_graph": in_graph * batch, "py_loop": py_loop * batch, "naive": naive_rate * batch}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--presets", nargs="+",
                        default=["synthnet_live", "synthnet_small", "synthnet_l24", "nsynth_wavenet_ae"])
    parser.add_argument("--batches", nargs="+", type=int, default=[1, 16])
    parser.add_argument("--samples", type=int, default=4096, help="samples timed by (a), small presets")
    parser.add_argument("--paper-samples", type=int, default=512, help="samples timed by (a), 512-channel presets")
    parser.add_argument("--loop-steps", type=int, default=300, help="samples timed by (b)")
    parser.add_argument("--naive", type=int, default=30, help="samples timed by (c), small presets")
    parser.add_argument("--paper-naive", type=int, default=1, help="samples timed by (c), 512-channel presets")
    parser.add_argument("--rounds", type=int, default=3, help="timings of each cell (the median is shown)")
    parser.add_argument("--out", default="bench_out/bench_sampler.json")
    args = parser.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

    peak = matmul_gflops()
    rows = []
    for name in args.presets:
        for batch in args.batches:
            row = bench_preset(name, batch, args)
            row["in_graph_gflops"] = 2 * row["macs_per_sample"] * row["in_graph"] / 1e9
            row["fraction_of_peak"] = row["in_graph_gflops"] / peak
            row["real_time_factor"] = row["in_graph"] / batch / SAMPLE_RATE
            rows.append(row)
            print(f"measured {name} batch {batch}", flush=True)

    print(f"\nfloat32 matmul peak measured here: {peak:.1f} GFLOP/s ({os.cpu_count()} cores)")
    header = (f"{'preset':<24}{'batch':>6}{'MACs/sample':>13}{'(a) in-graph':>14}{'(b) py-loop':>13}"
              f"{'(c) naive':>11}{'a/b':>7}{'a/c':>8}{'GFLOP/s':>9}{'% peak':>8}{'x real time':>13}")
    print(header)
    for r in rows:
        print(f"{r['preset']:<24}{r['batch']:>6}{r['macs_per_sample']:>13,}{r['in_graph']:>14,.0f}{r['py_loop']:>13,.0f}"
              f"{r['naive']:>11,.1f}{r['in_graph'] / r['py_loop']:>7.1f}{r['in_graph'] / r['naive']:>8.0f}"
              f"{r['in_graph_gflops']:>9.2f}{100 * r['fraction_of_peak']:>7.1f}%{r['real_time_factor']:>13.2f}")
    print("rates are samples per second, all voices of the batch together")
    write_report(args.out, matmul_gflops=peak, rows=rows)


if __name__ == "__main__":
    main()
