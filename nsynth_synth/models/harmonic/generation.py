"""The harmonic kind's generation: a whole score in chunks with carried state (blocks.py: one path
with the export's signatures), at the learned level; from_midi.render_roll then applies the
builder's peak rule (PEAK_RULE).

Not autoregressive: a minute of music costs seconds, so `generate --seconds N` renders the whole
piece, applies the peak rule to all of it, and cuts; the level never comes from a reference.
"""

import warnings

import numpy as np
import tensorflow as tf

from nsynth_synth.models.harmonic.blocks import CHUNK_FRAMES, STATE_PREFIX, Renderer

PEAK_RULE = True  # generate applies the builder's peak rule to the whole mix (from_midi.render_roll)
PITCH_BEND = True  # the voices follow the score's pitch bend


def export_renderer(folder, config, max_frames):
    """A blocks.Renderer through a loaded SavedModel's initial_state and stream signatures."""
    loaded = tf.saved_model.load(folder)
    stream, start = loaded.signatures["stream"], loaded.signatures["initial_state"]

    def unprefixed(outputs):
        return {name[len(STATE_PREFIX):]: value for name, value in outputs.items() if name.startswith(STATE_PREFIX)}

    def block(state, roll, onsets, bends, style, seed):
        out = stream(piano_roll=roll, onsets=onsets, pitch_bend=bends, style_id=style, seed=seed,
                     **{STATE_PREFIX + name: value for name, value in state.items()})
        return out["audio"], unprefixed(out)

    return Renderer(config, block, lambda batch: unprefixed(start(batch_size=tf.constant(batch, tf.int32))),
                    chunk_frames=min(CHUNK_FRAMES, max_frames))


def play(render, roll, onsets, bends, num_samples, style_id, seed, hop, voices_count, progress):
    """The whole score (silence appended when num_samples asks for more) -> audio float32
    [num_samples] at the learned level; warns when notes were dropped. render: Renderer.render or an
    export's twin; bends: semitones [frames, 128] or None."""
    frames = max(len(roll), -(-num_samples // hop))
    pad = [(0, frames - len(roll)), (0, 0)]
    bends = None if bends is None else np.pad(bends, pad)[None]
    audio, dropped = render(np.pad(roll, pad)[None], np.pad(onsets, pad)[None], [style_id or 0], [seed], progress,
                            bends)
    if dropped[0]:
        warnings.warn(f"{int(dropped[0])} notes dropped: the score strikes more keys at once than the model's "
                      f"{voices_count} voices (the released and the quietest gave way first)", stacklevel=2)
    return audio[0][:num_samples]


def synthesizer(model, config, record):
    """generate's render for a run's model: render(roll, onsets, num_samples, style_id, seed,
    temperature, progress, bends=None) -> audio float32 [num_samples] at the learned level (the whole
    score is rendered, then cut; temperature is not used: nothing is sampled but the noise, drawn
    from the seed; bends: the score's pitch bend, semitones [frames, 128])."""
    return _render(Renderer.from_model(model, config))


def export_synthesizer(folder, record):
    """The same render through an exported SavedModel's `stream` signature, in the same blocks."""
    return _render(export_renderer(folder, record.model, record.export["max_frames"]))


def _render(renderer):
    config = renderer.config

    def render(roll, onsets, num_samples, style_id, seed, temperature, progress, bends=None):
        return play(renderer.render, roll, onsets, bends, num_samples, style_id, seed, config.hop, config.voices,
                    progress)

    return render
