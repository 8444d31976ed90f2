"""The MIDI-conditioned models' generation (`generate`, `evaluate rmse-cqt`): sample by sample through
the cached-queue sampler (a run's model), or through an export's `generate` signature in segments
(generate.segments). The piano roll is all they read of the score: onsets are not used."""

import numpy as np
import tensorflow as tf
from tqdm import tqdm

from nsynth_synth.generate.segments import render_segments
from nsynth_synth.runs import saved_model_call
from nsynth_synth.sampling.cached_queue import CachedQueueSampler

PEAK_RULE = False  # trained on the sets' peak-normalized audio, the models play at that level
PITCH_BEND = False  # the piano roll has no bend: a bent score plays its struck keys (generate says so)


def _frames(roll, num_samples, hop):
    """The roll cut or padded with silence to the frames that num_samples needs."""
    frames = -(-num_samples // hop)
    return np.pad(roll[:frames], [(0, max(frames - len(roll), 0)), (0, 0)]).astype(np.float32)


def synthesizer(model, config, record):
    """render(roll, onsets, num_samples, style_id, seed, temperature, progress, bends=None) -> audio float32
    [num_samples] for a run's model."""
    sampler = CachedQueueSampler(model, config, upsample=record.train.upsample)
    hop = record.data["frame_hop"]

    def render(roll, onsets, num_samples, style_id, seed, temperature, progress, bends=None):
        roll = _frames(roll, num_samples, hop)
        with tqdm(total=num_samples, desc="generating", unit="sample", unit_scale=True, disable=not progress) as bar:
            _, audio = sampler.generate(
                tf.constant(roll[None]), hop, len(roll) * hop, tf.constant([seed], tf.int32), temperature,
                None if style_id is None else tf.constant([style_id]), progress=lambda done: bar.update(done - bar.n),
            )
        return audio.numpy()[0][:num_samples]

    return render


def export_synthesizer(folder, record):
    """The same render through an exported SavedModel's `generate` signature."""
    call, hop = saved_model_call(folder), record.data["frame_hop"]

    def render(roll, onsets, num_samples, style_id, seed, temperature, progress, bends=None):
        audio = render_segments(call, _frames(roll, num_samples, hop), hop, record.export["max_frames"], seed=seed,
                                temperature=temperature, style_id=style_id or 0, progress=progress)
        return audio[:num_samples]

    return render
