"""The contract every model kind fulfils, so that training, sampling, export and evaluation never
ask which kind a model is. A kind is a folder of nsynth_synth.models (its config class with the
presets, its network and `build`, its loss) whose `KIND` is listed once in models.kinds.
"""

import dataclasses
import importlib
import json
from collections.abc import Callable

from nsynth_synth.errors import ConfigError


@dataclasses.dataclass(frozen=True)
class Kind:
    """What the stages need of one model kind.

    name: written into every run's and export's config.json as "kind".
    config_class: the frozen dataclass of the kind's fields; presets: name -> config.
    build(config, name) -> a Keras functional model.
    loss(config, outputs, targets) -> (loss, its first term, its second term), float32 scalars;
    loss_terms(config) names the two terms' TensorBoard tags, the second None when there is none.
    data: what it trains on, "bach" (a Bach set: audio + piano roll) or "nsynth" (NSynth notes);
    training_data(train config) -> (train config with steps from --epochs, manifest or None, a line
    naming the data or None): that data's check, data.bach.training_data or data.nsynth.training_data.
    train_defaults: the TrainConfig fields a run leaves None (learning_rate None: the schedule).
    learning_rate(steps): the rate schedule of a run of `steps`, for kinds whose default is one.
    run_config(preset config, train config, manifest) -> the model config one run trains (the
    styles of its set, the classifier's excerpt length).
    examples(train config, model config) -> endless tf.data of (inputs, targets) batches.
    network(model, config) -> the wiring the cached-queue sampler steps: `layers`,
    `condition(x [batch, time, conditioning_width], conv)`, `conditioning_context`,
    `style_terms(style_id)` and `autoregress(previous_ids, conditioning, style_terms, conv,
    time_axis)`, as MidiConditionedNetwork has them; None: not autoregressive.
    causal: no output step depends on a later input step (the autoencoders' encoders look ahead).
    example_inputs(config, batch, time) -> a dict of model inputs, for the shared contract tests;
    tiny: a config small enough for those tests.
    random_batch(config, batch, window) -> (inputs, targets): one random batch of what `examples`
    yields for training windows of `window` samples, for benchmarks and profiles without data
    (tools/random_step.py); None: the kind has none.
    speed_key(config) -> the key of the kind's speed tables for a config (None: the kind's first
    preset's name); bf16_speedup, jit_speedup: {CPU class: {key: train-step speed relative to
    float32 without XLA}}, measured by tools/bench_train.py (training.precision picks by them).
    stages: the stage modules the kind's folder has beside its model, each read by that stage only
    (`stage(name)`), each in the layer of its stage (tests/test_layout.py):
      "quality"     Tracker: training.quality.Tracker's subclass that generates and scores (training)
      "generation"  synthesizer(model, config, record) and export_synthesizer(folder, record): generate's
                    render(roll, onsets, num_samples, style_id, seed, temperature, progress, bends=None)
                    -> audio float32 [num_samples]; PEAK_RULE (whether generate applies the builder's
                    peak rule: the model plays at a learned level) and PITCH_BEND (whether it plays
                    the score's bends) (generate)
      "codec"       Codec(model, config): encode and decode for `encode`, `decode`, `interpolate` (generate)
      "export"      module(model, config, record, hop, max_frames, jit_compile) -> the tf.Module with the
                    kind's signatures, and card(record) -> (what the model is, how it makes audio) (export)
    """

    name: str
    config_class: type
    presets: dict
    build: Callable
    loss: Callable
    loss_terms: Callable
    data: str
    training_data: Callable
    train_defaults: dict
    examples: Callable
    example_inputs: Callable
    tiny: object
    run_config: Callable = lambda preset, train, manifest: preset
    network: Callable | None = None
    causal: bool = False
    learning_rate: Callable | None = None
    random_batch: Callable | None = None
    speed_key: Callable | None = None
    bf16_speedup: dict = dataclasses.field(default_factory=dict)
    jit_speedup: dict = dataclasses.field(default_factory=dict)
    stages: tuple = ()

    def stage(self, name):
        """The kind's module of one stage (see `stages`), or None when it has none."""
        if name not in self.stages:
            return None
        return importlib.import_module(f"nsynth_synth.models.{self.name}.{name}")


class Config:
    """Base of every kind's frozen config dataclass: the JSON round trip of config.json."""

    def to_dict(self):
        return dataclasses.asdict(self)

    def to_json(self):
        return json.dumps(self.to_dict(), indent=2)

    @classmethod
    def from_dict(cls, fields):
        """A config from its JSON fields, refusing unknown ones (a config.json of another kind)."""
        unknown = sorted(set(fields) - {f.name for f in dataclasses.fields(cls)})
        if unknown:
            raise ConfigError(f"unknown {cls.__name__} fields {unknown}")
        return cls(**fields)

    @classmethod
    def from_json(cls, text):
        return cls.from_dict(json.loads(text))

    def with_settings(self, settings):
        """This config with fields changed by "name=value" strings (`train --model-set`): values read
        as JSON (8, 0.25, true), else as text; an integer is taken where the field is a float."""
        fields = {f.name: f for f in dataclasses.fields(self)}
        changes = {}
        for setting in settings:
            name, sep, text = setting.partition("=")
            if not sep or name not in fields:
                raise ConfigError(f"--model-set {setting!r}: expected NAME=VALUE with NAME one of "
                                  f"{', '.join(fields)}")
            try:
                value = json.loads(text)
            except json.JSONDecodeError:
                value = text
            current = getattr(self, name)
            if isinstance(current, float) and isinstance(value, int) and not isinstance(value, bool):
                value = float(value)
            if isinstance(current, tuple) and isinstance(value, list):
                value = tuple(value)
            if current is not None and type(value) is not type(current):
                raise ConfigError(f"--model-set {setting!r}: {name} must be of type {type(current).__name__}, "
                                  f"not {text!r}")
            changes[name] = value
        return dataclasses.replace(self, **changes)


def check_positive_ints(config, names):
    """Raise ConfigError naming the first of `names` that is not an integer >= 1."""
    for name in names:
        value = getattr(config, name)
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ConfigError(f"{name} must be a positive integer, got {value!r}")
