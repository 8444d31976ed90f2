"""`nsynth-synth prepare bach`: scores -> FluidSynth renderings + piano rolls -> sharded TFRecords.

Output folder:
  build.json                          the plan (config, pieces, shards): a rerun must match it
  {split}-{i:05d}-of-{n:05d}.tfrecord  one record per (piece, style), schema in nsynth_synth.data.bach
  manifest.json                       written last: its presence means the set is complete

Each shard is written under a temporary name and renamed when complete. A rerun of the same
command skips complete shards, redoes unfinished ones and deletes the temporary files a killed run
left; a different command on a folder that holds finished shards is refused, so two builds never
mix. Every check (scores, splits, SoundFont, presets) passes before anything is written.
"""

import dataclasses
import os

import tensorflow as tf
from tqdm import tqdm

from data_prep.coverage import coverage_pieces
from data_prep.plan import check_plan
from nsynth_synth.data.bach import FEATURES, FORMAT, MANIFEST, serialize_example
from nsynth_synth.data.heard import heard, score_summary
from nsynth_synth.data.pianoroll import pack_roll, pack_velocities
from nsynth_synth.data.render import FluidSynthRenderer, check_program, score_events
from nsynth_synth.data.scores import assign_splits, chorale_refs, midi_refs, read_piece
from nsynth_synth.data.system import DEFAULT_SOUNDFONT
from nsynth_synth.errors import MidiError
from nsynth_synth.fileio import atomic_output, remove_abandoned, sha256_file, write_json

# The shard format; manifests only gain keys, and their readers allow them absent. 1.1: the sustain
# pedal and pitch bend are played, and the pedal holds notes in the roll. 1.2: every record stores
# the velocity of each sounding key (the "velocity" roll; the manifest says "velocities": true). 1.3:
# every record stores where keys are struck (onsets, so a re-struck key is two notes; "onsets": true).
# 1.2.0: velocities in the roll; 1.3.0: onsets; 1.4.0: a tenth of the scores held out for test (scores.default_test)
BUILDER_VERSION = "1.4.0"
PAPER_STYLES = (1, 9, 24, 42, 56, 75, 80)
CORPORA = ("chorales", "coverage")
SPLITS = ("train", "validation", "test")


@dataclasses.dataclass(frozen=True)
class BachSetConfig:
    """How a Bach set is rendered. styles: GM programs (0-based), one rendering of each piece each."""

    styles: tuple = PAPER_STYLES
    soundfont: str = DEFAULT_SOUNDFONT
    sample_rate: int = 16000
    frame_hop: int = 64
    tail_seconds: float = 1.0
    examples_per_shard: int = 16

    def __post_init__(self):
        if not self.styles:
            raise MidiError("at least one style (GM program) is needed")
        for program in self.styles:
            check_program(program)
        if len(set(self.styles)) != len(self.styles):
            raise MidiError(f"styles repeat a program: {list(self.styles)}")
        if self.examples_per_shard < 1:
            raise ValueError(f"examples_per_shard must be at least 1, got {self.examples_per_shard}")


def _config_record(config):
    """The config as it reads back from JSON (tuples become lists)."""
    return dict(dataclasses.asdict(config), styles=list(config.styles))


def corpora(corpus):
    """A corpus name or names (None: none) -> a tuple of CORPORA; MidiError for any other name."""
    names = (corpus,) if isinstance(corpus, str) else tuple(corpus or ())
    unknown = [name for name in names if name not in CORPORA]
    if unknown:
        raise MidiError(f"--corpus takes {' and '.join(CORPORA)}, got {unknown}")
    return names


def score_refs(corpus=None, midi=None, limit=None):
    """The chosen score files -> [ScoreRef]: music21's chorales when corpus names "chorales", then
    the MIDI files or folders in midi; limit takes that many of each (chorales spread evenly, MIDI
    files the first). "coverage" has no files (build_bach_set generates it), so it adds none here."""
    names = corpora(corpus)
    if not names and not midi:
        raise MidiError("choose a source: --corpus chorales and/or coverage, and/or --midi PATH...")
    refs = chorale_refs(limit) if "chorales" in names else []
    if midi:
        found = midi_refs(midi)
        refs += found if limit is None else found[:limit]
    return refs


def read_pieces(refs, skip_bad=False, progress=True):
    """[ScoreRef] -> ([Piece], [skipped {source, error}]); without skip_bad the first bad score raises."""
    pieces, skipped = [], []
    for ref in tqdm(refs, desc="reading scores", unit="score", disable=not progress):
        try:
            pieces.append(read_piece(ref))
        except MidiError as error:
            if not skip_bad:
                raise
            skipped.append({"source": ref.path, "error": str(error)})
    if not pieces:
        raise MidiError("no readable score among the sources: " + "; ".join(s["error"] for s in skipped))
    return pieces, skipped


def plan_shards(pieces, splits, config):
    """Deterministic shard plan: {file: [(piece name, program), ...]} in split order; a piece is
    played in every style of the set, or only in its own (generated material)."""
    plan = {}
    for split in SPLITS:
        items = [(p.name, program) for p in pieces if splits[p.name] == split for program in config.styles
                 if p.programs is None or program in p.programs]
        size = config.examples_per_shard
        chunks = [items[i:i + size] for i in range(0, len(items), size)]
        for index, chunk in enumerate(chunks):
            plan[f"{split}-{index:05d}-of-{len(chunks):05d}.tfrecord"] = chunk
    return plan


def _shard_summary(path):
    """Read a finished shard back (verifying every record's CRC) -> per-record metadata."""
    rows = []
    for record in tf.data.TFRecordDataset(path):
        ex = tf.io.parse_single_example(record, {k: FEATURES[k] for k in ("num_samples", "piece", "program", "gain")})
        rows.append((ex["piece"].numpy().decode(), int(ex["program"]), int(ex["num_samples"]), float(ex["gain"])))
    return rows


def build_bach_set(out_dir, *, corpus=None, midi=None, limit=None, validation=None, config=BachSetConfig(),
                   skip_bad=False, progress=True):
    """Render the chosen scores in every style of `config` into `out_dir`; returns the manifest.

    corpus: "chorales", "coverage" or both (score_refs); "coverage" adds data_prep.coverage's
    generated pieces for every style, each played in its own style only, with their fixed splits.
    validation: score pieces to hold out (None: the default rule of nsynth_synth.data.scores).
    skip_bad: skip unreadable or empty scores (listed in the manifest) instead of stopping.
    """
    refs = score_refs(corpus, midi, limit)
    pieces, skipped = read_pieces(refs, skip_bad, progress) if refs else ([], [])
    # Without scores only --validation is left to check (it names none of the generated pieces).
    splits = assign_splits([p.name for p in pieces], validation) if pieces or validation else {}
    if "coverage" in corpora(corpus):
        generated = coverage_pieces(config.styles)
        pieces += generated
        splits.update({p.name: p.split for p in generated})
    names = [p.name for p in pieces]
    if len(set(names)) < len(names):
        raise MidiError(f"two pieces share the name(s) {sorted({n for n in names if names.count(n) > 1})}; "
                        "rename one of each")
    plan = plan_shards(pieces, splits, config)
    sources = {p.name: {"source": p.ref.path, "sha256": p.sha256()} for p in pieces}
    # The SoundFont and its presets are checked before anything is written.
    renderer = FluidSynthRenderer(config.soundfont, config.sample_rate, config.frame_hop, config.tail_seconds)
    try:
        styles = [{"style_id": i, "program": p, "name": renderer.preset_name(p)} for i, p in enumerate(config.styles)]
        os.makedirs(out_dir, exist_ok=True)
        check_plan(out_dir, {
            "builder_version": BUILDER_VERSION,
            "config": _config_record(config),
            "sources": sources,
            "shards": {name: [list(item) for item in items] for name, items in plan.items()},
        }, lambda existing: existing.get("shards", {}))
        if os.path.exists(os.path.join(out_dir, MANIFEST)):
            os.unlink(os.path.join(out_dir, MANIFEST))  # rewritten below; this folder is being rebuilt
        abandoned = remove_abandoned(out_dir)
        if abandoned and progress:
            print(f"removed {len(abandoned)} unfinished file(s) an interrupted build left: {', '.join(abandoned)}")
        style_id = {p: i for i, p in enumerate(config.styles)}
        by_name = {p.name: p for p in pieces}
        pending = {f: items for f, items in plan.items() if not os.path.exists(os.path.join(out_dir, f))}
        total = sum(len(items) for items in pending.values())
        done = sum(len(items) for items in plan.values()) - total
        if done and progress:
            print(f"resuming: {len(plan) - len(pending)} of {len(plan)} shards already complete")
        with tqdm(total=total, desc="rendering", unit="piece", disable=not progress) as bar:
            for file, items in pending.items():
                with atomic_output(os.path.join(out_dir, file)) as tmp, tf.io.TFRecordWriter(tmp) as writer:
                    for name, program in items:
                        rendering = renderer.render(by_name[name], program)
                        writer.write(serialize_example(
                            rendering.audio, pack_roll(rendering.roll), sample_rate=config.sample_rate,
                            frame_hop=config.frame_hop, program=program, style_id=style_id[program],
                            piece=name, split=splits[name], gain=rendering.gain,
                            velocities=pack_velocities(rendering.roll), packed_onsets=pack_roll(rendering.onsets),
                        ))
                        bar.set_postfix(piece=name, style=program)
                        bar.update()
    finally:
        renderer.close()
    manifest = _manifest(out_dir, config, styles, pieces, splits, plan, sources, skipped)
    write_json(os.path.join(out_dir, MANIFEST), manifest)
    return manifest


def _manifest(out_dir, config, styles, pieces, splits, plan, sources, skipped):
    seconds = {}
    split_info = {s: {"pieces": [], "examples": 0, "seconds": 0.0, "shards": []} for s in SPLITS}
    for file, _ in plan.items():
        path = os.path.join(out_dir, file)
        rows = _shard_summary(path)
        split = file.split("-", 1)[0]
        split_info[split]["shards"].append(
            {"file": file, "records": len(rows), "bytes": os.path.getsize(path), "sha256": sha256_file(path)}
        )
        for piece, _, samples, _ in rows:
            seconds[piece] = samples / config.sample_rate
            split_info[split]["examples"] += 1
            split_info[split]["seconds"] += samples / config.sample_rate
    piece_rows = []
    for p in pieces:
        split_info[splits[p.name]]["pieces"].append(p.name)
        notes = p.notes
        roll, _ = score_events(p, config.sample_rate, config.frame_hop, config.tail_seconds)  # as rendered
        piece_rows.append({
            "name": p.name, "split": splits[p.name], "seconds": seconds[p.name], "notes": len(notes),
            "styles": list(p.programs or config.styles), **score_summary(notes["pitch"], notes["velocity"], roll),
            **sources[p.name],
        })
    manifest = {
        "format": FORMAT,
        "builder_version": BUILDER_VERSION,
        "velocities": True,
        "onsets": True,
        "config": _config_record(config),
        "styles": styles,
        "splits": {s: info for s, info in split_info.items() if info["pieces"]},
        "pieces": piece_rows,
        "skipped": skipped,
    }
    # What a model trained on each style of this set hears (nsynth_synth.data.heard).
    manifest["heard"] = {str(program): heard(manifest, program) for program in config.styles}
    return manifest
