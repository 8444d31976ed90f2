"""Listening tests: the mean opinion score (MOS) of generated audio, as in the SynthNet paper's
Table 5 (Schimbinschi et al. 2019).

Three steps, one per `nsynth-synth listen` mode:

    build_page(samples, out)    SAMPLES/<style>/<item>/reference.wav and one <system>.wav per
                                candidate -> OUT/index.html (one self-contained file, the audio
                                inlined) and OUT/key.json (token -> {style, item, system})
    make_server(out) / serve    serve the page; POST /ratings appends to OUT/ratings.sqlite
    summarize_ratings(out)      MOS with 95% confidence intervals per system and style, and per
                                system over all styles -> OUT/results/report.{md,json}

The page never names a system: each candidate carries an opaque random token that only
key.json resolves, and the candidates of an item are shuffled anew on every page load and
labelled A, B, C... A candidate can be rated (1 bad .. 5 excellent) only once it has been played.
"""

import base64
import collections
import contextlib
import datetime
import http.server
import json
import os
import random
import sqlite3

import soundfile

from nsynth_synth.errors import AudioError, DataError
from nsynth_synth.evaluation.report import markdown_table, write_report
from nsynth_synth.fileio import atomic_output, write_json
from nsynth_synth.metrics.stats import format_mean_ci, mean_ci

REFERENCE = "reference.wav"
RATINGS = range(1, 6)
MAX_REQUEST_BYTES = 1 << 20
SCHEMA = """CREATE TABLE IF NOT EXISTS ratings (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    listener TEXT NOT NULL,
    token TEXT NOT NULL,
    style TEXT NOT NULL,
    item TEXT NOT NULL,
    system TEXT NOT NULL,
    rating INTEGER NOT NULL CHECK (rating BETWEEN 1 AND 5),
    submitted_at TEXT NOT NULL
)"""


def _entries(folder):
    """Sorted names in `folder`, leaving out hidden files such as .DS_Store."""
    return sorted(name for name in os.listdir(folder) if not name.startswith("."))


def _wav_data_uri(path):
    """A WAV file -> "data:audio/wav;base64,..."; AudioError naming the file if it is not a readable WAV."""
    if not path.lower().endswith(".wav"):
        raise AudioError(f"{path}: not a WAV file (an item folder holds {REFERENCE} and one <system>.wav "
                         "per candidate)")
    try:
        info = soundfile.info(path)
    except RuntimeError as error:
        raise AudioError(f"{path}: cannot read audio ({error})") from error
    if info.format not in ("WAV", "WAVEX"):
        raise AudioError(f"{path}: expected WAV audio, found {info.format_info}")
    with open(path, "rb") as f:
        return "data:audio/wav;base64," + base64.b64encode(f.read()).decode("ascii")


def scan_samples(samples_dir):
    """SAMPLES/<style>/<item>/{reference,<system>}.wav -> [(style, item, reference path,
    {system: path})], sorted; DataError naming the folder that breaks the layout."""
    if not os.path.isdir(samples_dir):
        raise DataError(f"{samples_dir}: no such samples folder (expected SAMPLES/<style>/<item>/reference.wav "
                        "and <system>.wav)")
    trials = []
    for style in _entries(samples_dir):
        style_dir = os.path.join(samples_dir, style)
        if not os.path.isdir(style_dir):
            raise DataError(f"{style_dir}: expected a folder per style in {samples_dir}, found a file")
        items = _entries(style_dir)
        if not items:
            raise DataError(f"{style_dir}: the style holds no item folders")
        for item in items:
            item_dir = os.path.join(style_dir, item)
            if not os.path.isdir(item_dir):
                raise DataError(f"{item_dir}: expected a folder per item in {style_dir}, found a file")
            names = _entries(item_dir)
            if REFERENCE not in names:
                raise DataError(f"{item_dir}: no {REFERENCE} (each item needs the reference recording)")
            candidates = {os.path.splitext(name)[0]: os.path.join(item_dir, name) for name in names
                          if name != REFERENCE}
            if not candidates:
                raise DataError(f"{item_dir}: no candidates to rate (expected <system>.wav beside {REFERENCE})")
            trials.append((style, item, os.path.join(item_dir, REFERENCE), candidates))
    if not trials:
        raise DataError(f"{samples_dir}: no style folders (expected SAMPLES/<style>/<item>/reference.wav)")
    return trials


def build_page(samples_dir, out_dir, seed=None):
    """Write OUT/key.json and then OUT/index.html for the samples under `samples_dir`.

    seed: fixes the tokens and the candidates' order in the file (None: fresh randomness); the page
    shuffles the candidates again on every load. Returns {"page", "key", "items", "candidates"}.
    """
    rng = random.Random(seed)
    key, trials = {}, []
    for style, item, reference, candidates in scan_samples(samples_dir):
        entries = []
        for system, path in candidates.items():
            token = f"{rng.getrandbits(64):016x}"
            while token in key:
                token = f"{rng.getrandbits(64):016x}"
            key[token] = {"style": style, "item": item, "system": system}
            entries.append({"token": token, "audio": _wav_data_uri(path)})
        rng.shuffle(entries)
        trials.append({"style": style, "item": item, "reference": _wav_data_uri(reference), "candidates": entries})
    write_json(os.path.join(out_dir, "key.json"), key)
    # "</" inside the JSON could close the <script> element that holds it.
    page = PAGE.replace("__TRIALS__", json.dumps(trials).replace("</", "<\\/"))
    page_path = os.path.join(out_dir, "index.html")
    with atomic_output(page_path) as tmp, open(tmp, "w", encoding="utf-8") as f:
        f.write(page)
    return {"page": page_path, "key": os.path.join(out_dir, "key.json"), "items": len(trials), "candidates": len(key)}


def load_key(out_dir):
    """OUT/key.json -> {token: {"style", "item", "system"}}; DataError if the page was never built."""
    path = os.path.join(out_dir, "key.json")
    if not os.path.exists(path):
        raise DataError(f"{path}: not found; build the page first with `nsynth-synth listen --samples DIR --out "
                        f"{out_dir}`")
    try:
        with open(path) as f:
            return json.load(f)
    except json.JSONDecodeError as error:
        raise DataError(f"{path}: not valid JSON ({error})") from error


def parse_submission(body, key):
    """A POST /ratings body (JSON bytes: {"listener": str, "ratings": [{"token", "rating"}]}) ->
    (listener, rows [{"token", "style", "item", "system", "rating"}]); DataError saying what is wrong."""
    try:
        submission = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise DataError(f"the request body is not JSON ({error})") from error
    if not isinstance(submission, dict):
        raise DataError("expected a JSON object with 'listener' and 'ratings'")
    listener = submission.get("listener")
    if not isinstance(listener, str) or not listener.strip():
        raise DataError("'listener' must be a non-empty name")
    ratings = submission.get("ratings")
    if not isinstance(ratings, list) or not ratings:
        raise DataError("'ratings' must be a non-empty list of {token, rating}")
    rows, seen = [], set()
    for entry in ratings:
        if not isinstance(entry, dict):
            raise DataError(f"each rating must be an object {{token, rating}}, got {entry!r}")
        token, rating = entry.get("token"), entry.get("rating")
        if not isinstance(token, str) or token not in key:
            raise DataError(f"unknown token {token!r} (the page and key.json do not match?)")
        if token in seen:
            raise DataError(f"token {token!r} is rated twice")
        # bool is an int in Python but not a rating.
        if isinstance(rating, bool) or not isinstance(rating, int) or rating not in RATINGS:
            raise DataError(f"rating for {token!r} must be an integer from 1 to 5, got {rating!r}")
        seen.add(token)
        rows.append({"token": token, **key[token], "rating": rating})
    return listener.strip(), rows


def _connect(db_path):
    connection = sqlite3.connect(db_path, timeout=30)
    connection.execute(SCHEMA)
    return connection


def store_ratings(db_path, listener, rows):
    """Append `rows` (from parse_submission) to the SQLite table `ratings` in one transaction -> count."""
    submitted_at = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
    # closing() closes the connection; the inner `with connection` commits, or rolls back on an error.
    with contextlib.closing(_connect(db_path)) as connection, connection:
        connection.executemany(
            "INSERT INTO ratings (listener, token, style, item, system, rating, submitted_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            [(listener, r["token"], r["style"], r["item"], r["system"], r["rating"], submitted_at) for r in rows],
        )
    return len(rows)


class _Handler(http.server.BaseHTTPRequestHandler):
    """GET / serves the page; POST /ratings validates and stores a listener's ratings."""

    def _reply(self, status, content_type, body):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _reply_json(self, status, obj):
        self._reply(status, "application/json", json.dumps(obj).encode("utf-8"))

    def do_GET(self):
        if self.path.split("?")[0] in ("/", "/index.html"):
            self._reply(200, "text/html; charset=utf-8", self.server.page)
        else:
            self._reply_json(404, {"error": f"no such page {self.path!r}; the test is at /"})

    def do_POST(self):
        if self.path != "/ratings":
            self._reply_json(404, {"error": f"POST goes to /ratings, not {self.path!r}"})
            return
        try:
            length = int(self.headers.get("Content-Length", ""))
        except ValueError:
            self._reply_json(411, {"error": "a Content-Length header is required"})
            return
        if length > MAX_REQUEST_BYTES:
            self._reply_json(413, {"error": f"the request is {length} bytes, more than {MAX_REQUEST_BYTES}"})
            return
        try:
            listener, rows = parse_submission(self.rfile.read(length), self.server.key)
        except DataError as error:
            self._reply_json(400, {"error": str(error)})
            return
        try:
            stored = store_ratings(self.server.db_path, listener, rows)
        except sqlite3.Error as error:
            self._reply_json(500, {"error": f"{self.server.db_path}: could not store the ratings ({error})"})
            return
        self._reply_json(200, {"stored": stored})


def make_server(out_dir, host="127.0.0.1", port=8765):
    """A ThreadingHTTPServer for the page built in `out_dir` (port 0: any free port); the caller
    runs serve_forever() and server_close(). Ratings go to OUT/ratings.sqlite."""
    key = load_key(out_dir)
    page_path = os.path.join(out_dir, "index.html")
    if not os.path.exists(page_path):
        raise DataError(f"{page_path}: not found; build it with `nsynth-synth listen --samples DIR --out {out_dir}`")
    server = http.server.ThreadingHTTPServer((host, port), _Handler)
    with open(page_path, "rb") as f:
        server.page = f.read()
    server.key = key
    server.db_path = os.path.join(out_dir, "ratings.sqlite")
    _connect(server.db_path).close()  # creates the table, so a bad OUT fails now rather than on a listener
    return server


def serve(out_dir, host="127.0.0.1", port=8765):
    """Serve the page until Ctrl-C, printing its address."""
    server = make_server(out_dir, host, port)
    print(f"serving {os.path.join(out_dir, 'index.html')} at http://{host}:{server.server_address[1]}/ "
          f"(ratings go to {server.db_path}; Ctrl-C stops)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("stopped")
    finally:
        server.server_close()


def read_ratings(out_dir):
    """OUT/ratings.sqlite -> [(listener, style, item, system, rating)]; DataError when there are none yet."""
    db_path = os.path.join(out_dir, "ratings.sqlite")
    rows = []
    if os.path.exists(db_path):
        with contextlib.closing(_connect(db_path)) as connection:
            rows = connection.execute(
                "SELECT listener, style, item, system, rating FROM ratings ORDER BY id").fetchall()
    if not rows:
        raise DataError(f"{db_path}: no ratings yet; collect some with `nsynth-synth listen --serve {out_dir}`")
    return rows


def mos(rows):
    """[(listener, style, item, system, rating)] -> {"by_style": [{"system", "style", "mean", "ci", "n"}],
    "by_system": [{"system", "mean", "ci", "n"}]}: MOS with the 95% Student's t interval, sorted."""
    by_style, by_system = collections.defaultdict(list), collections.defaultdict(list)
    for _, style, _, system, rating in rows:
        by_style[system, style].append(rating)
        by_system[system].append(rating)
    return {
        "by_style": [{"system": system, "style": style, **mean_ci(values)}
                     for (system, style), values in sorted(by_style.items())],
        "by_system": [{"system": system, **mean_ci(values)} for system, values in sorted(by_system.items())],
    }


def _cell(entry):
    """One table cell: "4.50 ± 0.92 (n=4)", or "-" for a system never rated in that style."""
    return f"{format_mean_ci(entry)} (n={entry['n']})" if entry else "-"


def format_mos(results):
    """The MOS table as Markdown: a row per system, a column per style and one over all styles."""
    styles = sorted({entry["style"] for entry in results["by_style"]})
    cells = {(entry["system"], entry["style"]): entry for entry in results["by_style"]}
    body = [[entry["system"], *(_cell(cells.get((entry["system"], style))) for style in styles), _cell(entry)]
            for entry in results["by_system"]]
    return markdown_table(["system", *styles, "all styles"], body)


def summarize_ratings(out_dir):
    """MOS per system and style and per system over all styles from OUT/ratings.sqlite; writes
    OUT/results/report.{json,md} -> results {"ratings", "listeners", "by_style", "by_system", "report"}."""
    rows = read_ratings(out_dir)
    listeners = len({row[0] for row in rows})
    results = {"ratings": len(rows), "listeners": listeners, **mos(rows)}
    sections = [
        f"{len(rows)} ratings from {listeners} listeners on a scale from 1 (bad) to 5 (excellent), collected "
        "with `nsynth-synth listen --serve`. Each cell: the mean opinion score ± the half-width of its 95% "
        "confidence interval (Student's t; none for a single rating), and the number of ratings.",
        format_mos(results),
    ]
    report = write_report(os.path.join(out_dir, "results"), "Listening test: mean opinion score (SynthNet Table 5)",
                          sections, results)
    return {**results, "report": report}


PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Listening test</title>
<link rel="icon" href="data:,">
<style>
body { font-family: system-ui, sans-serif; max-width: 50rem; margin: 2rem auto; padding: 0 1rem; line-height: 1.45; }
section { border-top: 1px solid #ccc; padding: 0.5rem 0 1rem; }
.candidate { display: flex; flex-wrap: wrap; align-items: center; gap: 0.75rem; margin: 0.6rem 0; }
.candidate .label { font-weight: bold; width: 1.5rem; }
.rating label { margin-right: 0.6rem; }
.rating.locked { color: #999; }
#status[data-state=error] { color: #b00020; }
#status[data-state=done] { color: #1b5e20; font-weight: bold; }
</style>
</head>
<body>
<h1>Listening test</h1>
<p>Each item has a reference recording and a few candidates in random order. Listen to the reference,
then play every candidate and rate how good it sounds as a performance of the same music on the
reference's instrument: 1 bad, 2 poor, 3 fair, 4 good, 5 excellent. A candidate can be rated once it
has been played. Headphones help.</p>
<main id="trials"></main>
<p><label>Your name <input id="listener" type="text" autocomplete="name" required></label>
<button id="submit" type="button">Submit ratings</button></p>
<p id="status" role="status"></p>
<script id="trial-data" type="application/json">__TRIALS__</script>
<script>
"use strict";
const trials = JSON.parse(document.getElementById("trial-data").textContent);
const tokens = [];

function shuffle(list) {  // Fisher-Yates, anew on every page load
  for (let i = list.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [list[i], list[j]] = [list[j], list[i]];
  }
  return list;
}

function label(index) {  // A .. Z, then AA, AB ...
  const letter = (i) => String.fromCharCode(65 + i);
  return index < 26 ? letter(index) : letter(Math.floor(index / 26) - 1) + letter(index % 26);
}

function make(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  node.append(...children);
  return node;
}

for (const trial of trials) {
  const section = make("section", {class: "item"}, make("h2", {}, `${trial.style}: ${trial.item}`));
  section.append(make("div", {class: "candidate reference"}, make("span", {class: "label"}, "Ref"),
                      make("audio", {controls: "", preload: "auto", src: trial.reference})));
  shuffle(trial.candidates.slice()).forEach((candidate, index) => {
    const audio = make("audio", {controls: "", preload: "auto", src: candidate.audio});
    const rating = make("span", {class: "rating locked", title: "play the candidate first"});
    for (let value = 1; value <= 5; value++) {
      const input = make("input", {type: "radio", name: candidate.token, value: value, disabled: ""});
      rating.append(make("label", {}, input, ` ${value}`));
    }
    const unlock = () => {
      rating.classList.remove("locked");
      rating.removeAttribute("title");
      rating.querySelectorAll("input").forEach((input) => { input.disabled = false; });
    };
    audio.addEventListener("play", unlock);
    audio.addEventListener("playing", unlock);
    section.append(make("div", {class: "candidate", "data-token": candidate.token},
                        make("span", {class: "label"}, label(index)), audio, rating));
    tokens.push(candidate.token);
  });
  document.getElementById("trials").append(section);
}

const statusLine = document.getElementById("status");
const submit = document.getElementById("submit");
function say(text, state) {
  statusLine.textContent = text;
  statusLine.dataset.state = state;
}

submit.addEventListener("click", async () => {
  const listener = document.getElementById("listener").value.trim();
  const ratings = [];
  for (const token of tokens) {
    const checked = document.querySelector(`input[name="${token}"]:checked`);
    if (checked) ratings.push({token: token, rating: Number(checked.value)});
  }
  if (!listener) return say("Please type your name first.", "error");
  if (ratings.length < tokens.length) {
    return say(`Please play and rate every candidate first (${tokens.length - ratings.length} left).`, "error");
  }
  submit.disabled = true;
  say("Sending...", "sending");
  try {
    const response = await fetch("ratings", {
      method: "POST", headers: {"Content-Type": "application/json"},
      body: JSON.stringify({listener: listener, ratings: ratings}),
    });
    const reply = await response.json();
    if (!response.ok) throw new Error(reply.error || response.statusText);
    say(`Thank you, ${listener}: ${reply.stored} ratings stored.`, "done");
  } catch (error) {
    submit.disabled = false;
    say(`Not stored: ${error.message}. Please try again.`, "error");
  }
});
</script>
</body>
</html>
"""
