#!/usr/bin/env python
"""Profile one training step: where its time goes, by op group, direction and dtype.

Runs the trainer's compiled step (tools/random_step.py) on a random window under TensorFlow's
profiler and sums each op's self time (its duration less the ops nested in it) over the executor's
threads, grouped as

  depthwise conv   the depthwise convolutions and their backprops (with SpaceToBatch/BatchToSpace,
                   TensorFlow's way of dilating them)
  convolution      full convolutions (WaveNet, DeepVoice, the autoencoders)
  matmul           the 1x1 convolutions (Dense layers) and other matrix products
  xla              XLA-compiled clusters (with --jit on, the whole step)
  optimizer        Adam's updates
  the rest         elementwise ops (gates, activations, casts), losses, reshapes, copies

forward / backward (ops under the gradient tape), and the dtype each op computes in. Prints the
table, the step's wall time, and writes JSON (--out). Compare precisions or implementations by
running it once for each and reading the rows side by side.

  python tools/profile_step.py synthnet_small --precision mixed_bfloat16
"""

import argparse
import collections
import glob
import os
import tempfile
import time

from random_step import random_train_step
from report import write_report

DEPTHWISE = {"DepthwiseConv2dNative", "DepthwiseConv2dNativeBackpropInput", "DepthwiseConv2dNativeBackpropFilter",
             "SpaceToBatchND", "BatchToSpaceND"}
CONVOLUTION = {"Conv2D", "Conv2DBackpropInput", "Conv2DBackpropFilter", "Conv3D", "Conv3DBackpropInputV2",
               "Conv3DBackpropFilterV2"}
MATMUL = {"MatMul", "BatchMatMulV2", "BatchMatMulV3", "Einsum"}
XLA = {"_XlaRun", "XlaLaunch", "_XlaCompile", "_XlaMerge"}
GROUPS = ("depthwise conv", "convolution", "matmul", "xla", "optimizer", "the rest")


def op_group(name, op_type):
    """An op's group (GROUPS) from its node name and type; oneDNN's _Mkl/_Fused variants count as
    the op they replace."""
    base = op_type.removeprefix("_Mkl").removeprefix("Native").removeprefix("_Fused").removeprefix("Fused")
    if "adam" in name.lower():
        return "optimizer"
    if op_type in DEPTHWISE or "Depthwise" in op_type:
        return "depthwise conv"
    if base in CONVOLUTION or "Conv2D" in op_type or "Conv3D" in op_type:
        return "convolution"
    if base in MATMUL or "MatMul" in op_type:
        return "matmul"
    if op_type in XLA or op_type.startswith("__inference"):
        return "xla"
    return "the rest"


def node_dtypes(concrete_function):
    """Node name -> the dtype it computes in ("T" or "dtype" attribute), over the step's graph and
    the functions it calls."""
    import tensorflow as tf

    graph_def = concrete_function.graph.as_graph_def()
    nodes = list(graph_def.node) + [n for f in graph_def.library.function for n in f.node_def]
    dtypes = {}
    for node in nodes:
        for key in ("T", "dtype", "Tparams"):
            if key in node.attr and node.attr[key].type:
                dtypes[node.name] = tf.dtypes.as_dtype(node.attr[key].type).name
                break
    return dtypes


def self_times(xplane_path):
    """-> [(op name, op type, self seconds)] of the executor threads of an .xplane.pb trace."""
    from tensorflow.tsl.profiler.protobuf import xplane_pb2

    space = xplane_pb2.XSpace()
    with open(xplane_path, "rb") as f:
        space.ParseFromString(f.read())
    ops = []
    for plane in space.planes:
        if plane.name != "/host:CPU":
            continue
        for line in plane.lines:
            if not line.name.startswith("tf_Compute"):
                continue
            events = sorted(line.events, key=lambda e: (e.offset_ps, -e.duration_ps))
            stack = []  # [end, index into ops]
            for event in events:
                name = plane.event_metadata[event.metadata_id].name
                start, end = event.offset_ps, event.offset_ps + event.duration_ps
                while stack and stack[-1][0] <= start:
                    stack.pop()
                node, _, op_type = name.rpartition(":")
                if not node:  # not an op (an Eigen ParallelFor shard, the executor): part of its parent's time
                    continue
                if stack:  # an op nested in another (a function call): not the caller's own time
                    ops[stack[-1][1]][2] -= event.duration_ps
                ops.append([node, op_type, event.duration_ps])
                stack.append([end, len(ops) - 1])
    return [(n, t, ps / 1e12) for n, t, ps in ops]


def profile(preset, precision, jit, window, batch, steps):
    import tensorflow as tf

    train_step, iterator, _ = random_train_step(preset, precision, jit, window, batch)
    for _ in range(2):  # trace, compile and warm up
        train_step(iterator)[0].numpy()
    start = time.perf_counter()
    train_step(iterator)[0].numpy()
    wall = time.perf_counter() - start
    with tempfile.TemporaryDirectory(prefix="profile_step-") as logdir:
        tf.profiler.experimental.start(logdir)
        for _ in range(steps):
            train_step(iterator)[0].numpy()
        tf.profiler.experimental.stop()
        ops = self_times(sorted(glob.glob(os.path.join(logdir, "**", "*.xplane.pb"), recursive=True))[-1])
    dtypes = node_dtypes(train_step.get_concrete_function(iterator))
    table = collections.defaultdict(float)
    types = collections.defaultdict(float)
    for node, op_type, seconds in ops:
        direction = "backward" if node.startswith("gradient_tape/") else "forward"
        group = op_group(node, op_type)
        if group == "optimizer":
            direction = "update"
        dtype = dtypes.get(node, "-")
        table[(group, direction, dtype)] += seconds / steps
        types[(group, op_type)] += seconds / steps
    return wall, table, types


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("preset")
    parser.add_argument("--precision", default="float32", choices=["float32", "mixed_bfloat16", "mixed_float16"])
    parser.add_argument("--jit", default="off", choices=["on", "off"], help="XLA-compile the whole step")
    parser.add_argument("--window", type=int, default=16000, help="samples per window (the trainer's default)")
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--steps", type=int, default=1, help="steps traced (times are per step)")
    parser.add_argument("--top", type=int, default=12, help="op types listed")
    parser.add_argument("--out", default=None, help="JSON (default bench_out/profile_PRESET_PRECISION.json)")
    args = parser.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

    wall, table, types = profile(args.preset, args.precision, args.jit, args.window, args.batch, args.steps)
    total = sum(table.values())
    print(f"\n{args.preset}, {args.precision}, jit {args.jit}, window {args.window} x batch {args.batch}: "
          f"step {wall * 1000:.0f} ms wall, {total * 1000:.0f} ms of op self time over the executor's threads")
    print(f"{'group':<16}{'direction':<10}{'dtype':<10}{'ms':>9}{'%':>7}")
    rows = []
    for (group, direction, dtype), seconds in sorted(table.items(), key=lambda kv: (GROUPS.index(kv[0][0]), kv[0])):
        rows.append({"group": group, "direction": direction, "dtype": dtype, "ms": seconds * 1000,
                     "percent": 100 * seconds / total})
        print(f"{group:<16}{direction:<10}{dtype:<10}{seconds * 1000:>9.1f}{100 * seconds / total:>7.1f}")
    print("\nby group:   " + ", ".join(
        f"{g} {100 * sum(s for (gg, _, _), s in table.items() if gg == g) / total:.0f}%" for g in GROUPS
        if any(gg == g for gg, _, _ in table)))
    print("\nlargest op types:")
    top = sorted(types.items(), key=lambda kv: -kv[1])[:args.top]
    for (group, op_type), seconds in top:
        print(f"  {op_type:<44}{group:<16}{seconds * 1000:>9.1f} ms{100 * seconds / total:>7.1f}%")
    out = args.out or os.path.join("bench_out", f"profile_{args.preset}_{args.precision}_jit{args.jit}.json")
    write_report(out, preset=args.preset, precision=args.precision, jit=args.jit, window=args.window,
                 batch=args.batch, step_wall_ms=wall * 1000, op_self_ms=total * 1000, rows=rows,
                 op_types=[{"op_type": t, "group": g, "ms": s * 1000} for (g, t), s in top])


if __name__ == "__main__":
    main()
