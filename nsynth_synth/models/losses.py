"""The audio and piano-roll losses (the MIDI-conditioned models, the WaveNet autoencoder), computed
in float32 whatever the dtype policy."""

import tensorflow as tf


def audio_loss(next_ids, audio_logits):
    """Mean cross-entropy of the 256-way prediction: next_ids int32 [batch, time],
    audio_logits [batch, time, 256]."""
    losses = tf.nn.sparse_softmax_cross_entropy_with_logits(next_ids, tf.cast(audio_logits, tf.float32))
    return tf.reduce_mean(losses)


def roll_loss(next_roll, roll_logits):
    """SynthNet's multi-label cross-entropy of the next piano-roll frame (Eq. 9), summed over the
    128 keys and averaged over batch and time: next_roll float [batch, time, 128] in [0, 1]."""
    losses = tf.nn.sigmoid_cross_entropy_with_logits(tf.cast(next_roll, tf.float32), tf.cast(roll_logits, tf.float32))
    return tf.reduce_mean(tf.reduce_sum(losses, axis=-1))
