"""`nsynth-synth train`: resumable training of the MIDI-conditioned models on a Bach set.

A run directory holds:
  config.json        the resolved TrainConfig and ModelConfig; a model rebuilds from it alone
  checkpoints/       tf.train.CheckpointManager checkpoints (model, optimizer, step)
  logs/              TensorBoard summaries
Rerunning the same command resumes from the newest checkpoint with the same step counter (and
says so); a finished run says so and exits; a run directory made for another preset or data set
is refused once it holds a checkpoint. Nothing is written before every check of the settings and
the data has passed, so a refused command leaves no run behind to lock the next one out.
"""

import dataclasses
import json
import os
import time

import keras
import tensorflow as tf
from tqdm import tqdm

from nsynth_synth.configs import ModelConfig, get_preset
from nsynth_synth.data.bach import read_manifest, style_ids, training_dataset, windows_per_epoch
from nsynth_synth.data.heard import combine, heard
from nsynth_synth.errors import NsynthSynthError
from nsynth_synth.evaluation.rmse_cqt import format_floor
from nsynth_synth.fileio import write_json
from nsynth_synth.models import build_model
from nsynth_synth.training import autoencoder
from nsynth_synth.training.losses import audio_loss, roll_loss
from nsynth_synth.training.distribution import make_strategy, worker_directory
from nsynth_synth.training.precision import JIT, PRECISIONS, resolve_jit, resolve_precision
from nsynth_synth.training.quality import QualityTracker

CONFIG = "config.json"


class TrainingError(NsynthSynthError):
    """A run that cannot start or resume as asked."""


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """What a run does. Defaults follow the SynthNet paper: Adam, learning rate 1e-3, betas
    0.9/0.999, epsilon 1e-8, weight decay 1e-5, batch 1, window 16000. For the NSynth presets
    (data: NSynth notes) they follow Magenta's releases instead (training.autoencoder), e.g. for
    the WaveNet autoencoder window 6144, the 2e-4 -> 2e-5 schedule, no weight decay, weight
    averaging 0.9999; the note classifier takes batches of 32 notes. None means "the preset's
    default"; the resolved values are recorded.

    steps: total optimizer steps (epochs, when given, sets it from the data's windows per epoch).
    window: audio samples per training example (the model predicts window - 1 of them).
    learning_rate: a constant rate (None: the preset's default, a schedule for the autoencoder).
    ema: decay of the weight average used for evaluation and export (0: none).
    styles: GM programs to train on (None: every style of the set); several give global conditioning.
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
    checkpoint_every: int = 500
    eval_every: int = 500  # K: steps between quality evaluations (generation + RMSE-CQT)
    eval_seconds: float = 1.0
    seed: int | None = None

    def __post_init__(self):
        if self.precision not in PRECISIONS:
            raise TrainingError(f"--precision must be one of {PRECISIONS}, got {self.precision!r}")
        if self.jit not in JIT:
            raise TrainingError(f"--jit must be one of {JIT}, got {self.jit!r}")
        for name in ("steps", "batch_size", "window", "checkpoint_every", "eval_every"):
            if getattr(self, name) is not None and getattr(self, name) < 1:
                raise TrainingError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.styles is not None:
            object.__setattr__(self, "styles", tuple(self.styles))
        if not isinstance(self.data, str):
            object.__setattr__(self, "data", tuple(self.data))


def is_note_model(preset):
    """A preset trained on NSynth notes (training.autoencoder), not on a Bach set."""
    return preset in autoencoder.NOTE_PRESETS


def with_preset_defaults(config):
    """Fill the fields left None with the preset's defaults (see TrainConfig)."""
    if is_note_model(config.preset):
        defaults = autoencoder.defaults(config.preset)
    else:
        defaults = {"batch_size": 1, "window": 16000, "learning_rate": 1e-3, "beta_1": 0.9, "weight_decay": 1e-5,
                    "ema": 0.0}
    return dataclasses.replace(config, **{k: v for k, v in defaults.items() if getattr(config, k) is None})


def _model_config(config, manifest):
    programs = config.styles or tuple(s["program"] for s in manifest["styles"])
    style_ids(manifest, programs)  # fails for a program the set does not hold
    num_styles = len(manifest["styles"]) if len(programs) > 1 else 0
    return get_preset(config.preset, num_styles=num_styles, sample_rate=manifest["config"]["sample_rate"])


def _data_record(manifest, programs):
    """What generation needs without the data: the set's styles (style ids), frame hop, and what
    the model heard in training: per trained style (GM programs) the pitch and velocity ranges, the
    most keys at once and the minutes (data.heard), and the pitch range over them all (NSynth
    notes: just the format)."""
    if manifest is None:
        return {"format": "nsynth"}
    by_style = {str(p): heard(manifest, p) for p in programs or [s["program"] for s in manifest["styles"]]}
    return {
        "styles": manifest["styles"],
        "frame_hop": manifest["config"]["frame_hop"],
        "pitch_range": combine([h for h in by_style.values() if h is not None])["pitch_range"],
        "heard": by_style,
    }


def _run_record(config, model_config, manifest):
    """The config.json record: the two configs and _data_record, as they read back from JSON."""
    record = {"train": dataclasses.asdict(config), "model": dataclasses.asdict(model_config),
              "data": _data_record(manifest, config.styles)}
    return json.loads(json.dumps(record))


def holds_checkpoint(run_dir):
    """Whether a run directory holds a checkpoint (latest or best): only then is it a run to protect."""
    return any(tf.train.latest_checkpoint(os.path.join(run_dir, name)) for name in ("checkpoints", "best"))


def _check_run_dir(run_dir, record):
    """Refuse a run directory whose run was made with other settings (preset, data, window,
    styles, upsampling) and holds a checkpoint. A run that holds none yet (a refused or killed
    start) protects nothing: its config.json is replaced."""
    path = os.path.join(run_dir, CONFIG)
    if not os.path.exists(path) or not holds_checkpoint(run_dir):
        return
    with open(path) as f:
        existing = json.load(f)
    for key in ("preset", "data", "window", "styles", "upsample"):
        before, now = existing["train"].get(key), record["train"][key]
        if key == "data" and before is not None:  # the same data, however its paths are spelled
            before, now = _real_paths(before), _real_paths(now)
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


def read_run_record(run_dir):
    """The config.json record of a run directory."""
    path = os.path.join(run_dir, CONFIG)
    if not os.path.exists(path):
        raise TrainingError(f"{run_dir}: no {CONFIG}; not a run directory")
    with open(path) as f:
        return json.load(f)


def _model_config_of(record):
    preset = record["train"]["preset"]
    if is_note_model(preset):
        return type(autoencoder.NOTE_PRESETS[preset])(**record["model"])
    return ModelConfig.from_dict(record["model"])


def _build(model_config, name):
    if isinstance(model_config, ModelConfig):
        return build_model(model_config, name=name)
    return autoencoder.build(model_config, name)


def load_run_config(run_dir):
    """(TrainConfig, the model's config) of a run directory."""
    record = read_run_record(run_dir)
    return TrainConfig(**record["train"]), _model_config_of(record)


def load_trained_model(run_dir, which="best"):
    """(float32 Keras model, its config, run record, checkpoint path). which: "best" (lowest
    RMSE-CQT so far, falling back to the latest when none was scored) or "latest". A run with a
    weight average (the autoencoder) loads the averaged weights."""
    if which not in ("best", "latest"):
        raise TrainingError(f"which checkpoint: 'best' or 'latest', not {which!r}")
    record = read_run_record(run_dir)
    model_config = _model_config_of(record)
    model = _build(model_config, record["train"]["preset"])
    latest = which == "best" and tf.train.latest_checkpoint(os.path.join(run_dir, "best"))
    latest = latest or tf.train.latest_checkpoint(os.path.join(run_dir, "checkpoints"))
    if latest is None:
        raise TrainingError(f"{run_dir}: no checkpoint yet; train first")
    if record["train"].get("ema") and os.path.basename(os.path.dirname(latest)) == "checkpoints":
        average = autoencoder.WeightAverage(model.trainable_variables)
        restore(tf.train.Checkpoint(model=model, ema=average), latest, partial=True)
        average.copy_to(model.trainable_variables)
    else:
        restore(tf.train.Checkpoint(model=model), latest, partial=True)
    return model, model_config, record, latest


def _examples(config, manifest):
    """Global batches -> (inputs, targets): step t of the window predicts sample t + 1."""
    dataset = training_dataset(config.data, config.window, config.batch_size, styles=config.styles,
                               upsample=config.upsample, seed=config.seed)

    def split(batch):
        inputs = {"audio_ids": batch["audio_ids"][:, :-1], "piano_roll": batch["piano_roll"][:, :-1],
                  "style_id": batch["style_id"]}
        return inputs, {"audio_ids": batch["audio_ids"][:, 1:], "piano_roll": batch["piano_roll"][:, 1:]}

    options = tf.data.Options()
    # Random windows from an endless stream: each worker takes every n-th batch.
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return dataset.map(split).with_options(options)


def make_optimizer(config, precision, model):
    """Adam (with decoupled weight decay) as configured, loss-scaled under mixed_float16, built.
    Fields of `config` left None take the preset's defaults."""
    config = with_preset_defaults(config)
    rate = config.learning_rate if config.learning_rate is not None else autoencoder.learning_rate_schedule(config.steps)
    optimizer = keras.optimizers.Adam(rate, beta_1=config.beta_1, beta_2=config.beta_2,
                                      epsilon=config.epsilon, weight_decay=config.weight_decay or None)
    if precision == "mixed_float16":
        optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
    optimizer.build(model.trainable_variables)
    return optimizer


def make_train_step(model, optimizer, model_config, strategy, precision, step, average=None, jit_compile=False):
    """A compiled step: iterator of (inputs, targets) global batches -> (loss, audio loss, roll loss).

    The loss is the global batch's mean, so the learning rate means the same for any replica count.
    average: a WeightAverage to update after every step. jit_compile: XLA-compile the replica's
    step (forward, backward and update).
    """
    replicas = strategy.num_replicas_in_sync
    midi = isinstance(model_config, ModelConfig)
    roll_weight = model_config.roll_loss_weight if midi and model_config.architecture.roll_head else 0.0

    def losses(outputs, targets):
        if not midi:
            return autoencoder.loss(model_config, outputs, targets)
        loss_audio = audio_loss(targets["audio_ids"], outputs["audio_logits"])
        loss_roll = roll_loss(targets["piano_roll"], outputs["roll_logits"]) if roll_weight else tf.constant(0.0)
        return loss_audio + roll_weight * loss_roll, loss_audio, loss_roll

    def replica_step(inputs, targets):
        if midi and not model_config.num_styles:
            inputs = {k: v for k, v in inputs.items() if k != "style_id"}
        with tf.GradientTape() as tape:
            outputs = model(inputs, training=True)
            loss, loss_audio, loss_roll = losses(outputs, targets)
            # Each replica's share of the global batch's mean: the all-reduce sums the gradients.
            loss = loss / replicas
            scaled = optimizer.scale_loss(loss) if precision == "mixed_float16" else loss
        gradients = tape.gradient(scaled, model.trainable_variables)
        optimizer.apply(gradients, model.trainable_variables)
        return loss, loss_audio / replicas, loss_roll / replicas

    compiled_step = tf.function(replica_step, jit_compile=True) if jit_compile else replica_step

    @tf.function
    def train_step(iterator):
        inputs, targets = next(iterator)
        losses = strategy.run(compiled_step, args=(inputs, targets))
        step.assign_add(1)
        if average is not None:
            average.update(model.trainable_variables, step)
        return [strategy.reduce(tf.distribute.ReduceOp.SUM, x, axis=None) for x in losses]

    return train_step


def train(run_dir, config: TrainConfig, progress=True):
    """Train (or resume) into run_dir; returns a dict summary of the run."""
    from nsynth_synth.data.nsynth import split_files

    config = with_preset_defaults(config)
    notes = is_note_model(config.preset)
    if notes:
        manifest, model_config = None, autoencoder.model_config(config)
        files = split_files(config.data, "train")  # fails early, naming the data, when there is none
        if config.epochs is not None:
            raise TrainingError("--epochs is for the Bach sets; give the NSynth models --steps")
    else:
        if not isinstance(config.data, str):
            raise TrainingError(f"--data: a Bach set is one folder, got {len(config.data)} paths")
        manifest = read_manifest(config.data)
        if "train" not in manifest["splits"]:
            raise TrainingError(f"{config.data}: no train split (it has {', '.join(manifest['splits'])}); build it "
                                "again with `prepare bach`, which keeps a piece to train on")
        model_config = _model_config(config, manifest)
    if config.epochs is not None:
        per_epoch = max(windows_per_epoch(manifest, "train", config.window, config.styles) // config.batch_size, 1)
        config = dataclasses.replace(config, steps=config.epochs * per_epoch)
    record = _run_record(config, model_config, manifest)
    _check_run_dir(run_dir, record)

    precision, precision_reason = resolve_precision(config.precision, config.preset)
    jit, jit_reason = resolve_jit(config.jit, config.preset)
    record["resolved"] = {"precision": precision, "precision_reason": precision_reason, "jit": jit,
                          "jit_reason": jit_reason}
    strategy, chief, worker = make_strategy(config.distribute)
    replicas = strategy.num_replicas_in_sync
    if config.batch_size % replicas:
        raise TrainingError(f"--batch-size {config.batch_size} does not split over {replicas} replicas")
    keras.mixed_precision.set_dtype_policy(precision)
    try:
        with strategy.scope():
            model = _build(model_config, config.preset)
            optimizer = make_optimizer(config, precision, model)
            step = tf.Variable(0, dtype=tf.int64, trainable=False, name="step")
            average = autoencoder.WeightAverage(model.trainable_variables, config.ema) if config.ema else None
    finally:
        keras.mixed_precision.set_dtype_policy("float32")
    checkpoint = tf.train.Checkpoint(model=model, optimizer=optimizer, step=step,
                                     **({"ema": average} if average is not None else {}))
    # Every worker resumes from the chief's newest checkpoint (a shared file system for multi_worker).
    resume_from = tf.train.latest_checkpoint(os.path.join(run_dir, "checkpoints"))
    if resume_from:
        restore(checkpoint, resume_from)
    start = int(step.numpy())
    if start >= config.steps:
        message = f"{run_dir}: already trained for {start} of {config.steps} steps; nothing to do"
        if progress:
            print(message)
        return {"run_dir": run_dir, "steps": start, "finished": True, "message": message}

    train_step = make_train_step(model, optimizer, model_config, strategy, precision, step, average, jit_compile=jit)

    if notes:
        quality, examples = None, autoencoder.note_examples(config, model_config)
    else:
        program = (config.styles or [manifest["styles"][0]["program"]])[0]
        quality = QualityTracker(run_dir, model, model_config, manifest, config.data, program, config.eval_every,
                                 config.eval_seconds, config.upsample)
        examples = _examples(config, manifest)

    # Every check has passed (settings, data, window, shards): only now is the run directory written.
    os.makedirs(run_dir, exist_ok=True)
    write_json(os.path.join(run_dir, CONFIG), record)  # more steps may change the schedule: the record follows
    progress = progress and chief
    if progress:
        print(f"precision {precision} ({precision_reason}); XLA {'on' if jit else 'off'} ({jit_reason})")
        if notes:
            shown = ", ".join(files[:3]) + (f" and {len(files) - 3} more" if len(files) > 3 else "")
            print(f"NSynth train split: {shown}")
        elif quality.reference is None:
            print(f"{config.data} has no validation split: quality tracking is off (no RMSE-CQT scores, no best/ "
                  "checkpoint; generate and export take the latest)")
        if resume_from:
            print(f"resuming from step {start} ({os.path.relpath(resume_from, run_dir)})")
    manager = tf.train.CheckpointManager(checkpoint, worker_directory(run_dir, "checkpoints", chief, worker),
                                         max_to_keep=3)
    best = tf.train.CheckpointManager(tf.train.Checkpoint(model=model), worker_directory(run_dir, "best", chief, worker),
                                      max_to_keep=1)
    writer = tf.summary.create_file_writer(worker_directory(run_dir, "logs", chief, worker))
    examples = iter(strategy.experimental_distribute_dataset(examples))
    # Training seconds so far, evaluations excluded, carried over resumes through quality.json.
    trained = quality.history[-1].get("train_seconds", 0.0) if quality is not None and quality.history else 0.0
    began, losses = time.perf_counter(), None
    with tqdm(total=config.steps, initial=start, desc="training", unit="step", disable=not progress) as bar, \
            writer.as_default():
        while int(step.numpy()) < config.steps:
            tick = time.perf_counter()
            losses = [float(x) for x in train_step(examples)]
            trained += time.perf_counter() - tick
            current = int(step.numpy())
            rate = (current - start) / (time.perf_counter() - began)
            tf.summary.scalar("loss/total", losses[0], step=current)
            tf.summary.scalar("loss/audio", losses[1], step=current)
            if not notes and model_config.architecture.roll_head:
                tf.summary.scalar("loss/piano_roll", losses[2], step=current)
            tf.summary.scalar("learning_rate", float(keras.ops.convert_to_numpy(optimizer.learning_rate)), step=current)
            tf.summary.scalar("steps_per_second", rate, step=current)
            bar.set_postfix(loss=f"{losses[0]:.3f}", steps_s=f"{rate:.2f}")
            bar.update()
            if chief and quality is not None and quality.due(current, config.steps):
                score = quality.evaluate(current, best, trained)
                row = quality.history[-1]
                bar.write(f"step {current}: RMSE-CQT {score:.2f}, {format_floor(row['minus_noise'], row)}; best "
                          f"{quality.best['rmse_cqt']:.2f} at step {quality.best['step']}; validation loss "
                          f"{row['loss_with_roll']:.3f}, "
                          f"{row['loss_silent_roll']:.3f} with a silent roll")
            if current % config.checkpoint_every == 0 or current == config.steps:
                manager.save(checkpoint_number=current)
    elapsed = time.perf_counter() - began
    history = quality.history if quality is not None else []
    summary = {"run_dir": run_dir, "steps": int(step.numpy()), "finished": True, "loss": losses[0],
               "audio_loss": losses[1], "seconds": elapsed, "precision": precision, "jit": jit,
               "replicas": replicas,
               "steps_per_second": (int(step.numpy()) - start) / elapsed,
               "rmse_cqt": history[-1]["rmse_cqt"] if history else None,
               "best": quality.best if quality is not None else None}
    if progress:
        quality_line = f"; RMSE-CQT {summary['rmse_cqt']:.2f}" if history else ""
        print(f"trained {config.preset} to step {summary['steps']} in {elapsed:.1f} s "
              f"({summary['steps_per_second']:.2f} steps/s, {precision}{', XLA' if jit else ''}): loss {losses[0]:.4f}{quality_line}; "
              f"checkpoints in {manager.directory}")
    return summary

