import json

import keras
import numpy as np
import pytest
import tensorflow as tf

from nsynth_synth.errors import ConfigError
from nsynth_synth.models.kinds import get_preset
from nsynth_synth.models.midi_conditioned.config import PAPER_PARAMETERS, PRESETS, ModelConfig
from nsynth_synth.models.midi_conditioned.model import MidiConditionedNetwork, build_model
from nsynth_synth.sampling import CachedQueueSampler

FAMILIES = ["wavenet", "deepvoice", "synthnet"]


def tiny(family, **overrides):
    fields = dict(filter_width=3, blocks=2, max_dilation=5, residual_channels=16, skip_channels=12,
                  final_channels=(24,), num_styles=3)
    return ModelConfig(family, **{**fields, **overrides})


def random_inputs(config, batch=2, time=300, seed=0):
    rng = np.random.default_rng(seed)
    inputs = {
        "audio_ids": rng.integers(0, 256, (batch, time)).astype(np.int32),
        "piano_roll": (rng.random((batch, time, 128)) < 0.05).astype(np.float32),
    }
    if config.num_styles:
        inputs["style_id"] = rng.integers(0, config.num_styles, batch).astype(np.int32)
    return inputs


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("filter_width", [2, 3])
def test_incremental_steps_equal_the_teacher_forced_pass(family, filter_width):
    config = tiny(family, filter_width=filter_width)
    model = build_model(config)
    inputs = random_inputs(config)
    full = model(inputs)["audio_logits"].numpy()
    sampler = CachedQueueSampler(model, config)
    context = sampler.network.conditioning_context
    conditioning = sampler.conditioning(tf.constant(inputs["piano_roll"]), tf.zeros([2, context, 128]))
    styles = sampler.network.style_terms(tf.constant(inputs["style_id"]))
    step = tf.function(sampler.step)
    queues, logits = sampler.initial_queues(2), []
    for t in range(inputs["audio_ids"].shape[1]):
        out, queues = step(queues, tf.constant(t), tf.constant(inputs["audio_ids"][:, t]), conditioning[:, t], styles)
        logits.append(out.numpy())
    assert config.receptive_field < 300  # the comparison runs past the receptive field
    np.testing.assert_allclose(np.stack(logits, 1), full, atol=1e-4)


@pytest.mark.parametrize("family", FAMILIES)
def test_outputs_shapes_dtypes_and_causality(family):
    config = tiny(family)
    model = build_model(config)
    inputs = random_inputs(config, time=120)
    outputs = model(inputs)
    assert outputs["audio_logits"].shape == (2, 120, 256) and outputs["audio_logits"].dtype == tf.float32
    if family == "synthnet":
        assert outputs["roll_logits"].shape == (2, 120, 128)
    else:
        assert set(outputs) == {"audio_logits"}
    changed = {k: v.copy() for k, v in inputs.items()}
    changed["audio_ids"][:, 80:] = 255 - changed["audio_ids"][:, 80:]
    changed["piano_roll"][:, 80:] = 1 - changed["piano_roll"][:, 80:]
    after = model(changed)["audio_logits"].numpy()
    np.testing.assert_allclose(after[:, :80], outputs["audio_logits"].numpy()[:, :80], atol=1e-5)
    assert np.abs(after[:, 80:] - outputs["audio_logits"].numpy()[:, 80:]).max() > 1e-3


@pytest.mark.parametrize("family", FAMILIES)
def test_rebuilds_from_its_json_config_alone(family, tmp_path):
    config = tiny(family)
    model = build_model(config)
    (tmp_path / "config.json").write_text(config.to_json())
    rebuilt = build_model(ModelConfig.from_json((tmp_path / "config.json").read_text()))
    assert rebuilt.count_params() == model.count_params()
    rebuilt.set_weights(model.get_weights())
    inputs = random_inputs(config, time=50)
    np.testing.assert_allclose(rebuilt(inputs)["audio_logits"], model(inputs)["audio_logits"], atol=1e-6)
    model.save(tmp_path / "model.keras")
    loaded = keras.saving.load_model(tmp_path / "model.keras")
    np.testing.assert_allclose(loaded(inputs)["audio_logits"], model(inputs)["audio_logits"], atol=1e-6)


@pytest.mark.slow
def test_paper_presets_match_table_3_parameter_counts():
    for name, paper in PAPER_PARAMETERS.items():
        count = build_model(PRESETS[name]).count_params()
        assert abs(count / paper - 1) < 0.05, (name, count, paper)


def test_presets_receptive_fields():
    for name in PAPER_PARAMETERS:
        assert PRESETS[name].receptive_field / 16000 == pytest.approx(1.024, abs=0.001), name
    for family in FAMILIES:
        assert PRESETS[f"{family}_small"].receptive_field / 16000 == pytest.approx(0.256, abs=0.001)
    assert PRESETS["synthnet_live"].receptive_field == 2048


@pytest.mark.parametrize("name", [f"{f}_small" for f in FAMILIES] + ["synthnet_live"])
def test_small_presets_run_a_forward_pass(name):
    config = get_preset(name, num_styles=2)
    outputs = build_model(config)(random_inputs(config, batch=1, time=2000))
    assert np.all(np.isfinite(outputs["audio_logits"].numpy()))


def test_bad_configs_say_what_was_received():
    with pytest.raises(ConfigError, match="family must be one of .* got 'lstm'"):
        ModelConfig("lstm")
    with pytest.raises(ConfigError, match="residual_channels must be a positive integer, got 0"):
        ModelConfig("synthnet", residual_channels=0)
    with pytest.raises(ConfigError, match="unknown preset 'synthnet_l99'"):
        get_preset("synthnet_l99")
    with pytest.raises(ConfigError, match=r"unknown ModelConfig fields \['colour'\]"):
        ModelConfig.from_dict({"family": "wavenet", "colour": "red"})
    assert json.loads(get_preset("synthnet_l24", num_styles=7).to_json())["num_styles"] == 7


def test_network_adopts_a_models_layers():
    config = tiny("deepvoice")
    model = build_model(config)
    network = MidiConditionedNetwork.from_model(model, config)
    assert network.layers["layer0_conv"] is model.get_layer("layer0_conv")
    assert "layer9_residual" not in network.layers  # the last layer's residual would feed nothing
