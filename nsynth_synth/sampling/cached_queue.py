"""Fast WaveNet generation (Paine et al. 2016; Ramachandran et al. 2017) with cached queues.

Every causal convolution keeps a ring of its last (k - 1) * d inputs (nsynth_synth.layers), so one
new sample costs O(layers), not O(receptive field). The step reuses the model's own layers and
weights through MidiConditionedNetwork's single wiring.

`generate` runs the whole loop in one graph: an outer loop over chunks computes the piano-roll
conditioning for a chunk at once (upsampling the frame-rate roll in-graph), an inner tf.while_loop
advances sample by sample with the queues as loop-carried tensors; XLA compiles that loop. Step t
of voice b draws from counter-based noise of (seed[b], t), so the same int32 seed gives the same
audio on every run, compiled with XLA or not, alone or in a batch.
"""

import tensorflow as tf

from nsynth_synth.audio import SILENCE_ID, mu_law_decode
from nsynth_synth.data.pianoroll import pad_edges, upsample_roll
from nsynth_synth.errors import ConfigError
from nsynth_synth.models.kinds import kind_of


class StepConv:
    """The `conv` callable of a one-sample step: applies each layer's step to its queue."""

    def __init__(self, layers, queues, t):
        self.layers = layers
        self.queues = dict(queues)
        self.t = t

    def __call__(self, name, x_t):
        y_t, self.queues[name] = self.layers[name].step(x_t, self.queues[name], self.t)
        return y_t


def _mix32(h):
    """murmur3's 32-bit finalizer on int64 tensors holding values below 2**32."""
    mask = 0xFFFFFFFF
    h = tf.bitwise.bitwise_xor(h, tf.bitwise.right_shift(h, 16))
    h = tf.bitwise.bitwise_and(h * 0x85EBCA6B, mask)
    h = tf.bitwise.bitwise_xor(h, tf.bitwise.right_shift(h, 13))
    h = tf.bitwise.bitwise_and(h * 0xC2B2AE35, mask)
    return tf.bitwise.bitwise_xor(h, tf.bitwise.right_shift(h, 16))


def counter_uniform(seed, t, classes):
    """Uniform (0, 1) float32 noise [batch, classes] from per-row seeds int32 [batch] and step t.

    Row b depends on (seed[b], t) alone, never on the other rows: a voice sounds the same whether
    it is generated alone or batched with others (as TF Serving's batching does with requests).
    Integer hashing, not TensorFlow's stateless RNG: that one draws different numbers under XLA
    than without it (measured), and generation must not depend on how it was compiled.
    """
    seed = tf.cast(seed, tf.int64) & 0xFFFFFFFF
    h = _mix32(tf.range(classes, dtype=tf.int64)[None, :] + 0x9E3779B9)
    h = _mix32(tf.bitwise.bitwise_xor(h, tf.cast(t, tf.int64) & 0xFFFFFFFF))
    h = _mix32(tf.bitwise.bitwise_xor(h, seed[:, None]))
    return (tf.cast(h, tf.float32) + 0.5) * (2.0**-32)


def sample_ids(logits, seed, t, temperature):
    """logits [batch, 256] float32, seed int32 [batch], temperature float32 [] or [batch]
    -> ids [batch] int32, drawn with the Gumbel-max trick from (seed, t); a temperature <= 0
    takes the argmax for its rows."""
    uniform = counter_uniform(seed, t, tf.shape(logits)[-1])
    gumbel = -tf.math.log(-tf.math.log(uniform))
    temperature = tf.reshape(temperature, [-1, 1])
    drawn = tf.argmax(logits / tf.maximum(temperature, 1e-6) + gumbel, axis=-1, output_type=tf.int32)
    greedy = tf.argmax(logits, axis=-1, output_type=tf.int32)
    return tf.where(temperature[:, 0] > 0, drawn, greedy)


def network_of(model, config):
    """The wiring over a built model's layers that its kind gives the sampler (models.contract)."""
    kind = kind_of(config)
    if kind.network is None:
        raise ConfigError(f"a {kind.name} model does not generate sample by sample")
    return kind.network(model, config)


class CachedQueueSampler:
    """Generates audio from a model's own layers: a MIDI-conditioned model (conditioned on a
    piano roll) or the NSynth WaveNet autoencoder's decoder (conditioned on code frames).

    model: a Keras model its kind built (models.kinds: kind_of(config).build(config)); for the
    autoencoder pass the code as `piano_roll`, hop=config.hop, upsample="hold".
    chunk: samples whose conditioning is computed at once (memory: batch x chunk x channels).
    upsample: how the frame-rate roll becomes audio rate; use the mode the model was trained with.
    jit_compile: compile each chunk's sample loop with XLA (see tools/bench_sampler.py).
    """

    def __init__(self, model, config, chunk=4096, upsample="linear", jit_compile=True):
        self.model = model
        self.config = config
        self.network = network_of(model, config)
        self.chunk = chunk
        self.upsample = upsample
        self.queued = [name for name in self.network.layers if self._is_queued(name)]
        # The chunk's sample loop has static shapes, so XLA can compile it into one kernel.
        self._chunk_fn = tf.function(self._run_chunk, jit_compile=jit_compile)

    def _is_queued(self, name):
        return hasattr(self.network.layers[name], "step") and name not in self.network.conditioning_layers

    def initial_queues(self, batch_size, names=None):
        """Zero queues for the autoregressive path (and `names`, if given)."""
        return {name: self.network.layers[name].initial_queue(batch_size) for name in names or self.queued}

    def step(self, queues, t, previous_ids, conditioning_t, style_terms):
        """One sample: ids [batch] of step t - 1, conditioning [batch, channels] of step t ->
        (logits [batch, 256] float32, queues)."""
        conv = StepConv(self.network.layers, queues, t)
        logits = self.network.autoregress(previous_ids, conditioning_t, style_terms, conv, time_axis=False)
        return logits, conv.queues

    def conditioning(self, roll, roll_history):
        """Audio-rate roll [batch, n, 128] and the `context` samples before it -> [batch, n, channels]."""
        context = self.network.conditioning_context
        full = tf.concat([roll_history, roll], axis=1) if context else roll
        layers = self.network.layers
        conditioning, _ = self.network.condition(full, lambda name, x: layers[name](x))
        return conditioning[:, context:]

    def _run_chunk(self, queues, previous, history, frames, start, seed, temperature, style_id, hop):
        """Advance `chunk` samples. frames: [batch, chunk / hop + 2, 128], the chunk's frames with
        one context frame each side. Returns (queues, previous ids, roll history, ids [batch, chunk])."""
        chunk = self.chunk_for(hop)
        roll = upsample_roll(frames, hop, self.upsample)
        conditioning = self.conditioning(roll, history)
        styles = self.network.style_terms(style_id)

        def body(i, queues, previous, ids):
            t = start + i
            logits, queues = self.step(queues, t, previous, conditioning[:, i], styles)
            chosen = sample_ids(logits, seed, t, temperature)
            return i + 1, queues, chosen, ids.write(i, chosen)

        _, queues, previous, ids = tf.while_loop(
            lambda i, *_: i < chunk, body, (tf.constant(0), queues, previous, tf.TensorArray(tf.int32, size=chunk)),
        )
        context = self.network.conditioning_context
        history = roll[:, chunk - context:] if context else history
        return queues, previous, history, tf.transpose(ids.stack())

    def chunk_for(self, hop):
        """The chunk length rounded up to whole frames, so every chunk has static shapes."""
        return -(-self.chunk // hop) * hop

    def generate(self, piano_roll, hop, num_samples, seed, temperature=1.0, style_id=None, progress=None):
        """Sample audio for a piano roll at frame rate.

        piano_roll: float [batch, frames, 128] (an autoencoder: its code frames [batch, frames,
        channels]); hop: samples per frame (Python int);
        num_samples: int32 scalar; seed: int32 [batch], one per voice; temperature: float32 [] or
        [batch] (<= 0: greedy);
        style_id: int32 [batch] when the model has styles.
        progress: called with the number of samples done after each chunk (for the command line;
        leave None in graphs that are exported, as it runs Python).
        Past the roll's last frame the roll is silent (all keys off).
        Returns (ids int32 [batch, num_samples], audio float32 [batch, num_samples]).
        """
        piano_roll = tf.convert_to_tensor(piano_roll, tf.float32)
        batch = tf.shape(piano_roll)[0]
        num_samples = tf.convert_to_tensor(num_samples, tf.int32)
        seed = tf.convert_to_tensor(seed, tf.int32)
        temperature = tf.convert_to_tensor(temperature, tf.float32)
        chunk = self.chunk_for(hop)
        num_chunks = (num_samples + chunk - 1) // chunk
        # Past the roll's end nothing is played: zero frames up to the last chunk's end.
        needed = num_chunks * (chunk // hop)
        piano_roll = tf.pad(piano_roll, [[0, 0], [0, tf.maximum(needed - tf.shape(piano_roll)[1], 0)], [0, 0]])
        frames = pad_edges(piano_roll)

        def report(done):
            progress(int(done))  # whatever the callback returns, the py_function returns nothing

        def chunk_body(c, queues, previous, history, outputs):
            window = tf.slice(frames, [0, c * (chunk // hop), 0], [-1, chunk // hop + 2, -1])
            queues, previous, history, ids = self._chunk_fn(
                queues, previous, history, window, c * chunk, seed, temperature, style_id, hop)
            if progress is not None:
                with tf.control_dependencies([ids]):
                    done = tf.minimum((c + 1) * chunk, num_samples)
                    tf.py_function(report, [done], [])
            return c + 1, queues, previous, history, outputs.write(c, ids)

        context = self.network.conditioning_context
        initial = (
            tf.constant(0),
            self.initial_queues(batch),
            tf.fill([batch], SILENCE_ID),
            tf.zeros([batch, context, tf.shape(piano_roll)[-1]]),
            tf.TensorArray(tf.int32, size=num_chunks),
        )
        _, _, _, _, outputs = tf.while_loop(lambda c, *_: c < num_chunks, chunk_body, initial)
        ids = tf.reshape(tf.transpose(outputs.stack(), [1, 0, 2]), [batch, -1])[:, :num_samples]
        return ids, mu_law_decode(ids)
