"""Jacob et al. 2018, the method: post-training quantization and QAT end in an integer model whose
arithmetic is the paper's (Eq. 7-8, int32 bias with S_bias = S₁S₂), its operation count, and the
int8 model agreeing with the float model it came from."""
import numpy as np
import pytest

from minicompress import models, nn
from minicompress.papers.jacob2018_integer_inference import (integer_ops, post_training,
                                                             quantization_aware, to_integer)
from minicompress.quant import MovingAverageMinMaxObserver
from minicompress.quant.integer_model import IntegerGemm
from minicompress.quant.qat import FakeQuantize, QuantizedWeights
from minicompress.train import fit


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    x = rng.random((300, 1, 28, 28)).astype(np.float32) ** 2
    y = (x[:, 0, 10:18, 10:18].mean(axis=(1, 2)) * 30).astype(int) % 10
    return x, y


@pytest.mark.parametrize("per_channel", [True, False])
def test_post_training_gives_the_papers_integer_layers(data, per_channel):
    x, _ = data
    net = models.lenet_300_100(rng=0)
    fake, model = post_training(net, x[:100], per_channel=per_channel)
    gemms = [layer for layer in model.layers if isinstance(layer, IntegerGemm)]
    assert len(gemms) == 3 and all(g.weight.dtype == np.int8 for g in gemms)
    wrappers = [m for m in fake.layers if isinstance(m, QuantizedWeights)]
    for layer, wrapper in zip(gemms, wrappers):
        codes, scale, zero = wrapper.weight_qparams()
        inner = wrapper.layer
        assert np.array_equal(layer.weight, codes.reshape(len(codes), -1))
        assert np.all(zero == 0) and np.abs(codes).max() == 127  # symmetric, narrow int8
        assert np.size(scale) == (inner.out_features if per_channel else 1)
        s_bias = layer.x_scale * np.broadcast_to(scale, (inner.out_features,))
        assert np.array_equal(layer.bias, np.rint(inner.bias.data / s_bias).astype(np.int32))  # S₁S₂
    predicted = model.predict(x)
    float_predicted = net.eval()(x).argmax(axis=1)
    assert np.mean(predicted == float_predicted) > 0.95  # 8 bits change few decisions


def test_integer_ops_count_the_multiply_accumulates(data):
    x, _ = data
    _, model = post_training(models.lenet_300_100(rng=1), x[:50])
    ops = integer_ops(model, (1, 28, 28))
    assert ops == dict(int8_macs=784 * 300 + 300 * 100 + 100 * 10, requantize_ops=4 * (300 + 100 + 10))
    _, cnn = post_training(models.small_lenet(rng=1, channels=(4, 8, 20)), x[:50])
    assert integer_ops(cnn, (1, 28, 28))["int8_macs"] == 4 * 25 * 24 * 24 + 8 * 4 * 25 * 8 * 8 + 128 * 20 + 200


def test_quantization_aware_training_trains_and_converts(data):
    x, y = data
    net = models.lenet_300_100(rng=2)
    qat = quantization_aware(net, weight_bits=4, per_channel=False)
    assert all(isinstance(m.observer, MovingAverageMinMaxObserver) for m in qat.modules() if isinstance(m, FakeQuantize))
    history = fit(qat, nn.SoftmaxCrossEntropy(), nn.SGD(qat.parameters(), lr=0.05, momentum=0.9), x, y,
                  epochs=3, batch_size=30, rng=0, verbose=False)
    assert history["loss"][-1] < history["loss"][0]
    model = to_integer(qat)
    assert all(np.abs(g.weight).max() <= 7 for g in model.layers if isinstance(g, IntegerGemm))  # 4-bit
    q = model.quantize_input(x)
    assert np.array_equal(model.forward(q), model.simulate(q))
