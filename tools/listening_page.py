#!/usr/bin/env python
"""Listen and look: a page that sums up several models' scores on the same held-out pieces and
plays, per style and piece, the reference and every model's generation beside their constant-Q
plots, each score beside its noise floor.

Input: `nsynth-synth evaluate rmse-cqt --data SET --split S` report folders as LABEL=FOLDER, a
model's label once per split it was scored on; every model must have scored the same pieces.
Output, in --out:
  index.html   what a person wants first: <audio> players and plots for the --listen pieces, and
               one chart of each model's mean RMSE-CQT per style beside the noise floor; then the
               full summary (per split and kind of piece, and per style with --by-style: mean
               RMSE-CQT, model - noise, pieces that beat noise)
  index.md     the same as Markdown, with links for the audio (a code host does not play it)
  media/       copies of the files the pages use: each reference once, each model's first seed,
               each model's plot (the rendering above its generation), and the chart
The data is named by what it is (the set's manifest; only where that cannot be read, by its
folder's name), never by a path on the machine that built it.
Pages are written last and atomically: a folder with index.html is complete.
"""

import argparse
import html
import json
import os
import shutil

from report import write_report

KINDS = (("coverage_", "generated coverage scores"), ("bwv1007_", "BWV 1007"))


def set_words(data_dir):
    """A Bach set by what it is (its manifest, data.bach.describe_set), else by its folder's name."""
    from nsynth_synth.data.bach import describe_set

    try:
        with open(os.path.join(data_dir, "manifest.json")) as f:
            return describe_set(json.load(f))
    except (OSError, ValueError, KeyError):
        return f"the Bach set `{os.path.basename(os.path.normpath(data_dir))}`"


def kind_of(piece):
    return next((kind for prefix, kind in KINDS if piece.startswith(prefix)), "chorales and other scores")


def read_reports(specs):
    """["LABEL=FOLDER", ...] -> [(label, folder, report.json)], refusing a folder without a report."""
    reports = []
    for spec in specs:
        label, sep, folder = spec.partition("=")
        if not sep or not label or not folder:
            raise SystemExit(f"--report {spec!r}: expected LABEL=FOLDER")
        path = os.path.join(folder, "report.json")
        if not os.path.exists(path):
            raise SystemExit(f"--report {spec}: {path} is missing (an `evaluate rmse-cqt` report folder holds it)")
        with open(path) as f:
            reports.append((label, folder, json.load(f)))
    return reports


def by_model(reports):
    """[(label, folder, report)] -> {label: {(split, piece, program): (folder, score)}}, labels in order."""
    models = {}
    for label, folder, report in reports:
        for score in report["scores"]:
            models.setdefault(label, {})[report["split"], score["piece"], score["program"]] = (folder, score)
    return models


def common_keys(models):
    """The (split, piece, program) every model scored, in the first model's order."""
    first, *others = models.values()
    keys = [k for k in first if all(k in other for other in others)]
    if not keys:
        raise SystemExit("the reports share no piece: give every model's reports of the same set and splits")
    return keys


def mean_text(summary):
    return f"{summary['mean']:.2f}" + (f" ± {summary['ci']:.2f}" if summary["ci"] is not None else "")


def summary_rows(models, keys, by_style=False):
    """Per split and kind of piece (and style, with by_style): [split, kind, (style,) pieces, noise,
    then per model "mean (model - noise; beats)"]."""
    import numpy as np

    rows = []
    groups = {}
    for split, piece, program in keys:
        groups.setdefault((split, kind_of(piece), program if by_style else None), []).append((split, piece, program))
    order = list(dict.fromkeys(group[:2] for group in groups))  # splits and kinds as first met, styles by number
    for group, members in sorted(groups.items(), key=lambda item: (order.index(item[0][:2]), item[0][2] or 0)):
        noise = np.mean([models[next(iter(models))][k][1]["noise_rmse_cqt"] for k in members])
        cells = []
        for scores in models.values():
            chosen = [scores[k][1] for k in members]
            mean = np.mean([s["summary"]["mean"] for s in chosen])
            margin = np.mean([s["minus_noise"]["mean"] for s in chosen])
            beats = sum(s["minus_noise"]["mean"] < 0 for s in chosen)
            cells.append(f"{mean:.2f} ({margin:+.2f}; {beats}/{len(chosen)})")
        style = [f"GM {group[2]}"] if by_style else []
        rows.append([*group[:2], *style, len(members), f"{noise:.2f}", *cells])
    return rows


def style_chart(models, keys, path):
    """A bar chart PNG: per style, each model's mean RMSE-CQT over `keys` and the references' mean
    noise floor (a black line). -> the styles charted."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    programs = sorted({program for _, _, program in keys})
    labels = list(models)
    width = 0.8 / len(labels)
    fig, ax = plt.subplots(figsize=(1.2 + 1.1 * len(programs), 3.6))
    for index, label in enumerate(labels):
        means = [np.mean([models[label][k][1]["summary"]["mean"] for k in keys if k[2] == p]) for p in programs]
        ax.bar(np.arange(len(programs)) - 0.4 + width * (index + 0.5), means, width, label=label)
    first = models[labels[0]]
    for i, p in enumerate(programs):
        noise = np.mean([first[k][1]["noise_rmse_cqt"] for k in keys if k[2] == p])
        ax.plot([i - 0.45, i + 0.45], [noise, noise], color="black", linewidth=2,
                label="white noise" if i == 0 else None)
    ax.set_xticks(np.arange(len(programs)), [f"GM {p}" for p in programs])
    ax.set_ylabel("RMSE-CQT (lower is better)")
    ax.legend(fontsize=8, ncol=len(labels) + 1, loc="upper center", bbox_to_anchor=(0.5, -0.12))
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return programs


def build(models, keys, listen, out, title, intro, by_style=False):
    """Copy the media of the `listen` keys into out/media and chart the styles -> (html, markdown) pages."""
    media = os.path.join(out, "media")
    os.makedirs(media, exist_ok=True)
    style_chart(models, keys, os.path.join(media, "styles.png"))
    chart_words = ("Each model's mean RMSE-CQT per style over every piece above, the black line the white "
                   "noise floor of the same references: a bar below its line beats noise.")

    def copy(folder, name, as_name):
        shutil.copyfile(os.path.join(folder, name), os.path.join(media, as_name))
        return f"media/{as_name}"

    labels = list(models)
    header = ["split", "pieces", *(["style"] if by_style else []), "count", "noise",
              *[f"{label}: RMSE-CQT (model - noise; beat noise)" for label in labels]]
    rows = summary_rows(models, keys, by_style)
    parts = [f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(title)}</title>",
             "<style>body{font-family:sans-serif;margin:2em}td,th{border:1px solid #ccc;padding:.4em;"
             "vertical-align:top}table{border-collapse:collapse}img{width:320px}img.chart{width:auto}"
             "audio{width:260px}</style></head><body>",
             f"<h1>{html.escape(title)}</h1><p>{html.escape(intro)}</p>"]
    markdown = [f"# {title}", "", intro, ""]
    summary_html = ("<h2>Against the noise floor, per style</h2>"
                    f"<p>{html.escape(chart_words)}</p><img class='chart' alt='RMSE-CQT per style' "
                    "src='media/styles.png'><h2>Summary</h2><table><tr>"
                    + "".join(f"<th>{html.escape(h)}</th>" for h in header) + "</tr>"
                    + "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>"
                              for row in rows) + "</table>")
    summary_markdown = ["## Against the noise floor, per style", "", chart_words, "",
                        "![RMSE-CQT per style](media/styles.png)", "", "## Summary", "",
                        "| " + " | ".join(header) + " |", "|" + "---|" * len(header),
                        *["| " + " | ".join(map(str, row)) + " |" for row in rows], ""]
    by_style = {}
    for key in [k for k in keys if k in listen]:
        split, piece, program = key
        stem = f"{piece}_gm{program}"
        folder, score = models[labels[0]][key]
        reference = copy(folder, f"{stem}_reference.wav", f"{stem}_reference.wav")
        cells = []
        for index, label in enumerate(labels):
            folder, score_m = models[label][key]
            cells.append({"text": f"{mean_text(score_m['summary'])} (model - noise {score_m['minus_noise']['mean']:+.2f})",
                          "wav": copy(folder, score_m["rows"][0]["wav"], f"{stem}_m{index}.wav"),
                          "plot": copy(folder, score_m["plot"], f"{stem}_m{index}.png")})
        by_style.setdefault(program, []).append((f"{piece} ({split})", reference, score["noise_rmse_cqt"], cells))
    for program, pieces in by_style.items():
        parts.append(f"<h2>Listen: GM {program}</h2><table><tr><th>piece</th><th>reference</th>"
                     + "".join(f"<th>{html.escape(label)}</th>" for label in labels) + "</tr>")
        markdown += [f"## Listen: GM {program}", "", "| piece | reference | " + " | ".join(labels) + " |",
                     "|---|---|" + "---|" * len(labels)]
        for name, reference, noise, cells in pieces:
            parts.append(f"<tr><td>{html.escape(name)}<br>noise {noise:.2f}</td>"
                         f"<td><audio controls preload='none' src='{reference}'></audio></td>"
                         + "".join(f"<td><audio controls preload='none' src='{c['wav']}'></audio><br>"
                                   f"{html.escape(c['text'])}<br><img alt='constant-Q plot' src='{c['plot']}'></td>"
                                   for c in cells) + "</tr>")
            markdown.append(f"| {name} (noise {noise:.2f}) | [wav]({reference}) | "
                            + " | ".join(f"[wav]({c['wav']}) {c['text']} [cqt]({c['plot']})" for c in cells) + " |")
        parts.append("</table>")
        markdown.append("")
    parts += [summary_html, "</body></html>"]
    return "\n".join(parts), "\n".join(markdown + summary_markdown)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--report", nargs="+", required=True, metavar="LABEL=FOLDER",
                        help="evaluate rmse-cqt report folders; the first model's references are played")
    parser.add_argument("--out", required=True, help="the page's folder")
    parser.add_argument("--title", default="Listen and look")
    parser.add_argument("--listen", nargs="+", metavar="PIECE",
                        help="pieces to play and plot (default: every piece the models share)")
    parser.add_argument("--by-style", action="store_true", help="a summary row per style too")
    args = parser.parse_args()
    from nsynth_synth.fileio import atomic_output

    reports = read_reports(args.report)
    models = by_model(reports)
    keys = common_keys(models)
    names = {piece for _, piece, _ in keys}
    missing = sorted(set(args.listen or ()) - names)
    if missing:
        raise SystemExit(f"--listen {', '.join(missing)}: not scored by every model")
    listen = [k for k in keys if args.listen is None or k[1] in args.listen]
    first = reports[0][2]
    intro = (f"RMSE-CQT of the first {first['seconds']:g} s of each piece of {set_words(first['data'])} against its "
             "rendering (lower is better; each model's score is the mean over its report's seeds, and the players "
             f"play seed {first['seeds'][0]}); model - noise below 0 beats white noise at the reference's loudness. "
             f"Models: {', '.join(dict.fromkeys(label for label, _, _ in reports))}.")
    page, markdown = build(models, keys, listen, args.out, args.title, intro, args.by_style)
    for name, text in (("index.md", markdown), ("index.html", page)):
        with atomic_output(os.path.join(args.out, name)) as tmp, open(tmp, "w") as f:
            f.write(text)
    write_report(os.path.join(args.out, "listening_page.json"), reports=args.report,
                 summary=summary_rows(models, keys, args.by_style), listened=[list(k) for k in listen])
    print(f"wrote {os.path.join(args.out, 'index.html')}: {len(keys)} pieces x {len(models)} models, "
          f"{len(listen)} to listen to")


if __name__ == "__main__":
    main()
