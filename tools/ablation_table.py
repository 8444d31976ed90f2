#!/usr/bin/env python
"""What each part buys: `evaluate rmse-cqt` reports of variants of one model on the same pieces,
each against the first (the full model), piece by piece.

Input: report folders as LABEL=FOLDER, the full model first, every one scored on the same split
of the same set. Per variant and style: mean RMSE-CQT, and the paired difference from the full
model over the same pieces (variant - full, mean and 95% interval, Student's t: below 0 the
variant is better, an interval across 0 decides nothing), and the pieces that beat white noise.
Prints the table as Markdown and writes JSON (--out) with every row.
"""

import argparse
import json
import os

from report import write_report


def scores_by_key(folder):
    with open(os.path.join(folder, "report.json")) as f:
        report = json.load(f)
    return report, {(s["piece"], s["program"]): s for s in report["scores"]}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--report", nargs="+", required=True, metavar="LABEL=FOLDER",
                        help="the full model first, then its variants")
    parser.add_argument("--out", default="bench_out/ablation_table.json")
    args = parser.parse_args()
    from nsynth_synth.metrics.stats import format_mean_ci, mean_ci

    variants = []
    for spec in args.report:
        label, sep, folder = spec.rpartition("=")  # a label may hold "=", a folder hardly
        if not sep or not os.path.exists(os.path.join(folder, "report.json")):
            raise SystemExit(f"--report {spec!r}: expected LABEL=FOLDER holding an `evaluate rmse-cqt` report.json")
        variants.append((label, *scores_by_key(folder)))
    (full_label, full_report, full), *others = variants
    for label, _, scores in others:
        if set(scores) != set(full):
            raise SystemExit(f"{label} scored other pieces than {full_label}: give reports of the same split")
    programs = sorted({program for _, program in full})
    rows = []
    for label, _, scores in variants:
        for program in programs:
            keys = [k for k in full if k[1] == program]
            mean = mean_ci([scores[k]["summary"]["mean"] for k in keys])
            difference = mean_ci([scores[k]["summary"]["mean"] - full[k]["summary"]["mean"] for k in keys])
            rows.append({"variant": label, "program": program, "pieces": len(keys), "rmse_cqt": mean,
                         "minus_full": difference if label != full_label else None,
                         "noise_rmse_cqt": sum(full[k]["noise_rmse_cqt"] for k in keys) / len(keys),
                         "beats_noise": sum(scores[k]["minus_noise"]["mean"] < 0 for k in keys)})
    lines = ["| variant | style | pieces | RMSE-CQT | variant - full (paired) | noise | beat noise |",
             "|---|---|---|---|---|---|---|"]
    for row in rows:
        paired = format_mean_ci(row["minus_full"]) if row["minus_full"] else "(the full model)"
        lines.append(f"| {row['variant']} | GM {row['program']} | {row['pieces']} | {format_mean_ci(row['rmse_cqt'])} "
                     f"| {paired} | {row['noise_rmse_cqt']:.2f} | {row['beats_noise']}/{row['pieces']} |")
    print("\n".join(lines))
    write_report(args.out, split=full_report["split"], seconds=full_report["seconds"], seeds=full_report["seeds"],
                 reports=args.report, rows=rows, table="\n".join(lines))


if __name__ == "__main__":
    main()
