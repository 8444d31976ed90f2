"""The Bach sets: the TFRecord schema, opening a built set, and the tf.data pipelines.

One record is one piece played in one style. Audio is stored clean (16-bit PCM); dither and
mu-law are applied on the fly, so every epoch draws fresh dither noise (the model never learns one
noise realisation) and the clean audio stays available as the reference for RMSE-CQT. Both cost
one random draw and one search per sample, far below a training step.

Pipeline outputs (batched), with N the window:
  audio       float32 [batch, N]       clean audio in [-1, 1]
  audio_ids   int32   [batch, N]       dithered, mu-law encoded (256 classes)
  piano_roll  float32 [batch, N, 128]  upsampled to audio rate; 0/1 or velocity / 127 (`roll`)
  style_id    int32   [batch]          index into the manifest's styles
"""

import dataclasses
import json
import os

import numpy as np
import tensorflow as tf

from nsynth_synth.audio import mu_law_encode, to_pcm16, triangular_dither
from nsynth_synth.data.heard import format_heard, set_heard
from nsynth_synth.data.pianoroll import (
    PACKED_BYTES,
    check_roll_values,
    pad_edges,
    roll_frames,
    unpack_roll,
    upsample_roll,
    velocity_offsets,
)
from nsynth_synth.errors import DataError, TrainingError
from nsynth_synth.fileio import sha256_file

MANIFEST = "manifest.json"
DITHER_SEED = 1234  # of every fixed-dither evaluation (teacher_forced_inputs)
FORMAT = "nsynth-synth/bach-set"

FEATURES = {
    "audio": tf.io.FixedLenFeature([], tf.string),  # int16 little-endian PCM, mono
    "sample_rate": tf.io.FixedLenFeature([], tf.int64),
    "num_samples": tf.io.FixedLenFeature([], tf.int64),
    "piano_roll": tf.io.FixedLenFeature([], tf.string),  # packed bits, 16 bytes a frame
    # A byte for each set bit of piano_roll, its velocity (sets built before builder 1.2.0: none).
    "velocities": tf.io.FixedLenFeature([], tf.string, default_value=""),
    # Packed bits like piano_roll, set where a key is struck (sets built before builder 1.3.0: none).
    "onsets": tf.io.FixedLenFeature([], tf.string, default_value=""),
    "frame_hop": tf.io.FixedLenFeature([], tf.int64),
    "num_frames": tf.io.FixedLenFeature([], tf.int64),
    "program": tf.io.FixedLenFeature([], tf.int64),  # General MIDI preset, 0-127
    "style_id": tf.io.FixedLenFeature([], tf.int64),
    "piece": tf.io.FixedLenFeature([], tf.string),
    "split": tf.io.FixedLenFeature([], tf.string),
    "gain": tf.io.FixedLenFeature([], tf.float32),  # applied to the synth output to peak at 0.9
}


def serialize_example(audio, packed_roll, *, sample_rate, frame_hop, program, style_id, piece, split, gain,
                      velocities=b"", packed_onsets=None):
    """float audio [samples], packed roll uint8 [frames, 16], velocities (pianoroll.pack_velocities),
    packed onsets uint8 [frames, 16] (pianoroll.pack_roll of render.onset_roll) -> serialized
    tf.train.Example (the schema above)."""
    pcm = to_pcm16(audio).astype("<i2")
    packed_roll = np.asarray(packed_roll, np.uint8)
    if velocities and len(velocities) != int(np.unpackbits(packed_roll).sum()):
        raise ValueError(f"{piece}: {len(velocities)} velocities for {int(np.unpackbits(packed_roll).sum())} set bits")
    if packed_onsets is not None and np.shape(packed_onsets) != packed_roll.shape:
        raise ValueError(f"{piece}: onsets {np.shape(packed_onsets)} and roll {packed_roll.shape} differ in shape")
    onsets = b"" if packed_onsets is None else np.asarray(packed_onsets, np.uint8).tobytes()
    packed_roll = packed_roll.tobytes()
    num_frames = len(packed_roll) // PACKED_BYTES
    if num_frames * frame_hop != len(pcm):
        raise ValueError(f"{piece}: {len(pcm)} samples do not fill {num_frames} frames of {frame_hop}")

    def ints(value):
        return tf.train.Feature(int64_list=tf.train.Int64List(value=[int(value)]))

    def raw(value):
        return tf.train.Feature(bytes_list=tf.train.BytesList(value=[value]))

    feature = {
        "audio": raw(pcm.tobytes()),
        "sample_rate": ints(sample_rate),
        "num_samples": ints(len(pcm)),
        "piano_roll": raw(packed_roll),
        "velocities": raw(bytes(velocities)),
        "onsets": raw(onsets),
        "frame_hop": ints(frame_hop),
        "num_frames": ints(num_frames),
        "program": ints(program),
        "style_id": ints(style_id),
        "piece": raw(piece.encode()),
        "split": raw(split.encode()),
        "gain": tf.train.Feature(float_list=tf.train.FloatList(value=[gain])),
    }
    # Deterministic: the feature map in a fixed order, so a resumed build writes the same bytes.
    return tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString(deterministic=True)


def decode_record(record):
    """Serialized record -> dict: audio float32 [samples], packed_roll uint8 [frames, 16],
    velocities uint8 [set bits] with velocity_offsets int32 [frames] (where each frame's begin),
    packed_onsets uint8 [frames, 16] (all zero in a set built before onsets were stored), gain (of
    the renderer's output: audio / gain is the renderer's own level) and the scalar fields."""
    example = tf.io.parse_single_example(record, FEATURES)
    pcm = tf.io.decode_raw(example["audio"], tf.int16, little_endian=True)
    packed = tf.reshape(tf.io.decode_raw(example["piano_roll"], tf.uint8), [-1, PACKED_BYTES])
    return {
        "audio": tf.cast(pcm, tf.float32) / 32767.0,
        "packed_roll": packed,
        "velocities": tf.io.decode_raw(example["velocities"], tf.uint8),
        "velocity_offsets": velocity_offsets(packed),
        "packed_onsets": tf.cond(tf.equal(tf.strings.length(example["onsets"]), 0), lambda: tf.zeros_like(packed),
                                 lambda: tf.reshape(tf.io.decode_raw(example["onsets"], tf.uint8), [-1, PACKED_BYTES])),
        "gain": example["gain"],
        "num_samples": example["num_samples"],
        "frame_hop": example["frame_hop"],
        "style_id": tf.cast(example["style_id"], tf.int32),
        "piece": example["piece"],
    }


def read_manifest(data_dir):
    """The manifest of a complete set; DataError if the folder is missing, unfinished or not a set."""
    if not os.path.isdir(data_dir):
        raise DataError(f"{data_dir}: no such data directory")
    path = os.path.join(data_dir, MANIFEST)
    if not os.path.exists(path):
        hint = "rerun the prepare command to finish it" if os.listdir(data_dir) else "it is empty"
        raise DataError(f"{data_dir}: no {MANIFEST}, so it is not a complete Bach set ({hint})")
    with open(path) as f:
        manifest = json.load(f)
    if manifest.get("format") != FORMAT:
        raise DataError(f"{path}: format is {manifest.get('format')!r}, expected {FORMAT!r}")
    return manifest


def summarize_manifest(out_dir, manifest):
    """A few lines saying what a Bach set holds, and what a model trained on each style hears."""
    styles = ", ".join(f"{s['program']} {s['name']}" for s in manifest["styles"])
    lines = [f"Bach set in {out_dir}: styles {styles}"]
    for split, info in manifest["splits"].items():
        shown = ", ".join(info["pieces"][:4]) + (", ..." if len(info["pieces"]) > 4 else "")
        lines.append(
            f"  {split:<10} {len(info['pieces']):4d} pieces, {info['examples']:5d} examples (piece x style), "
            f"{info['seconds'] / 60:7.1f} min audio, {len(info['shards'])} shards  ({shown})"
        )
    for style in manifest["styles"]:
        summary = set_heard(manifest, style["program"])
        if summary is not None:
            lines.append(f"  train, GM {style['program']} {style['name']}: {format_heard(summary)}")
    if "validation" not in manifest["splits"]:
        lines.append("  no validation split: `train` will track no quality (RMSE-CQT, best/); with more than one "
                     "piece, hold one out with --validation NAME")
    for skipped in manifest["skipped"]:
        lines.append(f"  skipped {skipped['source']}: {skipped['error']}")
    return "\n".join(lines)


def describe_set(manifest):
    """What a Bach set is, in words, without the folder it was built in (for model cards and
    pages): its scores by source, the SoundFont and styles, the pieces per split."""
    import collections

    sources = collections.Counter(
        "generated coverage scores" if p["source"].startswith("data_prep.coverage")
        else "Bach chorales from music21" if "music21/corpus" in p["source"] else "MIDI files" for p in manifest["pieces"])
    counts = collections.Counter(p["split"] for p in manifest["pieces"])
    soundfont = os.path.basename(manifest["config"]["soundfont"])
    return (f"a Bach set of {', '.join(f'{n} {what}' for what, n in sources.most_common())}, rendered with "
            f"{soundfont} in GM {', '.join(str(s['program']) for s in manifest['styles'])}; "
            f"{' / '.join(f'{counts[s]} {s}' for s in ('train', 'validation', 'test') if counts[s])} pieces "
            f"(builder {manifest['builder_version']})")


def split_files(data_dir, split, manifest=None):
    """Shard paths of `split`, each checked against the manifest's size and sha256.

    A TFRecord reader reports corruption without naming the file, so shards are verified here,
    where the error can say which one is damaged.
    """
    manifest = manifest or read_manifest(data_dir)
    if split not in manifest["splits"]:
        raise DataError(f"{data_dir}: no split {split!r}; it has {sorted(manifest['splits'])}")
    paths = []
    for shard in manifest["splits"][split]["shards"]:
        path = os.path.join(data_dir, shard["file"])
        if not os.path.exists(path):
            raise DataError(f"{path}: shard listed in the manifest is missing")
        if os.path.getsize(path) != shard["bytes"] or sha256_file(path) != shard["sha256"]:
            raise DataError(
                f"{path}: corrupt shard (its size or sha256 differs from {MANIFEST}); "
                "delete it and rerun the prepare command to rebuild it"
            )
        paths.append(path)
    return paths


def style_ids(manifest, programs):
    """GM programs -> the set's style ids; DataError for a program the set does not hold."""
    by_program = {style["program"]: style["style_id"] for style in manifest["styles"]}
    missing = sorted(set(programs) - set(by_program))
    if missing:
        raise DataError(f"styles {missing} are not in this set, which has {sorted(by_program)}")
    return [by_program[p] for p in programs]


def training_data(config):
    """A run's Bach set, checked -> (the TrainConfig with steps set from --epochs, the manifest, None):
    the models.contract.Kind training_data of the kinds that train on scores."""
    if not isinstance(config.data, str):
        raise TrainingError(f"--data: a Bach set is one folder, got {len(config.data)} paths")
    manifest = read_manifest(config.data)
    if "train" not in manifest["splits"]:
        raise TrainingError(f"{config.data}: no train split (it has {', '.join(manifest['splits'])}); build it "
                            "again with `prepare bach`, which keeps a piece to train on")
    if config.epochs is not None:
        per_epoch = max(windows_per_epoch(manifest, "train", config.window, config.styles) // config.batch_size, 1)
        config = dataclasses.replace(config, steps=config.epochs * per_epoch)
    return config, manifest, None


def embedded_styles(manifest, programs):
    """How many styles a model trained on `programs` (GM programs; None: every style of the set)
    embeds: the set's style count when it trains on several (global conditioning), else 0. A
    program the set lacks is refused (DataError)."""
    programs = programs or tuple(s["program"] for s in manifest["styles"])
    style_ids(manifest, programs)
    return len(manifest["styles"]) if len(programs) > 1 else 0


def decoded_pieces(data_dir, split, manifest, styles, window, shuffle_seed=None, shuffle=False):
    """Decoded pieces of `split` at least `window` samples long, of the chosen styles."""
    files = split_files(data_dir, split, manifest)
    seconds = [p["seconds"] for p in manifest["pieces"] if p["split"] == split]
    rate = manifest["config"]["sample_rate"]
    if window is not None and max(seconds) * rate < window:
        raise DataError(
            f"window of {window} samples is longer than every {split} piece "
            f"(the longest has {int(max(seconds) * rate)})"
        )
    dataset = tf.data.Dataset.from_tensor_slices(files)
    if shuffle:
        dataset = dataset.shuffle(len(files), seed=shuffle_seed, reshuffle_each_iteration=True)
    dataset = dataset.interleave(
        tf.data.TFRecordDataset, cycle_length=min(4, len(files)), num_parallel_calls=tf.data.AUTOTUNE,
        deterministic=True,
    ).map(decode_record, num_parallel_calls=tf.data.AUTOTUNE)
    if styles is not None:
        wanted = tf.constant(style_ids(manifest, styles), tf.int32)
        dataset = dataset.filter(lambda ex: tf.reduce_any(tf.equal(ex["style_id"], wanted)))
    if window is not None:
        dataset = dataset.filter(lambda ex: ex["num_samples"] >= window)
    return dataset


def example_frames(example, first, count, values):
    """Frames first .. first + count - 1 of a decoded piece's roll, indices past either end reading
    the edge frame (context for upsampling at a piece's ends) -> float32 [count, 128]."""
    last = tf.shape(example["packed_roll"])[0] - 1
    frames = tf.clip_by_value(tf.range(first, first + count), 0, last)
    return roll_frames(example["packed_roll"], frames, values, example["velocities"], example["velocity_offsets"])


def crop_window(example, start, window, hop, upsample, values="binary"):
    """One piece -> audio [window] and audio-rate roll [window, 128] from sample `start`.

    hop: the set's frame hop (a Python int, from the manifest); values: "binary" or "velocity".
    """
    start = tf.cast(start, tf.int32)
    first = start // hop
    last = (start + window - 1) // hop + 1  # one past the last frame the window touches
    frames = example_frames(example, first - 1, last - first + 2, values)  # one context frame each side
    roll = upsample_roll(frames, hop, upsample)
    offset = start - first * hop
    roll = roll[offset:offset + window]
    roll.set_shape([window, 128])
    audio = example["audio"][start:start + window]
    audio.set_shape([window])
    return audio, roll


def check_roll(manifest, data_dir, values):
    """Refuse a velocity roll from a set that stores no velocities (built before builder 1.2.0)."""
    check_roll_values(values)
    if values == "velocity" and not manifest.get("velocities"):
        raise DataError(f"{data_dir}: this set stores no note velocities (builder {manifest.get('builder_version')}); "
                        "build it again with `prepare bach` for a velocity roll, or use --roll binary")


def check_onsets(manifest, data_dir):
    """Refuse a set that stores no onsets (built before builder 1.3.0) for a model that needs them."""
    if not manifest.get("onsets"):
        raise DataError(f"{data_dir}: this set stores no note onsets (builder {manifest.get('builder_version')}); "
                        "build it again with the same `prepare bach` command in a new --out")


def dither_and_encode(audio, seed):
    """Dither (stateless, from `seed` [2]) and mu-law encode: float [N] -> int32 ids [N]."""
    dithered = tf.clip_by_value(audio + triangular_dither(tf.shape(audio), seed), -1.0, 1.0)
    return mu_law_encode(dithered)


def _window_element(example, start, window, hop, upsample, values, dither_seed):
    audio, roll = crop_window(example, start, window, hop, upsample, values)
    return {
        "audio": audio,
        "audio_ids": dither_and_encode(audio, dither_seed),
        "piano_roll": roll,
        "style_id": example["style_id"],
    }


def windows_per_epoch(manifest, split, window, styles=None):
    """How many windows make one epoch: every piece, in each style it is played in (manifests
    without per-piece "styles": every style) of `styles` (GM programs; None: all), cut into
    ceil(length / window) windows."""
    rate = manifest["config"]["sample_rate"]
    every_style = [s["program"] for s in manifest["styles"]]
    wanted = set(every_style if styles is None else styles)
    return sum(
        int(np.ceil(p["seconds"] * rate / window)) * len(wanted & set(p.get("styles", every_style)))
        for p in manifest["pieces"]
        if p["split"] == split and p["seconds"] * rate >= window
    )


def training_dataset(data_dir, window, batch_size, *, split="train", styles=None, upsample="linear", roll="binary",
                     seed=None, shuffle_buffer=256):
    """Endless shuffled batches of random windows (see the module docstring for the outputs).

    Each pass over the pieces cuts ceil(length / window) windows from every piece at random
    offsets. With `seed` set, the order, offsets and dither are the same on every run
    (deterministic mode, for tests); with None they differ. roll: the roll's values, "binary" or
    "velocity".
    """
    manifest = read_manifest(data_dir)
    check_roll(manifest, data_dir, roll)
    hop = manifest["config"]["frame_hop"]
    pieces = decoded_pieces(data_dir, split, manifest, styles, window, shuffle_seed=seed, shuffle=True).repeat()

    def cut(example):
        count = (example["num_samples"] + window - 1) // window
        return tf.data.Dataset.from_tensors(example).repeat(count)

    # Shuffling before the crop moves references to decoded pieces, not copies of windows.
    windows = pieces.flat_map(cut).shuffle(shuffle_buffer, seed=seed)
    seeds = tf.data.Dataset.random(seed=seed).batch(2)

    def element(example, seed_pair):
        crop_seed, dither_seed = tf.unstack(tf.random.experimental.stateless_split(seed_pair, 2))
        span = tf.cast(example["num_samples"], tf.int32) - window + 1
        start = tf.random.stateless_uniform([], crop_seed, 0, span, dtype=tf.int32)
        return _window_element(example, start, window, hop, upsample, roll, dither_seed)

    dataset = tf.data.Dataset.zip(windows, seeds).map(element, num_parallel_calls=tf.data.AUTOTUNE)
    options = tf.data.Options()
    options.deterministic = seed is not None
    return dataset.batch(batch_size, drop_remainder=True).prefetch(tf.data.AUTOTUNE).with_options(options)


def teacher_forcing(batch):
    """A batch of windows {audio_ids [b, t], piano_roll [b, t, 128], style_id [b], ...} -> (inputs,
    targets): inputs hold steps 0..t-2 (and the style), targets the next step's audio_ids and
    piano_roll, so output step i predicts sample i + 1. The one place the shift is made."""
    inputs = {"audio_ids": batch["audio_ids"][:, :-1], "piano_roll": batch["piano_roll"][:, :-1]}
    if "style_id" in batch:
        inputs["style_id"] = batch["style_id"]
    return inputs, {"audio_ids": batch["audio_ids"][:, 1:], "piano_roll": batch["piano_roll"][:, 1:]}


def teacher_forced_inputs(roll, audio, hop, upsample):
    """Frame roll [frames, 128] and audio [samples] -> (inputs, targets) as in training: audio_ids
    int32 [1, samples - 1] (dithered with the fixed DITHER_SEED, mu-law) and the audio-rate piano_roll
    float32 [1, samples - 1, 128]; sample t + 1 of the audio is the target at t."""
    ids = dither_and_encode(tf.constant(audio), tf.constant([DITHER_SEED, 0]))[None]
    piano_roll = upsample_roll(pad_edges(tf.constant(roll)), hop, upsample)[None, :len(audio)]
    return teacher_forcing({"audio_ids": ids, "piano_roll": piano_roll})


def validation_dataset(data_dir, window, batch_size, *, split="validation", styles=None, upsample="linear",
                       roll="binary", seed=0):
    """Fixed windows: each piece cut from sample 0 into floor(length / window) windows, in order,
    dithered with a fixed seed, so every evaluation sees the same data."""
    manifest = read_manifest(data_dir)
    check_roll(manifest, data_dir, roll)
    hop = manifest["config"]["frame_hop"]
    pieces = decoded_pieces(data_dir, split, manifest, styles, window)

    def cut(example):
        starts = tf.range(0, tf.cast(example["num_samples"], tf.int32) - window + 1, window)
        return tf.data.Dataset.from_tensor_slices(starts).map(lambda start: (example, start))

    windows = pieces.flat_map(cut)
    seeds = tf.data.Dataset.random(seed=seed).batch(2)
    dataset = tf.data.Dataset.zip(windows, seeds).map(
        lambda pair, dither_seed: _window_element(pair[0], pair[1], window, hop, upsample, roll, dither_seed),
        num_parallel_calls=tf.data.AUTOTUNE,
    )
    return dataset.batch(batch_size).prefetch(tf.data.AUTOTUNE)


def whole_pieces(data_dir, *, split="validation", styles=None, roll="binary"):
    """One element per piece and style, unbatched, the roll left at frame rate:
    audio float32 [samples], piano_roll float32 [frames, 128] (`roll`: its values), onsets float32
    [frames, 128] (1 where a key is struck; zeros in a set without onsets), gain, frame_hop,
    style_id, piece."""
    manifest = read_manifest(data_dir)
    check_roll(manifest, data_dir, roll)

    def element(example):
        return {
            "audio": example["audio"],
            "piano_roll": example_frames(example, 0, tf.shape(example["packed_roll"])[0], roll),
            "onsets": unpack_roll(example["packed_onsets"]),
            "gain": example["gain"],
            "frame_hop": tf.cast(example["frame_hop"], tf.int32),
            "style_id": example["style_id"],
            "piece": example["piece"],
        }

    return decoded_pieces(data_dir, split, manifest, styles, None).map(element)
