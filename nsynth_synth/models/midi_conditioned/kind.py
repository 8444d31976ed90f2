"""The SynthNet paper's MIDI-conditioned models (WaveNet, DeepVoice, SynthNet), trained on a Bach
set: audio plus an aligned piano roll, optionally several styles (global conditioning)."""

import dataclasses

import numpy as np
import tensorflow as tf

from nsynth_synth.audio import NUM_CLASSES
from nsynth_synth.data import bach
from nsynth_synth.data.bach import embedded_styles, teacher_forcing, training_dataset
from nsynth_synth.data.pianoroll import NUM_KEYS
from nsynth_synth.models.contract import Kind
from nsynth_synth.models.losses import audio_loss, roll_loss
from nsynth_synth.models.midi_conditioned.config import PRESETS, ModelConfig
from nsynth_synth.models.midi_conditioned.model import MidiConditionedNetwork, build_model


def random_batch(config, batch, window):
    """Random ids and a sparse random roll: the network does the same arithmetic on any input."""
    return teacher_forcing(example_inputs(config, batch, window))


def loss(config, outputs, targets):
    """(audio cross-entropy + weight x piano-roll loss, the audio term, the roll term): Eq. 9."""
    loss_audio = audio_loss(targets["audio_ids"], outputs["audio_logits"])
    if not config.architecture.roll_head:
        return loss_audio, loss_audio, tf.constant(0.0)
    loss_roll = roll_loss(targets["piano_roll"], outputs["roll_logits"])
    return loss_audio + config.roll_loss_weight * loss_roll, loss_audio, loss_roll


def run_config(preset, train, manifest):
    """The preset with the set's sample rate, and global conditioning over the set's styles when
    the run trains on several of them (a program the set lacks is refused)."""
    return dataclasses.replace(preset, num_styles=embedded_styles(manifest, train.styles),
                               sample_rate=manifest["config"]["sample_rate"])


def examples(train, config):
    """Endless global batches of random windows -> (inputs, targets): step t predicts t + 1."""
    dataset = training_dataset(train.data, train.window, train.batch_size, styles=train.styles,
                               upsample=train.upsample, roll=train.roll, seed=train.seed)

    def split(batch):
        inputs, targets = teacher_forcing(batch)
        if not config.num_styles:
            inputs.pop("style_id")
        return inputs, targets

    return dataset.map(split)


def example_inputs(config, batch, time):
    rng = np.random.default_rng(0)
    inputs = {"audio_ids": rng.integers(0, NUM_CLASSES, (batch, time)).astype(np.int32),
              "piano_roll": (rng.random((batch, time, NUM_KEYS)) < 0.05).astype(np.float32)}
    if config.num_styles:
        inputs["style_id"] = rng.integers(0, config.num_styles, (batch,)).astype(np.int32)
    return inputs


KIND = Kind(
    name="midi_conditioned",
    config_class=ModelConfig,
    presets=PRESETS,
    build=build_model,
    loss=loss,
    loss_terms=lambda config: ("audio", "piano_roll" if config.architecture.roll_head else None),
    data="bach",
    training_data=bach.training_data,
    train_defaults={"batch_size": 1, "window": 16000, "learning_rate": 1e-3, "beta_1": 0.9, "weight_decay": 1e-5,
                    "ema": 0.0, "eval_seconds": 1.0},
    run_config=run_config,
    examples=examples,
    random_batch=random_batch,
    example_inputs=example_inputs,
    tiny=ModelConfig("synthnet", filter_width=2, blocks=1, max_dilation=4, residual_channels=8, skip_channels=8,
                     final_channels=(8,), num_styles=2),
    network=MidiConditionedNetwork.from_model,
    causal=True,
    speed_key=lambda config: config.family,
    # Train-step speed relative to float32 (steps/s ratio, medians over alternating rounds, batch 1,
    # window 16000), by CPU class and family. 2026-11, Intel Xeon with AMX-bf16 (2 cores), side by side
    # in one process (issue 14); 2026-12-01, AMD EPYC (Zen 3, AVX2; 2 cores, shared),
    # tools/bench_train.py --rounds 4: bf16 is emulated there, and its convolutions are 4-10x slower.
    bf16_speedup={"amx_bf16": {"wavenet": 1.9, "deepvoice": 1.77, "synthnet": 0.79},
                  "no_bf16": {"wavenet": 0.10, "deepvoice": 0.12, "synthnet": 1.04}},
    # XLA on the whole step; AMD EPYC: tools/bench_train.py --variants float32 float32+xla --rounds 3. SynthNet
    # is left out there: XLA's depthwise convolution takes 3.1 s against 35 ms (forward and backward of one
    # [1, 16000, 64] layer), so the whole step under XLA did not finish a round in 40 minutes.
    jit_speedup={"amx_bf16": {"wavenet": 1.1, "deepvoice": 1.13, "synthnet": 1.0},
                 "no_bf16": {"wavenet": 1.07, "deepvoice": 1.04}},
    stages=("quality", "generation", "export"),
)
