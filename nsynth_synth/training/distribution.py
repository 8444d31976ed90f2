"""tf.distribute strategies for `nsynth-synth train --distribute`.

- none: the default strategy, one device.
- mirrored: MirroredStrategy over this host's GPUs (or the devices given).
- multi_worker: MultiWorkerMirroredStrategy, hosts described by the TF_CONFIG environment variable;
  every worker runs the same command; worker 0 (the chief) writes checkpoints, logs and scores.
- auto: mirrored when this host has more than one GPU, else none.
--batch-size is the global batch: each of N replicas gets batch / N windows, and the learning rate
applies to the global batch's mean loss as on one device.
"""

import json
import os
import tempfile

import tensorflow as tf

from nsynth_synth.errors import NsynthSynthError

DISTRIBUTIONS = ("auto", "none", "mirrored", "multi_worker")


def make_strategy(name, devices=None):
    """-> (strategy, is_chief, worker index)."""
    if name not in DISTRIBUTIONS:
        raise NsynthSynthError(f"--distribute must be one of {DISTRIBUTIONS}, got {name!r}")
    if name == "auto":
        name = "mirrored" if len(tf.config.list_physical_devices("GPU")) > 1 else "none"
    if name == "none":
        return tf.distribute.get_strategy(), True, 0
    if name == "mirrored":
        return tf.distribute.MirroredStrategy(devices), True, 0
    if "TF_CONFIG" not in os.environ:
        raise NsynthSynthError("--distribute multi_worker needs TF_CONFIG describing the cluster and this task")
    task = json.loads(os.environ["TF_CONFIG"]).get("task", {})
    strategy = tf.distribute.MultiWorkerMirroredStrategy()
    index = int(task.get("index", 0))
    return strategy, task.get("type", "worker") in ("chief", "worker") and index == 0, index


def worker_directory(run_dir, name, is_chief, index):
    """Where this worker saves: the run directory for the chief, a scratch folder otherwise
    (every worker must take part in a save, only the chief's is kept)."""
    if is_chief:
        return os.path.join(run_dir, name)
    return os.path.join(tempfile.gettempdir(), f"nsynth-synth-worker{index}-{os.getpid()}", name)
