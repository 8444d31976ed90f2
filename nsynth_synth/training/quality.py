"""Quality tracking as in the SynthNet paper: every K steps generate S seconds from a validation
piano roll with a fixed seed, score it by RMSE-CQT against the rendered audio, log it, and keep
the best checkpoint by it.

Files in the run directory: quality.json (every evaluation: step, RMSE-CQT) and best/ (the
checkpoint with the lowest RMSE-CQT so far).
"""

import json
import os

import tensorflow as tf

from nsynth_synth.data.bach import style_ids, whole_pieces
from nsynth_synth.evaluation.rmse_cqt import rmse_cqt
from nsynth_synth.fileio import write_json
from nsynth_synth.sampling.cached_queue import CachedQueueSampler

HISTORY = "quality.json"
SEED = (1234, 0)


def validation_reference(data_dir, manifest, program, seconds):
    """(frame roll [frames, 128], audio [samples], piece name) of the first validation piece of
    `program`, cut to `seconds`; None when the set has no validation split."""
    if "validation" not in manifest["splits"]:
        return None
    example = next(iter(whole_pieces(data_dir, split="validation", styles=[program])))
    samples = int(seconds * manifest["config"]["sample_rate"])
    frames = -(-samples // manifest["config"]["frame_hop"])
    return (example["piano_roll"].numpy()[:frames], example["audio"].numpy()[:samples],
            example["piece"].numpy().decode())


class QualityTracker:
    """Generates and scores every `every` steps; `checkpoint` is saved to best/ on improvement."""

    def __init__(self, run_dir, model, model_config, manifest, data_dir, program, every, seconds, upsample):
        self.run_dir = run_dir
        self.every = every
        self.reference = validation_reference(data_dir, manifest, program, seconds)
        self.hop = manifest["config"]["frame_hop"]
        self.rate = manifest["config"]["sample_rate"]
        self.style = tf.constant(style_ids(manifest, [program])) if model_config.num_styles else None
        self.sampler = CachedQueueSampler(model, model_config, upsample=upsample)
        self.history = read_history(run_dir)

    @property
    def best(self):
        return min(self.history, key=lambda row: row["rmse_cqt"]) if self.history else None

    def due(self, step, last_step):
        return self.reference is not None and (step % self.every == 0 or step == last_step)

    def evaluate(self, step, best_manager):
        """Generate, score, log (scalar, audio, CQT image) and keep the best checkpoint."""
        from nsynth_synth.evaluation.plots import cqt_png

        roll, reference, piece = self.reference
        _, audio = self.sampler.generate(tf.constant(roll[None]), self.hop, len(reference), tf.constant(SEED),
                                         1.0, self.style)
        audio = audio.numpy()[0]
        score = rmse_cqt(audio, reference)
        improved = self.best is None or score < self.best["rmse_cqt"]
        self.history.append({"step": step, "rmse_cqt": score, "piece": piece})
        write_json(os.path.join(self.run_dir, HISTORY), self.history)
        if improved:
            best_manager.save(checkpoint_number=step)
        tf.summary.scalar("quality/rmse_cqt", score, step=step)
        tf.summary.audio("quality/generated", audio[None, :, None], self.rate, step=step)
        image = tf.image.decode_png(cqt_png(audio, f"step {step}: RMSE-CQT {score:.2f}"))[None]
        tf.summary.image("quality/constant_q", image, step=step)
        return score


def read_history(run_dir):
    """Every evaluation so far: [{step, rmse_cqt, piece}]."""
    path = os.path.join(run_dir, HISTORY)
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return json.load(f)


