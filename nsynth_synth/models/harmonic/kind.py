"""The harmonic kind: a polyphonic harmonic-plus-noise synthesizer trained on a Bach set (audio,
piano roll and onsets), optionally in several styles with one style embedding (the SynthNet
paper's Table 4 setting). Its stages: quality.py, generation.py, export.py in this folder."""

import dataclasses

import numpy as np
import tensorflow as tf

from nsynth_synth.data import bach
from nsynth_synth.data.bach import (
    check_onsets,
    check_roll,
    decoded_pieces,
    embedded_styles,
    example_frames,
    read_manifest,
)
from nsynth_synth.data.pianoroll import unpack_roll
from nsynth_synth.errors import DataError
from nsynth_synth.models.contract import Kind
from nsynth_synth.models.harmonic import voices
from nsynth_synth.models.harmonic.config import PRESETS, HarmonicConfig
from nsynth_synth.models.harmonic.model import build_model
from nsynth_synth.models.harmonic.synthesis import spectral_loss


def loss(config, outputs, targets):
    """The multi-resolution spectral loss of the window (the lead-in, synthesized only to give the
    reverb its history, is left out): (loss, the same, 0)."""
    audio = outputs["audio"][:, config.lead_in_frames * config.hop:]
    value = spectral_loss(targets["audio"], audio)
    return value, value, tf.constant(0.0)


def run_config(preset, train, manifest):
    """The preset with the set's sample rate and hop, and one style embedding over the set's styles
    when the run trains on several (a program the set lacks is refused)."""
    return dataclasses.replace(preset, num_styles=embedded_styles(manifest, train.styles),
                               sample_rate=manifest["config"]["sample_rate"], hop=manifest["config"]["frame_hop"])


def piece_voices(data_dir, manifest, split, styles, roll, config, progress=False):
    """Every piece of `split` allocated to voices once, over the whole piece -> (table {FIELDS:
    tensor [total frames, V]}, {piece name: its first row}). A piece sounds the same notes in every
    style, so each is allocated once. The sets store no pitch bend, so the bend's fields (all zeros)
    are not kept."""
    from tqdm import tqdm

    check_onsets(manifest, data_dir)
    names = sorted({p["name"] for p in manifest["pieces"] if p["split"] == split})
    kept = [name for name in voices.FIELDS if name not in voices.BEND_FIELDS]
    offsets, parts, done = {}, {name: [] for name in kept}, 0
    records = decoded_pieces(data_dir, split, manifest, styles, None)
    with tqdm(total=len(names), desc="allocating voices", unit="piece", disable=not progress) as bar:
        for example in records:
            name = example["piece"].numpy().decode()
            if name in offsets:
                continue
            frames = tf.shape(example["packed_roll"])[0]
            piece_roll = example_frames(example, 0, frames, roll)
            allocated, _ = voices.allocate_pieces(piece_roll[None], unpack_roll(example["packed_onsets"])[None],
                                                  config.voices, config.release_frames)
            offsets[name] = done
            done += int(frames)
            for field in kept:
                parts[field].append(allocated[field][0])
            bar.update()
    return {field: tf.constant(np.concatenate(value)) for field, value in parts.items()}, offsets


def examples(train, config):
    """Endless batches of random frame-aligned windows -> (inputs, targets): inputs are the voices of
    the lead-in and the window's frames (read from the whole piece's allocation), a noise seed and
    the first frame's index, and the style; targets {"audio" [b, window]} at the renderer's own level
    (the set's audio divided by its gain)."""
    manifest = read_manifest(train.data)
    check_roll(manifest, train.data, train.roll)
    hop = manifest["config"]["frame_hop"]
    if train.window % hop:
        raise DataError(f"--window {train.window} must be a multiple of the set's frame hop ({hop} samples)")
    table, offsets = piece_voices(train.data, manifest, "train", train.styles, train.roll, config, progress=True)
    lookup = tf.lookup.StaticHashTable(
        tf.lookup.KeyValueTensorInitializer(list(offsets), tf.constant(list(offsets.values()), tf.int32)), -1)
    window_frames, lead = train.window // hop, config.lead_in_frames
    pieces = decoded_pieces(train.data, "train", manifest, train.styles, train.window, shuffle_seed=train.seed,
                            shuffle=True).repeat()

    def cut(example):
        count = (example["num_samples"] + train.window - 1) // train.window
        return tf.data.Dataset.from_tensors(example).repeat(count)

    windows = pieces.flat_map(cut).shuffle(256, seed=train.seed)
    seeds = tf.data.Dataset.random(seed=train.seed).batch(2)

    def element(example, seed_pair):
        frames = tf.cast(example["num_samples"], tf.int32) // hop
        start = tf.random.stateless_uniform([], seed_pair, 0, frames - window_frames + 1, dtype=tf.int32)
        audio = example["audio"][start * hop:(start + window_frames) * hop] / example["gain"]
        audio.set_shape([train.window])
        rows = lookup.lookup(example["piece"]) + tf.range(start - lead, start + window_frames)
        before = tf.range(start - lead, start + window_frames) < 0  # the lead-in before the piece: silence
        state = {name: tf.gather(table[name], tf.maximum(rows, 0)) for name in table}
        state["key"] = tf.where(before[:, None], -1, state["key"])
        state.update({name: tf.zeros([lead + window_frames, config.voices]) for name in voices.BEND_FIELDS})
        inputs = {**state, "noise_seed": tf.cast(seed_pair[0] % 2**31, tf.int32), "first_frame": start - lead}
        if config.num_styles:
            inputs["style_id"] = example["style_id"]
        return inputs, {"audio": audio}

    dataset = tf.data.Dataset.zip(windows, seeds).map(element, num_parallel_calls=tf.data.AUTOTUNE)
    options = tf.data.Options()
    options.deterministic = train.seed is not None
    return dataset.batch(train.batch_size, drop_remainder=True).prefetch(tf.data.AUTOTUNE).with_options(options)


def example_inputs(config, batch, time):
    """Random voice states: each voice a note of a random key, struck at a random frame, bent."""
    rng = np.random.default_rng(0)
    shape = (batch, time, config.voices)
    inputs = {"key": np.where(rng.random(shape) < 0.3, rng.integers(36, 90, shape), -1).astype(np.int32),
              "velocity": rng.random(shape).astype(np.float32),
              "frames_on": rng.integers(0, 500, shape).astype(np.int32),
              "frames_off": np.where(rng.random(shape) < 0.5, -1, rng.integers(0, 100, shape)).astype(np.int32),
              "bend": rng.normal(0.0, 0.5, shape).astype(np.float32),
              "bend_frames": rng.normal(0.0, 5.0, shape).astype(np.float32),
              "noise_seed": rng.integers(0, 1000, (batch,)).astype(np.int32),
              "first_frame": rng.integers(0, 1000, (batch,)).astype(np.int32)}
    if config.num_styles:
        inputs["style_id"] = rng.integers(0, config.num_styles, (batch,)).astype(np.int32)
    return inputs


def random_batch(config, batch, window):
    """Random voice states over a window's frames and its lead-in, random target audio."""
    inputs = example_inputs(config, batch, config.lead_in_frames + window // config.hop)
    audio = np.random.default_rng(1).normal(0.0, 0.1, (batch, window // config.hop * config.hop))
    return inputs, {"audio": audio.astype(np.float32)}


KIND = Kind(
    name="harmonic",
    config_class=HarmonicConfig,
    presets=PRESETS,
    build=build_model,
    loss=loss,
    loss_terms=lambda config: ("spectral", None),
    data="bach",
    training_data=bach.training_data,
    train_defaults={"batch_size": 4, "window": 32000, "learning_rate": 1e-3, "beta_1": 0.9, "weight_decay": 0.0,
                    "ema": 0.0, "eval_seconds": 5.0},
    run_config=run_config,
    examples=examples,
    random_batch=random_batch,
    example_inputs=example_inputs,
    tiny=HarmonicConfig(voices=4, partials=8, noise_bands=4, hidden=8, layers=1, reverb_seconds=0.01,
                        release_seconds=0.5, num_styles=2),
    causal=True,
    stages=("quality", "generation", "export"),
)
