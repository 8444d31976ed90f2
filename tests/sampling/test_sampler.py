import numpy as np
import pytest
import tensorflow as tf

from nsynth_synth.data.pianoroll import pad_edges, upsample_roll
from nsynth_synth.models.midi_conditioned.config import ModelConfig
from nsynth_synth.models.midi_conditioned.model import build_model
from nsynth_synth.sampling import CachedQueueSampler, StreamingSampler

HOP = 64


def setup(family, num_styles=2, chunk=256):
    config = ModelConfig(family, filter_width=3, blocks=2, max_dilation=5, residual_channels=16, skip_channels=12,
                         final_channels=(24,), num_styles=num_styles)
    model = build_model(config)
    rng = np.random.default_rng(1)
    roll = (rng.random((2, 12, 128)) < 0.1).astype(np.float32)  # 12 frames = 768 samples
    return config, model, CachedQueueSampler(model, config, chunk=chunk), roll


def test_generate_is_seeded_and_has_the_requested_length():
    _, _, sampler, roll = setup("synthnet")
    style = tf.constant([0, 1])
    a = sampler.generate(roll, HOP, 700, [1, 2], 1.0, style)
    b = sampler.generate(roll, HOP, 700, [1, 2], 1.0, style)
    c = sampler.generate(roll, HOP, 700, [3, 4], 1.0, style)
    assert a[0].shape == (2, 700) and a[0].dtype == tf.int32 and a[1].dtype == tf.float32
    np.testing.assert_array_equal(a[0], b[0])
    assert not np.array_equal(a[0], c[0])
    assert np.abs(a[1].numpy()).max() <= 1.0


@pytest.mark.parametrize("family", ["wavenet", "deepvoice", "synthnet"])
def test_streaming_steps_reproduce_generate_sample_for_sample(family):
    _, _, sampler, roll = setup(family)
    style = tf.constant([1, 0])
    ids, _ = sampler.generate(roll, HOP, 600, [5, 6], 0.9, style)  # crosses chunk boundaries (256)
    audio_rate = upsample_roll(pad_edges(tf.constant(roll)), HOP, "linear").numpy()
    stream = StreamingSampler(sampler)
    stream.reset(2)
    step = tf.function(stream.step)
    streamed = [step(audio_rate[:, t], [5, 6], 0.9, style)[0].numpy() for t in range(600)]
    np.testing.assert_array_equal(np.stack(streamed, 1), ids.numpy())
    stream.reset(1)  # a new stream with another batch size starts from silence
    first = step(audio_rate[:1, 0], [5], 0.9, style[:1])[0]
    assert first.numpy()[0] == ids.numpy()[0, 0]


def test_greedy_generation_follows_the_model():
    config, model, sampler, roll = setup("wavenet", num_styles=0)
    ids, _ = sampler.generate(roll, HOP, 300, [0, 0], 0.0)
    # Feeding the generated ids back through the teacher-forced model must give the same argmaxes.
    audio_rate = upsample_roll(pad_edges(tf.constant(roll)), HOP, "linear")[:, :300]
    previous = tf.concat([tf.fill([2, 1], 128), ids[:, :-1]], axis=1)
    logits = model({"audio_ids": previous, "piano_roll": audio_rate})["audio_logits"]
    np.testing.assert_array_equal(tf.argmax(logits, -1, output_type=tf.int32).numpy(), ids.numpy())


def test_generation_without_xla_gives_the_same_audio():
    config, model, sampler, roll = setup("deepvoice", num_styles=0)
    plain = CachedQueueSampler(model, config, chunk=256, jit_compile=False)
    np.testing.assert_array_equal(sampler.generate(roll, HOP, 400, [7, 7], 1.0)[0],
                                  plain.generate(roll, HOP, 400, [7, 7], 1.0)[0])


def test_sampling_draws_from_the_softmax_and_ignores_compilation():
    from nsynth_synth.sampling.cached_queue import counter_uniform, sample_ids

    logits = tf.math.log(tf.constant([[0.5, 0.3, 0.2] + [1e-9] * 253]))
    draws = np.array([sample_ids(tf.tile(logits, [500, 1]), tf.range(500), t, 1.0).numpy() for t in range(20)])
    frequencies = np.bincount(draws.ravel(), minlength=256)[:3] / draws.size
    np.testing.assert_allclose(frequencies, [0.5, 0.3, 0.2], atol=0.02)
    noise = counter_uniform(tf.range(64), 7, 256)
    assert noise.shape == (64, 256)
    assert 0 < noise.numpy().min() and noise.numpy().max() < 1 and abs(noise.numpy().mean() - 0.5) < 0.01
    compiled = tf.function(counter_uniform, jit_compile=True)(tf.range(64), 7, 256)
    np.testing.assert_array_equal(compiled.numpy(), noise.numpy())


def test_a_voice_sounds_the_same_alone_or_in_a_batch():
    # TF Serving batches requests from different clients: a row must not depend on its neighbours.
    _, _, sampler, roll = setup("synthnet")
    batched, _ = sampler.generate(roll, HOP, 500, [11, 12], [1.0, 0.0], tf.constant([1, 0]))
    alone, _ = sampler.generate(roll[1:], HOP, 500, [12], 0.0, tf.constant([0]))
    np.testing.assert_array_equal(batched[1], alone[0])
    swapped, _ = sampler.generate(roll[::-1], HOP, 500, [12, 11], [0.0, 1.0], tf.constant([0, 1]))
    np.testing.assert_array_equal(swapped.numpy()[::-1], batched.numpy())


def test_generate_reports_progress_per_chunk():
    _, _, sampler, roll = setup("synthnet")
    seen = []
    sampler.generate(roll, HOP, 700, [1, 2], 1.0, tf.constant([0, 1]), progress=lambda n: seen.append(n) or True)  # a tqdm-like return value
    assert seen == [256, 512, 700]
