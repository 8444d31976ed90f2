"""A trained run or an export: its typed record and loading it, in one place.

This module owns the run directory: the trainer (nsynth_synth.training.trainer) writes it through
run_record and check_run_dir, and everything that reads a run reads it here, without the trainer.
A run directory holds config.json: {"kind", "train" (TrainConfig),
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

from nsynth_synth.data.bach import describe_set
from nsynth_synth.data.heard import combine, set_heard
from nsynth_synth.data.pianoroll import ROLL_VALUES
from nsynth_synth.errors import ExportError, TrainingError
from nsynth_synth.models.contract import Kind
from nsynth_synth.models.kinds import config_of_record, kind_of, kind_of_record
from nsynth_synth.models.weight_average import WeightAverage

EXPORT_RECORD = "config.json"  # in an export's assets/
CONFIG = "config.json"  # a run directory's record


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """What a run does. Defaults follow the SynthNet paper: Adam, learning rate 1e-3, betas
    0.9/0.999, epsilon 1e-8, weight decay 1e-5, batch 1, window 16000. For the NSynth presets
    (data: NSynth notes) they follow Magenta's releases instead (each kind's train_defaults), e.g. for
    the WaveNet autoencoder window 6144, the 2e-4 -> 2e-5 schedule, no weight decay, weight
    averaging 0.9999; the note classifier takes batches of 32 notes. None means "the preset's
    default"; the resolved values are recorded.

    steps: total optimizer steps (epochs, when given, sets it from the data's windows per epoch).
    max_train_seconds: also stop (with an evaluation and a checkpoint) once this much training time
      (evaluations excluded, summed over resumes) is spent: runs of equal wall-clock.
    window: audio samples per training example (the model predicts window - 1 of them).
    learning_rate: a constant rate (None: the preset's default, a schedule for the autoencoder).
    ema: decay of the weight average used for evaluation and export (0: none).
    styles: GM programs to train on (None: every style of the set); several give global conditioning.
    roll: the piano roll's values: "binary" (the SynthNet paper's) or "velocity" (velocity / 127).
    model_set: "name=value" changes to the preset's model config (Config.with_settings), e.g. for
      an ablation; the run's config.json records the result.
    data: a Bach set's folder; for the NSynth presets a folder or TFRecord files (a path or several).
    """

    preset: str
    data: str | tuple
    steps: int = 1000
    epochs: int | None = None
    batch_size: int | None = None
    window: int | None = None
    learning_rate: float | None = None
    beta_1: float | None = None
    beta_2: float = 0.999
    epsilon: float = 1e-8
    weight_decay: float | None = None
    ema: float | None = None
    precision: str = "auto"
    jit: str = "auto"
    distribute: str = "none"
    styles: tuple | None = None
    upsample: str = "linear"
    roll: str = "binary"
    checkpoint_every: int = 500
    eval_every: int = 500  # K: steps between quality evaluations (generation + RMSE-CQT)
    eval_seconds: float | None = None  # the kind's default: 1 s for SynthNet, 5 s for the harmonic kind
    eval_seeds: int = 1  # sampling seeds per evaluation (one batch); RMSE-CQT is their mean
    max_train_seconds: float | None = None
    seed: int | None = None
    model_set: tuple = ()

    def __post_init__(self):
        if self.max_train_seconds is not None and not self.max_train_seconds > 0:
            raise TrainingError(f"--max-train-seconds must be positive, got {self.max_train_seconds}")
        if self.roll not in ROLL_VALUES:
            raise TrainingError(f"--roll must be one of {ROLL_VALUES}, got {self.roll!r}")
        for name in ("steps", "batch_size", "window", "checkpoint_every", "eval_every", "eval_seeds"):
            if getattr(self, name) is not None and getattr(self, name) < 1:
                raise TrainingError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.styles is not None:
            object.__setattr__(self, "styles", tuple(self.styles))
        object.__setattr__(self, "model_set", tuple(self.model_set))
        if not isinstance(self.data, str):
            object.__setattr__(self, "data", tuple(self.data))


def _data_record(manifest, programs):
    """What generation needs without the data: the set's styles (style ids), frame hop, and what
    the model heard in training: per trained style (GM programs) the pitch and velocity ranges, the
    most keys at once and the minutes (data.heard), and the pitch range over them all (NSynth
    notes: just the format)."""
    if manifest is None:
        return {"format": "nsynth"}
    by_style = {str(p): set_heard(manifest, p) for p in programs or [s["program"] for s in manifest["styles"]]}
    return {
        "set": describe_set(manifest),
        "styles": manifest["styles"],
        "frame_hop": manifest["config"]["frame_hop"],
        "pitch_range": combine([h for h in by_style.values() if h is not None])["pitch_range"],
        "heard": by_style,
    }


def run_record(config, model_config, manifest):
    """The config.json record: the model's kind, the two configs and _data_record, as they read
    back from JSON (nsynth_synth.runs reads it)."""
    record = {"kind": kind_of(model_config).name, "train": dataclasses.asdict(config),
              "model": dataclasses.asdict(model_config),
              "data": _data_record(manifest, config.styles)}
    return json.loads(json.dumps(record))


def holds_checkpoint(run_dir):
    """Whether a run directory holds a checkpoint (latest or best): only then is it a run to protect."""
    return any(tf.train.latest_checkpoint(os.path.join(run_dir, name)) for name in ("checkpoints", "best"))


def check_run_dir(run_dir, record):
    """Refuse a run directory whose run was made with other settings (preset, data, window,
    styles, upsampling, roll values) and holds a checkpoint. A run that holds none yet (a refused or killed
    start) protects nothing: its config.json is replaced."""
    path = os.path.join(run_dir, CONFIG)
    if not os.path.exists(path) or not holds_checkpoint(run_dir):
        return
    with open(path) as f:
        existing = json.load(f)
    for key in ("preset", "data", "window", "styles", "upsample", "roll", "model_set"):
        before, now = existing["train"].get(key, {"roll": "binary", "model_set": []}.get(key)), record["train"][key]
        if key == "data" and before is not None:  # the same data, however its paths are spelled
            before, now = _real_paths(before), _real_paths(now)
        if key == "model_set":  # the same changes in any order
            before, now = sorted(before), sorted(now)
        if before != now:
            raise TrainingError(
                f"{run_dir} was made with {key}={existing['train'].get(key)!r}, not {record['train'][key]!r}; "
                "use another --out (nothing was overwritten)"
            )


def _real_paths(data):
    return os.path.realpath(data) if isinstance(data, str) else [os.path.realpath(p) for p in data]


def restore(checkpoint, path, partial=False):
    """checkpoint.restore(path), raising TrainingError naming the file when it cannot be read.
    partial: the checkpoint object holds only part of what was saved (the model, not the optimizer)."""
    try:
        status = checkpoint.restore(path)
        (status.expect_partial() if partial else status).assert_existing_objects_matched()
    except (tf.errors.OpError, AssertionError, ValueError, IndexError) as error:
        raise TrainingError(
            f"{path}: cannot restore this checkpoint ({type(error).__name__}: {error}); "
            "move it away to resume from an earlier one (nothing was overwritten)"
        ) from error


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
