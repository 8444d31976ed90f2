#!/usr/bin/env python
"""Score every checkpoint a run directory still holds, as the trainer's quality tracking does.

For each checkpoint in RUN/checkpoints and RUN/best: RMSE-CQT of S seconds generated from the
first validation piece (the trainer's fixed seeds: --seeds of them, scores averaged) beside that reference's noise floor (white noise
at its RMS, and silence) as "model - noise", and the teacher-forced validation loss with the
piano roll and with a silent roll (equal losses: the model is not using the score yet). Useful for
runs trained before a measure existed, or with another --seconds. Prints a table and writes JSON
(--out, default RUN/rescore.json).
"""

import argparse
import dataclasses
import os

from report import write_report


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run_dir")
    parser.add_argument("--seconds", type=float, default=1.0)
    parser.add_argument("--seeds", type=int, default=1, help="sampling seeds per checkpoint (default 1)")
    parser.add_argument("--out")
    args = parser.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf

    from nsynth_synth.data.bach import read_manifest
    from nsynth_synth.runs import checkpoint_step, load_trained_model
    from nsynth_synth.models.midi_conditioned.quality import Tracker as QualityTracker
    from nsynth_synth.training.quality import SEED
    from nsynth_synth.runs import restore

    model, model_config, record, _ = load_trained_model(args.run_dir, "latest")
    train = record.train
    manifest = read_manifest(train.data)
    program = (train.styles or [manifest["styles"][0]["program"]])[0]
    scoring = dataclasses.replace(train, eval_seconds=args.seconds, eval_seeds=args.seeds)
    tracker = QualityTracker(args.run_dir, model, model_config, manifest, scoring, program, every=1)
    if tracker.reference is None:
        parser.error(f"{train.data} has no validation split to score against")
    paths = set()
    for folder in ("checkpoints", "best"):
        state = tf.train.get_checkpoint_state(os.path.join(args.run_dir, folder))
        paths.update(state.all_model_checkpoint_paths if state else [])
    rows = []
    for path in sorted(paths, key=checkpoint_step):
        restore(tf.train.Checkpoint(model=model), path, partial=True)
        row, _ = tracker.score(checkpoint_step(path))
        rows.append({"checkpoint": os.path.relpath(path, args.run_dir), **row})
    piece = tracker.reference[2]
    print(f"{args.run_dir}: {piece}, {args.seconds:g} s, seeds {SEED}-{SEED + args.seeds - 1}; noise floor "
          f"{tracker.floor['noise_rmse_cqt']:.2f}, silence {tracker.floor['silence_rmse_cqt']:.2f}")
    print(f"{'checkpoint':<28}{'step':>7}{'RMSE-CQT':>10}{'-noise':>8}{'loss':>8}{'silent roll':>13}{'gain':>8}")
    for r in rows:
        print(f"{r['checkpoint']:<28}{r['step']:>7}{r['rmse_cqt']:>10.2f}{r['minus_noise']:>+8.2f}"
              f"{r['loss_with_roll']:>8.3f}{r['loss_silent_roll']:>13.3f}"
              f"{r['loss_silent_roll'] - r['loss_with_roll']:>8.3f}")
    write_report(args.out or os.path.join(args.run_dir, "rescore.json"), run_dir=args.run_dir, piece=piece,
                 seconds=args.seconds, seeds=args.seeds, rows=rows)


if __name__ == "__main__":
    main()
