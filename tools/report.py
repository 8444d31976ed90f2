"""The JSON report every tool writes: its numbers plus the machine they were measured on."""

import os
import platform

from nsynth_synth.fileio import write_json


def write_report(path, **fields):
    """Write {"machine": ..., **fields} to `path` atomically and say so."""
    write_json(path, {"machine": {"cpus": os.cpu_count(), "platform": platform.platform()}, **fields})
    print(f"wrote {path}")

