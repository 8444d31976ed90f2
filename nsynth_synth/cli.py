"""The `nsynth-synth` command line: argument parsing only; every subcommand calls a library function."""

import argparse
import glob
import json
import os
import sys
import tempfile

from nsynth_synth.errors import NsynthSynthError
from nsynth_synth.models.kinds import preset_names, presets_by_kind
from nsynth_synth.training.precision import JIT, PRECISIONS


def _programs(text):
    try:
        return tuple(int(p) for p in text.split(",") if p.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers like 1,42,80, got {text!r}")


def _prepare_bach(args):
    from data_prep.bach import BachSetConfig, build_bach_set
    from nsynth_synth.data.bach import summarize_manifest
    from nsynth_synth.data.system import DEFAULT_SOUNDFONT

    config = BachSetConfig(
        styles=args.styles, soundfont=args.soundfont or DEFAULT_SOUNDFONT, tail_seconds=args.tail_seconds,
        examples_per_shard=args.examples_per_shard,
    )
    manifest = build_bach_set(
        args.out, corpus=args.corpus or ([] if args.midi else ["chorales"]), midi=args.midi, limit=args.limit,
        validation=args.validation, config=config, skip_bad=args.skip_bad,
    )
    print(summarize_manifest(args.out, manifest))


def _pitch_range(text):
    low, _, high = text.partition("-")
    try:
        return int(low), int(high or low)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected LOW-HIGH MIDI pitches, got {text!r}") from None


def _prepare_nsynth(args):
    from data_prep.nsynth import NsynthSetConfig, build_nsynth_set
    from nsynth_synth.data.system import DEFAULT_SOUNDFONT

    config = NsynthSetConfig(soundfonts=tuple(args.soundfont or [DEFAULT_SOUNDFONT]), pitches=args.pitches,
                             velocities=tuple(args.velocities), limit_instruments=args.limit_instruments)
    manifest = build_nsynth_set(args.out, config)
    counts = ", ".join(f"{split} {info['notes']}" for split, info in manifest["splits"].items())
    print(f"wrote {args.out}: {len(manifest['instruments'])} instruments, {manifest['notes']} notes ({counts})")


def _describe_data(args):
    from nsynth_synth.data.bach import read_manifest, summarize_manifest

    manifest = read_manifest(args.data)
    print(json.dumps(manifest, indent=2) if args.json else summarize_manifest(args.data, manifest))


def describable_presets():
    """The presets `describe` explains: the families of the SynthNet paper's Table 1."""
    return sorted(name for presets in presets_by_kind().values() for name, config in presets.items()
                  if hasattr(config, "family"))


def _describe(args):
    from nsynth_synth.models.summary import describe, format_description

    names = describable_presets() if args.preset == "all" else [args.preset]
    reports = [describe(name) for name in names]
    if args.json:
        print(json.dumps(reports if args.preset == "all" else reports[0], indent=2))
    else:
        print("\n".join(format_description(r) for r in reports))


def _train(args):
    from nsynth_synth.training.trainer import TrainConfig, train

    fields = {k: v for k, v in vars(args).items() if k in TrainConfig.__dataclass_fields__ and v is not None}
    fields["data"] = args.data[0] if len(args.data) == 1 else tuple(args.data)
    train(args.out, TrainConfig(**fields))


def _generate(args):
    from nsynth_synth.generate.from_midi import generate_midi, generate_piece

    options = dict(style=args.style, seconds=args.seconds, seed=args.seed, temperature=args.temperature, plot=args.plot,
                   sample_rate=args.sample_rate)
    if args.midi:
        result = generate_midi(args.model, args.midi, args.out, track_styles=args.track_styles, **options)
    else:
        if not args.data:
            raise NsynthSynthError("--piece needs --data, the Bach set that holds it")
        if args.track_styles:
            raise NsynthSynthError("--track-styles is for --midi files (a set's piece is one track)")
        result = generate_piece(args.model, args.data, args.piece, args.out, **options)
    print(f"wrote {result['wav']} ({result['samples']} samples, {result['seconds']:g} s; written at "
          f"{result['sample_rate']} Hz)"
          + (f" and {result['plot']}" if "plot" in result else ""))
    if "rmse_cqt" in result:
        from nsynth_synth.metrics.rmse_cqt import format_floor

        print(f"RMSE-CQT against the rendered reference: {result['rmse_cqt']:.2f}, "
              f"{format_floor(result['minus_noise'], result)}")


def _export(args):
    from nsynth_synth.export.saved_model import export_run
    from nsynth_synth.export.serving import write_serving_config

    folder = export_run(args.run_dir, args.out, which=args.checkpoint, version=args.version,
                        max_seconds=args.max_seconds, jit_compile=not args.no_xla)
    print(f"exported {args.run_dir} ({args.checkpoint} checkpoint) to {folder}")
    root = os.path.dirname(os.path.normpath(args.out)) or "."
    for path in write_serving_config(root).values():
        print(f"wrote {path}")


def _serving_config(args):
    from nsynth_synth.export.serving import write_serving_config

    for path in write_serving_config(args.root, args.container_root).values():
        print(f"wrote {path}")


def _client(args):
    from nsynth_synth.audio import write_wav
    from nsynth_synth.export.client import generate_remote
    from nsynth_synth.fileio import check_output_file
    from nsynth_synth.generate.from_midi import midi_roll

    check_output_file(args.out)
    roll, onsets, bends, _ = midi_roll(args.midi, args.sample_rate, args.hop, values=args.roll)
    max_frames = None if args.max_seconds is None else max(int(args.max_seconds * args.sample_rate) // args.hop, 1)
    audio, dropped = generate_remote(args.url, args.model, roll, args.hop, onsets=onsets, bends=bends,
                                     signature=args.signature,
                                     max_frames=max_frames, seed=args.seed, temperature=args.temperature,
                                     style_id=args.style_id)
    if dropped:
        print(f"{args.midi}: {dropped} notes dropped (more keys at once than the model's voices)", file=sys.stderr)
    write_wav(args.out, audio, args.sample_rate)
    print(f"wrote {args.out} ({len(audio) / args.sample_rate:.2f} s) from {args.url} model {args.model}")


def _encode(args):
    from nsynth_synth.generate.autoencode import encode_file

    code, note = encode_file(args.model, args.input, args.out, trim=args.trim)
    print(f"{args.input}: {note}; wrote the code {code.shape[0]} x {code.shape[1]} to {args.out}")


def _decode(args):
    from nsynth_synth.generate.autoencode import decode_file

    audio, rate = decode_file(args.model, args.code, args.out, pitch=args.pitch, seed=args.seed,
                              temperature=args.temperature, iterations=args.iterations)
    print(f"wrote {args.out} ({len(audio) / rate:.2f} s)")


def _interpolate(args):
    from nsynth_synth.generate.autoencode import interpolate_files

    written = interpolate_files(args.model, args.a, args.b, args.out, steps=args.steps, pitch=args.pitch,
                                seed=args.seed, temperature=args.temperature, iterations=args.iterations)
    print(f"wrote {len(written)} files to {args.out}: interp_*.wav (decoded codes), mix_*.wav (audio mixes)")


def _evaluate_classify(args):
    from nsynth_synth.evaluation.classify import classify_reconstructions, format_accuracy

    results = classify_reconstructions(args.classifier, args.model, args.data, args.out, split=args.split,
                                       limit=args.limit, seed=args.seed, temperature=args.temperature)
    for label, accuracy in results["accuracy"].items():
        print(f"{label:<32} {format_accuracy(accuracy)}")
    print(f"wrote {os.path.join(args.out, 'report.md')}")


def _evaluate_entanglement(args):
    from nsynth_synth.evaluation.classify import pitch_entanglement

    results = pitch_entanglement(args.classifier, args.model, args.data, args.out, shifts=args.shifts,
                                 split=args.split, limit=args.limit, seed=args.seed, temperature=args.temperature)
    for row in results["rows"]:
        print(f"{row['model']:<32} shift {row['shift']:+3d}: conditioning {row['follows_conditioning']:6.1%}, "
              f"original {row['follows_original']:6.1%} of {row['notes']} notes")
    print(f"wrote {os.path.join(args.out, 'report.md')}")


def _listen(args):
    from nsynth_synth.evaluation import listening

    if args.samples:
        if not args.out:
            raise NsynthSynthError("--samples needs --out, the folder for the page")
        built = listening.build_page(args.samples, args.out, seed=args.seed)
        print(f"wrote {built['page']} ({built['items']} items, {built['candidates']} candidates to rate) "
              f"and its key {built['key']}")
    elif args.serve:
        listening.serve(args.serve, host=args.host, port=args.port)
    else:
        results = listening.summarize_ratings(args.results)
        print(f"{results['ratings']} ratings from {results['listeners']} listeners: MOS ± 95% CI")
        print(listening.format_mos(results))
        print(f"wrote {results['report']}")


def _evaluate_gram(args):
    from nsynth_synth.evaluation.gram import gram_projection

    results = gram_projection(args.runs, args.out, seconds=args.seconds, which=args.checkpoint)
    for space, scores in results["silhouette"].items():
        print(f"silhouette on {space:<5}: " + ", ".join(
            f"{label.replace('_', ' ')} {'n/a' if value is None else f'{value:.3f}'}" for label, value in scores.items()))
    print(f"wrote {os.path.join(args.out, 'report.md')}")


def _evaluate_interpolate(args):
    from nsynth_synth.evaluation.interpolation import interpolation_report

    results = interpolation_report(args.model, args.pair, args.out, alphas=args.alphas, seconds=args.seconds,
                                   data_dir=args.data, split=args.split, pitch=args.pitch, seed=args.seed,
                                   temperature=args.temperature, iterations=args.iterations)
    for i, pair in enumerate(results["pairs"]):
        print(f"pair {i}: A {pair['a']}, B {pair['b']}")
        for row in pair["rows"]:
            print(f"  {row['audio']:<32} alpha {row['alpha']:4.2f}: RMSE-CQT to A {row['rmse_cqt_to_a']:6.2f}, "
                  f"to B {row['rmse_cqt_to_b']:6.2f}, toward B {row['toward_b']:.2f}")
    print(f"wrote {os.path.join(args.out, 'report.md')}")


def _evaluate_rmse_cqt(args):
    from nsynth_synth.evaluation.synthesis import rmse_cqt_files, score_bach_set, score_midi
    from nsynth_synth.metrics.rmse_cqt import format_floor
    from nsynth_synth.metrics.stats import format_mean_ci

    if args.files:
        if len(args.files) != 2 or args.model:
            raise NsynthSynthError("give GENERATED.wav REFERENCE.wav, or --model with --data or --midi (not both)")
        score = rmse_cqt_files(*args.files)
        print(f"{score['rmse_cqt']:.2f}, {format_floor(score['minus_noise'], score)}")
        return
    options = dict(seconds=args.seconds, seeds=args.seeds, temperature=args.temperature)
    if not args.model or not args.out or bool(args.data) == bool(args.midi):
        raise NsynthSynthError("with --model give --out and either --data BACHSET or --midi FILE --reference WAV")
    if args.midi:
        if not args.reference or (args.style and len(args.style) > 1):
            raise NsynthSynthError("--midi needs --reference (its rendering) and at most one --style")
        if args.pieces:
            raise NsynthSynthError("--pieces chooses pieces of a --data set; --midi scores one file")
        results = score_midi(args.model, args.midi, args.reference, args.out,
                             style=args.style[0] if args.style else None, **options)
    else:
        results = score_bach_set(args.model, args.data, args.out, split=args.split, styles=args.style,
                                 pieces=args.pieces, **options)
    for score in results["scores"]:
        print(f"{score['piece']:<32} GM {score['program']:>3}: {format_mean_ci(score['summary'])}, "
              f"{format_floor(score['minus_noise'], score)}")
    for program, summary in results["styles"].items():
        floor = results["styles_floor"][program]
        print(f"style GM {program:>3}: {format_mean_ci(summary)}, {format_floor(floor['minus_noise'], floor)} over "
              f"{summary['n']} generations")
    print(f"wrote {os.path.join(args.out, 'report.md')}")


def _demo(args):
    from nsynth_synth.demo import run_demo

    run_demo(args.out, steps=args.steps, saved_models=args.saved_models)


def build_parser():
    parser = argparse.ArgumentParser(prog="nsynth-synth", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    prepare = commands.add_parser("prepare", help="build a data set").add_subparsers(dest="dataset", required=True)
    bach = prepare.add_parser(
        "bach", help="render scores with FluidSynth into (audio, piano roll) TFRecords",
        description="Render Bach scores (music21's chorales, or MIDI files) in General MIDI styles into "
        "sharded TFRecords of audio and aligned piano rolls. Reruns resume.",
    )
    bach.add_argument("--corpus", nargs="+", choices=["chorales", "coverage"],
                      help="chorales: music21's Bach chorales (the default without --midi); coverage: generated "
                      "scales, arpeggios, repeated notes, chords and held notes over each style's playable range, "
                      "played in that style only. Give both, and --midi too, for one set of them all")
    bach.add_argument("--midi", nargs="+", metavar="PATH", help="MIDI files or folders of them")
    bach.add_argument("--limit", type=int,
                      help="use only N pieces of each score source (chorales: spread evenly; MIDI: first N)")
    bach.add_argument("--validation", nargs="+", metavar="NAME",
                      help="pieces to hold out (default: BWV 1007's Prelude, its Gigue going to test, about "
                      "1 in 10 of the other pieces, and in sets of 10 or more another 1 in 10 for test)")
    bach.add_argument("--styles", type=_programs, default="1,9,24,42,56,75,80",
                      help="GM programs, 0-based (default: the SynthNet paper's 1,9,24,42,56,75,80)")
    bach.add_argument("--soundfont", help="a .sf2 file (default: FluidR3 GM)")
    bach.add_argument("--tail-seconds", type=float, default=1.0, help="audio kept after the last note-off")
    bach.add_argument("--examples-per-shard", type=int, default=16)
    bach.add_argument("--skip-bad", action="store_true", help="skip unreadable or empty scores and list them")
    bach.add_argument("--out", required=True, help="output folder")
    bach.set_defaults(run=_prepare_bach)

    nsynth = prepare.add_parser(
        "nsynth", help="render an NSynth-style note set from SoundFonts (original TFRecord schema)",
        description="Render every melodic preset of the SoundFonts as NSynth notes: pitches 21-108, "
        "velocities 25-127, 3 s held + 1 s release at 16 kHz, split by instrument. Reruns resume.",
    )
    nsynth.add_argument("--soundfont", action="append", help="a .sf2 file (repeatable; default FluidR3 GM)")
    nsynth.add_argument("--pitches", type=_pitch_range, default=(21, 108), help="LOW-HIGH MIDI pitches (default 21-108)")
    nsynth.add_argument("--velocities", type=_programs, default="25,50,75,100,127", help="default 25,50,75,100,127")
    nsynth.add_argument("--limit-instruments", type=int, help="use N presets, spread evenly over the programs")
    nsynth.add_argument("--out", required=True, help="output folder")
    nsynth.set_defaults(run=_prepare_nsynth)

    train = commands.add_parser("train", help="train a model on a Bach set (resumes when rerun)")
    train.add_argument("--preset", required=True,
                       help="one of " + ", ".join(preset_names()))
    train.add_argument("--data", required=True, nargs="+", metavar="DATA",
                       help="a folder made by `prepare bach`; for nsynth_* presets, NSynth notes: a `prepare nsynth` "
                       "folder, or the release's files (nsynth-train.tfrecord as downloaded, or a folder of them)")
    train.add_argument("--out", required=True, help="run directory (checkpoints, logs, config.json)")
    length = train.add_mutually_exclusive_group()
    length.add_argument("--steps", type=int, help="total optimizer steps (default 1000)")
    length.add_argument("--epochs", type=int, help="passes over the training windows")
    train.add_argument("--batch-size", type=int, help="default 1 (the paper's)")
    train.add_argument("--window", type=int, help="audio samples per example (default 16000; autoencoder 6144)")
    train.add_argument("--learning-rate", type=float,
                       help="a constant rate (default 1e-3; autoencoder: the released 2e-4 -> 2e-5 schedule)")
    train.add_argument("--weight-decay", type=float, help="default 1e-5 (autoencoder 0)")
    train.add_argument("--ema", type=float, help="weight-average decay for evaluation and export "
                       "(default 0: off; autoencoder 0.9999)")
    train.add_argument("--precision", choices=PRECISIONS,
                       help="auto (default): mixed_float16 on a GPU; on a CPU mixed_bfloat16 where it has bf16 "
                       "matrix units and the model was measured to train faster so, else float32")
    train.add_argument("--jit", choices=JIT, help="XLA-compile the train step; auto (default): where measured to pay")
    train.add_argument("--distribute", choices=["auto", "none", "mirrored", "multi_worker"],
                       help="tf.distribute strategy (default none; multi_worker reads TF_CONFIG)")
    train.add_argument("--styles", type=_programs, help="GM programs to train on (default: all in the set)")
    train.add_argument("--upsample", choices=["linear", "hold"], help="piano-roll upsampling (default linear)")
    train.add_argument("--roll", choices=["binary", "velocity"],
                       help="piano-roll values: binary (default, the paper's) or velocity / 127 (sets built by "
                       "builder 1.2.0 or later)")
    train.add_argument("--checkpoint-every", type=int, help="steps between checkpoints (default 500)")
    train.add_argument("--eval-every", type=int, help="steps between generating and scoring RMSE-CQT (default 500)")
    train.add_argument("--eval-seconds", type=float, help="seconds generated for each score (default 1)")
    train.add_argument("--eval-seeds", type=int, help="sampling seeds per score, their RMSE-CQT averaged (default 1)")
    train.add_argument("--max-train-seconds", type=float,
                       help="also stop after this much training time, evaluations excluded (equal wall-clock runs)")
    train.add_argument("--seed", type=int, help="deterministic data order, crops and dither")
    train.add_argument("--model-set", nargs="+", metavar="NAME=VALUE",
                       help="change fields of the preset's model config, e.g. voices=8 stretch=false "
                       "(`describe PRESET` lists them); config.json records the result")
    train.set_defaults(run=_train)

    generate = commands.add_parser("generate", help="play a MIDI file with a trained model")
    generate.add_argument("--model", required=True,
                          help="a run directory made by `train`, or an export (a SavedModel or its folder of versions)")
    score = generate.add_mutually_exclusive_group(required=True)
    score.add_argument("--midi", help="a MIDI file")
    score.add_argument("--piece", help="a piece of a Bach set (with --data); also prints RMSE-CQT against it")
    generate.add_argument("--data", help="the Bach set holding --piece")
    generate.add_argument("--out", required=True, help="output WAV (16-bit, at the model's rate or --sample-rate)")
    generate.add_argument("--style", type=int, help="GM program, for a model trained on several styles")
    generate.add_argument("--track-styles", type=_programs, metavar="P,P,...",
                          help="a GM program for each pitched track of --midi, in order (e.g. 1,42,9,80: a chorale's "
                          "four voices as four of the model's instruments), the tracks mixed")
    generate.add_argument("--sample-rate", type=int, choices=(16000, 22050, 44100, 48000),
                          help="write the WAV at this rate, resampled (default: the model's, 16000)")
    generate.add_argument("--seconds", type=float, help="only the first S seconds (default: the whole piece)")
    generate.add_argument("--seed", type=int, default=0)
    generate.add_argument("--temperature", type=float, default=1.0, help="0: greedy")
    generate.add_argument("--plot", action="store_true", help="also write the constant-Q plot as PNG")
    generate.set_defaults(run=_generate)

    export = commands.add_parser(
        "export", help="write a run's model as a SavedModel for TF Serving and other TF code",
        description="Export the best (or latest) checkpoint of a run into OUT/VERSION with its signatures "
        "(MIDI models: generate, reset, step; NSynth autoencoders: encode, decode, and reset, step for the "
        "WaveNet one), the config and model card as assets, and TF Serving warmup requests; then rewrite "
        "the TF Serving configs beside OUT.",
    )
    export.add_argument("run_dir", help="a run directory made by `train`")
    export.add_argument("--out", required=True, help="the model's folder, e.g. saved_models/NAME")
    export.add_argument("--version", type=int, help="integer version (default: one above the newest)")
    export.add_argument("--checkpoint", choices=["best", "latest"], default="best",
                        help="best: lowest RMSE-CQT so far (default); latest: the newest checkpoint")
    export.add_argument("--max-seconds", type=float, default=30.0,
                        help="longest audio one `generate` request may ask for (default 30)")
    export.add_argument("--no-xla", action="store_true",
                        help="do not XLA-compile the sample loop (for servers without XLA; slower)")
    export.set_defaults(run=_export)

    serving = commands.add_parser("serving-config", help="write TF Serving's model, batching and monitoring configs")
    serving.add_argument("root", nargs="?", default="saved_models", help="folder of exported models (default saved_models)")
    serving.add_argument("--container-root", default="/models",
                         help="where the server sees that folder (default /models, as in the README's docker run)")
    serving.set_defaults(run=_serving_config)

    client = commands.add_parser("client", help="play a MIDI file through a TF Serving REST endpoint")
    client.add_argument("--url", required=True, help="the server, e.g. http://localhost:8501")
    client.add_argument("--model", required=True, help="the served model's name")
    client.add_argument("--midi", required=True, help="a MIDI file")
    client.add_argument("--out", required=True, help="output WAV")
    client.add_argument("--signature", default="generate")
    client.add_argument("--style-id", type=int, default=0, help="style id (see the model card), default 0")
    client.add_argument("--seed", type=int, default=0)
    client.add_argument("--temperature", type=float, default=1.0)
    client.add_argument("--max-seconds", type=float,
                        help="longest request (default: ask for the whole piece, then follow the server's limit)")
    client.add_argument("--sample-rate", type=int, default=16000, help="the model's sample rate (default 16000)")
    client.add_argument("--hop", type=int, default=64, help="the model's samples per piano-roll frame (default 64)")
    client.add_argument("--roll", choices=["binary", "velocity"], default="binary",
                        help="the model's piano-roll values (its model card says which; default binary)")
    client.set_defaults(run=_client)

    def generation_options(parser):
        parser.add_argument("--pitch", type=int, help="MIDI pitch, for a pitch-conditioned autoencoder")
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--temperature", type=float, help="WaveNet decoder (default 1); 0: greedy")
        parser.add_argument("--iterations", type=int, help="spectral baseline: Griffin-Lim iterations (default 60)")

    encode = commands.add_parser("encode", help="audio -> NSynth autoencoder code (.npy: [frames, 16], or "
                                 "[1, 1984] for the spectral baseline)")
    encode.add_argument("input", help="a WAV (any rate, any channels) or .npy of 16 kHz float samples")
    encode.add_argument("--model", required=True, help="a run directory of an nsynth_* autoencoder preset")
    encode.add_argument("--out", required=True, help="output .npy")
    encode.add_argument("--trim", action="store_true", help="cut to whole 512-sample frames instead of padding")
    encode.set_defaults(run=_encode)

    decode = commands.add_parser("decode", help="NSynth autoencoder code (.npy) -> audio through the decoder")
    decode.add_argument("code", help="a .npy code from `encode`")
    decode.add_argument("--model", required=True, help="a run directory of an nsynth_* autoencoder preset")
    decode.add_argument("--out", required=True, help="output WAV")
    generation_options(decode)
    decode.set_defaults(run=_decode)

    interpolate = commands.add_parser("interpolate", help="decode codes mixed between two sounds, beside audio mixes")
    interpolate.add_argument("a")
    interpolate.add_argument("b")
    interpolate.add_argument("--model", required=True, help="a run directory of an nsynth_* autoencoder preset")
    interpolate.add_argument("--steps", type=int, default=5, help="points from A to B, both included (default 5)")
    interpolate.add_argument("--out", required=True, help="output folder")
    generation_options(interpolate)
    interpolate.set_defaults(run=_interpolate)

    listen = commands.add_parser(
        "listen", help="listening tests (SynthNet Table 5): build a blind rating page, serve it, compute MOS",
        description="Build one self-contained web page from DIR/<style>/<item>/reference.wav and "
        "<system>.wav (candidates shown blind, under random tokens that OUT/key.json resolves), serve it and "
        "store ratings in OUT/ratings.sqlite, then report the mean opinion score per system and style.",
    )
    mode = listen.add_mutually_exclusive_group(required=True)
    mode.add_argument("--samples", metavar="DIR", help="build OUT/index.html and OUT/key.json from DIR (with --out)")
    mode.add_argument("--serve", metavar="OUT", help="serve a built page; POST /ratings goes to OUT/ratings.sqlite")
    mode.add_argument("--results", metavar="OUT",
                      help="MOS ± 95%% CI per system and style, and over all styles; report in OUT/results")
    listen.add_argument("--out", help="with --samples: the folder for index.html and key.json")
    listen.add_argument("--seed", type=int, help="with --samples: tokens and order (default: fresh randomness)")
    listen.add_argument("--port", type=int, default=8765, help="with --serve (default 8765)")
    listen.add_argument("--host", default="127.0.0.1", help="with --serve (default 127.0.0.1; 0.0.0.0: all interfaces)")
    listen.set_defaults(run=_listen)

    evaluate = commands.add_parser(
        "evaluate", help="the papers' evaluations; each writes a report folder (report.md, report.json, plots, audio)",
    ).add_subparsers(dest="evaluation", required=True)
    # evaluate subcommands: one block each, below.

    gram = evaluate.add_parser("gram", help="SynthNet Figure 1: t-SNE of the Gram matrices of every dilated "
                               "block's output, for runs each trained on one style of the same scores")
    gram.add_argument("runs", nargs="+", metavar="RUN", help="run directories of MIDI-conditioned models (2 or more)")
    gram.add_argument("--out", required=True, help="report folder")
    gram.add_argument("--seconds", type=float, default=1.0, help="excerpt of the first validation piece (default 1)")
    gram.add_argument("--checkpoint", choices=("best", "latest"), default="best", help="default best")
    gram.set_defaults(run=_evaluate_gram)

    def classifier_options(parser):
        parser.add_argument("--classifier", required=True, help="a run directory of the nsynth_classifier preset")
        parser.add_argument("--model", nargs="+", required=True, metavar="RUN",
                            help="autoencoder run directories (nsynth_wavenet_ae*, nsynth_spectral_ae*)")
        parser.add_argument("--data", required=True, help="an NSynth-format folder (prepare nsynth, or the release)")
        parser.add_argument("--split", default="test", help="default test")
        parser.add_argument("--limit", type=int, default=64, help="notes judged (default 64)")
        parser.add_argument("--seed", type=int, default=0, help="note order and decoder sampling")
        parser.add_argument("--temperature", type=float, default=1.0, help="WaveNet decoder; 0: greedy")
        parser.add_argument("--out", required=True, help="report folder")

    classify = evaluate.add_parser("classify", help="NSynth Table 1: classifier accuracy on originals and on "
                                   "each autoencoder's reconstructions")
    classifier_options(classify)
    classify.set_defaults(run=_evaluate_classify)

    entanglement = evaluate.add_parser("entanglement", help="NSynth Table 2: decode with shifted pitch "
                                       "conditioning; does the classifier hear the conditioning or the original?")
    classifier_options(entanglement)
    entanglement.add_argument("--shifts", type=int, nargs="+", default=[-12, 12], help="semitones (default -12 12)")
    entanglement.set_defaults(run=_evaluate_entanglement)

    interpolation = evaluate.add_parser("interpolate", help="NSynth Figure 3: codes of note pairs mixed and decoded "
                                        "by each autoencoder, beside audio mixes; RMSE-CQT to A and B, rainbowgrams")
    interpolation.add_argument("--model", nargs="+", required=True, metavar="RUN",
                               help="autoencoder run directories (nsynth_wavenet_ae*, nsynth_spectral_ae*)")
    interpolation.add_argument("--pair", nargs=2, action="append", required=True, metavar=("A", "B"),
                               help="two notes: audio files, or note_str names from --data (repeatable)")
    interpolation.add_argument("--data", help="an NSynth-format folder to pick notes from by note_str")
    interpolation.add_argument("--split", default="test", help="the --data split holding the notes (default test)")
    interpolation.add_argument("--alphas", type=float, nargs="+", default=[0.0, 0.5, 1.0],
                               help="mixing weights of B (default 0 0.5 1)")
    interpolation.add_argument("--seconds", type=float, default=1.0,
                               help="decode only the first S seconds (default 1; WaveNet decoding is slow on a CPU)")
    interpolation.add_argument("--out", required=True, help="report folder")
    generation_options(interpolation)
    interpolation.set_defaults(run=_evaluate_interpolate)

    rmse = evaluate.add_parser(
        "rmse-cqt", help="SynthNet Tables 3-4: RMSE-CQT of two audio files, or of a model's generations "
        "against renderings (mean and 95%% CI over seeds)",
        description="nsynth-synth evaluate rmse-cqt GENERATED.wav REFERENCE.wav prints the score (files at any "
        "rate and channel count are brought to 16 kHz mono). With --model and --data, every piece of --split in "
        "every --style is generated once per seed and scored against the set's rendering; with --model, --midi "
        "and --reference, the MIDI file is scored against the given rendering. Both write a report folder. Every "
        "score stands beside its noise floor: white noise at the reference's RMS, and silence, scored against the "
        "same reference (model - noise below 0 beats noise).")
    rmse.add_argument("files", nargs="*", metavar="WAV", help="GENERATED.wav REFERENCE.wav")
    rmse.add_argument("--model", help="a run directory or an export of a model that plays scores")
    rmse.add_argument("--data", help="a Bach set (prepare bach)")
    rmse.add_argument("--split", default="validation", help="default validation")
    rmse.add_argument("--pieces", nargs="+", metavar="NAME",
                      help="with --data: only these pieces of the split (default: all of them)")
    rmse.add_argument("--midi", help="a MIDI file, scored against --reference")
    rmse.add_argument("--reference", help="the MIDI file's rendering (any WAV)")
    rmse.add_argument("--style", type=int, nargs="+", metavar="P",
                      help="GM programs (default: every style the model plays)")
    rmse.add_argument("--seconds", type=float, default=1.0, help="generate the first S seconds (default 1)")
    rmse.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4], help="default 0 1 2 3 4")
    rmse.add_argument("--temperature", type=float, default=1.0, help="0: greedy")
    rmse.add_argument("--out", help="report folder")
    rmse.set_defaults(run=_evaluate_rmse_cqt)

    demo = commands.add_parser("demo", help="prepare, train, generate and score on 4 chorales (a few minutes)")
    demo.add_argument("--out", default="demo_out")
    demo.add_argument("--steps", type=int, default=400, help="training steps (default 400)")
    demo.add_argument("--saved-models", default="saved_models", help="where the model is exported (default saved_models)")
    demo.set_defaults(run=_demo)

    model = commands.add_parser("describe", help="parameters, receptive field and layer plan of a model preset")
    model.add_argument("preset", help=f"one of {', '.join(describable_presets())}, or all")
    model.add_argument("--json", action="store_true")
    model.set_defaults(run=_describe)

    describe = commands.add_parser("describe-data", help="print what a built data set holds")
    describe.add_argument("data", help="a folder made by `prepare bach`")
    describe.add_argument("--json", action="store_true", help="print the whole manifest")
    describe.set_defaults(run=_describe_data)
    return parser


# What TensorFlow's C++ code writes to the terminal while it starts on a machine without a GPU:
# the first two lines come from library loading, before any setting is read, so no environment
# variable silences them (TF_CPP_MIN_LOG_LEVEL=3 would hide the third, with every real C++ error).
STARTUP_NOISE = ("All log messages before absl::InitializeLog() is called are written to STDERR",
                 "Could not find cuda drivers on your machine, GPU will not be used",
                 "failed call to cuInit")


def start_tensorflow():
    """Import TensorFlow and find its devices with INFO and WARNING lines off (TF_CPP_MIN_LOG_LEVEL=2,
    unless set). On a machine with no NVIDIA device (/dev/nvidia*), where they only say that there
    is no GPU, the STARTUP_NOISE lines are dropped from what it writes meanwhile; every other line
    is passed on. With a GPU nothing is dropped: there those lines report a broken driver."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if "tensorflow" in sys.modules or glob.glob("/dev/nvidia*"):
        return
    sys.stderr.flush()
    terminal = os.dup(2)
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            import tensorflow as tf

            tf.config.list_physical_devices()
        finally:
            os.dup2(terminal, 2)
            os.close(terminal)
            captured.seek(0)
            lines = captured.read().decode(errors="replace").splitlines(keepends=True)
            sys.stderr.write("".join(line for line in lines if not any(noise in line for noise in STARTUP_NOISE)))


def main(argv=None):
    args = build_parser().parse_args(argv)
    start_tensorflow()
    try:
        args.run(args)
    except NsynthSynthError as error:
        print(f"nsynth-synth: error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
