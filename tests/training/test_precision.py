"""--precision auto and --jit auto: picked from the hardware and the measured tables; bf16 trains
like float32; a bf16-trained model generates and exports in float32."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from nsynth_synth.models.kinds import get_kind, get_preset
from nsynth_synth.models.midi_conditioned.model import build_model
from nsynth_synth.training.precision import cpu_class, resolve_jit, resolve_precision, speed_family
from nsynth_synth.training.trainer import TrainConfig, make_optimizer, make_train_step


def test_cpu_class_reads_the_bf16_units_from_the_flags():
    assert cpu_class(frozenset({"avx2", "fma"})) == "no_bf16"
    assert cpu_class(frozenset({"avx512f", "avx512_bf16"})) == "avx512_bf16"
    assert cpu_class(frozenset({"avx512_bf16", "amx_bf16", "amx_tile"})) == "amx_bf16"


def test_speed_families():
    assert [speed_family(p) for p in ("synthnet_small", "deepvoice_l24", "wavenet_small", "synthnet_live")] == \
        ["synthnet", "deepvoice", "wavenet", "synthnet"]
    assert speed_family("nsynth_wavenet_ae_small_pitch") == speed_family("nsynth_wavenet_ae") == "nsynth_wavenet_ae"


def test_auto_precision_follows_the_hardware_and_the_measurements(monkeypatch):
    monkeypatch.setitem(get_kind("midi_conditioned").bf16_speedup, "amx_bf16", {"wavenet": 1.9, "synthnet": 0.8})
    monkeypatch.setitem(get_kind("midi_conditioned").bf16_speedup, "no_bf16", {"wavenet": 0.1})
    assert resolve_precision("auto", "synthnet_small", gpu=True)[0] == "mixed_float16"
    assert resolve_precision("auto", "wavenet_small", gpu=False, cpu="no_bf16") == \
        ("float32", "a no_bf16 CPU, where wavenet trains only 0.10x as fast in bf16")
    assert resolve_precision("auto", "wavenet_small", gpu=False, cpu="avx512_bf16")[0] == "float32"  # not measured
    picked, why = resolve_precision("auto", "wavenet_small", gpu=False, cpu="amx_bf16")
    assert picked == "mixed_bfloat16" and "1.90x" in why
    picked, why = resolve_precision("auto", "synthnet_l24", gpu=False, cpu="amx_bf16")
    assert picked == "float32" and "0.80x" in why
    picked, why = resolve_precision("auto", "deepvoice_small", gpu=False, cpu="amx_bf16")
    assert picked == "float32" and "not measured" in why
    assert resolve_precision("mixed_bfloat16", "synthnet_small", gpu=False, cpu="no_bf16")[0] == "mixed_bfloat16"
    with pytest.raises(ValueError, match="precision must be one of"):
        resolve_precision("bf16", "synthnet_small")


def test_auto_jit_only_where_it_was_measured_to_pay(monkeypatch):
    monkeypatch.setitem(get_kind("midi_conditioned").jit_speedup, "no_bf16", {"wavenet": 1.3, "synthnet": 0.9})
    assert resolve_jit("auto", "wavenet_small", gpu=False, cpu="no_bf16")[0] is True
    assert resolve_jit("auto", "synthnet_small", gpu=False, cpu="no_bf16")[0] is False
    assert resolve_jit("auto", "deepvoice_small", gpu=False, cpu="no_bf16")[0] is False
    assert resolve_jit("auto", "wavenet_small", gpu=True)[0] is False
    assert resolve_jit("on", "synthnet_small", gpu=False, cpu="no_bf16") == (True, "asked for")


def _steps(policy, weights, batches):
    keras.mixed_precision.set_dtype_policy(policy)
    try:
        config = get_preset("synthnet_live")
        model = build_model(config)
        model.set_weights(weights)
        optimizer = make_optimizer(TrainConfig("synthnet_live", "unused", learning_rate=1e-3), policy, model)
    finally:
        keras.mixed_precision.set_dtype_policy("float32")
    step = tf.Variable(0, dtype=tf.int64)
    train_step = make_train_step(model, optimizer, config, tf.distribute.get_strategy(), policy, step)
    iterator = iter(batches)
    return [float(train_step(iterator)[1]) for _ in range(len(batches))]


def test_bfloat16_steps_give_finite_losses_close_to_float32s():
    rng = np.random.default_rng(0)
    t = np.arange(2001)
    audio = 0.5 * np.sin(2 * np.pi * 220 * t / 16000)  # a tone: a loss the steps can lower
    ids = np.round((np.sign(audio) * np.log1p(255 * np.abs(audio)) / np.log1p(255) + 1) * 127.5).astype(np.int32)
    roll = np.zeros((2001, 128), np.float32)
    roll[:, 57] = 1.0
    batches = []
    for _ in range(4):
        start = rng.integers(0, 1000)
        window_ids, window_roll = ids[None, start:start + 1001], roll[None, start:start + 1001]
        batches.append(({"audio_ids": window_ids[:, :-1], "piano_roll": window_roll[:, :-1]},
                        {"audio_ids": window_ids[:, 1:], "piano_roll": window_roll[:, 1:]}))
    # Fixed weights at the initializers' scale (an unseeded init made "learns something" a coin toss;
    # keras.utils.set_random_seed would seed every later test too).
    rng = np.random.default_rng(1)
    weights = [(rng.standard_normal(w.shape) * w.std()).astype(np.float32)
               for w in build_model(get_preset("synthnet_live")).get_weights()]
    float32 = _steps("float32", weights, batches)
    bfloat16 = _steps("mixed_bfloat16", weights, batches)
    assert np.all(np.isfinite(bfloat16))
    assert float32[-1] < float32[0] - 0.1  # the steps learn something, so "close" means something
    np.testing.assert_allclose(bfloat16, float32, rtol=0.02)

