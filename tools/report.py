"""The JSON report every tool writes: its numbers plus the machine they were measured on."""

import os
import platform
import sys

from nsynth_synth.evaluation.report import shown_path
from nsynth_synth.fileio import write_json

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def write_report(path, **fields):
    """Write {"machine": ..., **fields} to `path` atomically and say so."""
    write_json(path, {"machine": {"cpus": os.cpu_count(), "platform": platform.platform()}, **fields})
    print(f"wrote {path}")


def parse_reproduction_args(parser, work, page):
    """Parse a reproduction script's command line after adding what every one takes: --work (its
    data and run folders, default runs/WORK), --seed and --page (default docs/results/PAGE).
    args.command is the command line the page names; args.work is shown relative to the clone."""
    parser.add_argument("--work", default=os.path.join(ROOT, "runs", work),
                        help=f"data and run directories (default runs/{work})")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--page", default=os.path.join(ROOT, "docs", "results", page))
    args = parser.parse_args()
    args.command = " ".join([f"python tools/{os.path.basename(sys.argv[0])}", *sys.argv[1:]])
    args.work = shown_path(args.work)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    return args
