"""The NSynth paper's timbre interpolation (Engel et al. 2017, Figure 3): `evaluate interpolate`.

For each pair of notes (A, B) and each autoencoder, the codes of A and B are mixed,
(1 - alpha) * code(A) + alpha * code(B), and decoded, beside the plain audio mix
(1 - alpha) * A + alpha * B. Every output is scored by RMSE-CQT (the SynthNet paper's spectral
distance, see rmse_cqt.py) against A and against B; "toward B" = d(A) / (d(A) + d(B)) is 0 at A
and 1 at B, so the table shows each output moving from A to B as alpha grows.

The WaveNet autoencoder encodes whole notes and decodes the code frames of the first `seconds`
(its sampler is slow on a CPU); the spectral baseline codes and decodes whole 4 s notes, cut to
the same length.
"""

import os

import numpy as np
import tensorflow as tf
from tqdm import tqdm

from nsynth_synth.audio import SAMPLE_RATE, write_wav
from nsynth_synth.data.nsynth import split_files, tfrecord_notes
from nsynth_synth.errors import AudioError, NsynthSynthError
from nsynth_synth.evaluation.report import markdown_table, write_report
from nsynth_synth.metrics.rmse_cqt import rmse_cqt

MIX = "mix"  # the label of the plain audio mix


def read_notes(names, data_dir=None, split="test"):
    """Note names -> {name: float32 audio [samples] at 16 kHz}. A name that is a file is read as
    audio (a WAV of any rate and channels, or a .npy of 16 kHz samples); any other name is a
    note_str looked up in the `split` of the NSynth-format folder data_dir."""
    from nsynth_synth.generate.autoencode import read_input

    files = {name: read_input(name, SAMPLE_RATE) for name in names if os.path.isfile(name)}
    wanted = sorted(set(names) - set(files))
    if wanted and data_dir is None:
        raise NsynthSynthError(f"{wanted[0]}: no such file (give --data to pick NSynth notes by note_str)")
    found = {}
    if wanted:
        keys = tf.constant(wanted)
        dataset = tfrecord_notes(split_files(data_dir, split)).filter(
            lambda note: tf.reduce_any(tf.equal(note["note_str"], keys)))
        found = {note["note_str"].decode(): note["audio"] for note in dataset.as_numpy_iterator()}
        missing = [name for name in wanted if name not in found]
        if missing:
            raise NsynthSynthError(f"{data_dir}: no file and no note_str {missing[0]!r} in its {split} split")
    notes = {**files, **found}
    for name, audio in notes.items():
        if len(audio) == 0:
            raise AudioError(f"{name}: holds no audio")
    return notes


def interpolate_codec(codec, a, b, alphas, length, pitch=None, seed=0, temperature=1.0, iterations=60,
                      progress=True):
    """Whole notes a, b float [samples] -> float32 [len(alphas), <= length]: their codes mixed at
    each alpha, decoded side by side with one seed (so only the code differs between steps)."""
    from nsynth_synth.generate.autoencode import decode_options

    a, b = codec.fit(a)[0], codec.fit(b)[0]
    shortest = min(len(a), len(b))
    codes = codec.encode_batch(np.stack([a[:shortest], b[:shortest]]))
    if codec.hop:  # coded every hop samples: only the frames that cover `length`
        codes = codes[:, :-(-length // codec.hop)]
    alphas = np.asarray(alphas, np.float32).reshape([-1] + [1] * (codes.ndim - 1))
    mixed = (1 - alphas) * codes[:1] + alphas * codes[1:]
    pitches = [pitch] * len(mixed) if pitch is not None and codec.config.pitch_conditioning else None
    decoded = codec.decode_batch(mixed, pitches, [seed] * len(mixed), **decode_options(
        codec, strict=False, temperature=temperature, iterations=iterations, progress=progress))
    return decoded[:, :length]


def _scored(label, alpha, audio, a, b, wav):
    to_a, to_b = rmse_cqt(audio, a), rmse_cqt(audio, b)
    return {"audio": label, "alpha": float(alpha), "rmse_cqt_to_a": to_a, "rmse_cqt_to_b": to_b,
            "toward_b": to_a / (to_a + to_b) if to_a + to_b > 0 else 0.5, "wav": wav}


def interpolation_report(model_runs, pairs, out_dir, alphas=(0.0, 0.5, 1.0), seconds=1.0, data_dir=None,
                         split="test", pitch=None, seed=0, temperature=1.0, iterations=60, progress=True):
    """pairs [(A, B)] (files, or note_str of data_dir's split) through each autoencoder run ->
    results dict; writes WAVs, one rainbowgram figure per pair (rows: the mix, each model; columns:
    alphas) and the report folder out_dir."""
    from nsynth_synth.evaluation.classify import load_codecs
    from nsynth_synth.metrics.plots import save_rainbowgrams

    if not pairs:
        raise NsynthSynthError("give at least one pair of notes (--pair A B)")
    if not alphas:
        raise NsynthSynthError("give at least one alpha")
    if seconds <= 0:
        raise NsynthSynthError(f"--seconds must be positive, got {seconds}")
    notes = read_notes([name for pair in pairs for name in pair], data_dir, split)
    codecs = load_codecs(model_runs)
    os.makedirs(out_dir, exist_ok=True)
    results = {"models": dict(zip(codecs, model_runs)), "alphas": [float(x) for x in alphas], "seconds": seconds,
               "seed": seed, "temperature": temperature, "pitch": pitch, "pairs": []}
    sections = [
        f"Codes of A and B mixed as (1 - alpha) A + alpha B and decoded by each model, beside the plain audio "
        f"mix, over the first {seconds:g} s. Distances: RMSE-CQT (dB) of each output to A and to B; "
        "'toward B' = d(A) / (d(A) + d(B)), 0 at A and 1 at B. Decoder seed "
        f"{seed}, temperature {temperature:g}."]
    bar = tqdm(total=len(pairs) * len(codecs), desc="interpolating", unit="decode", disable=not progress)
    for i, (name_a, name_b) in enumerate(pairs):
        length = min(len(notes[name_a]), len(notes[name_b]), int(round(seconds * SAMPLE_RATE)))
        a, b = notes[name_a][:length], notes[name_b][:length]
        outputs = {MIX: [(1 - alpha) * a + alpha * b for alpha in alphas]}
        for label, codec in codecs.items():
            outputs[label] = interpolate_codec(codec, notes[name_a], notes[name_b], alphas, length, pitch, seed,
                                               temperature, iterations, progress)
            bar.update()
        rows, panels = [], []
        for label, audios in outputs.items():
            for alpha, audio in zip(alphas, audios):
                wav = f"pair{i}_{label}_alpha{alpha:g}.wav"
                write_wav(os.path.join(out_dir, wav), audio, SAMPLE_RATE)
                rows.append(_scored(label, alpha, audio, a, b, wav))
                panels.append((f"{label}, alpha {alpha:g}", audio))
        plot = f"pair{i}.png"
        title = f"A: {os.path.basename(name_a)}   B: {os.path.basename(name_b)}"
        save_rainbowgrams(panels, os.path.join(out_dir, plot), title, columns=len(alphas))
        results["pairs"].append({"a": name_a, "b": name_b, "samples": length, "rows": rows, "plot": plot})
        table = markdown_table(
            ["audio", "alpha", "RMSE-CQT to A", "RMSE-CQT to B", "toward B", "listen"],
            [[r["audio"], f"{r['alpha']:g}", f"{r['rmse_cqt_to_a']:.2f}", f"{r['rmse_cqt_to_b']:.2f}",
              f"{r['toward_b']:.2f}", f"[wav]({r['wav']})"] for r in rows])
        sections.append(f"## Pair {i}: A = `{name_a}`, B = `{name_b}`\n\n{table}\n\n"
                        f"![rainbowgrams of pair {i}: rows mix, {', '.join(codecs)}; columns alpha]({plot})")
    bar.close()
    write_report(out_dir, "Timbre interpolation (NSynth Figure 3)", sections, results)
    return results
