#!/usr/bin/env python
"""Benchmark the data path: rendering speed and tf.data pipeline throughput, side by side.

Rendering (seconds of audio per wall-clock second), on the same pieces and styles:
  in-process   nsynth_synth.data.render: pyfluidsynth, block-aligned events, a fresh synth per rendering
  fluidsynth   the FluidSynth command line on a program-rewritten MIDI file, WAV read back and
               downmixed (the alternative we did not choose)
  prepare      the whole `prepare bach` build: rendering, piano rolls, TFRecord shards, manifest
NSynth notes: the whole `prepare nsynth` build (notes rendered per second) and the NSynth reader
over it (notes/s with random 6144-sample crops and mu-law, as the WaveNet autoencoder trains).
Pipeline (windows/s and audio samples/s) over the built set, for both upsampling modes, at
batch 1 (the SynthNet paper's) and batch 16.

Prints a table and writes JSON (--out). Needs no ../shared data: by default it renders music21
chorales; --midi renders given files (e.g. ../shared/data/bach_cello_bwv1007).
"""

import argparse
import os
import subprocess
import tempfile
import time

import numpy as np
from report import write_report


def bench_render(pieces, styles, soundfont):
    from nsynth_synth.data.render import FluidSynthRenderer

    renderer = FluidSynthRenderer(soundfont)
    start = time.perf_counter()
    seconds = sum(len(renderer.render(p, s).audio) for p in pieces for s in styles) / 16000
    renderer.close()
    return seconds, time.perf_counter() - start


def bench_render_cli(pieces, styles, soundfont):
    import pretty_midi

    from nsynth_synth.audio import load_audio

    seconds, start = 0.0, time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        for piece in pieces:
            for program in styles:
                midi = pretty_midi.PrettyMIDI()
                for part in np.unique(piece.notes["part"]):
                    instrument = pretty_midi.Instrument(program=program)
                    instrument.notes = [pretty_midi.Note(int(n["velocity"]), int(n["pitch"]), n["start"], n["end"])
                                        for n in piece.notes[piece.notes["part"] == part]]
                    midi.instruments.append(instrument)
                midi.write(os.path.join(tmp, "in.mid"))
                wav = os.path.join(tmp, "out.wav")
                subprocess.run(["fluidsynth", "-ni", "-q", "-g", "1.0", "-r", "16000", "-R", "0", "-C", "0",
                                "-F", wav, "-T", "wav", soundfont, os.path.join(tmp, "in.mid")],
                               check=True, capture_output=True)
                seconds += len(load_audio(wav)) / 16000
    return seconds, time.perf_counter() - start


def bench_pipeline(data_dir, window, batch_size, upsample, batches):
    from nsynth_synth.data.bach import training_dataset

    dataset = training_dataset(data_dir, window, batch_size, upsample=upsample)
    iterator = iter(dataset)
    for _ in range(3):  # warm up: tracing, file opening, shuffle buffer
        next(iterator)
    start = time.perf_counter()
    for _ in range(batches):
        next(iterator)
    elapsed = time.perf_counter() - start
    return batches * batch_size / elapsed


def bench_nsynth(instruments, pitches):
    from data_prep.nsynth import NsynthSetConfig, build_nsynth_set
    from nsynth_synth.data.nsynth import notes, tfrecord_notes

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        manifest = build_nsynth_set(tmp, NsynthSetConfig(pitches=pitches, limit_instruments=instruments),
                                    progress=False)
        wall = time.perf_counter() - start
        rows.append({"kind": "nsynth", "variant": "prepare", "notes": manifest["notes"], "wall_seconds": wall,
                     "notes_per_second": manifest["notes"] / wall})
        dataset = notes(tfrecord_notes(tmp), crop_length=6144).repeat(3)
        start = time.perf_counter()
        count = sum(1 for _ in dataset)
        wall = time.perf_counter() - start
        rows.append({"kind": "nsynth", "variant": "reader", "notes": count, "wall_seconds": wall,
                     "notes_per_second": count / wall})
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--midi", nargs="+", help="MIDI files or folders (default: music21 chorales)")
    parser.add_argument("--limit", type=int, default=8, help="chorales to render (default 8)")
    parser.add_argument("--styles", default="42,80", help="GM programs (default 42,80)")
    parser.add_argument("--window", type=int, default=16000, help="pipeline window in samples (default 1 s)")
    parser.add_argument("--batches", type=int, default=50, help="batches timed per pipeline row")
    parser.add_argument("--nsynth-instruments", type=int, default=4, help="presets in the NSynth build (default 4)")
    parser.add_argument("--out", default="bench_out/bench_data.json")
    args = parser.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

    from data_prep.bach import BachSetConfig, build_bach_set, read_pieces, score_refs
    from nsynth_synth.data.system import DEFAULT_SOUNDFONT

    styles = tuple(int(s) for s in args.styles.split(","))
    refs = score_refs(midi=args.midi) if args.midi else score_refs(corpus="chorales", limit=args.limit)
    pieces, _ = read_pieces(refs, progress=False)
    rows = []
    for name, fn in [("in-process", bench_render), ("fluidsynth", bench_render_cli)]:
        audio_s, wall = fn(pieces, styles, DEFAULT_SOUNDFONT)
        rows.append({"kind": "render", "variant": name, "audio_seconds": audio_s, "wall_seconds": wall,
                     "realtime_factor": audio_s / wall})
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        source = {"midi": args.midi} if args.midi else {"corpus": "chorales", "limit": args.limit}
        manifest = build_bach_set(tmp, config=BachSetConfig(styles=styles), progress=False, **source)
        wall = time.perf_counter() - start
        audio_s = sum(s["seconds"] for s in manifest["splits"].values())
        rows.append({"kind": "render", "variant": "prepare", "audio_seconds": audio_s, "wall_seconds": wall,
                     "realtime_factor": audio_s / wall})
        for batch_size in (1, 16):
            for upsample in ("linear", "hold"):
                windows = bench_pipeline(tmp, args.window, batch_size, upsample, args.batches)
                rows.append({"kind": "pipeline", "variant": f"{upsample} batch {batch_size}", "window": args.window,
                             "windows_per_second": windows, "samples_per_second": windows * args.window})

    rows += bench_nsynth(args.nsynth_instruments, (48, 72))
    print(f"{'measure':<10} {'variant':<18} {'result':>40}")
    for row in rows:
        if row["kind"] == "render":
            result = f"{row['audio_seconds']:.0f} s audio in {row['wall_seconds']:.2f} s = {row['realtime_factor']:.0f}x real time"
        elif row["kind"] == "nsynth":
            result = f"{row['notes']} notes in {row['wall_seconds']:.2f} s = {row['notes_per_second']:.1f} notes/s"
        else:
            result = f"{row['windows_per_second']:.1f} windows/s = {row['samples_per_second'] / 1e6:.2f} M samples/s"
        print(f"{row['kind']:<10} {row['variant']:<18} {result:>40}")
    write_report(args.out, pieces=[p.name for p in pieces], styles=list(styles), rows=rows)


if __name__ == "__main__":
    main()
