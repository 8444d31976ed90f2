"""The harmonic kind synthesizing in blocks from a carried state: one path for a whole piece in
chunks (generate, the quality tracker) and the export's `generate` and `stream` signatures. In each
block the voices are allocated from the carried voice state, then the same two layers as in
training (model.py) run with the synthesizer's state."""

import numpy as np
import tensorflow as tf
from tqdm import tqdm

from nsynth_synth.models.harmonic import voices

CHUNK_FRAMES = 2048  # frames a block (8 s at 16 kHz, hop 64): one compiled shape for every piece
STATE_PREFIX = "state_"  # of the state's names in the export's signatures

SYNTH_STATE = ("amplitudes", "noise_tail", "reverb")


def initial_state(config, batch):
    """Silence, every voice free, at frame 0: the allocator's state (voices.STATE), the synthesizer's
    (SYNTH_STATE), "frame" int32 [b] (the next block's first frame) and "dropped" int32 [b]."""
    return {**voices.initial_state(batch, config.voices),
            "amplitudes": tf.zeros([batch, config.voices, config.partials]),
            "noise_tail": tf.zeros([batch, config.hop]), "reverb": tf.zeros([batch, config.reverb_samples - 1]),
            "frame": tf.zeros([batch], tf.int32), "dropped": tf.zeros([batch], tf.int32)}


def synthesize_block(model, config, state, roll, onsets, bends, style_id, seed, allocate=None):
    """roll, onsets and bends (semitones per key) float32 [b, frames, 128] (frames >= 1), style_id
    int32 [b] (ignored by a one-style model), seed int32 [b] -> (audio float32 [b, frames * hop] at
    the learned level, the state after the block). allocate: voices.allocate or a compiled twin."""
    allocate = allocate or voices.allocate
    allocated, voice_state, dropped = allocate(roll, onsets, config.voices, config.release_frames,
                                               {name: state[name] for name in voices.STATE}, bends)
    inputs = {**allocated, "noise_seed": seed, "first_frame": state["frame"]}
    if config.num_styles:
        inputs["style_id"] = style_id
    controls = model.get_layer("controls")(inputs)
    audio, synth_state = model.get_layer("synthesizer")({**inputs, **controls},
                                                        {name: state[name] for name in SYNTH_STATE})
    return audio, {**voice_state, **synth_state, "frame": state["frame"] + tf.shape(roll)[1],
                   "dropped": state["dropped"] + dropped}


class Renderer:
    """Scores -> audio in blocks of chunk_frames with carried state. block(state, roll, onsets, bends,
    style_id, seed) -> (audio, state) is synthesize_block over a run's model (from_model) or an
    export's `stream` signature (generation.export_renderer); initial(batch) -> the state of silence."""

    def __init__(self, config, block, initial, chunk_frames=CHUNK_FRAMES):
        self.config, self.block, self.initial, self.chunk = config, block, initial, chunk_frames

    @classmethod
    def from_model(cls, model, config):
        allocate = tf.function(voices.allocate, jit_compile=True)
        block = tf.function(lambda state, roll, onsets, bends, style, seed: synthesize_block(
            model, config, state, roll, onsets, bends, style, seed, allocate))
        return cls(config, block, lambda batch: initial_state(config, batch))

    def render(self, roll, onsets, style_id, seed, progress=False, bends=None):
        """roll, onsets and bends (semitones per key; None: none) float32 [b, frames, 128], style_id
        and seed int32 [b] -> (audio float32 [b, frames * hop] at the learned level, notes dropped
        int32 [b])."""
        roll, onsets = np.asarray(roll, np.float32), np.asarray(onsets, np.float32)
        bends = np.zeros_like(roll) if bends is None else np.asarray(bends, np.float32)
        batch, frames = roll.shape[:2]
        padded = -(-max(frames, 1) // self.chunk) * self.chunk
        pad = [(0, 0), (0, padded - frames), (0, 0)]
        roll, onsets, bends = np.pad(roll, pad), np.pad(onsets, pad), np.pad(bends, pad)
        state = self.initial(batch)
        style, seed = tf.constant(style_id, tf.int32), tf.constant(seed, tf.int32)
        pieces = []
        hop = self.config.hop
        with tqdm(total=frames * hop, desc="generating", unit="sample", unit_scale=True, disable=not progress) as bar:
            for start in range(0, padded, self.chunk):
                span = slice(start, start + self.chunk)
                audio, state = self.block(state, tf.constant(roll[:, span]), tf.constant(onsets[:, span]),
                                          tf.constant(bends[:, span]), style, seed)
                pieces.append(audio.numpy())
                bar.update(min(self.chunk, max(frames - start, 0)) * hop)
        return np.concatenate(pieces, axis=1)[:, :frames * hop], state["dropped"].numpy()
