"""Fake quantization: forward against quantize-dequantize, the straight-through estimator against
its definition (float64), fake-quantized weights against a plain layer holding ŵ, the stated
second-order rules, prepare/calibrate, and QAT through the engine's fit."""
import copy

import numpy as np
import pytest

from minicompress import models, nn
from minicompress.nn.gradcheck import assert_close
from minicompress.quant import (FakeQuantize, MinMaxObserver, MovingAverageMinMaxObserver,
                                PercentileObserver, QuantizedWeights, calibrate, fake_quantize, prepare)
from minicompress.train import fit


def observed(x, **kwargs):
    obs = MinMaxObserver(**kwargs)
    obs.observe(x)
    return obs


def test_fake_quantize_rounds_forward_and_passes_gradients_inside_the_range(rng):
    x = rng.normal(0, 1, (50, 8))
    fq = FakeQuantize(observed(np.clip(x, -1, 2)), observing=False)  # range [-1, 2]: some clamp
    y = fq(x)
    scale, zero = fq.qparams()
    assert np.array_equal(y, fake_quantize(x, scale, zero))
    g = rng.normal(size=x.shape)
    inside = (np.rint(x / scale) + zero >= -128) & (np.rint(x / scale) + zero <= 127)
    assert 0 < inside.mean() < 1
    assert np.array_equal(fq.backward(g), g * inside)  # STE: 1 inside, 0 where clamped
    assert np.array_equal(fq.backward_diag(g, g ** 2, False)[1], g ** 2 * inside)
    assert np.array_equal(fq.backward_ggn(np.stack([g, g])), np.stack([g, g]) * inside)
    assert fq.forward_r(None, {}) is None and np.array_equal(fq.forward_r(g, {}), g * inside)
    assert all(np.array_equal(a, g * inside) for a in fq.backward_r(g, g, {}))


def test_quantized_weights_compute_with_w_hat_and_pass_the_masked_gradient(rng):
    layer = nn.Linear(7, 5, rng=0, dtype=np.float64)
    layer.weight.data[0, 0] = 3.0  # an outlier sets the per-tensor range
    clipping = PercentileObserver(percentile=90, bits=3, symmetric=True)  # clamps the outlier
    wrapped = QuantizedWeights(copy.deepcopy(layer), clipping)
    codes, scale, zero = wrapped.weight_qparams()
    w_hat = fake_quantize(layer.weight.data, scale, zero, bits=3, narrow=True)
    plain = copy.deepcopy(layer)
    plain.weight.data = w_hat
    x, g = rng.normal(size=(4, 7)), rng.normal(size=(4, 5))
    assert np.array_equal(wrapped(x), plain(x))
    g_in = wrapped.backward(g)
    assert np.array_equal(g_in, plain.backward(g))
    inside = np.abs(np.rint(layer.weight.data / scale)) <= 3
    assert 0 < inside.mean() < 1
    assert_close([("dE/dw", wrapped.layer.weight.grad, plain.weight.grad * inside),
                  ("dE/db", wrapped.layer.bias.grad, plain.bias.grad)], rtol=0, atol=1e-300)
    assert np.array_equal(wrapped.layer.weight.data, layer.weight.data)  # float weights untouched
    with pytest.raises(NotImplementedError, match="no second-order rule backward_ggn.*straight-through"):
        wrapped.backward_ggn(np.zeros((1, 4, 5)))
    with pytest.raises(NotImplementedError, match="forward_r"):
        wrapped.forward_r(None, {})


def test_the_ste_gradient_is_the_gradient_of_the_surrogate(rng):
    """Float64: the STE treats x ↦ x̂ as the identity inside the range, so the gradient of a
    network with a FakeQuantize equals the finite-difference gradient of the same network
    with the rounding frozen at its forward value (x̂ = x + constant) inside the range."""
    model = nn.Sequential(nn.Linear(6, 5, rng=1, dtype=np.float64), nn.ReLU(),
                          FakeQuantize(observed(np.array([0.0, 0.3])), observing=False),
                          nn.Linear(5, 3, rng=2, dtype=np.float64))
    x, y = rng.normal(size=(10, 6)), rng.integers(0, 3, 10)
    loss = nn.SoftmaxCrossEntropy()
    loss.forward(model(x), y)
    model.zero_grad()
    model.backward(loss.backward())
    h0 = model[1](model[0](x))
    x_hat0 = model[2](h0)
    c, inside = x_hat0 - h0, model[2].cache["inside"]  # the rounding, frozen at this point
    assert 0 < inside.mean() < 1

    def frozen(w):
        first = copy.deepcopy(model[0])
        first.weight.data = w
        h = model[1](first(x))
        return nn.SoftmaxCrossEntropy().forward(model[3](np.where(inside, h + c, x_hat0)), y)

    w0 = model[0].weight.data.copy()
    numeric = np.zeros_like(w0)
    for idx in np.ndindex(w0.shape):
        e = np.zeros_like(w0)
        e[idx] = 1e-6
        numeric[idx] = (frozen(w0 + e) - frozen(w0 - e)) / 2e-6
    assert_close([("dE/dW1", model[0].weight.grad, numeric)], rtol=1e-5, atol=1e-8)


def test_prepare_places_the_modules_and_leaves_the_model_alone():
    net = models.lenet5(rng=0)
    before = net.state_dict()
    fake = prepare(net, per_channel=True)
    kinds = [type(m).__name__ for m in fake.layers]
    assert kinds == ["FakeQuantize", "QuantizedWeights", "ReLU", "FakeQuantize", "MaxPool2d",
                     "QuantizedWeights", "ReLU", "FakeQuantize", "MaxPool2d", "Flatten",
                     "QuantizedWeights", "ReLU", "FakeQuantize", "QuantizedWeights", "FakeQuantize"]
    assert all(np.array_equal(before[k], v) for k, v in net.state_dict().items())
    with pytest.raises(NotImplementedError, match="Tanh \\(layer 1\\) has no integer kernel"):
        prepare(nn.Sequential(nn.Linear(3, 3), nn.Tanh()))
    with pytest.raises(ValueError, match="per tensor or per output channel"):
        QuantizedWeights(nn.Linear(3, 3), MinMaxObserver(axis=1))


def test_calibrate_freezes_the_ranges_and_qat_trains_through_the_rounding(rng):
    x = rng.random((200, 1, 28, 28)).astype(np.float32)
    y = (x.mean(axis=(1, 2, 3)) > 0.5).astype(int)
    net = models.lenet_300_100(rng=0)
    fake = calibrate(prepare(net), x[:100])
    first = [fq.qparams() for fq in fake.modules() if isinstance(fq, FakeQuantize)]
    fake(x[100:] * 3)  # evaluation: ranges stay frozen
    assert [fq.qparams() for fq in fake.modules() if isinstance(fq, FakeQuantize)] == first
    qat = prepare(net, qat=True)
    assert all(isinstance(fq.observer, MovingAverageMinMaxObserver) for fq in qat.modules()
               if isinstance(fq, FakeQuantize))
    history = fit(qat, nn.SoftmaxCrossEntropy(), nn.SGD(qat.parameters(), lr=0.05), x, y,
                  epochs=3, batch_size=20, rng=0, verbose=False)
    assert history["loss"][-1] < history["loss"][0]
    assert not np.array_equal(qat[2].layer.weight.data, net[1].weight.data)  # float weights trained
    codes = qat[2].weight_qparams()[0]
    assert codes.dtype == np.int8 and np.abs(codes).max() == 127  # per-channel narrow int8
