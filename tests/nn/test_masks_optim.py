"""Masks in forward, gradient and optimizer step; optimizer updates against their formulas."""
import numpy as np
import pytest

from minicompress import nn

from .settings import small_cnn


def test_mask_in_forward(rng):
    layer = nn.Linear(4, 3, rng=rng, dtype=np.float64)
    mask = rng.random((3, 4)) > 0.5
    x = rng.standard_normal((2, 4))
    layer.weight.mask = mask
    np.testing.assert_allclose(layer(x), x @ (layer.weight.data * mask).T + layer.bias.data)


@pytest.mark.parametrize("make_optimizer", [
    lambda ps: nn.SGD(ps, lr=0.1),
    lambda ps: nn.SGD(ps, lr=0.1, momentum=0.9, weight_decay=0.01),
    lambda ps: nn.SGD(ps, lr=0.1, momentum=0.9, nesterov=True),
    lambda ps: nn.Adam(ps, lr=0.01, weight_decay=0.1),
], ids=["sgd", "sgd-momentum-wd", "nesterov", "adam-wd"])
def test_masked_weights_never_change(make_optimizer, rng):
    model = small_cnn(rng, dtype=np.float32)
    masks = [rng.random(p.shape) > 0.5 for p in model.parameters()]
    for m in masks:
        m.flat[0], m.flat[-1] = True, False  # some kept and some pruned in every parameter
    opt = make_optimizer(model.parameters())
    loss = nn.SoftmaxCrossEntropy()
    x, y = rng.standard_normal((4, 1, 8, 8)).astype(np.float32), rng.integers(0, 3, 4)
    for step in range(4):
        if step == 1:  # masks applied after momentum has built up
            for p, m in zip(model.parameters(), masks):
                p.mask = m
            before = [p.data.copy() for p in model.parameters()]
        model.zero_grad()
        loss(model(x), y)
        model.grad_params(loss.backward())
        opt.step()
    for p, m, old in zip(model.parameters(), masks, before):
        assert np.array_equal(p.data[~m], old[~m])  # stored values untouched
        assert not np.any(p.value()[~m])  # effective weights exactly zero
        assert not np.any(p.grad[~m])
        assert np.any(p.data[m] != old[m])  # the others did train


def test_sgd_matches_formula(rng):
    p = nn.Parameter(rng.standard_normal(5))
    w0 = p.data.copy()
    opt = nn.SGD([p], lr=0.1, momentum=0.9, weight_decay=0.01)
    g1, g2 = rng.standard_normal(5), rng.standard_normal(5)
    p.grad[...] = g1
    opt.step()
    v1 = g1 + 0.01 * w0
    np.testing.assert_allclose(p.data, w0 - 0.1 * v1)
    w1 = p.data.copy()
    p.grad[...] = g2
    opt.step()
    v2 = 0.9 * v1 + g2 + 0.01 * w1
    np.testing.assert_allclose(p.data, w1 - 0.1 * v2)


def test_nesterov_matches_formula(rng):
    """PyTorch's Nesterov form: v ← μv + g, w ← w − η(g + μv)."""
    p = nn.Parameter(rng.standard_normal(5))
    w, v = p.data.copy(), np.zeros(5)
    opt = nn.SGD([p], lr=0.1, momentum=0.9, nesterov=True)
    for _ in range(3):
        g = rng.standard_normal(5)
        p.grad[...] = g
        opt.step()
        v = 0.9 * v + g
        w = w - 0.1 * (g + 0.9 * v)
        np.testing.assert_allclose(p.data, w, rtol=1e-12)


def test_adam_matches_formula(rng):
    p = nn.Parameter(rng.standard_normal(4))
    w, m, v = p.data.copy(), np.zeros(4), np.zeros(4)
    opt = nn.Adam([p], lr=0.01)
    for t in range(1, 4):
        g = rng.standard_normal(4)
        p.grad[...] = g
        opt.step()
        m, v = 0.9 * m + 0.1 * g, 0.999 * v + 0.001 * g * g
        w = w - 0.01 * (m / (1 - 0.9 ** t)) / (np.sqrt(v / (1 - 0.999 ** t)) + 1e-8)
        np.testing.assert_allclose(p.data, w, rtol=1e-12)


def test_optimizer_bad_arguments(rng):
    ps = [nn.Parameter(np.zeros(3))]
    for kwargs, match in [(dict(lr=-1), "lr"), (dict(lr=float("nan")), "lr"),
                          (dict(lr=0.1, momentum=1.0), "momentum"),
                          (dict(lr=0.1, weight_decay=-1), "weight_decay"),
                          (dict(lr=0.1, nesterov=True), "nesterov")]:
        with pytest.raises(ValueError, match=match):
            nn.SGD(ps, **kwargs)
    with pytest.raises(ValueError, match="empty"):
        nn.SGD([], lr=0.1)
    with pytest.raises(TypeError, match="not a Parameter"):
        nn.Adam([np.zeros(3)])
    with pytest.raises(ValueError, match="more than once"):
        nn.Adam(ps + ps)


def test_mask_validation():
    p = nn.Parameter(np.zeros((2, 3)), "w")
    with pytest.raises(ValueError, match=r"mask of shape \(3, 2\) does not match data of shape \(2, 3\)"):
        p.mask = np.ones((3, 2))
    with pytest.raises(ValueError, match="0 and 1"):
        p.mask = np.full((2, 3), 0.5)
    p.mask = np.ones((2, 3), bool)
    assert p.mask.dtype == np.float64
