"""`nsynth-synth export`: a trained MIDI-conditioned model as a SavedModel that TF Serving loads.

Layout (TF Serving's): EXPORT_BASE/VERSION/ with saved_model.pb, variables/, assets/ (config.json:
the run record plus the export settings; model_card.md) and assets.extra/tf_serving_warmup_requests.
A version folder is written under a temporary name and renamed when complete.

Signatures (every input named; shapes with None are free):
  generate (= serving_default): piano_roll float32 [batch, frames, 128] at the model's frame rate
      (hop samples per frame; upsampled inside the graph as in training), style_id int32 [batch]
      (ignored by a one-style model), seed int32 [batch], temperature float32 [batch] (<= 0: greedy)
      -> audio float32 [batch, frames * hop], audio_ids int32 [batch, frames * hop].
      The whole cached-queue loop runs in the call: stateless, safe for concurrent and batched
      requests. Every input has a batch dimension, so TF Serving's batching can stack requests, and
      a voice depends only on its own inputs. More than max_frames frames fail with an
      InvalidArgument naming the limit.
  reset: batch_size int32 [] -> batch_size. Starts the stream held in the model's variables.
  step: piano_roll float32 [batch, 128] at audio rate (the upsampled roll of this sample),
      style_id, seed, temperature as above -> audio float32 [batch], audio_ids int32 [batch].
      One stream per loaded model: the queues are variables shared by every caller.
Sample t of a stream draws the same noise as sample t of `generate` with the same seed, so
reset + step over the upsampled roll reproduces `generate` sample for sample.
"""

import json
import os
import shutil
import tempfile

import tensorflow as tf

from nsynth_synth.data.heard import format_heard
from nsynth_synth.errors import ExportError
from nsynth_synth.metrics.rmse_cqt import format_floor
from nsynth_synth.models.kinds import KINDS, get_kind, kind_of, kind_of_record
from nsynth_synth.runs import EXPORT_RECORD, checkpoint_step, load_trained_model, next_version
from nsynth_synth.training.quality import read_history

DEFAULT_MAX_SECONDS = 30.0
MODEL_CARD = "model_card.md"
WARMUP = os.path.join("assets.extra", "tf_serving_warmup_requests")
QUALITY_KEYS = ("rmse_cqt", "noise_rmse_cqt", "silence_rmse_cqt", "late_rmse_cqt", "minus_noise")  # copied from quality.json


def model_card(record, export):
    """A short Markdown model card from the run record and the export settings; the kind's export
    stage says what the model is and how it makes audio (`card`)."""
    train, model = record["train"], record["model"]
    what, audio = kind_of_record(record).stage("export").card(record)
    if "styles" not in record["data"]:  # trained on notes, not scores
        return "\n".join([
            f"# {export['name']} (version {export['version']})",
            "",
            f"- preset: `{train['preset']}` ({what}, {export['parameters']:,} parameters)",
            f"- data: NSynth notes in `{train['data']}`",
            f"- checkpoint: {export['checkpoint']} at step {export['step']}"
            + (" (the weight average)" if train.get("ema") else ""),
            f"- pitch conditioning: {model.get('pitch_conditioning', False)}",
            f"- audio: {model['sample_rate']} Hz mono, {audio}",
            f"- longest `decode` request: {export['max_seconds']:g} s" if "hop" in model else "- one 4 s note a code",
            "",
        ])
    trained = [s for s in record["data"]["styles"] if not train["styles"] or s["program"] in train["styles"]]
    if model["num_styles"]:
        styles = ", ".join(f"GM program {s['program']} ({s['name']}) = style_id {s['style_id']}" for s in trained)
    else:
        styles = ", ".join(f"GM program {s['program']} ({s['name']})" for s in trained) + " (style_id is ignored)"
    if export["rmse_cqt"] is None:
        score = "not measured"
    elif "minus_noise" in export:
        score = f"{export['rmse_cqt']:.2f}, {format_floor(export['minus_noise'], export)}"
    else:
        score = f"{export['rmse_cqt']:.2f} (its noise floor was not recorded: scored before the trainer measured it)"
    return "\n".join([
        f"# {export['name']} (version {export['version']})",
        "",
        f"- preset: `{train['preset']}` ({what}, {export['parameters']:,} parameters)",
        f"- data: {data_words(record)}, trained on: {styles}",
        f"- checkpoint: {export['checkpoint']} at step {export['step']}",
        f"- RMSE-CQT at export ({train.get('eval_seconds') or 1:g} s of the validation piece, seed fixed): {score}",
        f"- audio: {model['sample_rate']} Hz mono, {audio}; piano roll: {record['data']['frame_hop']} samples "
        f"per frame, {roll_card(train)}; trained pitch range {record['data']['pitch_range']}",
        *heard_lines(record["data"], trained),
        f"- longest `generate` request: {export['max_seconds']:g} s ({export['max_frames']} frames)",
        f"- XLA-compiled sample loop: {export['jit_compile']}",
        "",
    ])


def data_words(record):
    """The set a run trained on, by what it is (runs from before the record said: its folder's name)."""
    if "set" in record["data"]:
        return record["data"]["set"]
    data = record["train"]["data"]
    return f"the Bach set `{os.path.basename(os.path.normpath(data if isinstance(data, str) else data[0]))}`"


def roll_card(train):
    """How the model card names the roll's values (runs from before the choice: binary)."""
    if train.get("roll", "binary") == "velocity":
        return "velocity roll (a sounding key holds its velocity / 127; `client --roll velocity`)"
    return "binary roll (1 where a key sounds)"


def heard_lines(data_record, trained):
    """The model card's lines on what the model heard in each trained style (none for a record
    from before that was kept): scores that leave it make `generate` warn."""
    by_style = data_record.get("heard") or {}
    return [f"- heard in training, GM program {s['program']} ({s['name']}): {format_heard(by_style[str(s['program'])])}"
            for s in trained if by_style.get(str(s["program"]))]


def export_model(model, model_config, record, export_base, *, version=None, max_seconds=DEFAULT_MAX_SECONDS,
                 jit_compile=True, checkpoint="", step=0, quality=None, warmup=True):
    """Write model as EXPORT_BASE/VERSION; returns the version folder.

    record: the run record (train, model, data; see training.trainer); max_seconds: the longest
    `generate` request; checkpoint, step and quality (the step's quality.json row: rmse_cqt and,
    when recorded, its noise floor and minus_noise) are what the model card reports.
    """
    from nsynth_synth.export.serving import write_warmup_requests

    hop = record["data"]["frame_hop"] if "frame_hop" in record["data"] else getattr(model_config, "hop", 1)
    max_frames = int(max_seconds * model_config.sample_rate) // hop
    if max_frames < 1:
        raise ExportError(f"--max-seconds {max_seconds} is shorter than one {hop}-sample frame")
    version = next_version(export_base) if version is None else version
    final = os.path.join(export_base, str(version))
    if os.path.exists(final):
        raise ExportError(f"{final} exists; export as another --version (nothing was overwritten)")
    name = os.path.basename(os.path.normpath(export_base))
    export = {"name": name, "version": version, "max_seconds": max_seconds, "max_frames": max_frames,
              "jit_compile": jit_compile, "checkpoint": checkpoint, "step": step, "rmse_cqt": None,
              "parameters": model.count_params()}
    export.update({key: value for key, value in (quality or {}).items() if key in QUALITY_KEYS})
    os.makedirs(export_base, exist_ok=True)
    # TF Serving only loads integer folders, so the temporary name is never served half-written.
    staging = tempfile.mkdtemp(dir=export_base, prefix=".tmp-export-")
    try:
        assets = os.path.join(staging, "_assets_source")
        os.makedirs(assets)
        with open(os.path.join(assets, EXPORT_RECORD), "w") as f:
            json.dump({**record, "export": export}, f, indent=2)
        with open(os.path.join(assets, MODEL_CARD), "w") as f:
            f.write(model_card(record, export))
        module = _module(model, model_config, record, hop, max_frames, jit_compile)
        module.record_asset = tf.saved_model.Asset(os.path.join(assets, EXPORT_RECORD))
        module.card_asset = tf.saved_model.Asset(os.path.join(assets, MODEL_CARD))
        saved = os.path.join(staging, "model")
        tf.saved_model.save(module, saved, signatures=module.signatures())
        if warmup:
            write_warmup_requests(os.path.join(saved, WARMUP), name, *module.warmup_inputs())
        os.replace(saved, final)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return final


def _module(model, model_config, record, hop, max_frames, jit_compile):
    """The tf.Module with the signatures of this kind of model."""
    kind = kind_of(model_config)
    if kind.stage("export") is None:
        exportable = [name for name in KINDS if get_kind(name).stage("export") is not None]
        raise ExportError(f"a {kind.name} model has no export signatures; exportable: {', '.join(exportable)}")
    return kind.stage("export").module(model, model_config, record, hop, max_frames, jit_compile)


def export_run(run_dir, export_base, *, which="best", version=None, max_seconds=DEFAULT_MAX_SECONDS,
               jit_compile=True):
    """Export the best (lowest RMSE-CQT) or latest checkpoint of a run directory; returns the folder."""
    model, model_config, record, checkpoint = load_trained_model(run_dir, which=which)
    step = checkpoint_step(checkpoint)
    rows = [row for row in read_history(run_dir) if row["step"] == step]
    return export_model(model, model_config, record.raw, export_base, version=version, max_seconds=max_seconds,
                        jit_compile=jit_compile, checkpoint=os.path.relpath(checkpoint, run_dir), step=step,
                        quality=rows[-1] if rows else None)
