"""The registry of model kinds. Adding a kind is a folder of nsynth_synth.models (config.py with
its config class and PRESETS, kind.py with its KIND: models.contract) plus its line in KINDS.

The stages look a kind up from a config (`kind_of`), a preset name (`preset_kind`) or a run's
config.json record (`kind_of_record`, which reads the "kind" the trainer writes), never by
isinstance. Presets and configs are read from the light config modules; a kind's KIND (which
imports Keras and TensorFlow) only when asked for, so the command line starts in a blink.
"""

import dataclasses
import importlib

from nsynth_synth.errors import ConfigError

KINDS = ("midi_conditioned", "harmonic", "wavenet_autoencoder", "spectral_autoencoder", "classifier")


def _module(kind, part):
    return importlib.import_module(f"nsynth_synth.models.{kind}.{part}")


def presets_by_kind():
    """{kind name: {preset name: config}}, in registry order (imports no Keras)."""
    return {kind: _module(kind, "config").PRESETS for kind in KINDS}


def preset_names():
    """Every preset, kind by kind in registry order."""
    return [name for presets in presets_by_kind().values() for name in presets]


def get_kind(name):
    """The Kind registered under `name`."""
    if name not in KINDS:
        raise ConfigError(f"unknown model kind {name!r}; kinds: {', '.join(KINDS)}")
    return _module(name, "kind").KIND


def _preset_kind_name(preset):
    for kind, presets in presets_by_kind().items():
        if preset in presets:
            return kind
    raise ConfigError(f"unknown preset {preset!r}; presets: {', '.join(sorted(preset_names()))}")


def preset_kind(preset):
    """The Kind of a preset name."""
    return get_kind(_preset_kind_name(preset))


def get_preset(name, **overrides):
    """A preset's config by name (any kind), with fields replaced by `overrides` (e.g. num_styles=7)."""
    return dataclasses.replace(presets_by_kind()[_preset_kind_name(name)][name], **overrides)


def kind_of(config):
    """The Kind of a config object (of its class: the class of the kind's presets)."""
    by_class = {type(preset): kind for kind, presets in presets_by_kind().items() for preset in presets.values()}
    if type(config) not in by_class:
        raise ConfigError(f"{type(config).__name__} is not the config of a registered model kind")
    return get_kind(by_class[type(config)])


def kind_of_record(record):
    """The Kind of a run's or an export's config.json record: its preset's (preset names are unique
    over the kinds, and records written before kinds were recorded have only the preset), or the
    "kind" the trainer wrote, for a preset this version does not have."""
    try:
        return preset_kind(record["train"]["preset"])
    except ConfigError:
        if "kind" not in record:
            raise
        return get_kind(record["kind"])


def config_of_record(record):
    """The model config a config.json record describes."""
    return kind_of_record(record).config_class.from_dict(record["model"])
