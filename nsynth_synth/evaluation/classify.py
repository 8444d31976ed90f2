"""The NSynth paper's classifier evaluations (Engel et al. 2017).

Table 1 (`evaluate classify`): a note classifier trained on original audio labels the same notes
as originals and as reconstructions by each autoencoder; the better a reconstruction keeps pitch
and timbre, the closer its accuracy comes to the originals'.
Table 2 (`evaluate entanglement`): a pitch-conditioned autoencoder decodes each note's code with
the conditioning pitch shifted; the classifier then says whether the output follows the
conditioning (pitch and code disentangled) or the note's own pitch (pitch kept in the code).

Notes are the first `limit` of a split in a fixed shuffled order; each is judged on its first
classifier window (1 s by default), so the WaveNet decoder generates only that much.
"""

import os

import numpy as np
import tensorflow as tf
from tqdm import tqdm

from nsynth_synth.audio import write_wav
from nsynth_synth.data.nsynth import FAMILIES, QUALITIES, split_files, tfrecord_notes
from nsynth_synth.errors import NsynthSynthError
from nsynth_synth.evaluation.report import markdown_table, write_report
from nsynth_synth.runs import load_trained_model

EXAMPLES = 3  # notes per table written out as audio and plotted
JUDGED = ("pitch_logits", "quality_logits", "family_logits")  # what a note classifier answers


def load_classifier(run_dir):
    """A run directory of the nsynth_classifier preset -> (model, ClassifierConfig)."""
    model, config, record, _ = load_trained_model(run_dir, "latest")
    if not isinstance(model.output, dict) or not set(JUDGED) <= set(model.output):
        raise NsynthSynthError(f"{run_dir}: a {type(config).__name__} run, not a note classifier "
                               "(train one with --preset nsynth_classifier)")
    return model, config


def evaluation_notes(data_dir, split="test", limit=64, seed=0):
    """The first `limit` notes of a split in an order shuffled by `seed` -> dict of numpy arrays:
    audio [n, 64000], pitch [n], family [n], qualities [n, 10], note_str [n]."""
    dataset = tfrecord_notes(split_files(data_dir, split)).shuffle(4096, seed=seed, reshuffle_each_iteration=False)
    rows = list(dataset.take(limit).as_numpy_iterator())
    if not rows:
        raise NsynthSynthError(f"{data_dir}: the {split} split holds no notes")
    return {"audio": np.stack([r["audio"] for r in rows]), "pitch": np.array([r["pitch"] for r in rows]),
            "family": np.array([r["instrument_family"] for r in rows]),
            "qualities": np.stack([r["qualities"] for r in rows]).astype(bool),
            "note_str": [r["note_str"].decode() for r in rows]}


def predict(model, config, audio, batch_size=64):
    """float audio [n, >= window] -> {"pitch" [n], "family" [n], "qualities" bool [n, 10]}, judged on
    the first window samples of each."""
    audio = np.asarray(audio, np.float32)
    if audio.shape[1] < config.window:
        raise NsynthSynthError(f"the classifier needs {config.window} samples a note, got {audio.shape[1]}")
    outputs = [model({"audio": tf.constant(audio[i:i + batch_size, :config.window])}, training=False)
               for i in range(0, len(audio), batch_size)]
    joined = {k: np.concatenate([o[k].numpy() for o in outputs]) for k in outputs[0]}
    return {"pitch": joined["pitch_logits"].argmax(-1), "family": joined["family_logits"].argmax(-1),
            "qualities": joined["quality_logits"] > 0}


def accuracies(predicted, notes):
    """Top-1 pitch and family accuracy, and quality accuracy (each of the 10 labels right or
    wrong, averaged: the paper's multi-label measure)."""
    return {"pitch": float(np.mean(predicted["pitch"] == notes["pitch"])),
            "quality": float(np.mean(predicted["qualities"] == notes["qualities"])),
            "family": float(np.mean(predicted["family"] == notes["family"]))}


def format_accuracy(accuracy):
    """{"pitch", "quality", "family"} -> one line of percentages (quality n/a without labels)."""
    quality = "n/a" if accuracy["quality"] is None else f"{accuracy['quality']:.1%}"
    return f"pitch {accuracy['pitch']:6.1%}  quality {quality:>6}  family {accuracy['family']:6.1%}"


def reconstruct(codec, audio, length, pitches=None, seed=0, temperature=1.0, progress=True):
    """Notes [n, 64000] through an autoencoder -> [n, length]. The WaveNet autoencoder codes and
    decodes the first `length` samples (rounded up to whole code frames); the spectral baseline
    works on whole notes."""
    from nsynth_synth.generate.autoencode import decode_options

    if codec.hop:  # coded every hop samples: only the frames that cover `length`
        frames = -(-length // codec.hop)
        audio = audio[:, :frames * codec.hop]
    codes = codec.encode_batch(audio)
    seeds = seed + np.arange(len(audio))
    options = decode_options(codec, strict=False, temperature=temperature, progress=progress)
    decoded = codec.decode_batch(codes, pitches, seeds, **options)
    return decoded[:, :length]


def _label(run_dir, presets):
    """A model's name in the tables: its preset, or its folder when two runs share a preset."""
    from nsynth_synth.runs import read_run_record

    preset = read_run_record(run_dir).train.preset
    return preset if presets.count(preset) == 1 else os.path.basename(os.path.normpath(run_dir))


def load_codecs(model_runs, need_pitch=False):
    """Autoencoder run directories -> {label: codec} (labels from _label); need_pitch: refuse a
    model that is not pitch-conditioned."""
    from nsynth_synth.generate.autoencode import load_codec
    from nsynth_synth.runs import read_run_record

    if not model_runs:
        raise NsynthSynthError("give at least one autoencoder run (--model)")
    presets = [read_run_record(run).train.preset for run in model_runs]
    codecs = {}
    for run in model_runs:
        codec = load_codec(run)
        if need_pitch and not codec.config.pitch_conditioning:
            raise NsynthSynthError(f"{run}: not pitch-conditioned; entanglement needs a *_pitch autoencoder preset")
        codecs[_label(run, presets)] = codec
    return codecs


def _pitches(codec, notes, shift=0):
    return (notes["pitch"] + shift).astype(np.int32) if codec.config.pitch_conditioning else None


def _write_examples(out_dir, rows, config):
    """rows: [(label, audio [n, samples])] -> WAVs and one rainbowgram figure per example note."""
    from nsynth_synth.metrics.plots import save_rainbowgrams

    lines = []
    for i in range(min(EXAMPLES, len(rows[0][1]))):
        panels = []
        for label, audio in rows:
            name = f"note{i}_{label}.wav"
            write_wav(os.path.join(out_dir, name), audio[i], config.sample_rate)
            panels.append((label, audio[i]))
        save_rainbowgrams(panels, os.path.join(out_dir, f"note{i}.png"))
        lines.append(f"![note {i}](note{i}.png) " + " ".join(f"[{label}](note{i}_{label}.wav)" for label, _ in rows))
    return "\n\n".join(lines)


def classify_reconstructions(classifier_run, model_runs, data_dir, out_dir, split="test", limit=64, seed=0,
                             temperature=1.0, progress=True):
    """Table 1: accuracy on originals and on each autoencoder's reconstructions -> results dict;
    writes the report folder out_dir."""
    model, config = load_classifier(classifier_run)
    codecs = load_codecs(model_runs)
    notes = evaluation_notes(data_dir, split, limit, seed)
    rows = [("original", notes["audio"][:, :config.window])]
    for label, codec in tqdm(codecs.items(), desc="reconstructing", unit="model", disable=not progress):
        rows.append((label, reconstruct(codec, notes["audio"], config.window, _pitches(codec, notes), seed,
                                        temperature, progress)))
    table = {label: accuracies(predict(model, config, audio), notes) for label, audio in rows}
    labelled = bool(notes["qualities"].any())
    if not labelled:  # against all-zero labels the measure only counts silence of the quality head
        for accuracy in table.values():
            accuracy["quality"] = None
    header = ["audio", "pitch accuracy", "quality accuracy", "family accuracy"]
    body = [[label, f"{a['pitch']:.1%}", f"{a['quality']:.1%}" if labelled else "n/a", f"{a['family']:.1%}"]
            for label, a in table.items()]
    sections = [
        f"{len(notes['pitch'])} notes of the {split} split of `{data_dir}`, each judged on its first "
        f"{config.window / config.sample_rate:g} s by the classifier `{classifier_run}`.",
        markdown_table(header, body),
        ("Quality accuracy: each of the 10 quality labels right or wrong, averaged." if labelled else
         "This set carries no quality labels (all zero, as in SoundFont-rendered sets), so quality accuracy "
         "would measure nothing; instrument family accuracy is the timbre measure here."),
        _write_examples(out_dir, rows, config),
    ]
    results = {"split": split, "notes": notes["note_str"], "classifier": classifier_run,
               "models": dict(zip(codecs, model_runs)), "quality_labels": labelled, "accuracy": table,
               "families": FAMILIES, "qualities": QUALITIES}
    write_report(out_dir, "Classifier accuracy on reconstructions (NSynth Table 1)", sections, results)
    return results


def pitch_entanglement(classifier_run, model_runs, data_dir, out_dir, shifts=(-12, 12), split="test", limit=64,
                       seed=0, temperature=1.0, progress=True):
    """Table 2: decode with the conditioning pitch shifted; how often the classifier hears the
    conditioning pitch, and how often the note's own -> results dict; writes the report folder."""
    model, config = load_classifier(classifier_run)
    codecs = load_codecs(model_runs, need_pitch=True)
    notes = evaluation_notes(data_dir, split, limit, seed)
    table, examples = {}, []
    for label, codec in codecs.items():
        for shift in (0, *shifts):
            keep = (notes["pitch"] + shift >= 0) & (notes["pitch"] + shift < 128)
            subset = {k: (np.asarray(v)[keep] if k != "note_str" else [n for n, k_ in zip(v, keep) if k_])
                      for k, v in notes.items()}
            audio = reconstruct(codec, subset["audio"], config.window, _pitches(codec, subset, shift), seed,
                                temperature, progress)
            predicted = predict(model, config, audio)["pitch"]
            table[f"{label} {shift:+d}"] = {
                "model": label, "shift": shift, "notes": int(keep.sum()),
                "follows_conditioning": float(np.mean(predicted == subset["pitch"] + shift)),
                "follows_original": float(np.mean(predicted == subset["pitch"])),
            }
            if shift:
                examples.append((f"{label}_{shift:+d}", audio))
    body = [[r["model"], f"{r['shift']:+d}", r["notes"], f"{r['follows_conditioning']:.1%}",
             f"{r['follows_original']:.1%}"] for r in table.values()]
    sections = [
        f"{len(notes['pitch'])} notes of the {split} split of `{data_dir}`, decoded with the conditioning pitch "
        f"shifted by {', '.join(f'{s:+d}' for s in shifts)} semitones (and 0), judged by `{classifier_run}` on "
        f"the first {config.window / config.sample_rate:g} s.",
        markdown_table(["model", "shift", "notes", "classified as the conditioning pitch",
                        "classified as the original pitch"], body),
        "High 'conditioning' at a shift: the decoder follows the pitch input, so the code holds little pitch "
        "(disentangled); high 'original': the pitch stayed in the code (entangled).",
        _write_examples(out_dir, [("original", notes["audio"][:, :config.window])] + examples[:3], config),
    ]
    results = {"split": split, "notes": notes["note_str"], "classifier": classifier_run,
               "models": dict(zip(codecs, model_runs)), "shifts": list(shifts), "rows": list(table.values())}
    write_report(out_dir, "Pitch entanglement (NSynth Table 2)", sections, results)
    return results
