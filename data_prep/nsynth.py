"""`nsynth-synth prepare nsynth`: an NSynth-style note set rendered from SoundFonts.

Made the way NSynth was: every melodic preset (bank 0, GM programs 0-119; 120-127 are sound
effects) of each SoundFont is an instrument; each plays MIDI pitches 21-108 at velocities 25, 50,
75, 100 and 127, held for 3 s and released, 4 s at 16 kHz in all. Notes that render silent (the
pitch lies outside the preset's samples) are skipped. One gain per instrument brings its loudest
note to peak 0.9, so velocities keep their relative level.

Labels, in the original TFRecord schema (nsynth_synth.data.nsynth.FEATURES):
- instrument_family: from the General MIDI program group (FAMILY_OF_PROGRAM below).
- instrument_source: "synthetic" for the synth programs, "electronic" for electric instruments,
  otherwise "acoustic" (SOURCE_OF_PROGRAM below): a heuristic from the GM names.
- qualities: all zero, qualities_str empty. NSynth's qualities were rated by people; no heuristic
  here would be trustworthy enough to train a classifier on.
- instrument_str like "keyboard_acoustic_004", numbered within family and source over the build;
  note_str "keyboard_acoustic_004-060-025".
Splits are by instrument (crc32 of SoundFont file name and program: 1 in 10 valid, 1 in 10 test),
so no instrument crosses splits.

Output folder: build.json (the plan), one shard per instrument {split}-{instrument_str}.tfrecord,
manifest.json written last. Shards are written atomically; a rerun skips complete shards.
"""

import dataclasses
import os
import zlib

import numpy as np
import tensorflow as tf
from tqdm import tqdm

from data_prep.plan import check_plan
from nsynth_synth.audio import PEAK_LEVEL, SAMPLE_RATE
from nsynth_synth.data.nsynth import NOTE_SAMPLES, serialize_note
from nsynth_synth.data.render import FluidSynthRenderer
from nsynth_synth.data.system import DEFAULT_SOUNDFONT
from nsynth_synth.errors import DataError, MidiError
from nsynth_synth.fileio import atomic_output, remove_abandoned, write_json

BUILDER_VERSION = "1.0.0"
MANIFEST = "manifest.json"
HOLD_SAMPLES = 3 * SAMPLE_RATE
SILENT_PEAK = 1e-5  # FluidSynth's raw output; its notes peak around 0.05

# GM groups of 8 programs: piano, chromatic percussion, organ, guitar, bass, strings, ensemble, brass,
# reed, pipe, synth lead, synth pad, synth effects, ethnic, percussive (120-127, effects, are left out).
_GROUP_FAMILIES = ["keyboard", "mallet", "organ", "guitar", "bass", "string", "string", "brass", "reed", "flute",
                   "synth_lead", "synth_lead", "synth_lead", "guitar", "mallet"]
FAMILY_OF_PROGRAM = {p: _GROUP_FAMILIES[p // 8] for p in range(120)}
# Within the groups: harp and timpani (46, 47) are plucked/struck, voices (52-54) sing, pipe organ
# and accordions are organs/reeds as NSynth files them, the ethnic group (104-111) splits by kind.
FAMILY_OF_PROGRAM.update({46: "guitar", 47: "mallet", 52: "vocal", 53: "vocal", 54: "vocal", 21: "reed",
                          23: "reed", 104: "guitar", 105: "guitar", 106: "guitar", 107: "guitar", 108: "mallet",
                          109: "reed", 110: "string", 111: "reed"})
_SYNTHETIC = {38, 39, 50, 51, 62, 63, 118, *range(80, 104)}
_ELECTRONIC = {2, 4, 5, 16, 17, 18, 26, 27, 28, 29, 30, 31, 33, 34, 35, 36, 37}
SOURCE_OF_PROGRAM = {p: "synthetic" if p in _SYNTHETIC else "electronic" if p in _ELECTRONIC else "acoustic"
                     for p in range(120)}


@dataclasses.dataclass(frozen=True)
class NsynthSetConfig:
    soundfonts: tuple = (DEFAULT_SOUNDFONT,)
    pitches: tuple = (21, 108)  # inclusive
    velocities: tuple = (25, 50, 75, 100, 127)
    limit_instruments: int | None = None

    def __post_init__(self):
        low, high = self.pitches
        if not 0 <= low <= high <= 127:
            raise DataError(f"--pitches must be LOW-HIGH within 0-127, got {low}-{high}")
        if not self.velocities or not all(1 <= v <= 127 for v in self.velocities):
            raise DataError(f"--velocities must be within 1-127, got {list(self.velocities)}")
        if self.limit_instruments is not None and self.limit_instruments < 1:
            raise DataError(f"--limit-instruments must be at least 1, got {self.limit_instruments}")


def split_of(soundfont, program):
    bucket = zlib.crc32(f"{os.path.basename(soundfont)}:{program}".encode()) % 10
    return "test" if bucket == 0 else "valid" if bucket == 1 else "train"


def plan_instruments(config):
    """Every melodic preset of the SoundFonts (evenly spread down to limit_instruments) ->
    [{soundfont, program, preset, family, source, instrument_str, instrument, split}]."""
    presets = []
    for soundfont in config.soundfonts:
        renderer = FluidSynthRenderer(soundfont)
        try:
            for program in range(120):
                try:
                    presets.append((soundfont, program, renderer.preset_name(program)))
                except MidiError:
                    pass  # no preset at this program
        finally:
            renderer.close()
    if not presets:
        raise DataError(f"no melodic presets (bank 0, programs 0-119) in {list(config.soundfonts)}")
    if config.limit_instruments and config.limit_instruments < len(presets):
        keep = np.unique(np.linspace(0, len(presets) - 1, config.limit_instruments).round().astype(int))
        presets = [presets[i] for i in keep]
    counters, instruments = {}, []
    for index, (soundfont, program, name) in enumerate(presets):
        family, source = FAMILY_OF_PROGRAM[program], SOURCE_OF_PROGRAM[program]
        number = counters.get((family, source), 0)
        counters[(family, source)] = number + 1
        instruments.append({"soundfont": soundfont, "program": program, "preset": name, "family": family,
                            "source": source, "instrument_str": f"{family}_{source}_{number:03d}",
                            "instrument": index, "split": split_of(soundfont, program)})
    return instruments


def shard_name(instrument):
    return f"{instrument['split']}-{instrument['instrument_str']}.tfrecord"


def render_instrument(renderer, instrument, config):
    """-> [(pitch, velocity, velocity index, audio float32 [64000])] of the notes that sound,
    scaled by one gain so the loudest peaks at PEAK_LEVEL."""
    grid = [(p, v, i) for p in range(config.pitches[0], config.pitches[1] + 1) for i, v in enumerate(config.velocities)]
    rendered = renderer.render_notes(instrument["program"], [(p, v) for p, v, _ in grid], HOLD_SAMPLES, NOTE_SAMPLES)
    notes = [(p, v, i, audio) for (p, v, i), audio in zip(grid, rendered) if np.abs(audio).max() > SILENT_PEAK]
    if notes:
        gain = np.float32(PEAK_LEVEL / max(float(np.abs(audio).max()) for *_, audio in notes))
        notes = [(p, v, i, audio * gain) for p, v, i, audio in notes]
    return notes


def build_nsynth_set(out_dir, config=NsynthSetConfig(), progress=True):
    """Render every planned instrument into out_dir (resuming); returns the manifest."""
    instruments = plan_instruments(config)
    os.makedirs(out_dir, exist_ok=True)
    plan = {"builder_version": BUILDER_VERSION, "config": {**dataclasses.asdict(config),
            "soundfonts": list(config.soundfonts), "pitches": list(config.pitches),
            "velocities": list(config.velocities)}, "instruments": instruments}
    check_plan(out_dir, plan, lambda existing: [shard_name(i) for i in existing.get("instruments", [])],
               what="NSynth build", differs="other SoundFonts, pitches, velocities or instruments")
    remove_abandoned(out_dir)  # what a killed run left under temporary names
    pending = [inst for inst in instruments if not os.path.exists(os.path.join(out_dir, shard_name(inst)))]
    if progress and len(pending) < len(instruments):
        print(f"resuming: {len(instruments) - len(pending)} of {len(instruments)} instruments already complete")
    per_instrument = (config.pitches[1] - config.pitches[0] + 1) * len(config.velocities)
    renderers = {}
    try:
        with tqdm(total=len(pending) * per_instrument, desc="rendering", unit="note", disable=not progress) as bar:
            for instrument in pending:
                soundfont = instrument["soundfont"]
                renderer = renderers.setdefault(soundfont, FluidSynthRenderer(soundfont))
                notes = render_instrument(renderer, instrument, config)
                with atomic_output(os.path.join(out_dir, shard_name(instrument))) as tmp, \
                        tf.io.TFRecordWriter(tmp) as writer:
                    for pitch, velocity, index, audio in notes:
                        writer.write(serialize_note(audio, instrument, pitch, velocity, index))
                bar.set_postfix(instrument=instrument["instrument_str"], notes=len(notes))
                bar.update(per_instrument)
    finally:
        for renderer in renderers.values():
            renderer.close()
    manifest = _manifest(out_dir, instruments)
    write_json(os.path.join(out_dir, MANIFEST), manifest)
    return manifest


def _manifest(out_dir, instruments):
    rows = []
    for instrument in instruments:
        path = os.path.join(out_dir, shard_name(instrument))
        count = sum(1 for _ in tf.data.TFRecordDataset(path))  # also checks every record's CRC
        rows.append({**instrument, "file": shard_name(instrument), "notes": count})
    splits = {split: {"files": [r["file"] for r in rows if r["split"] == split],
                      "notes": sum(r["notes"] for r in rows if r["split"] == split)} for split in ("train", "valid", "test")}
    return {"builder_version": BUILDER_VERSION, "instruments": rows, "splits": splits,
            "notes": sum(r["notes"] for r in rows)}
