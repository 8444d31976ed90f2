"""Quality tracking as in the SynthNet paper, for every kind that plays scores: every K steps
generate S seconds of a validation piece, score it by RMSE-CQT against the rendered audio, log it,
and keep the best checkpoint by it. How a kind generates and what else it measures is its own
(`models/<kind>/quality.py`, a Tracker subclass); the bookkeeping is here, the same for all.

Every score stands beside its floors (white noise at the reference's RMS, silence, and the
reference itself 20 ms late, scored against the same reference), computed once: the reference is
the same at every evaluation.

Files in the run directory: quality.json (every evaluation: step, RMSE-CQT (the mean over seeds)
and each seed's, its floors and "model - noise", and what the kind measures besides) and best/
(the checkpoint with the lowest RMSE-CQT so far).
"""

import json
import os

import tensorflow as tf

from nsynth_synth.data.bach import DITHER_SEED, whole_pieces
from nsynth_synth.fileio import write_json
from nsynth_synth.metrics.rmse_cqt import noise_floor

HISTORY = "quality.json"
SEED = DITHER_SEED  # the sampling seeds of every evaluation start here


def validation_reference(data_dir, manifest, program, seconds, roll="binary", whole=False):
    """(frame roll [frames, 128] of `roll` values, audio [samples], piece name, onsets [frames, 128])
    of the first validation piece of `program`, cut to `seconds` (whole: the roll and onsets of the
    whole piece, the audio still cut); None when the set has no validation split."""
    if "validation" not in manifest["splits"]:
        return None
    example = next(iter(whole_pieces(data_dir, split="validation", styles=[program], roll=roll)))
    samples = int(seconds * manifest["config"]["sample_rate"])
    frames = None if whole else -(-samples // manifest["config"]["frame_hop"])
    return (example["piano_roll"].numpy()[:frames], example["audio"].numpy()[:samples],
            example["piece"].numpy().decode(), example["onsets"].numpy()[:frames])


class Tracker:
    """Generates and scores every `every` steps (default: train.eval_every); the best checkpoint is
    saved to best/ on improvement. train: the run's TrainConfig (its data, eval_seconds, eval_seeds,
    roll). A kind's subclass sets self.reference (validation_reference's, or None) and implements
    score(step) and describe(row)."""

    whole_piece = False  # whether score() needs the whole validation piece's roll

    def __init__(self, run_dir, model, model_config, manifest, train, program, every=None):
        self.run_dir = run_dir
        self.every = train.eval_every if every is None else every
        self.seeds = tf.constant([SEED + i for i in range(train.eval_seeds)], tf.int32)
        self.reference = validation_reference(train.data, manifest, program, train.eval_seconds, train.roll,
                                              whole=self.whole_piece)
        self.floor = None if self.reference is None else noise_floor(self.reference[1])
        self.hop = manifest["config"]["frame_hop"]
        self.rate = manifest["config"]["sample_rate"]
        self.trained = model
        self.history = read_history(run_dir)

    @property
    def best(self):
        return min(self.history, key=lambda row: row["rmse_cqt"]) if self.history else None

    def due(self, step, last_step):
        return self.reference is not None and (step % self.every == 0 or step == last_step)

    def score(self, step):
        """Generate from the model's current weights and score, writing nothing -> (the quality.json
        row without train_seconds: step, rmse_cqt (the mean over the seeds), its floors (against_floor),
        piece, what the kind measures besides, and with several seeds each one's rmse_cqt; the first
        seed's audio)."""
        raise NotImplementedError

    def describe(self, row):
        """What the kind measured besides RMSE-CQT, for the training log ("" when nothing)."""
        return ""

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
        tf.summary.audio("quality/generated", audio[None, :, None], self.rate, step=step)
        image = tf.image.decode_png(cqt_png(audio, f"step {step}: RMSE-CQT {score:.2f}"))[None]
        tf.summary.image("quality/constant_q", image, step=step)
        return score


def read_history(run_dir):
    """Every evaluation so far: [{step, rmse_cqt, noise_rmse_cqt, silence_rmse_cqt, minus_noise, piece,
    train_seconds[, late_rmse_cqt][, rmse_cqt_seeds], and the kind's own keys (SynthNet:
    loss_with_roll, loss_silent_roll)}] (runs scored before the floors lack their keys)."""
    path = os.path.join(run_dir, HISTORY)
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return json.load(f)
