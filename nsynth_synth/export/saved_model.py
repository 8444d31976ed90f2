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

import numpy as np
import tensorflow as tf

from nsynth_synth.data.heard import format_heard
from nsynth_synth.data.pianoroll import NUM_KEYS
from nsynth_synth.errors import NsynthSynthError
from nsynth_synth.evaluation.rmse_cqt import format_floor
from nsynth_synth.sampling.cached_queue import CachedQueueSampler
from nsynth_synth.sampling.streaming import StreamingSampler

DEFAULT_MAX_SECONDS = 30.0
WARMUP_SECONDS = 0.25
EXPORT_RECORD = "config.json"
MODEL_CARD = "model_card.md"
WARMUP = os.path.join("assets.extra", "tf_serving_warmup_requests")
LIMIT_MESSAGE = "request too long for this model"
QUALITY_KEYS = ("rmse_cqt", "noise_rmse_cqt", "silence_rmse_cqt", "minus_noise")  # copied from quality.json


class ExportError(NsynthSynthError):
    """An export that cannot be written or read as asked."""


def limit_message(max_frames, seconds, what):
    """The InvalidArgument text of a request over the export's limit (the client parses max_frames)."""
    return (f"{LIMIT_MESSAGE}: at most max_frames={max_frames} frames ({seconds:g} s, set at export by "
            f"--max-seconds) per request; split the {what}. Frames requested:")


def check_batch(batch, rows_of, **inputs):
    """Assert that every input has one entry per row of the `rows_of` input (batch rows)."""
    for name, tensor in inputs.items():
        tf.debugging.assert_equal(tf.shape(tensor)[0], batch, message=f"{name} needs one entry per {rows_of} batch row")


class SynthesizerModule(tf.Module):
    """The exported signatures over one set of weights (see the module docstring).

    model, config: a float32 Keras model from build_model and its ModelConfig.
    hop: samples per piano-roll frame; upsample: the mode the model was trained with.
    max_frames: the longest `generate` request, in frames.
    """

    def __init__(self, model, config, hop, upsample, max_frames, jit_compile=True):
        super().__init__(name="synthesizer")
        self.model = model
        self.hop = hop
        self.max_frames = max_frames
        self.num_styles = config.num_styles
        self.sample_rate = config.sample_rate
        self.sampler = CachedQueueSampler(model, config, upsample=upsample, jit_compile=jit_compile)
        self.stream = StreamingSampler(self.sampler)
        self.limit_message = limit_message(max_frames, max_frames * hop / config.sample_rate, "piece")

    def signatures(self):
        return {"serving_default": self.generate, "generate": self.generate, "reset": self.reset, "step": self.step}

    def warmup_inputs(self):
        """(signature, inputs) of a short request TF Serving replays at load: a silent roll."""
        frames = max(int(WARMUP_SECONDS * self.sample_rate) // self.hop, 1)
        return "generate", {"piano_roll": np.zeros([1, frames, NUM_KEYS], np.float32),
                            "style_id": np.zeros([1], np.int32), "seed": np.zeros([1], np.int32),
                            "temperature": np.ones([1], np.float32)}

    def _check_batch(self, batch, style_id, seed, temperature):
        """Every input has one entry per voice (so TF Serving can batch requests); returns the
        style ids to use (None for a one-style model, which ignores them)."""
        check_batch(batch, "piano_roll", style_id=style_id, seed=seed, temperature=temperature)
        if not self.num_styles:
            return None
        tf.debugging.assert_less(style_id, self.num_styles, message=f"style_id must be below {self.num_styles}")
        tf.debugging.assert_non_negative(style_id, message="style_id must be non-negative")
        return style_id

    @tf.function(input_signature=[
        tf.TensorSpec([None, None, NUM_KEYS], tf.float32, name="piano_roll"),
        tf.TensorSpec([None], tf.int32, name="style_id"),
        tf.TensorSpec([None], tf.int32, name="seed"),
        tf.TensorSpec([None], tf.float32, name="temperature"),
    ])
    def generate(self, piano_roll, style_id, seed, temperature):
        frames = tf.shape(piano_roll)[1]
        tf.debugging.Assert(frames <= self.max_frames, [self.limit_message, frames])
        tf.debugging.assert_positive(frames, message="piano_roll has no frames")
        style = self._check_batch(tf.shape(piano_roll)[0], style_id, seed, temperature)
        ids, audio = self.sampler.generate(piano_roll, self.hop, frames * self.hop, seed, temperature, style)
        return {"audio": audio, "audio_ids": ids}

    @tf.function(input_signature=[tf.TensorSpec([], tf.int32, name="batch_size")])
    def reset(self, batch_size):
        self.stream.reset(batch_size)
        return {"batch_size": batch_size}

    @tf.function(input_signature=[
        tf.TensorSpec([None, NUM_KEYS], tf.float32, name="piano_roll"),
        tf.TensorSpec([None], tf.int32, name="style_id"),
        tf.TensorSpec([None], tf.int32, name="seed"),
        tf.TensorSpec([None], tf.float32, name="temperature"),
    ])
    def step(self, piano_roll, style_id, seed, temperature):
        style = self._check_batch(tf.shape(piano_roll)[0], style_id, seed, temperature)
        ids, audio = self.stream.step(piano_roll, seed, temperature, style)
        return {"audio": audio, "audio_ids": ids}


def next_version(export_base):
    """1 + the highest integer version folder under export_base (1 when there is none)."""
    versions = [int(n) for n in os.listdir(export_base) if n.isdigit()] if os.path.isdir(export_base) else []
    return max(versions, default=0) + 1


def model_card(record, export):
    """A short Markdown model card from the run record and the export settings."""
    train, model = record["train"], record["model"]
    if record["data"].get("format") == "nsynth":
        return "\n".join([
            f"# {export['name']} (version {export['version']})",
            "",
            f"- preset: `{train['preset']}` (an NSynth autoencoder, {export['parameters']:,} parameters)",
            f"- data: NSynth notes in `{train['data']}`",
            f"- checkpoint: {export['checkpoint']} at step {export['step']}"
            + (" (the weight average)" if train.get("ema") else ""),
            f"- pitch conditioning: {model.get('pitch_conditioning', False)}",
            f"- audio: {model['sample_rate']} Hz mono",
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
        f"- preset: `{train['preset']}` ({model['family']} family, {export['parameters']:,} parameters)",
        f"- data: `{train['data']}`, trained on: {styles}",
        f"- checkpoint: {export['checkpoint']} at step {export['step']}",
        f"- RMSE-CQT at export (1 s of the validation piece, seed fixed): {score}",
        f"- audio: {model['sample_rate']} Hz mono, 8-bit mu-law; piano roll: {record['data']['frame_hop']} samples "
        f"per frame, {train['upsample']} upsampling; trained pitch range {record['data']['pitch_range']}",
        *heard_lines(record["data"], trained),
        f"- longest `generate` request: {export['max_seconds']:g} s ({export['max_frames']} frames)",
        f"- XLA-compiled sample loop: {export['jit_compile']}",
        "",
    ])


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
    from nsynth_synth.configs import AutoencoderConfig, SpectralConfig
    from nsynth_synth.export.autoencoder_module import SpectralModule, WaveNetAutoencoderModule

    if isinstance(model_config, AutoencoderConfig):
        return WaveNetAutoencoderModule(model, model_config, max_frames, jit_compile)
    if isinstance(model_config, SpectralConfig):
        return SpectralModule(model, model_config)
    return SynthesizerModule(model, model_config, hop, record["train"]["upsample"], max_frames, jit_compile)


def export_run(run_dir, export_base, *, which="best", version=None, max_seconds=DEFAULT_MAX_SECONDS,
               jit_compile=True):
    """Export the best (lowest RMSE-CQT) or latest checkpoint of a run directory; returns the folder."""
    from nsynth_synth.training.quality import read_history
    from nsynth_synth.training.trainer import load_trained_model

    model, model_config, record, checkpoint = load_trained_model(run_dir, which=which)
    step = int(checkpoint.rsplit("-", 1)[-1])
    rows = [row for row in read_history(run_dir) if row["step"] == step]
    return export_model(model, model_config, record, export_base, version=version, max_seconds=max_seconds,
                        jit_compile=jit_compile, checkpoint=os.path.relpath(checkpoint, run_dir), step=step,
                        quality=rows[-1] if rows else None)


def resolve_export(path):
    """A SavedModel folder, or an export base holding integer versions (the newest is taken)
    -> the version folder; None when `path` is neither."""
    if os.path.isfile(os.path.join(path, "saved_model.pb")):
        return path
    if os.path.isdir(path) and any(n.isdigit() for n in os.listdir(path)):
        folder = os.path.join(path, str(next_version(path) - 1))
        if os.path.isfile(os.path.join(folder, "saved_model.pb")):
            return folder
    return None


def read_export_record(folder):
    """The run record plus its "export" settings, from an exported version folder."""
    path = os.path.join(folder, "assets", EXPORT_RECORD)
    if not os.path.isfile(path):
        raise ExportError(f"{folder}: no assets/{EXPORT_RECORD}; not a SavedModel written by `nsynth-synth export`")
    with open(path) as f:
        return json.load(f)
