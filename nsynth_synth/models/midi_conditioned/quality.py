"""The MIDI-conditioned models' quality tracking (training.quality's Tracker): generation through
the cached-queue sampler, one batch of seeds, and how much the model listens to the score: the
teacher-forced audio loss of the same reference with its piano roll and with a silent roll. While
the two are equal the model predicts from the audio history alone, and generation cannot follow
the notes."""

import tensorflow as tf

from nsynth_synth.data.bach import style_ids, teacher_forced_inputs
from nsynth_synth.metrics.rmse_cqt import against_floor, rmse_cqt
from nsynth_synth.models.kinds import kind_of
from nsynth_synth.models.losses import audio_loss
from nsynth_synth.sampling.cached_queue import CachedQueueSampler
from nsynth_synth.training import quality


class Tracker(quality.Tracker):
    """Tracker for SynthNet, WaveNet and DeepVoice: rows add loss_with_roll and loss_silent_roll."""

    def __init__(self, run_dir, model, model_config, manifest, train, program, every=None):
        super().__init__(run_dir, model, model_config, manifest, train, program, every)
        self.style = tf.constant(style_ids(manifest, [program])) if model_config.num_styles else None
        # Generation runs in float32 whatever the training policy (bf16 sampling loses accuracy and
        # speed: see tools/bench_sampler.py): a float32 twin takes the trained weights at each evaluation.
        mixed = model.dtype_policy.compute_dtype != "float32"
        self.model = kind_of(model_config).build(model_config, model.name) if mixed else model
        self.sampler = CachedQueueSampler(self.model, model_config, upsample=train.upsample)
        self.upsample = train.upsample

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
        roll, reference, piece, _ = self.reference
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

    def describe(self, row):
        return f"validation loss {row['loss_with_roll']:.3f}, {row['loss_silent_roll']:.3f} with a silent roll"

    def evaluate(self, step, best_manager, train_seconds):
        score = super().evaluate(step, best_manager, train_seconds)
        row = self.history[-1]
        tf.summary.scalar("quality/score_gain_nats", row["loss_silent_roll"] - row["loss_with_roll"], step=step)
        return score

