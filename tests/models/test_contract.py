"""The contract every registered model kind fulfils (nsynth_synth.models.contract), checked the
same way for each, as KerasHub's shared backbone tests are: build from its config, the config's
JSON round trip and field checks, batch independence, causality where it applies, the
incremental step against the teacher-forced call, Keras save and load, export and reload."""

import dataclasses
import typing

import keras
import numpy as np
import pytest
import tensorflow as tf

from nsynth_synth.errors import ConfigError
from nsynth_synth.models.kinds import KINDS, get_kind, kind_of, kind_of_record, preset_kind

TIME = 64


@pytest.fixture(scope="module", params=KINDS)
def kind(request):
    return get_kind(request.param)


@pytest.fixture(scope="module")
def built(kind):
    # Unseeded: every check compares the model with itself, and keras.utils.set_random_seed would
    # seed every later test too (tests/data/test_bach_pipeline.py then fails).
    model = kind.build(kind.tiny, f"tiny_{kind.name}")
    return model, kind.example_inputs(kind.tiny, 2, TIME)


def _numpy(outputs):
    return {name: keras.ops.convert_to_numpy(value) for name, value in outputs.items()}


def test_the_registry_finds_the_kind_from_config_preset_and_record(kind):
    assert kind_of(kind.tiny) is kind and isinstance(kind.tiny, kind.config_class)
    assert all(preset_kind(name) is kind and kind_of(config) is kind for name, config in kind.presets.items())
    preset = next(iter(kind.presets))
    assert kind_of_record({"train": {"preset": preset}}) is kind  # a record from before kinds were written
    assert kind_of_record({"kind": kind.name, "train": {"preset": "a_preset_since_renamed"}}) is kind
    assert kind.data in ("bach", "nsynth") and kind.loss_terms(kind.tiny)[0]


def test_config_round_trips_through_json(kind):
    for config in (kind.tiny, *kind.presets.values()):
        assert kind.config_class.from_json(config.to_json()) == config
    with pytest.raises(ConfigError, match="unknown"):
        kind.config_class.from_dict({**dataclasses.asdict(kind.tiny), "colour": "red"})


def test_every_integer_field_is_checked(kind):
    hints = typing.get_type_hints(kind.config_class)
    integers = [f.name for f in dataclasses.fields(kind.config_class) if hints[f.name] is int]
    assert integers
    for name in integers:
        with pytest.raises(ConfigError, match=name):
            dataclasses.replace(kind.tiny, **{name: -3})


def test_builds_and_gives_finite_outputs(built):
    model, inputs = built
    outputs = _numpy(model(inputs, training=False))
    assert outputs and all(np.isfinite(v).all() for v in outputs.values())


def test_a_row_does_not_depend_on_the_other_rows(built):
    model, inputs = built
    together = _numpy(model(inputs, training=False))
    alone = _numpy(model({k: v[:1] for k, v in inputs.items()}, training=False))
    for name in together:
        np.testing.assert_allclose(alone[name][0], together[name][0], atol=1e-4, err_msg=name)


def test_no_output_step_sees_a_later_input(kind, built):
    if not kind.causal:
        pytest.skip(f"{kind.name} is not causal (its encoder looks ahead)")
    model, inputs = built
    before = _numpy(model(inputs, training=False))
    # Every input over time gets another second half: its first half, reversed (values it may hold).
    changed = {name: np.concatenate([value[:, :TIME // 2], value[:, :TIME // 2][:, ::-1]], axis=1)
               if value.ndim >= 2 and value.shape[1] == TIME else value for name, value in inputs.items()}
    assert any(not np.array_equal(changed[name], inputs[name]) for name in inputs)
    after = _numpy(model(changed, training=False))
    for name in before:
        half = before[name].shape[1] * (TIME // 2) // TIME  # output steps per input step: 1, or a frame's samples
        assert not np.allclose(after[name], before[name]), name
        np.testing.assert_allclose(after[name][:, :half], before[name][:, :half], atol=1e-5, err_msg=name)


def test_the_sampler_step_equals_the_teacher_forced_call(kind, built):
    if kind.network is None:
        pytest.skip(f"{kind.name} does not generate sample by sample")
    from nsynth_synth.sampling.cached_queue import CachedQueueSampler

    model, _ = built
    config = kind.tiny
    sampler = CachedQueueSampler(model, config, jit_compile=False)
    network = sampler.network
    rng = np.random.default_rng(1)
    previous = tf.constant(rng.integers(0, 256, (1, 40)), tf.int32)
    raw = tf.constant(rng.random((1, 40, network.conditioning_width)), tf.float32)
    layers = network.layers
    conditioning, _ = network.condition(raw, lambda name, x: layers[name](x))
    style = network.style_terms(tf.constant([1])) if getattr(config, "num_styles", 0) else network.style_terms(None)
    full = network.autoregress(previous, conditioning, style, lambda name, x: layers[name](x), time_axis=True)
    queues, steps = sampler.initial_queues(1), []
    for t in range(40):
        logits, queues = sampler.step(queues, t, previous[:, t], conditioning[:, t], style)
        steps.append(logits.numpy())
    np.testing.assert_allclose(np.stack(steps, 1), keras.ops.convert_to_numpy(full), atol=1e-4)


def test_keras_save_and_load_give_the_same_outputs(built, tmp_path):
    model, inputs = built
    model.save(tmp_path / "model.keras")
    loaded = keras.models.load_model(tmp_path / "model.keras")
    expected, got = _numpy(model(inputs, training=False)), _numpy(loaded(inputs, training=False))
    for name in expected:
        np.testing.assert_allclose(got[name], expected[name], atol=1e-5, err_msg=name)


def test_export_and_reload_answer_as_the_module_does(kind, built, tmp_path):
    from nsynth_synth.export.saved_model import _module

    if kind.stage("export") is None:
        pytest.skip(f"{kind.name} has no export signatures")
    model, _ = built
    record = {"kind": kind.name, "train": {"upsample": "linear"}, "data": {"frame_hop": 64}}
    assert kind.stage("export").card({**record, "model": kind.tiny.to_dict()})
    module = _module(model, kind.tiny, record, 64, 100, False)
    tf.saved_model.save(module, str(tmp_path / "saved"), signatures=module.signatures())
    reloaded = tf.saved_model.load(str(tmp_path / "saved"))
    signature, inputs = module.warmup_inputs()
    inputs = {name: tf.constant(value) for name, value in inputs.items()}
    got = reloaded.signatures[signature](**inputs)
    expected = module.signatures()[signature](**inputs)
    assert set(got) == set(expected)
    for name in expected:
        np.testing.assert_allclose(got[name].numpy(), expected[name].numpy(), atol=1e-4, err_msg=name)


def test_every_weight_is_in_a_checkpoint(built, tmp_path):
    """The trainer saves and restores through tf.train.Checkpoint: a weight it does not track (a Keras 3
    sublayer kept in a Python list) would train, then load as a fresh random value in the next process."""
    model, _ = built
    path = tf.train.Checkpoint(model=model).save(str(tmp_path / "ckpt"))
    saved = [name for name, _ in tf.train.list_variables(path) if name.startswith("model/")]
    assert len(saved) == len(model.weights)
