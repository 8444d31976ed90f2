"""The stateful form of the cached-queue sampler: queues in tf.Variables, for streaming.

One stream per instance (and per loaded SavedModel that holds one): `reset(batch_size)` starts a
stream, each `step` advances it one sample. Servers use the stateless `generate` instead.
"""

import tensorflow as tf

from nsynth_synth.audio import SILENCE_ID, mu_law_decode
from nsynth_synth.sampling.cached_queue import StepConv, sample_ids


class StreamingSampler(tf.Module):
    """sampler: a CachedQueueSampler. Step t draws from the noise of (seed, t), as `generate`
    does, so a stream reproduces `generate` sample for sample given the same audio-rate roll."""

    def __init__(self, sampler, name=None):
        super().__init__(name=name)
        self.sampler = sampler
        layers = sampler.network.layers
        self.names = [name for name in layers if hasattr(layers[name], "step")]
        self.queues = {}
        for layer_name in self.names:
            initial = layers[layer_name].initial_queue(1)
            shape = tf.TensorShape([initial.shape[0], None, initial.shape[2]])
            self.queues[layer_name] = tf.Variable(initial, shape=shape, trainable=False, name=f"queue_{layer_name}")
        self.t = tf.Variable(0, trainable=False, name="t")
        self.previous = tf.Variable([SILENCE_ID], shape=tf.TensorShape([None]), trainable=False, name="previous")

    def reset(self, batch_size):
        """Start a stream of `batch_size` voices: zero history, t = 0."""
        layers = self.sampler.network.layers
        for layer_name, queue in self.queues.items():
            queue.assign(layers[layer_name].initial_queue(batch_size))
        self.t.assign(0)
        self.previous.assign(tf.fill([batch_size], SILENCE_ID))

    def step(self, piano_roll_t, seed, temperature=1.0, style_id=None):
        """piano_roll_t float [batch, 128] (audio rate), seed int32 [batch], temperature float32
        [] or [batch], style_id int32 [batch] -> (ids int32 [batch], audio float32 [batch])."""
        network = self.sampler.network
        conv = StepConv(network.layers, {n: q.read_value() for n, q in self.queues.items()}, self.t.read_value())
        conditioning, _ = network.condition(tf.convert_to_tensor(piano_roll_t, tf.float32), conv)
        logits = network.autoregress(self.previous.read_value(), conditioning, network.style_terms(style_id), conv,
                                     time_axis=False)
        ids = sample_ids(logits, tf.convert_to_tensor(seed, tf.int32), self.t.read_value(),
                         tf.convert_to_tensor(temperature, tf.float32))
        for layer_name, queue in self.queues.items():
            queue.assign(conv.queues[layer_name])
        self.t.assign_add(1)
        self.previous.assign(ids)
        return ids, mu_law_decode(ids)
