"""The NSynth WaveNet autoencoder: code shape, a non-causal encoder, a causal decoder, pitch conditioning."""

import dataclasses

import numpy as np
import tensorflow as tf
from conftest import shared_data

from nsynth_synth.audio import mu_law_encode_np
from nsynth_synth.models.wavenet_autoencoder.config import PRESETS as AUTOENCODER_PRESETS
from nsynth_synth.models.wavenet_autoencoder.config import AutoencoderConfig
from nsynth_synth.models.wavenet_autoencoder.model import WaveNetAutoencoder, build_autoencoder

TINY = AutoencoderConfig(encoder_layers=4, encoder_channels=8, bottleneck=4, hop=64, decoder_layers=4,
                         residual_channels=8, skip_channels=8, dilation_cycle=2)


def _ids(length, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (1, length)).astype(np.int32)


def test_a_note_encodes_to_125_frames_of_16():
    config = AUTOENCODER_PRESETS["nsynth_wavenet_ae_small"]
    network = WaveNetAutoencoder(config)
    code = network.encode(tf.constant(_ids(64000)))
    assert code.shape == (1, 125, 16)
    model = network.build_model()
    outputs = model({"audio_ids": _ids(6144)})
    assert outputs["audio_logits"].shape == (1, 6144, 256) and outputs["code"].shape == (1, 12, 16)
    assert outputs["audio_logits"].dtype == tf.float32


def test_the_released_preset_matches_magentas_configuration():
    config = AUTOENCODER_PRESETS["nsynth_wavenet_ae"]
    assert (config.encoder_layers, config.encoder_channels, config.bottleneck, config.hop) == (30, 128, 16, 512)
    assert (config.decoder_layers, config.residual_channels, config.skip_channels) == (30, 512, 256)
    assert config.dilations(30)[:11] == [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1]


def test_the_encoder_sees_the_future_and_the_decoder_does_not():
    network = WaveNetAutoencoder(TINY)
    ids = _ids(1024)
    changed = ids.copy()
    changed[0, 642] = (changed[0, 642] + 100) % 256  # in frame 10 (samples 640-703)
    code, code_changed = network.encode(tf.constant(ids)).numpy(), network.encode(tf.constant(changed)).numpy()
    assert not np.allclose(code[0, 9], code_changed[0, 9])  # the frame before it moves: the encoder looks ahead
    np.testing.assert_array_equal(code[0, :9], code_changed[0, :9])  # beyond its reach of +-7 samples, nothing

    conditioning = network.upsample(tf.constant(code))
    layers = network.layers

    def conv(name, x):
        return layers[name](x)

    logits = network.decode(tf.constant(ids), conditioning, conv).numpy()
    logits_changed = network.decode(tf.constant(changed), conditioning, conv).numpy()
    np.testing.assert_array_equal(logits[0, :642], logits_changed[0, :642])  # previous id 642 acts at step 642
    assert not np.allclose(logits[0, 642], logits_changed[0, 642])


def test_pitch_conditioning_reaches_the_logits():
    model = build_autoencoder(dataclasses.replace(TINY, pitch_conditioning=True))
    ids = _ids(512)
    low = model({"audio_ids": ids, "pitch": np.array([40], np.int32)})["audio_logits"].numpy()
    high = model({"audio_ids": ids, "pitch": np.array([76], np.int32)})["audio_logits"].numpy()
    assert not np.allclose(low, high)


def test_real_nsynth_notes_encode():
    audio = np.load(shared_data("nsynth_real", "example_nsynth_audio.npy"))
    network = WaveNetAutoencoder(AUTOENCODER_PRESETS["nsynth_wavenet_ae_small"])
    code = network.encode(tf.constant(mu_law_encode_np(audio).astype(np.int32))).numpy()
    assert code.shape == (16, 125, 16) and np.isfinite(code).all()


def test_the_cached_queue_sampler_generates_what_the_decoder_predicts():
    from nsynth_synth.sampling import CachedQueueSampler, StreamingSampler

    config = dataclasses.replace(TINY, pitch_conditioning=True)
    model = build_autoencoder(config)
    network = WaveNetAutoencoder.from_model(model, config)
    code = network.encode(tf.constant(_ids(640)))  # 10 frames
    frames = network.conditioning(code, tf.constant([60]))
    sampler = CachedQueueSampler(model, config, chunk=256, upsample="hold")
    ids, audio = sampler.generate(frames, config.hop, 600, [3], 0.0)
    assert ids.shape == (1, 600) and audio.shape == (1, 600)
    # Greedy generation fed back through the teacher-forced decoder gives the same argmaxes.
    previous = tf.concat([tf.fill([1, 1], 128), ids[:, :-1]], axis=1)
    logits = network.decode(previous, network.upsample(frames)[:, :600], lambda name, x: network.layers[name](x))
    np.testing.assert_array_equal(tf.argmax(logits, -1, output_type=tf.int32).numpy(), ids.numpy())
    # And the stateful stream reproduces sampling at temperature 1 step for step.
    sampled, _ = sampler.generate(frames, config.hop, 300, [5], 1.0)
    stream = StreamingSampler(sampler)
    stream.reset(1)
    step = tf.function(stream.step)
    upsampled = network.upsample(frames)
    streamed = [step(upsampled[:, t], [5], 1.0)[0].numpy()[0] for t in range(300)]
    np.testing.assert_array_equal(np.array(streamed), sampled.numpy()[0])
