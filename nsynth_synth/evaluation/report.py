"""Report folders: every `nsynth-synth evaluate ...` and `listen --results` writes one.

    OUT/report.md    a page with the tables, linking the plots and audio beside it
    OUT/report.json  every number on the page (and the command's settings)
    OUT/*.png, OUT/*.wav

Files are written atomically; the page is written last, so a folder with report.md is complete.
"""

import os
import sys

from nsynth_synth.fileio import atomic_output, write_json


def shown_path(path):
    """`path` as a page names it: relative to the working directory when it lies below it (so a
    report made in a clone reads the same in every other clone), else unchanged."""
    relative = os.path.relpath(path)
    return path if relative.startswith("..") else relative


def markdown_table(header, rows):
    """header [columns], rows [[cell, ...]] -> a Markdown table (cells formatted with str)."""
    lines = ["| " + " | ".join(map(str, header)) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(map(str, row)) + " |" for row in rows]
    return "\n".join(lines)


def write_report(out_dir, title, sections, results):
    """Write OUT/report.json (results plus the command line) and then OUT/report.md: `title`
    and `sections`, Markdown strings (tables, image and audio links relative to OUT)."""
    os.makedirs(out_dir, exist_ok=True)
    command = "nsynth-synth " + " ".join(sys.argv[1:]) if os.path.basename(sys.argv[0]) == "nsynth-synth" else None
    write_json(os.path.join(out_dir, "report.json"), {"title": title, "command": command, **results})
    body = [f"# {title}", ""] + ([f"Made by `{command}`.", ""] if command else []) + ["\n\n".join(sections), ""]
    with atomic_output(os.path.join(out_dir, "report.md")) as tmp, open(tmp, "w") as f:
        f.write("\n".join(body))
    return os.path.join(out_dir, "report.md")
