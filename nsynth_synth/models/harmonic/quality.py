"""The harmonic kind's quality tracking (training.quality's Tracker): the whole validation piece is
rendered (it is cheap) under the peak rule, as `generate` does, and its first `eval_seconds` scored;
several seeds draw different noise."""

import numpy as np

from nsynth_synth.audio import peak_rule
from nsynth_synth.data.bach import style_ids
from nsynth_synth.metrics.rmse_cqt import against_floor, rmse_cqt
from nsynth_synth.models.harmonic.blocks import Renderer
from nsynth_synth.training import quality


class Tracker(quality.Tracker):
    """Tracker for the harmonic kind: RMSE-CQT of the peak-ruled whole-piece rendering."""

    whole_piece = True

    def __init__(self, run_dir, model, model_config, manifest, train, program, every=None):
        super().__init__(run_dir, model, model_config, manifest, train, program, every)
        self.style = style_ids(manifest, [program])[0] if model_config.num_styles else 0
        self.renderer = Renderer.from_model(model, model_config)

    def score(self, step):
        roll, reference, piece, onsets = self.reference
        count = int(self.seeds.shape[0])
        audio, _ = self.renderer.render(np.repeat(roll[None], count, 0), np.repeat(onsets[None], count, 0),
                                        [self.style] * count, self.seeds.numpy())
        audio = np.stack([peak_rule(a)[:len(reference)] for a in audio])
        scores = [rmse_cqt(generated, reference) for generated in audio]
        row = {"step": step, **against_floor(float(np.mean(scores)), self.floor), "piece": piece}
        if count > 1:
            row["rmse_cqt_seeds"] = [float(score) for score in scores]
        return row, audio[0]
