"""NSynth notes (Engel et al. 2017) as tf.data: the original TFRecords and the TFDS `nsynth` set.

Both formats parse into one dict per note:
  audio float32 [64000] (4 s at 16 kHz), note_str string, pitch int64, velocity int64,
  instrument int64, instrument_str string, instrument_family int64, instrument_family_str string,
  instrument_source int64, instrument_source_str string, qualities int64 [10].
The TFDS set has no numeric instrument id, so there `instrument` is its label index.

`notes` filters by family, source, pitch range and velocity, crops (random, as training does,
or centred, for evaluation) and mu-law encodes (`audio_ids`).
"""

import json
import os
import struct

import tensorflow as tf

from nsynth_synth.audio import SAMPLE_RATE, mu_law_encode
from nsynth_synth.errors import DataError, TrainingError

NOTE_SAMPLES = 64000
FAMILIES = ("bass", "brass", "flute", "guitar", "keyboard", "mallet", "organ", "reed", "string", "synth_lead",
            "vocal")
SOURCES = ("acoustic", "electronic", "synthetic")
QUALITIES = ("bright", "dark", "distortion", "fast_decay", "long_release", "multiphonic", "nonlinear_env",
             "percussive", "reverb", "tempo-synced")
SPLITS = ("train", "valid", "test")

# The original release's features (nsynth-{train,valid,test}.tfrecord).
FEATURES = {
    "note": tf.io.FixedLenFeature([], tf.int64),
    "note_str": tf.io.FixedLenFeature([], tf.string),
    "instrument": tf.io.FixedLenFeature([], tf.int64),
    "instrument_str": tf.io.FixedLenFeature([], tf.string),
    "pitch": tf.io.FixedLenFeature([], tf.int64),
    "velocity": tf.io.FixedLenFeature([], tf.int64),
    "sample_rate": tf.io.FixedLenFeature([], tf.int64),
    "audio": tf.io.FixedLenFeature([NOTE_SAMPLES], tf.float32),
    "qualities": tf.io.FixedLenFeature([len(QUALITIES)], tf.int64),
    "qualities_str": tf.io.VarLenFeature(tf.string),
    "instrument_family": tf.io.FixedLenFeature([], tf.int64),
    "instrument_family_str": tf.io.FixedLenFeature([], tf.string),
    "instrument_source": tf.io.FixedLenFeature([], tf.int64),
    "instrument_source_str": tf.io.FixedLenFeature([], tf.string),
}
OUTPUT_KEYS = ("audio", "note_str", "pitch", "velocity", "instrument", "instrument_str", "instrument_family",
               "instrument_family_str", "instrument_source", "instrument_source_str", "qualities")


def serialize_note(audio, instrument, pitch, velocity, velocity_index):
    """One note in the original NSynth schema -> serialized tf.train.Example."""
    def ints(*values):
        return tf.train.Feature(int64_list=tf.train.Int64List(value=list(values)))

    def strings(*values):
        return tf.train.Feature(bytes_list=tf.train.BytesList(value=[v.encode() for v in values]))

    feature = {
        "note": ints((instrument["instrument"] * 128 + pitch) * 8 + velocity_index),
        "note_str": strings(f"{instrument['instrument_str']}-{pitch:03d}-{velocity:03d}"),
        "instrument": ints(instrument["instrument"]),
        "instrument_str": strings(instrument["instrument_str"]),
        "pitch": ints(pitch),
        "velocity": ints(velocity),
        "sample_rate": ints(SAMPLE_RATE),
        "audio": tf.train.Feature(float_list=tf.train.FloatList(value=audio)),
        "qualities": ints(*[0] * len(QUALITIES)),
        "qualities_str": strings(),
        "instrument_family": ints(FAMILIES.index(instrument["family"])),
        "instrument_family_str": strings(instrument["family"]),
        "instrument_source": ints(SOURCES.index(instrument["source"])),
        "instrument_source_str": strings(instrument["source"]),
    }
    # Deterministic: the feature map in a fixed order, so a resumed build writes the same bytes.
    return tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString(deterministic=True)


def parse_original(serialized):
    """One serialized tf.train.Example of the original release -> the note dict."""
    example = tf.io.parse_single_example(serialized, FEATURES)
    return {key: example[key] for key in OUTPUT_KEYS}


def from_tfds(example):
    """One element of tfds.load("nsynth/...") -> the note dict."""
    families, sources = tf.constant(FAMILIES), tf.constant(SOURCES)
    family = tf.cast(example["instrument"]["family"], tf.int64)
    source = tf.cast(example["instrument"]["source"], tf.int64)
    return {
        "audio": tf.cast(example["audio"], tf.float32),
        "note_str": example["id"],
        "pitch": tf.cast(example["pitch"], tf.int64),
        "velocity": tf.cast(example["velocity"], tf.int64),
        "instrument": tf.cast(example["instrument"]["label"], tf.int64),
        "instrument_str": tf.strings.regex_replace(example["id"], r"-\d{3}-\d{3}$", ""),
        "instrument_family": family,
        "instrument_family_str": tf.gather(families, family),
        "instrument_source": source,
        "instrument_source_str": tf.gather(sources, source),
        "qualities": tf.stack([tf.cast(example["qualities"][q], tf.int64) for q in QUALITIES]),
    }


def check_framing(path):
    """Raise DataError naming `path` unless its records tile the file: each record is a length
    (8 bytes), its CRC (4), the data and the data's CRC (4). A cut file (an interrupted download)
    is found from the lengths alone, one seek a record, before any training step fails on it
    with a reader error that names no file."""
    size, position = os.path.getsize(path), 0
    with open(path, "rb") as f:
        while position < size:
            header = f.read(8)
            end = position + 12 + (struct.unpack("<Q", header)[0] if len(header) == 8 else size) + 4
            if end > size:
                raise DataError(f"{path}: cut short or corrupt: the record at byte {position} runs past the end "
                                f"of the file ({size} bytes); download or build it again")
            position = end
            f.seek(position)


def check_schema(path):
    """Raise DataError naming `path` and the missing features unless it is a whole TFRecord file
    (check_framing) whose first record is an original-schema NSynth note."""
    check_framing(path)
    try:
        first = next(iter(tf.data.TFRecordDataset(path).take(1)), None)
    except tf.errors.OpError as error:
        raise DataError(f"{path}: not a readable TFRecord file ({error.message})") from error
    if first is None:
        raise DataError(f"{path}: holds no records")
    example = tf.train.Example.FromString(first.numpy())
    present = example.features.feature
    missing = [key for key in FEATURES if key not in present]
    if missing:
        raise DataError(f"{path}: not an NSynth TFRecord; missing features: {', '.join(missing)}")
    audio = len(present["audio"].float_list.value)
    if audio != NOTE_SAMPLES:
        raise DataError(f"{path}: audio has {audio} samples, NSynth notes have {NOTE_SAMPLES}")


def tfrecord_notes(paths):
    """Original-release TFRecord files (a path, a list, or a folder of *.tfrecord*) -> dataset of note dicts."""
    if isinstance(paths, str):
        paths = sorted(tf.io.gfile.glob(os.path.join(paths, "*.tfrecord*"))) if os.path.isdir(paths) else [paths]
    if not paths:
        raise DataError("no NSynth TFRecord files given")
    for path in paths:
        if not os.path.isfile(path):
            raise DataError(f"{path}: no such NSynth TFRecord file")
        check_schema(path)
    return tf.data.TFRecordDataset(paths, num_parallel_reads=min(len(paths), 4)).map(
        parse_original, num_parallel_calls=tf.data.AUTOTUNE)


def split_files(data, split):
    """The TFRecord files of one split of `data`: a `prepare nsynth` folder (its manifest), a folder
    of the release's files, or TFRecord files (a path or a list, like nsynth-train.tfrecord as
    downloaded). Among files, a split's are those whose name holds the split's name; files whose
    names hold no split's name are all train files."""
    paths = [data] if isinstance(data, str) else list(data)
    if len(paths) == 1 and os.path.isdir(paths[0]):
        folder = paths[0]
        manifest = os.path.join(folder, "manifest.json")
        if os.path.isfile(manifest):
            with open(manifest) as f:
                return _nonempty([os.path.join(folder, name) for name in json.load(f)["splits"][split]["files"]],
                                 folder, split)
        paths = sorted(tf.io.gfile.glob(os.path.join(folder, "*.tfrecord*")))
        return _nonempty([p for p in paths if split in os.path.basename(p)], folder, split)
    for path in paths:
        if not os.path.isfile(path):
            raise DataError(f"{path}: no such NSynth TFRecord file or data directory")
    if not any(name in os.path.basename(p) for p in paths for name in SPLITS):
        return _nonempty(paths if split == "train" else [], ", ".join(paths), split)
    return _nonempty([p for p in paths if split in os.path.basename(p)], ", ".join(paths), split)


def _nonempty(files, where, split):
    if not files:
        raise DataError(f"{where}: no {split} files (a `prepare nsynth` folder, or nsynth-{split}.tfrecord)")
    return files


def tfds_notes(data_dir, split="train", config="full"):
    """The TFDS `nsynth` set prepared in data_dir (config "full" or "gansynth_subset") -> note dicts."""
    import tensorflow_datasets as tfds

    name = f"nsynth/{config}"
    try:
        dataset = tfds.load(name, split=split, data_dir=data_dir, download=False)
    except (AssertionError, tfds.core.registered.DatasetNotFoundError, ValueError) as error:
        raise DataError(f"{data_dir}: no prepared TFDS {name} split {split!r} ({error})") from error
    return dataset.map(from_tfds, num_parallel_calls=tf.data.AUTOTUNE)


def keep(families=None, sources=None, pitches=None, velocities=None):
    """A predicate on note dicts: families/sources (names), pitches (low, high) inclusive, velocities."""
    for name, values, allowed in (("family", families, FAMILIES), ("source", sources, SOURCES)):
        unknown = sorted(set(values or ()) - set(allowed))
        if unknown:
            raise DataError(f"unknown instrument {name} {unknown}; choose from {', '.join(allowed)}")

    def predicate(note):
        ok = tf.constant(True)
        if families:
            ok &= tf.reduce_any(tf.equal(note["instrument_family_str"], tf.constant(list(families))))
        if sources:
            ok &= tf.reduce_any(tf.equal(note["instrument_source_str"], tf.constant(list(sources))))
        if pitches:
            ok &= (note["pitch"] >= pitches[0]) & (note["pitch"] <= pitches[1])
        if velocities:
            ok &= tf.reduce_any(tf.equal(note["velocity"], tf.constant(list(velocities), tf.int64)))
        return ok

    return predicate


def crop(note, length, centred=False, seed=None):
    """Cut `length` samples of the note's audio: at a random offset, or from the middle."""
    if length > NOTE_SAMPLES:
        raise DataError(f"a crop of {length} samples is longer than an NSynth note ({NOTE_SAMPLES})")
    span = NOTE_SAMPLES - length + 1
    if centred:
        start = (NOTE_SAMPLES - length) // 2
    elif seed is None:
        start = tf.random.uniform([], 0, span, tf.int32)
    else:
        start = tf.random.stateless_uniform([], seed, 0, span, tf.int32)
    return {**note, "audio": note["audio"][start:start + length]}


def notes(dataset, *, families=None, sources=None, pitches=None, velocities=None, crop_length=None,
          centred=False, seed=None):
    """Filter, crop and mu-law encode a dataset of note dicts (from tfrecord_notes or tfds_notes).

    crop_length: None keeps the whole 4 s; 6144 is the WaveNet autoencoder's training crop.
    seed: with a random crop, makes the offsets the same on every run.
    Adds audio_ids int32 [length] (8-bit mu-law of the audio).
    """
    dataset = dataset.filter(keep(families, sources, pitches, velocities))
    if crop_length is not None:
        if centred or seed is None:
            dataset = dataset.map(lambda note: crop(note, crop_length, centred), num_parallel_calls=tf.data.AUTOTUNE)
        else:
            seeds = tf.data.Dataset.random(seed=seed).batch(2)
            dataset = tf.data.Dataset.zip(dataset, seeds).map(
                lambda note, pair: crop(note, crop_length, seed=pair), num_parallel_calls=tf.data.AUTOTUNE)
    return dataset.map(lambda note: {**note, "audio_ids": mu_law_encode(note["audio"])},
                       num_parallel_calls=tf.data.AUTOTUNE)


def with_pitch(inputs, note, pitch_conditioning):
    """Model inputs plus the note's MIDI pitch (int32) when the model is pitch-conditioned."""
    return {**inputs, "pitch": tf.cast(note["pitch"], tf.int32)} if pitch_conditioning else inputs


def training_notes(data, to_example, batch_size, *, crop_length=None, seed=None):
    """Endless shuffled batches of the train split's notes (NSynth TFRecords: a folder or files),
    each note (cropped at random to `crop_length`, or whole) mapped by to_example(note) -> (inputs,
    targets)."""
    dataset = tfrecord_notes(split_files(data, "train")).repeat().shuffle(256, seed=seed)
    dataset = notes(dataset, crop_length=crop_length, seed=seed)
    return (dataset.map(to_example, num_parallel_calls=tf.data.AUTOTUNE).batch(batch_size, drop_remainder=True)
            .prefetch(tf.data.AUTOTUNE))


def training_data(config):
    """A run's NSynth notes, checked -> (the TrainConfig, None, a line naming the files): the
    models.contract.Kind training_data of the kinds that train on notes."""
    files = split_files(config.data, "train")
    if config.epochs is not None:
        raise TrainingError("--epochs is for the Bach sets; give the NSynth models --steps")
    shown = ", ".join(files[:3]) + (f" and {len(files) - 3} more" if len(files) > 3 else "")
    return config, None, f"NSynth train split: {shown}"
