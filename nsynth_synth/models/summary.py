"""What `nsynth-synth describe PRESET` prints: parameters, receptive field, layer plan."""

import dataclasses

from nsynth_synth.errors import ConfigError
from nsynth_synth.models.kinds import get_preset, preset_kind
from nsynth_synth.models.midi_conditioned.config import PAPER_PARAMETERS
from nsynth_synth.models.midi_conditioned.model import build_model


def per_sample_macs(model, network):
    """Multiply-accumulates one generated sample costs in the cached-queue step: every weight of
    the autoregressive path once (the piano-roll conditioning is computed per chunk, embeddings
    are lookups, an autoencoder's encoder runs once per input)."""
    skipped = {"roll_conv", "roll_embedding", "roll_projection", "roll_head", "audio_embedding"}
    return sum(
        int(weight.numpy().size)
        for name, layer in network.layers.items()
        if name not in skipped and not name.endswith("_style") and not name.startswith("enc")
        for weight in layer.weights
        if weight.name == "kernel"
    )


def describe(name, **overrides):
    """Preset name -> dict: config, architecture, parameters (and the paper's), receptive field,
    per-sample MACs and the layer plan."""
    from nsynth_synth.models.midi_conditioned.model import MidiConditionedNetwork

    if preset_kind(name).name != "midi_conditioned":
        raise ConfigError(f"describe covers the MIDI-conditioned presets; {name!r} is a "
                          f"{preset_kind(name).name} preset")
    config = get_preset(name, **overrides)
    model = build_model(config, name=name)
    network = MidiConditionedNetwork.from_model(model, config)
    plan = [
        {"layer": layer.name, "type": type(layer).__name__, "parameters": layer.count_params(),
         **({"kernel": layer.kernel_size, "dilation": layer.dilation_rate} if hasattr(layer, "dilation_rate") else {})}
        for layer in model.layers if layer.weights
    ]
    report = {
        "preset": name,
        "config": dataclasses.asdict(config),
        "architecture": dataclasses.asdict(config.architecture),
        "parameters": model.count_params(),
        "receptive_field_samples": config.receptive_field,
        "receptive_field_seconds": config.receptive_field / config.sample_rate,
        "macs_per_sample": per_sample_macs(model, network),
        "layers": plan,
    }
    if name in PAPER_PARAMETERS:
        report["paper_parameters"] = PAPER_PARAMETERS[name]
        report["difference_from_paper"] = model.count_params() / PAPER_PARAMETERS[name] - 1
    return report


def format_description(report):
    lines = [f"{report['preset']}: {report['parameters']:,} parameters"]
    if "paper_parameters" in report:
        lines[0] += f" (paper, Table 3: {report['paper_parameters']:,.0f}; {report['difference_from_paper']:+.1%})"
    c = report["config"]
    lines.append(f"  receptive field {report['receptive_field_samples']} samples = "
                 f"{report['receptive_field_seconds']:.4f} s (F={c['filter_width']}, B={c['blocks']}, R={c['max_dilation']})")
    lines.append("  architecture " + ", ".join(f"{k}={v}" for k, v in report["architecture"].items()))
    lines.append(f"  {report['macs_per_sample']:,} multiply-accumulates per generated sample")
    for layer in report["layers"]:
        extra = f" k={layer['kernel']} d={layer['dilation']}" if "dilation" in layer else ""
        lines.append(f"    {layer['layer']:<20} {layer['type']:<22} {layer['parameters']:>11,}{extra}")
    return "\n".join(lines)
