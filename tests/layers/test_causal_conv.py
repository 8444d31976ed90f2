import keras
import numpy as np
import pytest
import tensorflow as tf

from nsynth_synth.layers import CausalConv1D, DepthwiseCausalConv1D

RNG = np.random.default_rng(0)


def numpy_causal_conv(x, kernel, bias, dilation):
    """x [b, t, i], kernel [k, i, o]: y[t] = sum_j kernel[j] . x[t - (k - 1 - j) d], zeros before 0."""
    k = kernel.shape[0]
    y = np.zeros((x.shape[0], x.shape[1], kernel.shape[2]))
    for t in range(x.shape[1]):
        for j in range(k):
            source = t - (k - 1 - j) * dilation
            if source >= 0:
                y[:, t] += x[:, source] @ kernel[j]
    return y + bias


@pytest.mark.parametrize("kernel_size,dilation", [(2, 1), (3, 4), (2, 16)])
def test_causal_conv_matches_numpy(kernel_size, dilation):
    layer = CausalConv1D(5, kernel_size, dilation)
    x = RNG.normal(size=(2, 40, 3)).astype(np.float32)
    layer.build(x.shape)
    layer.bias.assign(RNG.normal(size=5))
    y = layer(x).numpy()
    expected = numpy_causal_conv(x, layer.kernel.numpy(), layer.bias.numpy(), dilation)
    np.testing.assert_allclose(y, expected, atol=1e-5)


def test_depthwise_matches_numpy_per_channel():
    layer = DepthwiseCausalConv1D(3, dilation_rate=2, depth_multiplier=2)
    x = RNG.normal(size=(2, 30, 4)).astype(np.float32)
    y = layer(x).numpy()
    kernel = layer.kernel.numpy()  # [k, in, mult]
    for c in range(4):
        for m in range(2):
            expected = numpy_causal_conv(x[:, :, c:c + 1], kernel[:, c:c + 1, m:m + 1], 0.0, 2)[:, :, 0]
            np.testing.assert_allclose(y[:, :, c * 2 + m], expected, atol=1e-5)


@pytest.mark.parametrize("layer", [CausalConv1D(4, 3, 8), DepthwiseCausalConv1D(2, 8, depth_multiplier=2)],
                         ids=["full", "depthwise"])
def test_no_leakage_from_the_future(layer):
    x = RNG.normal(size=(1, 64, 4)).astype(np.float32)
    changed = x.copy()
    changed[:, 40:] += 10.0
    y, y_changed = layer(x).numpy(), layer(changed).numpy()
    np.testing.assert_array_equal(y[:, :40], y_changed[:, :40])
    assert np.abs(y[:, 40:] - y_changed[:, 40:]).max() > 1.0


@pytest.mark.parametrize("layer", [CausalConv1D(4, 3, 8), DepthwiseCausalConv1D(3, 5, depth_multiplier=2)],
                         ids=["full", "depthwise"])
def test_step_equals_call(layer):
    x = RNG.normal(size=(3, 100, 4)).astype(np.float32)
    full = layer(x).numpy()
    queue = layer.initial_queue(3)
    assert queue.shape[0] == layer.span + 1
    steps = []
    for t in range(100):
        y, queue = layer.step(x[:, t], queue, tf.constant(t))
        steps.append(y.numpy())
    np.testing.assert_allclose(np.stack(steps, 1), full, atol=1e-5)


def test_config_round_trip_and_bad_arguments():
    layer = CausalConv1D(4, 3, dilation_rate=8, use_bias=False, name="c")
    clone = CausalConv1D.from_config(layer.get_config())
    assert (clone.filters, clone.kernel_size, clone.dilation_rate, clone.use_bias) == (4, 3, 8, False)
    depthwise = DepthwiseCausalConv1D(2, 4, depth_multiplier=2)
    assert DepthwiseCausalConv1D.from_config(depthwise.get_config()).depth_multiplier == 2
    with pytest.raises(ValueError, match="dilation_rate must be a positive integer, got 0"):
        CausalConv1D(4, 3, dilation_rate=0)
    with pytest.raises(ValueError, match="kernel_size must be at least 2"):
        CausalConv1D(4, 1)
    with pytest.raises(ValueError, match="depth_multiplier must be a positive integer, got 1.5"):
        DepthwiseCausalConv1D(2, depth_multiplier=1.5)
    assert keras.saving.get_registered_object("nsynth_synth>CausalConv1D") is CausalConv1D
