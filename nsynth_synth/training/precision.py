"""`--precision auto` and `--jit auto`: chosen from the hardware and the model, by measurement.

On a GPU, mixed_float16 (tensor cores). On a CPU, mixed_bfloat16 only where the CPU's class (its
bf16 matrix units, AMX-bf16 tiles or AVX-512 bf16 instructions, read from its flags) and the
model's family were measured by tools/bench_train.py to train faster in bf16; float32 otherwise.
XLA-compiling the whole train step likewise only where it was measured to pay. The measurements,
dated, are each kind's (its KIND's bf16_speedup and jit_speedup, keyed by CPU class and the kind's
speed_key); a CPU class or family that was not measured gets the safe choice (float32, no XLA).
"""

import functools

from nsynth_synth.models.kinds import get_preset, preset_kind

PRECISIONS = ("auto", "float32", "mixed_float16", "mixed_bfloat16")
JIT = ("auto", "on", "off")

FASTER = 1.1  # a variant is picked when at least this much faster than float32 (beyond the noise)

@functools.cache
def cpu_flags():
    """The CPU's feature flags (Linux /proc/cpuinfo; empty elsewhere)."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    return frozenset(line.split(":", 1)[1].split())
    except OSError:
        pass
    return frozenset()


def cpu_class(flags=None):
    """The speed tables' CPU class: its best bf16 matrix hardware, "amx_bf16" (AMX tiles) or
    "avx512_bf16", else "no_bf16"."""
    flags = cpu_flags() if flags is None else flags
    return next((unit for unit in ("amx_bf16", "avx512_bf16") if unit in flags), "no_bf16")


def speed_family(preset):
    """The key of the speed tables for a preset: its kind's speed_key of the preset's config (the
    MIDI-conditioned family), else the kind's first (full-size) preset's name."""
    kind = preset_kind(preset)
    return kind.speed_key(get_preset(preset)) if kind.speed_key else next(iter(kind.presets))


def _measured(table, cpu, preset):
    """The speed-up a kind's `table` ("bf16_speedup" or "jit_speedup") holds for the preset on `cpu`."""
    return getattr(preset_kind(preset), table).get(cpu, {}).get(speed_family(preset))


def _gpu(gpu):
    import tensorflow as tf  # not at import: the command line's parser reads this module's choices

    return bool(tf.config.list_physical_devices("GPU")) if gpu is None else gpu


def resolve_precision(precision, preset, gpu=None, cpu=None):
    """-> (policy name, why). precision: one of PRECISIONS; gpu: whether a GPU is used (None: ask
    TensorFlow); cpu: the CPU class (None: cpu_class())."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}")
    if precision != "auto":
        return precision, "asked for"
    if _gpu(gpu):
        return "mixed_float16", "a GPU (float16 tensor cores)"
    cpu = cpu or cpu_class()
    family = speed_family(preset)
    speedup = _measured("bf16_speedup", cpu, preset)
    if speedup is None:
        return "float32", f"a {cpu} CPU, where bf16 was not measured for {family}"
    if speedup >= FASTER:
        return "mixed_bfloat16", f"a {cpu} CPU, where {family} trains {speedup:.2f}x as fast in bf16"
    return "float32", f"a {cpu} CPU, where {family} trains only {speedup:.2f}x as fast in bf16"


def resolve_jit(jit, preset, gpu=None, cpu=None):
    """-> (XLA-compile the train step?, why); arguments as resolve_precision's."""
    if jit not in JIT:
        raise ValueError(f"jit must be one of {JIT}, got {jit!r}")
    if jit != "auto":
        return jit == "on", "asked for"
    if _gpu(gpu):
        return False, "XLA not measured on a GPU"
    cpu = cpu or cpu_class()
    family = speed_family(preset)
    speedup = _measured("jit_speedup", cpu, preset)
    if speedup is None:
        return False, f"XLA not measured for {family} on a {cpu} CPU"
    if speedup >= FASTER:
        return True, f"XLA makes {family}'s step {speedup:.2f}x as fast on a {cpu} CPU"
    return False, f"XLA makes {family}'s step only {speedup:.2f}x as fast on a {cpu} CPU"
