"""Bad input and interruptions, for every command (issue 16).

Each row runs the command line as a user would, on real files (MIDI written with pretty_midi, sets
rendered by FluidSynth, runs trained for a step, an export served by the TF Serving stand-in), in
this process unless it is about TensorFlow's start-up. Every row checks that no traceback escapes,
the exit status, that the message names the culprit, and that the output is absent or complete
(a set with its manifest, a run with a checkpoint), with no temporary file left beside it.
"""

import dataclasses
import http.server
import importlib.util
import json
import os
import shutil
import string
import subprocess
import sys
import threading
import zlib

import numpy as np
import pytest
import soundfile
import tensorflow as tf
from conftest import C_MAJOR, cli, write_midi

from nsynth_synth.runs import holds_checkpoint

STANDIN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "export", "tf_serving_standin.py")
# A one-piece set needs a piece whose name falls in the crc32 held-out bucket to show the split rule.
SOLO = next(f"solo_{i}" for i in range(100) if zlib.crc32(f"solo_{i}".encode()) % 10 == 0)


def refused_then_made(refused, made, before_made=None):
    """Run a command that must be refused without writing its --out, then (after before_made())
    the corrected one into the same --out: -> the corrected command's stdout."""
    out = refused[refused.index("--out") + 1]
    status, _, err = cli(*refused)
    assert status == 1 and not os.path.exists(out), err
    if before_made:
        before_made()
    status, stdout, err = cli(*made)
    assert status == 0, err[-2000:]
    return stdout


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """Scores, audio and codes, good and bad: their folder."""
    folder = tmp_path_factory.mktemp("files")
    write_midi(folder / f"{SOLO}.mid", C_MAJOR[:5], note_seconds=0.3)
    write_midi(folder / "empty.mid", [])
    (folder / "corrupt.mid").write_bytes(b"MThd garbage")
    write_midi(folder / "wide.mid", [100, 30], note_seconds=0.5)  # 100 at 0 s, 30 at 0.5 s
    write_midi(folder / "short.mid", [60], note_seconds=0.05)
    soundfile.write(folder / "full.wav", 0.5 * np.sin(np.arange(16000) / 10), 16000, subtype="PCM_16")
    whole = (folder / "full.wav").read_bytes()
    (folder / "cut.wav").write_bytes(whole[:len(whole) // 2])  # a copy interrupted half-way
    soundfile.write(folder / "empty.wav", np.zeros(0), 16000, subtype="PCM_16")
    np.save(folder / "no_frames.npy", np.zeros((0, 16), np.float32))
    np.save(folder / "nan.npy", np.full((4, 16), np.nan, np.float32))
    np.save(folder / "code.npy", np.zeros((2, 16), np.float32))
    (folder / "text.npy").write_text("not numbers")
    (folder / "a_folder").mkdir()
    return str(folder)


@pytest.fixture(scope="module")
def one_piece_set(files, tmp_path_factory):
    """A Bach set of one piece in GM 80, made after a refused command on the same folder."""
    out = str(tmp_path_factory.mktemp("sets") / "one")
    made = ["prepare", "bach", "--midi", f"{files}/{SOLO}.mid", "--styles", "80", "--tail-seconds", "0.5", "--out", out]
    refused_then_made(made[:-2] + ["--soundfont", f"{files}/missing.sf2", "--out", out], made)
    return out


@pytest.fixture(scope="module")
def synth_run(one_piece_set, tmp_path_factory):
    """(run directory, the training's stdout): 1 step of synthnet_live in a folder where a command
    was refused (a window longer than the piece), and then a start with another window was killed
    before its first checkpoint, leaving its config.json: neither may lock the folder."""
    out = str(tmp_path_factory.mktemp("runs") / "synth")
    made = ["train", "--preset", "synthnet_live", "--data", one_piece_set, "--steps", "1", "--window", "1000",
            "--seed", "0", "--out", out]

    def killed_start():
        os.makedirs(out)
        record = {"preset": "synthnet_live", "data": one_piece_set, "window": 4000, "styles": None, "upsample": "linear"}
        open(os.path.join(out, "config.json"), "w").write(json.dumps({"train": record}))

    stdout = refused_then_made(made[:-4] + ["--window", "1000000", "--out", out], made, before_made=killed_start)
    return out, stdout


@pytest.fixture(scope="module")
def nsynth_files(tmp_path_factory):
    """NSynth notes from FluidR3 (3 instruments, middle C at two velocities) as the release's
    single files: whole, cut short in its second note, and without the audio feature -> their folder."""
    folder = tmp_path_factory.mktemp("nsynth")
    status, _, err = cli("prepare", "nsynth", "--out", folder / "set", "--limit-instruments", "3",
                         "--pitches", "60-60", "--velocities", "50,100")
    assert status == 0, err[-2000:]
    train = json.loads((folder / "set" / "manifest.json").read_text())["splits"]["train"]["files"][0]
    data = (folder / "set" / train).read_bytes()
    for name, content in (("release", data), ("cut", data[:len(data) * 3 // 4])):
        (folder / name).mkdir()
        (folder / name / "nsynth-train.tfrecord").write_bytes(content)
    (folder / "no_audio").mkdir()
    with tf.io.TFRecordWriter(str(folder / "no_audio" / "nsynth-train.tfrecord")) as writer:
        for record in tf.data.TFRecordDataset(str(folder / "set" / train)):
            example = tf.train.Example.FromString(record.numpy())
            del example.features.feature["audio"]
            writer.write(example.SerializeToString())
    return str(folder)


@pytest.fixture(scope="module")
def ae_run(nsynth_files, tmp_path_factory):
    """(run directory, stdout): 1 step of the small WaveNet autoencoder on the release file
    nsynth-train.tfrecord, after a refused file without audio."""
    out = str(tmp_path_factory.mktemp("runs") / "ae")
    made = ["train", "--preset", "nsynth_wavenet_ae_small", "--data", f"{nsynth_files}/release/nsynth-train.tfrecord",
            "--steps", "1", "--window", "1024", "--seed", "0", "--out", out]
    stdout = refused_then_made(made[:4] + [f"{nsynth_files}/no_audio/nsynth-train.tfrecord"] + made[5:], made)
    return out, stdout


@pytest.fixture(scope="module")
def server(synth_run, tmp_path_factory):
    """The run exported with a 0.6 s request limit, served by the TF Serving stand-in (in a thread
    of this process, which has TensorFlow loaded already): its URL."""
    root = tmp_path_factory.mktemp("served")
    status, _, err = cli("export", synth_run[0], "--out", root / "tiny", "--max-seconds", "0.6")
    assert status == 0, err[-2000:]
    spec = importlib.util.spec_from_file_location("tf_serving_standin", STANDIN)
    standin = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(standin)
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), standin.make_handler(standin.load_models(str(root))))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def copy_set(source, target, change):
    """A copy of a built set, changed by change(folder, manifest) -> the copy's path."""
    shutil.copytree(source, target)
    manifest = json.loads(open(os.path.join(target, "manifest.json")).read())
    change(target, manifest)
    return target


def corrupt_shard(folder, manifest):
    shard = os.path.join(folder, manifest["splits"]["train"]["shards"][0]["file"])
    data = bytearray(open(shard, "rb").read())
    data[len(data) // 2] ^= 0xFF
    open(shard, "wb").write(bytes(data))


def without_train_split(folder, manifest):
    """As the crc32 rule built one set of one piece in ten before it kept train non-empty."""
    manifest["splits"] = {"validation": manifest["splits"]["train"]}
    for piece in manifest["pieces"]:
        piece["split"] = "validation"
    open(os.path.join(folder, "manifest.json"), "w").write(json.dumps(manifest))


def plan_of_another_build(folder, manifest):
    """What a build of other styles, killed before its first shard was finished, leaves: its plan."""
    for name in os.listdir(folder):
        if name != "build.json":
            os.unlink(os.path.join(folder, name))
    plan = json.loads(open(os.path.join(folder, "build.json")).read())
    plan["config"]["styles"] = [42]
    open(os.path.join(folder, "build.json"), "w").write(json.dumps(plan))


def killed_mid_build(folder, manifest):
    """What `kill -9` during rendering leaves: no manifest, the shard being written as an empty
    temporary file."""
    shard = manifest["splits"]["train"]["shards"][0]["file"]
    os.unlink(os.path.join(folder, "manifest.json"))
    os.unlink(os.path.join(folder, shard))
    open(os.path.join(folder, f".tmp-k9abcdef-{shard}"), "wb").close()


@dataclasses.dataclass
class Row:
    """argv: the command line, with {files}, {tmp} and {fixture} fields; status: its exit status;
    words: what the output must contain (the culprit first); absent: what it must not; out: the
    output that must be absent or complete afterwards; setup(paths, tmp) prepares the row's input
    from the fixtures it names in `uses`; fresh_process: run the installed command in a new process."""

    argv: str
    status: int
    words: tuple
    out: str | None = None
    absent: tuple = ()
    setup: object = None
    uses: tuple = ()
    fresh_process: bool = False

    def fixtures(self):
        fields = {field for text in (self.argv, *self.words) for _, field, _, _ in string.Formatter().parse(text)}
        return [name for name in FIXTURES if name in fields or name in self.uses]


ROWS = {
    # prepare bach: scores, presets, SoundFonts, splits
    "missing MIDI": Row("prepare bach --midi {files}/missing.mid --out {tmp}/set", 1,
                        ("missing.mid", "no such MIDI file"), "{tmp}/set"),
    "corrupt MIDI": Row("prepare bach --midi {files}/corrupt.mid --out {tmp}/set", 1,
                        ("corrupt.mid", "not a readable score"), "{tmp}/set"),
    "empty MIDI": Row("prepare bach --midi {files}/empty.mid --out {tmp}/set", 1,
                      ("empty.mid", "no pitched notes"), "{tmp}/set"),
    "preset outside 0-127": Row(f"prepare bach --midi {{files}}/{SOLO}.mid --styles 130 --out {{tmp}}/set", 1,
                                ("0-127", "130"), "{tmp}/set"),
    "missing SoundFont": Row(f"prepare bach --midi {{files}}/{SOLO}.mid --soundfont {{files}}/missing.sf2 "
                             "--out {tmp}/set", 1, ("missing.sf2", "no such SoundFont"), "{tmp}/set"),
    "validation of every piece": Row(f"prepare bach --midi {{files}}/{SOLO}.mid --validation {SOLO} --out {{tmp}}/set",
                                     1, ("--validation", SOLO, "holds out every piece"), "{tmp}/set"),
    "one piece trains and says so": Row(f"prepare bach --midi {{files}}/{SOLO}.mid --styles 80 --tail-seconds 0.5 "
                                        "--out {tmp}/set", 0, ("train", SOLO, "no validation split"), "{tmp}/set"),
    "rerun after kill -9 cleans up": Row(
        f"prepare bach --midi {{files}}/{SOLO}.mid --styles 80 --tail-seconds 0.5 --out {{tmp}}/set", 0,
        ("removed 1 unfinished file", ".tmp-k9abcdef-"), "{tmp}/set",
        setup=lambda p, tmp: copy_set(p["one_piece_set"], f"{tmp}/set", killed_mid_build), uses=("one_piece_set",)),
    "a killed build of other styles is no build to protect": Row(
        f"prepare bach --midi {{files}}/{SOLO}.mid --styles 80 --tail-seconds 0.5 --out {{tmp}}/set", 0,
        ("Bach set in",), "{tmp}/set", uses=("one_piece_set",),
        setup=lambda p, tmp: copy_set(p["one_piece_set"], f"{tmp}/set", plan_of_another_build)),
    # train on Bach sets
    "window longer than every piece": Row("train --preset synthnet_live --data {one_piece_set} --window 1000000 "
                                          "--steps 1 --out {tmp}/run", 1, ("window of 1000000", "longer than every train piece"),
                                          "{tmp}/run"),
    "corrupt Bach shard": Row("train --preset synthnet_live --data {tmp}/set --window 1000 --steps 1 --out {tmp}/run", 1,
                              ("train-00000-of-00001.tfrecord", "corrupt shard"), "{tmp}/run",
                              setup=lambda p, tmp: copy_set(p["one_piece_set"], f"{tmp}/set", corrupt_shard),
                              uses=("one_piece_set",)),
    "set without a train split": Row("train --preset synthnet_live --data {tmp}/set --steps 1 --out {tmp}/run", 1,
                                     ("{tmp}/set: no train split",), "{tmp}/run",
                                     setup=lambda p, tmp: copy_set(p["one_piece_set"], f"{tmp}/set", without_train_split),
                                     uses=("one_piece_set",)),
    "resumed run says so": Row("train --preset synthnet_live --data {one_piece_set} --steps 2 --window 1000 --seed 0 "
                               "--out {tmp}/run", 0, ("resuming from step 1 (checkpoints/ckpt-1)",), "{tmp}/run",
                               setup=lambda p, tmp: shutil.copytree(p["synth_run"], f"{tmp}/run"), uses=("synth_run",)),
    "missing --out": Row("train --preset synthnet_live --data {one_piece_set}", 2, ("--out", "required")),
    # train on NSynth notes
    "release file accepted": Row("train --preset nsynth_wavenet_ae_small --data {nsynth_files}/release/nsynth-train.tfrecord "
                                 "--steps 1 --window 1024 --seed 0 --out {ae_run}", 0,
                                 ("already trained for 1 of 1 steps",), "{ae_run}"),
    "cut NSynth file": Row("train --preset nsynth_wavenet_ae_small --data {nsynth_files}/cut/nsynth-train.tfrecord "
                           "--steps 1 --out {tmp}/run", 1, ("cut/nsynth-train.tfrecord", "cut short"), "{tmp}/run"),
    "NSynth file without audio": Row("train --preset nsynth_wavenet_ae_small --data "
                                     "{nsynth_files}/no_audio/nsynth-train.tfrecord --steps 1 --out {tmp}/run", 1,
                                     ("no_audio/nsynth-train.tfrecord", "missing features: audio"), "{tmp}/run"),
    # generate
    "generate --seconds 0": Row("generate --model {synth_run} --midi {files}/wide.mid --seconds 0 --out {tmp}/g.wav", 1,
                                ("--seconds", "positive", "got 0"), "{tmp}/g.wav"),
    "generate --seconds -1": Row("generate --model {synth_run} --midi {files}/wide.mid --seconds -1 --out {tmp}/g.wav", 1,
                                 ("--seconds", "positive", "got -1"), "{tmp}/g.wav"),
    "generate less than a sample": Row("generate --model {synth_run} --midi {files}/wide.mid --seconds 0.00001 "
                                       "--out {tmp}/g.wav", 1, ("--seconds 1e-05", "shorter than one sample"),
                                       "{tmp}/g.wav"),
    "generate --out a folder": Row("generate --model {synth_run} --midi {files}/wide.mid --out {files}/a_folder", 1,
                                   ("a_folder", "is a folder")),
    "generate a missing MIDI": Row("generate --model {synth_run} --midi {files}/none.mid --out {tmp}/g.wav", 1,
                                   ("none.mid", "no such MIDI file"), "{tmp}/g.wav"),
    "generate 0.001 s, warning of the span's pitches": Row(
        "generate --model {synth_run} --midi {files}/wide.mid --seconds 0.001 --out {tmp}/g.wav", 0,
        ("16 samples", "pitches [100] lie outside"), "{tmp}/g.wav", absent=("[30",)),
    # encode, decode
    "encode an empty WAV": Row("encode {files}/empty.wav --model {ae_run} --out {tmp}/z.npy", 1,
                               ("empty.wav", "no audio samples"), "{tmp}/z.npy"),
    "encode a WAV cut short": Row("encode {files}/cut.wav --model {ae_run} --out {tmp}/z.npy", 1,
                                  ("cut.wav", "cut short", "7989 of the 16000 samples"), "{tmp}/z.npy"),
    "decode a code of no frames": Row("decode {files}/no_frames.npy --model {ae_run} --out {tmp}/d.wav", 1,
                                      ("no_frames.npy", "got shape (0, 16)"), "{tmp}/d.wav"),
    "decode a file that is not .npy": Row("decode {files}/text.npy --model {ae_run} --out {tmp}/d.wav", 1,
                                          ("text.npy", "not a .npy array"), "{tmp}/d.wav"),
    "decode an all-NaN code": Row("decode {files}/nan.npy --model {ae_run} --out {tmp}/d.wav", 1,
                                  ("nan.npy", "NaN"), "{tmp}/d.wav"),
    "decode with the spectral baseline's option": Row(
        "decode {files}/code.npy --model {ae_run} --iterations 10 --out {tmp}/d.wav", 1,
        ("--iterations does not apply", "WaveNetCodec", "--temperature"), "{tmp}/d.wav"),
    # client
    "client --url notaurl": Row("client --url notaurl --model tiny --midi {files}/short.mid --out {tmp}/c.wav", 1,
                                ("notaurl", "http://"), "{tmp}/c.wav"),
    "client, unknown model": Row("client --url {server} --model nope --midi {files}/short.mid --out {tmp}/c.wav", 1,
                                 ("nope", "Servable not found"), "{tmp}/c.wav"),
    "client, request too long for the server": Row(
        "client --url {server} --model tiny --midi {files}/short.mid --max-seconds 2 --out {tmp}/c.wav", 0,
        ("wrote", "c.wav (1.05 s)"), "{tmp}/c.wav"),
    # TensorFlow's start-up, in a fresh process
    "no start-up noise": Row("describe-data {tmp}/nowhere", 1, ("nowhere", "no such data directory"),
                             absent=("cuInit", "cuda drivers", "absl::InitializeLog"), fresh_process=True),
}
FIXTURES = ("files", "one_piece_set", "synth_run", "nsynth_files", "ae_run", "server")


@pytest.fixture(scope="module", autouse=True)
def fresh_processes(tmp_path_factory):
    """The fresh-process rows, started at once in the background (TensorFlow's start-up takes a
    while): {row name: a function that waits for it -> (exit status, stdout, stderr)}."""
    tmp = str(tmp_path_factory.mktemp("fresh"))
    command = os.path.join(os.path.dirname(sys.executable), "nsynth-synth")
    started = {name: subprocess.Popen([command, *row.argv.format(tmp=tmp).split()], stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, text=True)
               for name, row in ROWS.items() if row.fresh_process}

    def waiter(process):
        def wait():
            stdout, stderr = process.communicate(timeout=600)
            return process.returncode, stdout, stderr
        return wait

    yield {name: waiter(process) for name, process in started.items()}
    for process in started.values():
        process.kill()
        process.communicate()


@pytest.mark.parametrize("name", list(ROWS))
def test_bad_input(name, request, tmp_path, fresh_processes):
    row = ROWS[name]
    paths = {"tmp": str(tmp_path)}
    for fixture in row.fixtures():
        value = request.getfixturevalue(fixture)
        paths[fixture] = value[0] if isinstance(value, tuple) else value  # a run: its directory
    if row.setup:
        row.setup(paths, str(tmp_path))
    argv = [part.format(**paths) for part in row.argv.split()]
    if row.fresh_process:
        status, stdout, stderr = fresh_processes[name]()
    else:
        status, stdout, stderr = cli(*argv)
    said = stdout + stderr
    assert "Traceback" not in said, said[-3000:]
    assert status == row.status, said[-3000:]
    for word in row.words:
        assert word.format(**paths) in said, (word, said[-3000:])
    for word in row.absent:
        assert word not in said, (word, said[-3000:])
    if status == 1:
        errors = [line for line in stderr.splitlines() if line.startswith("nsynth-synth: error: ")]
        assert len(errors) == 1 and stderr.rstrip().endswith(errors[0]), stderr[-2000:]  # one line, the last
    if row.out:
        assert_absent_or_complete(row.out.format(**paths), status)


def assert_absent_or_complete(path, status):
    """A refused command leaves nothing under its output's name; a folder left must be finished."""
    parent = path if os.path.isdir(path) else os.path.dirname(path)
    if os.path.isdir(parent):
        assert not [n for n in os.listdir(parent) if n.startswith(".tmp-")], os.listdir(parent)
    if not os.path.exists(path):
        return
    if os.path.isdir(path):
        assert os.path.exists(os.path.join(path, "manifest.json")) or holds_checkpoint(path), os.listdir(path)
    else:
        assert status == 0, f"{path} was written by a refused command"


def test_a_set_without_validation_trains_and_says_so_once(synth_run):
    assert synth_run[1].count("no validation split: quality tracking is off") == 1, synth_run[1]


def test_the_nsynth_release_file_trains_and_is_named(ae_run):
    assert "NSynth train split: " in ae_run[1] and "release/nsynth-train.tfrecord" in ae_run[1], ae_run[1]
