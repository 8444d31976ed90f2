#!/usr/bin/env python
"""The training loss of a run, averaged over spans of steps, read from its TensorBoard logs.

Prints one row per span (mean of loss/total and loss/audio, the first and last step) and writes
JSON (--out, default RUN/loss_curve.json), so a closing note can quote a curve anyone can rebuild.
"""

import argparse
import glob
import os

from report import write_report


def read_scalars(log_dir, tags):
    """{tag: [(step, value)]} from every event file under log_dir."""
    import tensorflow as tf

    values = {tag: [] for tag in tags}
    for path in sorted(glob.glob(os.path.join(log_dir, "events.out.tfevents.*"))):
        for event in tf.compat.v1.train.summary_iterator(path):
            for value in event.summary.value:
                if value.tag in values:
                    values[value.tag].append((event.step, float(tf.make_ndarray(value.tensor))))
    return {tag: sorted(dict(points).items()) for tag, points in values.items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run_dir")
    parser.add_argument("--span", type=int, default=100, help="steps averaged into one row (default 100)")
    parser.add_argument("--out")
    args = parser.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    # The main term: loss/audio for the audio models, the kind's first loss term otherwise.
    terms = ("loss/audio", "loss/spectral", "loss/pitch")
    scalars = read_scalars(os.path.join(args.run_dir, "logs"), ["loss/total", *terms])
    main = next((tag for tag in terms if scalars[tag]), "loss/audio")
    if not scalars["loss/total"]:
        raise SystemExit(f"{args.run_dir}: no loss/total in logs/; has it trained?")
    rows = []
    for start in range(0, scalars["loss/total"][-1][0], args.span):
        span = {tag: [v for s, v in points if start < s <= start + args.span] for tag, points in scalars.items()}
        if span["loss/total"]:
            rows.append({"first_step": start + 1, "last_step": start + args.span,
                         "loss": sum(span["loss/total"]) / len(span["loss/total"]),
                         "audio_loss": sum(span[main]) / max(len(span[main]), 1)})
    print(f"{'steps':>13}{'loss':>10}{'main term':>11}")
    for r in rows:
        print(f"{r['first_step']:>6}-{r['last_step']:<6}{r['loss']:>10.4f}{r['audio_loss']:>11.4f}")
    write_report(args.out or os.path.join(args.run_dir, "loss_curve.json"), run_dir=args.run_dir, span=args.span,
                 rows=rows)


if __name__ == "__main__":
    main()
