#!/usr/bin/env python
"""A harmonic-kind model's learned partial ratios beside those measured from the renderer's own
single notes (FluidR3 GM, the sets' default SoundFont): does its inharmonicity part work?

For each --style and --key: the model's ratios f_k / f0 of the first --partials partials (its
style's stiff-string law B(key) and free per-partial ratios; models.harmonic.model), and the
ratios of the same partials in FluidSynth's rendering of that key alone (velocity 100, held 1 s):
the spectral peak nearest k x f0 within half a harmonic, over 0.1-0.6 s after the onset, f0
itself measured the same way. Also how far each style's parameters moved from their initial
values (B = exp(-14), offsets 0): a part whose parameters never moved does not work yet. Prints a
table and writes JSON (--out).
"""

import argparse
import os

import numpy as np
from report import ROOT, write_report

INITIAL_LOG_STRETCH = (-14.0, 0.0)  # models.harmonic.model: B = exp(a + b (key - 60) / 12)


def learned(model, record, program, keys):
    """{key: ratios [K]} of the style, and its (log_stretch [2], ratio_offsets [K])."""
    import tensorflow as tf

    from nsynth_synth.generate.from_midi import style_id_for

    synthesizer = model.get_layer("synthesizer")
    style = tf.constant([style_id_for(record, program) or 0])
    ratios = {}
    for key in keys:
        frequencies = synthesizer.frequencies(tf.constant([[[key]]]), style).numpy()[0, 0, 0]
        ratios[key] = frequencies / (440.0 * 2 ** ((key - 69) / 12))
    row = int(style[0])
    return ratios, synthesizer.log_stretch.numpy()[row], synthesizer.ratio_offsets.numpy()[row]


def measured(renderer, program, key, partials, rate=16000):
    """The rendered note's partial ratios [partials] (NaN where no peak stands out)."""
    from nsynth_synth.data.scores import NOTE_DTYPE, Piece, ScoreRef

    notes = np.array([(key, 100, 0, 0.0, 1.0)], NOTE_DTYPE)
    audio = renderer.render(Piece(ScoreRef(f"key{key}", "tools/partial_ratios", "generated"), notes), program).audio
    excerpt = audio[int(0.1 * rate):int(0.6 * rate)]
    size = 1 << 17
    spectrum = np.abs(np.fft.rfft(excerpt * np.hanning(len(excerpt)), size))
    hz = np.fft.rfftfreq(size, 1 / rate)
    nominal = 440.0 * 2 ** ((key - 69) / 12)

    def peak(low, high):
        band = (hz >= low) & (hz < min(high, rate / 2))
        if not band.any():
            return np.nan
        i = np.flatnonzero(band)[np.argmax(spectrum[band])]
        return hz[i] if spectrum[i] > 1e-3 * spectrum.max() else np.nan

    f0 = peak(nominal * 0.97, nominal * 1.03)
    return np.array([peak((k - 0.5) * f0, (k + 0.5) * f0) / f0 for k in range(1, partials + 1)])


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=os.path.join(ROOT, "saved_models", "bach_seven_styles_harmonic"))
    parser.add_argument("--styles", type=int, nargs="+", default=[1, 9], help="GM programs (default 1 9)")
    parser.add_argument("--keys", type=int, nargs="+", default=[48, 72])
    parser.add_argument("--partials", type=int, default=8)
    parser.add_argument("--out", default="bench_out/partial_ratios.json")
    args = parser.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from bench_harmonic import harmonic_export, restored_model

    from nsynth_synth.data.render import FluidSynthRenderer
    from nsynth_synth.data.system import DEFAULT_SOUNDFONT

    folder, record = harmonic_export(args.model)
    model = restored_model(folder, record)
    rate = record.model.sample_rate
    renderer = FluidSynthRenderer(DEFAULT_SOUNDFONT, rate, record.data["frame_hop"], tail_seconds=0.2)
    results = {}
    for program in args.styles:
        ratios, log_stretch, offsets = learned(model, record, program, args.keys)
        results[str(program)] = {
            "log_stretch": log_stretch.tolist(), "moved_log_stretch": (log_stretch - INITIAL_LOG_STRETCH).tolist(),
            "largest_offset": float(np.abs(offsets).max()),
            "keys": {str(key): {"learned": ratios[key][:args.partials].tolist(),
                                "measured": measured(renderer, program, key, args.partials, rate).tolist()}
                     for key in args.keys}}
    print(f"\n{folder}: partial ratios f_k / f0, learned (model) and measured (FluidSynth's rendering)")
    print(f"{'GM':>4}{'key':>5}{'':>10}" + "".join(f"{k:>8}" for k in range(1, args.partials + 1)))
    for program, result in results.items():
        for key, row in result["keys"].items():
            for name in ("learned", "measured"):
                print(f"{program:>4}{key:>5}{name:>10}" + "".join(f"{v:>8.3f}" for v in row[name]))
        print(f"  GM {program}: log B law {result['log_stretch'][0]:.2f} + {result['log_stretch'][1]:.3f} "
              f"(key - 60) / 12 (moved {result['moved_log_stretch'][0]:+.3f}, {result['moved_log_stretch'][1]:+.3f} "
              f"from its start); largest per-partial offset {result['largest_offset']:.4f} (log ratio)")
    write_report(args.out, model=os.path.relpath(folder, ROOT), styles=results)


if __name__ == "__main__":
    main()
