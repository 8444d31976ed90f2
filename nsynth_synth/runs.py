"""A trained run or an export: its typed record and loading it, in one place.

A run directory (nsynth_synth.training.trainer) holds config.json: {"kind", "train" (TrainConfig),
"model" (the kind's config), "data" (what generation needs of the data set and what the model
heard), "resolved" (precision and XLA as picked)}; checkpoints/ and best/ hold checkpoints named
ckpt-STEP. An export (nsynth_synth.export) is a SavedModel version folder whose assets/config.json
is the run's record plus "export" (its settings and the score of the exported step).
"""

import dataclasses
import functools
import json
import os

import tensorflow as tf

from nsynth_synth.errors import ExportError, TrainingError
from nsynth_synth.models.contract import Kind
from nsynth_synth.models.kinds import config_of_record, kind_of_record
from nsynth_synth.training.trainer import CONFIG, TrainConfig, restore
from nsynth_synth.training.weight_average import WeightAverage

EXPORT_RECORD = "config.json"  # in an export's assets/


@dataclasses.dataclass(frozen=True)
class RunRecord:
    """config.json, typed. `raw` is the record as read, and indexing reads it (record["train"] is
    the dict that record.train was made from), for code that writes the record back (exports)."""

    kind: Kind
    train: TrainConfig
    data: dict
    resolved: dict
    export: dict | None
    raw: dict

    @classmethod
    def from_dict(cls, record):
        # Runs from before the roll had values to choose from trained on the binary roll.
        train = TrainConfig(**{"roll": "binary", **record["train"]})
        return cls(kind=kind_of_record(record), train=train, data=record["data"],
                   resolved=record.get("resolved", {}), export=record.get("export"), raw=record)

    @functools.cached_property
    def model(self):
        """The kind's model config (read when asked for: checks of a run that need only its
        training settings work before it)."""
        return config_of_record(self.raw)

    def __getitem__(self, key):
        return self.raw[key]

    @property
    def plays_midi(self):
        """Its kind has a generation stage: it plays scores (an NSynth model plays codes or notes)."""
        return "generation" in self.kind.stages


def read_run_record(run_dir):
    """The RunRecord of a run directory."""
    path = os.path.join(run_dir, CONFIG)
    if not os.path.exists(path):
        raise TrainingError(f"{run_dir}: no {CONFIG}; not a run directory")
    with open(path) as f:
        return RunRecord.from_dict(json.load(f))


def is_run_dir(path):
    return os.path.isfile(os.path.join(path, CONFIG))


def load_run_config(run_dir):
    """(TrainConfig, the model's config) of a run directory."""
    record = read_run_record(run_dir)
    return record.train, record.model


def checkpoint_step(path):
    """.../ckpt-1200 -> 1200 (the checkpoint managers number checkpoints by training step)."""
    return int(path.rsplit("-", 1)[-1])


def load_trained_model(run_dir, which="best"):
    """(float32 Keras model, its config, RunRecord, checkpoint path). which: "best" (lowest
    RMSE-CQT so far, falling back to the latest when none was scored) or "latest". A run with a
    weight average (the autoencoder) loads the averaged weights."""
    if which not in ("best", "latest"):
        raise TrainingError(f"which checkpoint: 'best' or 'latest', not {which!r}")
    record = read_run_record(run_dir)
    model = record.kind.build(record.model, record.train.preset)
    latest = which == "best" and tf.train.latest_checkpoint(os.path.join(run_dir, "best"))
    latest = latest or tf.train.latest_checkpoint(os.path.join(run_dir, "checkpoints"))
    if latest is None:
        raise TrainingError(f"{run_dir}: no checkpoint yet; train first")
    if record.train.ema and os.path.basename(os.path.dirname(latest)) == "checkpoints":
        average = WeightAverage(model.trainable_variables)
        restore(tf.train.Checkpoint(model=model, ema=average), latest, partial=True)
        average.copy_to(model.trainable_variables)
    else:
        restore(tf.train.Checkpoint(model=model), latest, partial=True)
    return model, record.model, record, latest


def next_version(export_base):
    """1 + the highest integer version folder under export_base (1 when there is none)."""
    versions = [int(n) for n in os.listdir(export_base) if n.isdigit()] if os.path.isdir(export_base) else []
    return max(versions, default=0) + 1


def resolve_export(path):
    """A SavedModel folder, or an export base holding integer versions (the newest is taken)
    -> the version folder; None when `path` is neither."""
    if os.path.isfile(os.path.join(path, "saved_model.pb")):
        return path
    if os.path.isdir(path) and any(n.isdigit() for n in os.listdir(path)):
        folder = os.path.join(path, str(next_version(path) - 1))
        if os.path.isfile(os.path.join(folder, "saved_model.pb")):
            return folder
    return None


def read_export_record(folder):
    """The RunRecord of an exported version folder (its `export` holds the export settings)."""
    path = os.path.join(folder, "assets", EXPORT_RECORD)
    if not os.path.isfile(path):
        raise ExportError(f"{folder}: no assets/{EXPORT_RECORD}; not a SavedModel written by `nsynth-synth export`")
    with open(path) as f:
        return RunRecord.from_dict(json.load(f))


def saved_model_call(folder):
    """The `generate` signature of a SavedModel folder as a numpy call: (piano_roll float32
    [batch, frames, 128], style_id int32 [batch], seed int32 [batch], temperature float32 [batch])
    -> audio float32 [batch, frames * hop]."""
    generate = tf.saved_model.load(folder).signatures["generate"]

    def call(piano_roll, style_id, seed, temperature):
        return generate(piano_roll=tf.constant(piano_roll), style_id=tf.constant(style_id), seed=tf.constant(seed),
                        temperature=tf.constant(temperature))["audio"].numpy()

    return call
