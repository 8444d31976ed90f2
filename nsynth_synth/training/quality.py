"""Quality tracking as in the SynthNet paper: every K steps generate S seconds from a validation
piano roll with fixed seeds (one, or several generated as one batch), score each by RMSE-CQT
against the rendered audio, log their mean, and keep the best checkpoint by it.

Each evaluation also measures how much the model listens to the score: the teacher-forced audio
loss of the same reference with its piano roll and with a silent roll. While the two are equal the
model predicts from the audio history alone, and generation cannot follow the notes.

Every score stands beside its noise floor (white noise at the reference's RMS, and silence, scored
against the same reference), computed once: the reference is the same at every evaluation.

Files in the run directory: quality.json (every evaluation: step, RMSE-CQT (the mean over seeds)
and each seed's, its floor and "model - noise", the two losses) and best/ (the checkpoint with the
lowest RMSE-CQT so far).
"""

import json
import os

import tensorflow as tf

from nsynth_synth.data.bach import dither_and_encode, style_ids, teacher_forcing, whole_pieces
from nsynth_synth.data.pianoroll import pad_edges, upsample_roll
from nsynth_synth.fileio import write_json
from nsynth_synth.metrics.rmse_cqt import against_floor, noise_floor, rmse_cqt
from nsynth_synth.models.kinds import kind_of
from nsynth_synth.models.losses import audio_loss
from nsynth_synth.sampling.cached_queue import CachedQueueSampler

HISTORY = "quality.json"
SEED = 1234


def validation_reference(data_dir, manifest, program, seconds, roll="binary"):
    """(frame roll [frames, 128] of `roll` values, audio [samples], piece name) of the first
    validation piece of `program`, cut to `seconds`; None when the set has no validation split."""
    if "validation" not in manifest["splits"]:
        return None
    example = next(iter(whole_pieces(data_dir, split="validation", styles=[program], roll=roll)))
    samples = int(seconds * manifest["config"]["sample_rate"])
    frames = -(-samples // manifest["config"]["frame_hop"])
    return (example["piano_roll"].numpy()[:frames], example["audio"].numpy()[:samples],
            example["piece"].numpy().decode())


def teacher_forced_inputs(roll, audio, hop, upsample):
    """Frame roll [frames, 128] and audio [samples] -> (inputs, targets) as in training: audio_ids
    int32 [1, samples - 1] (dithered with the fixed seed, mu-law) and the audio-rate piano_roll
    float32 [1, samples - 1, 128]; sample t + 1 of the audio is the target at t."""
    ids = dither_and_encode(tf.constant(audio), tf.constant([SEED, 0]))[None]
    piano_roll = upsample_roll(pad_edges(tf.constant(roll)), hop, upsample)[None, :len(audio)]
    return teacher_forcing({"audio_ids": ids, "piano_roll": piano_roll})


class QualityTracker:
    """Generates and scores every `every` steps (default: train.eval_every); the best checkpoint is
    saved to best/ on improvement. train: the run's TrainConfig (its data, eval_seconds,
    eval_seeds, upsample and roll)."""

    def __init__(self, run_dir, model, model_config, manifest, train, program, every=None):
        self.run_dir = run_dir
        self.every = train.eval_every if every is None else every
        self.seeds = tf.constant([SEED + i for i in range(train.eval_seeds)], tf.int32)
        self.reference = validation_reference(train.data, manifest, program, train.eval_seconds, train.roll)
        self.floor = None if self.reference is None else noise_floor(self.reference[1])
        self.hop = manifest["config"]["frame_hop"]
        self.rate = manifest["config"]["sample_rate"]
        self.style = tf.constant(style_ids(manifest, [program])) if model_config.num_styles else None
        self.trained = model
        # Generation runs in float32 whatever the training policy (bf16 sampling loses accuracy and
        # speed: see tools/bench_sampler.py): a float32 twin takes the trained weights at each evaluation.
        mixed = model.dtype_policy.compute_dtype != "float32"
        self.model = kind_of(model_config).build(model_config, model.name) if mixed else model
        self.sampler = CachedQueueSampler(self.model, model_config, upsample=train.upsample)
        self.upsample = train.upsample
        self.history = read_history(run_dir)

    @property
    def best(self):
        return min(self.history, key=lambda row: row["rmse_cqt"]) if self.history else None

    def due(self, step, last_step):
        return self.reference is not None and (step % self.every == 0 or step == last_step)

    def score_losses(self, roll, reference):
        """Teacher-forced audio loss (nats a sample) of the reference with its roll and with a silent
        roll: dithered and encoded as in training, with a fixed dither seed."""
        inputs, targets = teacher_forced_inputs(roll, reference, self.hop, self.upsample)
        targets = targets["audio_ids"]
        if self.style is not None:
            inputs["style_id"] = self.style
        losses = []
        for piano_roll in (inputs["piano_roll"], tf.zeros_like(inputs["piano_roll"])):
            logits = self.model({**inputs, "piano_roll": piano_roll}, training=False)["audio_logits"]
            losses.append(float(audio_loss(targets, logits)))
        return tuple(losses)

    def score(self, step):
        """Generate from the model's current weights and score, writing nothing -> (the quality.json
        row without train_seconds: step, rmse_cqt (the mean over the seeds), its noise floor,
        minus_noise, piece, the two validation losses, and with several seeds each one's rmse_cqt;
        the first seed's audio)."""
        roll, reference, piece = self.reference
        if self.model is not self.trained:
            self.model.set_weights(self.trained.get_weights())
        count = int(self.seeds.shape[0])
        style = None if self.style is None else tf.repeat(self.style, count)
        _, audio = self.sampler.generate(tf.repeat(tf.constant(roll[None]), count, axis=0), self.hop, len(reference),
                                         self.seeds, 1.0, style)
        audio = audio.numpy()
        scores = [rmse_cqt(generated, reference) for generated in audio]
        with_roll, silent_roll = self.score_losses(roll, reference)
        row = {"step": step, **against_floor(float(sum(scores) / count), self.floor), "piece": piece,
               "loss_with_roll": with_roll, "loss_silent_roll": silent_roll}
        if count > 1:
            row["rmse_cqt_seeds"] = [float(score) for score in scores]
        return row, audio[0]

    def evaluate(self, step, best_manager, train_seconds):
        """Generate, score, log (scalar, audio, CQT image) and keep the best checkpoint;
        train_seconds (training time so far, evaluations excluded) is recorded with the score."""
        from nsynth_synth.metrics.plots import cqt_png

        row, audio = self.score(step)
        score = row["rmse_cqt"]
        improved = self.best is None or score < self.best["rmse_cqt"]
        self.history.append({**row, "train_seconds": train_seconds})
        write_json(os.path.join(self.run_dir, HISTORY), self.history)
        if improved:
            best_manager.save(checkpoint_number=step)
        tf.summary.scalar("quality/rmse_cqt", score, step=step)
        tf.summary.scalar("quality/minus_noise", self.history[-1]["minus_noise"], step=step)
        tf.summary.scalar("quality/score_gain_nats", row["loss_silent_roll"] - row["loss_with_roll"], step=step)
        tf.summary.audio("quality/generated", audio[None, :, None], self.rate, step=step)
        image = tf.image.decode_png(cqt_png(audio, f"step {step}: RMSE-CQT {score:.2f}"))[None]
        tf.summary.image("quality/constant_q", image, step=step)
        return score


def read_history(run_dir):
    """Every evaluation so far: [{step, rmse_cqt, noise_rmse_cqt, silence_rmse_cqt, minus_noise, piece,
    loss_with_roll, loss_silent_roll, train_seconds[, rmse_cqt_seeds]}] (runs scored before the floor
    lack its keys)."""
    path = os.path.join(run_dir, HISTORY)
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return json.load(f)


