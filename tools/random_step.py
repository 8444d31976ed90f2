"""The trainer's own compiled step on random windows, for the training benchmark and the profile.

Each kind's random_batch (random ids and a sparse random roll, random voice states) costs a model
what real data does (the network does the same arithmetic on any input), so speed needs no data set.
"""

import numpy as np


def random_train_step(preset, precision="float32", jit="off", window=None, batch=1, seed=0):
    """-> (train_step, iterator, model): train_step(iterator) runs one step and returns its losses.
    Any preset whose kind has a random_batch (models.contract); window None: the trainer's default
    for the preset. The model and optimizer are made under the precision's dtype policy,
    as `nsynth-synth train` makes them."""
    import keras
    import tensorflow as tf

    from nsynth_synth.models.kinds import get_preset, preset_kind
    from nsynth_synth.training.trainer import TrainConfig, make_optimizer, make_train_step, with_preset_defaults

    keras.utils.set_random_seed(seed)
    train_config = with_preset_defaults(TrainConfig(preset, "unused", window=window, batch_size=batch))
    kind, config = preset_kind(preset), get_preset(preset)
    if kind.random_batch is None:
        raise SystemExit(f"{preset}: the {kind.name} kind has no random batch to time (models.contract: random_batch)")
    keras.mixed_precision.set_dtype_policy(precision)
    try:
        model = kind.build(config, preset)
        optimizer = make_optimizer(train_config, precision, model)
    finally:
        keras.mixed_precision.set_dtype_policy("float32")
    step = tf.Variable(0, dtype=tf.int64)
    train_step = make_train_step(model, optimizer, config, tf.distribute.get_strategy(), precision, step,
                                 jit_compile=jit == "on")
    inputs, targets = kind.random_batch(config, batch, train_config.window)
    iterator = iter(tf.data.Dataset.from_tensors((inputs, targets)).repeat())
    return train_step, iterator, model


def training_macs(model):
    """Multiply-accumulates per sample of one forward pass: every convolution and Dense kernel
    applied once per sample (embeddings are lookups). A training step costs about 3x this
    (forward, and the backward pass's two products) per sample of its window."""
    return sum(int(np.prod(weight.shape)) for weight in model.weights if weight.name == "kernel")


def matmul_gflops(dtype="float32", size=2048, repeats=10):
    """This machine's matmul rate in GFLOP/s for one dtype ("float32" or "bfloat16")."""
    import time

    import tensorflow as tf

    a = tf.cast(tf.random.normal([size, size]), dtype)
    matmul = tf.function(lambda x: tf.matmul(x, x))
    matmul(a).numpy()
    start = time.perf_counter()
    for _ in range(repeats):
        result = matmul(a)
    result.numpy()
    return 2 * size**3 * repeats / (time.perf_counter() - start) / 1e9
