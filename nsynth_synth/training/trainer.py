"""`nsynth-synth train`: resumable training of every model kind (models.kinds): the MIDI-conditioned
models on a Bach set, the NSynth models on NSynth notes. The kind supplies the model, its loss,
its batches and its defaults; this module is the same loop for all of them.

A run directory holds:
  config.json        the model's kind, the resolved TrainConfig and the model's config, what the
                     model heard of its data, and the precision and XLA setting picked (nsynth_synth.runs
                     reads it); a model rebuilds from it alone
  checkpoints/       tf.train.CheckpointManager checkpoints (model, optimizer, step)
  logs/              TensorBoard summaries
Rerunning the same command resumes from the newest checkpoint with the same step counter (and
says so); a finished run says so and exits; a run directory made for another preset or data set
is refused once it holds a checkpoint. Nothing is written before every check of the settings and
the data has passed, so a refused command leaves no run behind to lock the next one out.
"""

import dataclasses
import os
import time

import keras
import tensorflow as tf
from tqdm import tqdm

from nsynth_synth.errors import TrainingError
from nsynth_synth.fileio import write_json
from nsynth_synth.metrics.rmse_cqt import format_floor
from nsynth_synth.models.kinds import get_preset, kind_of, preset_kind
from nsynth_synth.models.weight_average import WeightAverage
from nsynth_synth.runs import CONFIG, TrainConfig, check_run_dir, restore, run_record
from nsynth_synth.training.distribution import make_strategy, worker_directory
from nsynth_synth.training.precision import JIT, PRECISIONS, resolve_jit, resolve_precision
from nsynth_synth.training.quality import read_history


def with_preset_defaults(config):
    """Fill the fields left None with the preset's kind's defaults (see TrainConfig)."""
    defaults = preset_kind(config.preset).train_defaults
    return dataclasses.replace(config, **{k: v for k, v in defaults.items() if getattr(config, k) is None})


def make_optimizer(config, precision, model):
    """Adam (with decoupled weight decay) as configured, loss-scaled under mixed_float16, built.
    Fields of `config` left None take the preset's defaults."""
    config = with_preset_defaults(config)
    rate = config.learning_rate
    if rate is None:  # the kind's schedule (the WaveNet autoencoder's released one)
        rate = preset_kind(config.preset).learning_rate(config.steps)
    optimizer = keras.optimizers.Adam(rate, beta_1=config.beta_1, beta_2=config.beta_2,
                                      epsilon=config.epsilon, weight_decay=config.weight_decay or None)
    if precision == "mixed_float16":
        optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
    optimizer.build(model.trainable_variables)
    return optimizer


def make_train_step(model, optimizer, model_config, strategy, precision, step, average=None, jit_compile=False):
    """A compiled step: iterator of (inputs, targets) global batches -> (loss, its two terms: the
    kind's loss_terms, e.g. audio and piano roll).

    The loss is the global batch's mean, so the learning rate means the same for any replica count.
    average: a WeightAverage to update after every step. jit_compile: XLA-compile the replica's
    step (forward, backward and update).
    """
    replicas = strategy.num_replicas_in_sync
    kind = kind_of(model_config)

    def replica_step(inputs, targets):
        with tf.GradientTape() as tape:
            outputs = model(inputs, training=True)
            loss, first, second = kind.loss(model_config, outputs, targets)
            # Each replica's share of the global batch's mean: the all-reduce sums the gradients.
            loss = loss / replicas
            scaled = optimizer.scale_loss(loss) if precision == "mixed_float16" else loss
        gradients = tape.gradient(scaled, model.trainable_variables)
        optimizer.apply(gradients, model.trainable_variables)
        return loss, first / replicas, second / replicas

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


def _resolve_data(config, kind):
    """Check the data for the kind (its training_data: data.bach's or data.nsynth's) -> (config with
    steps set from epochs, manifest or None, model config, a line naming the data or None). Fails
    early, naming the data, when it is unusable."""
    config, manifest, line = kind.training_data(config)
    chosen = get_preset(config.preset).with_settings(config.model_set)
    model_config = kind.run_config(chosen, config, manifest)
    for setting in config.model_set:  # the data decides some fields (the styles, the rate, the hop)
        name = setting.partition("=")[0]
        if getattr(model_config, name) != getattr(chosen, name):
            raise TrainingError(f"--model-set {setting}: the data decides {name} "
                                f"({getattr(model_config, name)!r} for {config.data})")
    return config, manifest, model_config, line


def _training_state(config, kind, model_config, precision, strategy):
    """Build under the policy and strategy -> (model, optimizer, step, weight average or None)."""
    keras.mixed_precision.set_dtype_policy(precision)
    try:
        with strategy.scope():
            model = kind.build(model_config, config.preset)
            optimizer = make_optimizer(config, precision, model)
            step = tf.Variable(0, dtype=tf.int64, trainable=False, name="step")
            average = WeightAverage(model.trainable_variables, config.ema) if config.ema else None
    finally:
        keras.mixed_precision.set_dtype_policy("float32")
    return model, optimizer, step, average


def _trained_seconds(run_dir):
    """Training seconds so far (evaluations excluded), as the last evaluation in quality.json
    recorded them: exact when checkpoints fall on evaluations, else short by the steps between."""
    history = read_history(run_dir)
    return history[-1].get("train_seconds", 0.0) if history else 0.0


def train(run_dir, config: TrainConfig, progress=True):
    """Train (or resume) into run_dir; returns a dict summary of the run."""
    for name, choices in (("precision", PRECISIONS), ("jit", JIT)):
        if getattr(config, name) not in choices:
            raise TrainingError(f"--{name} must be one of {choices}, got {getattr(config, name)!r}")
    config = with_preset_defaults(config)
    kind = preset_kind(config.preset)
    config, manifest, model_config, data_line = _resolve_data(config, kind)
    record = run_record(config, model_config, manifest)
    check_run_dir(run_dir, record)

    precision, precision_reason = resolve_precision(config.precision, config.preset)
    jit, jit_reason = resolve_jit(config.jit, config.preset)
    record["resolved"] = {"precision": precision, "precision_reason": precision_reason, "jit": jit,
                          "jit_reason": jit_reason}
    strategy, chief, worker = make_strategy(config.distribute)
    replicas = strategy.num_replicas_in_sync
    if config.batch_size % replicas:
        raise TrainingError(f"--batch-size {config.batch_size} does not split over {replicas} replicas")
    model, optimizer, step, average = _training_state(config, kind, model_config, precision, strategy)
    checkpoint = tf.train.Checkpoint(model=model, optimizer=optimizer, step=step,
                                     **({"ema": average} if average is not None else {}))
    # Every worker resumes from the chief's newest checkpoint (a shared file system for multi_worker).
    resume_from = tf.train.latest_checkpoint(os.path.join(run_dir, "checkpoints"))
    if resume_from:
        restore(checkpoint, resume_from)
    start = int(step.numpy())
    trained = _trained_seconds(run_dir) if resume_from else 0.0
    out_of_time = config.max_train_seconds is not None and trained >= config.max_train_seconds
    if start >= config.steps or out_of_time:
        message = (f"{run_dir}: already trained for {start} of {config.steps} steps" if not out_of_time else
                   f"{run_dir}: already trained for {trained:.0f} of {config.max_train_seconds:g} s (step {start})")
        message += "; nothing to do"
        if progress:
            print(message)
        return {"run_dir": run_dir, "steps": start, "finished": True, "message": message}

    train_step = make_train_step(model, optimizer, model_config, strategy, precision, step, average, jit_compile=jit)
    quality = None
    if manifest is not None and kind.stage("quality") is not None:
        program = (config.styles or [manifest["styles"][0]["program"]])[0]
        quality = kind.stage("quality").Tracker(run_dir, model, model_config, manifest, config, program)
    options = tf.data.Options()
    # Random windows from an endless stream: each worker takes every n-th batch.
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    examples = kind.examples(config, model_config).with_options(options)

    # Every check has passed (settings, data, window, shards): only now is the run directory written.
    os.makedirs(run_dir, exist_ok=True)
    write_json(os.path.join(run_dir, CONFIG), record)  # more steps may change the schedule: the record follows
    progress = progress and chief
    if progress:
        print(f"precision {precision} ({precision_reason}); XLA {'on' if jit else 'off'} ({jit_reason})")
        if data_line:
            print(data_line)
        elif quality is not None and quality.reference is None:
            print(f"{config.data} has no validation split: quality tracking is off (no RMSE-CQT scores, no best/ "
                  "checkpoint; generate and export take the latest)")
        if resume_from:
            print(f"resuming from step {start} ({os.path.relpath(resume_from, run_dir)})")
        if config.max_train_seconds is not None:
            print(f"stops at step {config.steps} or after {config.max_train_seconds:g} s of training "
                  f"({trained:.0f} s so far), whichever comes first")
    manager = tf.train.CheckpointManager(checkpoint, worker_directory(run_dir, "checkpoints", chief, worker),
                                         max_to_keep=3)
    best = tf.train.CheckpointManager(tf.train.Checkpoint(model=model), worker_directory(run_dir, "best", chief, worker),
                                      max_to_keep=1)
    writer = tf.summary.create_file_writer(worker_directory(run_dir, "logs", chief, worker))
    examples = iter(strategy.experimental_distribute_dataset(examples))
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
            for term, value in zip(kind.loss_terms(model_config), losses[1:]):
                if term is not None:
                    tf.summary.scalar(f"loss/{term}", value, step=current)
            tf.summary.scalar("learning_rate", float(keras.ops.convert_to_numpy(optimizer.learning_rate)), step=current)
            tf.summary.scalar("steps_per_second", rate, step=current)
            bar.set_postfix(loss=f"{losses[0]:.3f}", steps_s=f"{rate:.2f}")
            bar.update()
            out_of_time = config.max_train_seconds is not None and trained >= config.max_train_seconds
            if chief and quality is not None and (quality.due(current, config.steps) or out_of_time):
                score = quality.evaluate(current, best, trained)
                row = quality.history[-1]
                besides = quality.describe(row)
                bar.write(f"step {current}: RMSE-CQT {score:.2f}, {format_floor(row['minus_noise'], row)}; best "
                          f"{quality.best['rmse_cqt']:.2f} at step {quality.best['step']}"
                          + (f"; {besides}" if besides else ""))
            if current % config.checkpoint_every == 0 or current == config.steps or out_of_time:
                manager.save(checkpoint_number=current)
            if out_of_time:
                bar.write(f"step {current}: the training-time budget of {config.max_train_seconds:g} s is spent")
                break
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

