"""Module protocol: naming, modes, state, dtype, the input-gradient skip, determinism."""
import numpy as np
import pytest

from minicompress import nn
from minicompress.bench import build

from .settings import LAYERS, small_cnn


def test_named_parameters_follow_pytorch_names(rng):
    model = small_cnn(rng)
    names = [name for name, _ in model.named_parameters()]
    assert names == ["0.weight", "0.bias", "3.weight", "3.bias", "6.weight", "6.bias"]
    assert [p.name for p in model.parameters()] == names
    assert model[6].weight.shape == (3, 16) and model[0].weight.shape == (3, 1, 3, 3)
    assert model[3].describe() == "Conv2d(3 -> 4, kernel=(2, 2), stride=(2, 2), padding=(1, 1)) at '3'"


def test_nested_sequential_names(rng):
    inner = nn.Sequential(nn.Linear(3, 4, rng=rng), nn.ReLU())
    model = nn.Sequential(inner, nn.Linear(4, 2, rng=rng))
    assert [n for n, _ in model.named_parameters()] == ["0.0.weight", "0.0.bias", "1.weight", "1.bias"]
    assert inner[0].describe().endswith("at '0.0'")


def test_grad_params_skips_only_the_unneeded_input_gradient(rng):
    """Sequential.grad_params must give exactly backward's parameter gradients."""
    model = small_cnn(rng)
    x, y = rng.standard_normal((3, 1, 8, 8)), rng.integers(0, 3, 3)
    loss = nn.SoftmaxCrossEntropy()
    model.zero_grad()
    loss(model(x), y)
    model.backward(loss.backward())
    full = [p.grad.copy() for p in model.parameters()]
    model.zero_grad()
    loss(model(x), y)
    model.grad_params(loss.backward())
    for a, b in zip(full, model.parameters()):
        np.testing.assert_array_equal(a, b.grad)


def test_gradients_accumulate_until_zeroed(rng):
    layer = nn.Linear(3, 2, rng=rng, dtype=np.float64)
    x, g = rng.standard_normal((4, 3)), rng.standard_normal((4, 2))
    layer(x)
    layer.backward(g)
    once = layer.weight.grad.copy()
    layer.backward(g)
    np.testing.assert_allclose(layer.weight.grad, 2 * once)
    layer.zero_grad()
    assert not layer.weight.grad.any()


def test_train_eval_and_state_dict(rng):
    model = small_cnn(rng)
    assert model.eval() is model and not any(m.training for m in model.modules())
    model.train()
    assert all(m.training for m in model.modules())
    state = model.state_dict()
    model[0].weight.mask = np.ones((3, 1, 3, 3))
    other = small_cnn(np.random.default_rng(99))
    other.load_state_dict(model.state_dict())
    x = rng.standard_normal((2, 1, 8, 8))
    np.testing.assert_array_equal(other(x), model(x))
    assert other[0].weight.mask is not None
    state["0.weight"][...] = 7  # a copy: the model is untouched
    assert not np.any(model[0].weight.data == 7)
    with pytest.raises(ValueError, match="missing"):
        other.load_state_dict({})
    bad = model.state_dict()
    bad["6.weight"] = np.zeros((2, 2))
    with pytest.raises(ValueError, match=r"6.weight.*\(3, 16\).*\(2, 2\)"):
        other.load_state_dict(bad)


@pytest.mark.parametrize("make, shape", [s[1:] for s in LAYERS], ids=[s[0] for s in LAYERS])
def test_float32_in_float32_out(make, shape, rng):
    layer = make(rng).astype(np.float32)
    x = rng.standard_normal(shape).astype(np.float32)
    y = layer(x)
    g = layer.backward(np.ones_like(y))
    assert y.dtype == g.dtype == np.float32
    assert all(p.data.dtype == p.grad.dtype == np.float32 for p in layer.parameters())


def test_astype_round_trip(rng):
    model = small_cnn(rng, dtype=np.float32)
    x = rng.standard_normal((2, 1, 8, 8))
    y32 = model(x.astype(np.float32))
    y64 = model.astype(np.float64)(x)
    assert y64.dtype == np.float64
    np.testing.assert_allclose(y32, y64, rtol=1e-4, atol=1e-5)
    with pytest.raises(TypeError, match="floating"):
        model.astype(np.int32)


def test_same_seed_same_bits_after_training_steps():
    """Two LeNet-5s built and trained from the same seeds agree to the last bit."""
    def run():
        model = build("LeNet-5 (20-50-500)", rng=3)
        rng = np.random.default_rng(4)
        x, y = rng.random((16, 1, 28, 28), dtype=np.float32), rng.integers(0, 10, 16)
        opt, loss = nn.Adam(model.parameters(), lr=1e-3), nn.SoftmaxCrossEntropy()
        for _ in range(3):
            model.zero_grad()
            loss(model(x), y)
            model.grad_params(loss.backward())
            opt.step()
        return [p.data for p in model.parameters()]
    for a, b in zip(run(), run()):
        assert a.tobytes() == b.tobytes()


def test_init_is_reproducible_and_seeds_differ():
    a, b, c = nn.Linear(10, 5, rng=1), nn.Linear(10, 5, rng=1), nn.Linear(10, 5, rng=2)
    assert a.weight.data.tobytes() == b.weight.data.tobytes() != c.weight.data.tobytes()
    bound = 1 / np.sqrt(10)
    assert np.abs(a.weight.data).max() <= bound and a.weight.data.dtype == np.float32
