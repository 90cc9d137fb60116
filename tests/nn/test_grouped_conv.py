"""Grouped and depthwise convolution (Conv2d(..., groups=g)): against a loop over groups of
ordinary convolutions, against the direct definition, and every second-order rule against the
same independent references as Conv2d (dense Jacobians and Hessians by finite differences,
float64). First derivatives by finite differences run in test_gradients over the grouped
settings in settings.py."""
import numpy as np
import pytest

from minicompress import metrics, nn
from minicompress.nn import curvature as cv
from minicompress.nn.gradcheck import assert_close, numerical_hessian, numerical_hvp

from .curvature_reference import jacobian, lecun_loop, output_hessian

F64 = dict(dtype=np.float64)
CASES = [  # in, out, kernel, stride, padding, groups, input shape
    (4, 6, 3, 1, 0, 2, (2, 4, 6, 5)),
    (3, 3, (3, 1), (2, 1), (1, 0), 3, (2, 3, 5, 4)),
    (2, 6, (1, 2), 1, 1, 2, (3, 2, 4, 3)),
    (6, 3, 2, 2, 1, 3, (2, 6, 5, 5)),
]


def per_group_convs(conv):
    """The g ordinary convolutions a grouped one stands for, holding its weight slices."""
    g, c, o = conv.groups, conv.in_channels // conv.groups, conv.out_channels // conv.groups
    out = []
    for q in range(g):
        part = nn.Conv2d(c, o, conv.kernel_size, conv.stride, conv.padding,
                         bias=conv.bias is not None, rng=0, dtype=conv.weight.data.dtype)
        part.weight.data = conv.weight.data[q * o:(q + 1) * o].copy()
        if conv.bias is not None:
            part.bias.data = conv.bias.data[q * o:(q + 1) * o].copy()
        out.append(part)
    return out


@pytest.mark.parametrize("case", CASES)
def test_grouped_equals_a_loop_over_groups_of_ordinary_convs(case, rng):
    """Forward, input gradient and parameter gradients."""
    c_in, c_out, k, s, p, g, shape = case
    conv = nn.Conv2d(c_in, c_out, k, s, p, groups=g, rng=rng, **F64)
    parts = per_group_convs(conv)
    x = rng.standard_normal(shape)
    y = conv(x)
    ci, co = c_in // g, c_out // g
    y_ref = np.concatenate([part(x[:, q * ci:(q + 1) * ci]) for q, part in enumerate(parts)], axis=1)
    np.testing.assert_allclose(y, y_ref, rtol=1e-13, atol=1e-13)
    g_out = rng.standard_normal(y.shape)
    g_in = conv.backward(g_out)
    g_in_ref = np.concatenate([part.backward(g_out[:, q * co:(q + 1) * co])
                               for q, part in enumerate(parts)], axis=1)
    np.testing.assert_allclose(g_in, g_in_ref, rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(conv.weight.grad, np.concatenate([q.weight.grad for q in parts]),
                               rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(conv.bias.grad, np.concatenate([q.bias.grad for q in parts]),
                               rtol=1e-13, atol=1e-13)


def test_depthwise_matches_the_direct_definition(rng):
    """y[n,o,r,s] = b[o] + Σ_{c',i,j} W[o,c',i,j] x_pad[n, q·c/g + c', r·sh+i, s·sw+j] by loops."""
    conv = nn.Conv2d(4, 8, (3, 2), stride=(2, 1), padding=(1, 1), groups=4, rng=0, **F64)
    x = rng.standard_normal((2, 4, 5, 4))
    y = conv(x)
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    W, b = conv.weight.data, conv.bias.data
    assert W.shape == (8, 1, 3, 2)
    for n, o, r, s in np.ndindex(*y.shape):
        q = o // 2
        ref = b[o] + np.sum(W[o] * xp[n, q:q + 1, 2 * r:2 * r + 3, s:s + 2])
        assert np.isclose(y[n, o, r, s], ref, rtol=1e-12, atol=1e-12)


def test_groups_one_is_the_plain_gemm_bit_for_bit(rng):
    """groups=1 keeps the original code path: y = W_mat @ im2col(x) exactly."""
    from minicompress.nn.im2col import im2col
    conv = nn.Conv2d(3, 4, 3, padding=1, rng=0)
    x = rng.standard_normal((2, 3, 5, 5)).astype(np.float32)
    cols = im2col(x, (3, 3), (1, 1), (1, 1))
    ref = conv.weight.data.reshape(4, -1) @ cols + conv.bias.data[:, None]
    np.testing.assert_array_equal(conv(x), ref.reshape(4, 5, 5, 2).transpose(3, 0, 1, 2))


def grouped_cnn(rng, activation=nn.Tanh):
    """conv - act - depthwise conv (stride, pad) - act - grouped 1×1 conv - flatten - linear."""
    return nn.Sequential(
        nn.Conv2d(1, 4, 2, rng=rng, **F64), activation(),
        nn.Conv2d(4, 4, 3, stride=2, padding=1, groups=4, rng=rng, **F64), activation(),
        nn.Conv2d(4, 2, 1, groups=2, rng=rng, **F64), nn.Flatten(),
        nn.Linear(2 * 3 * 3, 3, rng=rng, **F64))


LOSSES = [nn.SoftmaxCrossEntropy("mean"), nn.MSELoss("sum")]


def targets(loss, rng, n):
    return rng.integers(0, 3, n) if isinstance(loss, nn.SoftmaxCrossEntropy) else rng.standard_normal((n, 3))


def flat(arrays):
    return np.concatenate([a.ravel() for a in arrays])


@pytest.mark.parametrize("loss", LOSSES, ids=["ce", "mse"])
def test_grouped_hvp_and_hessian_match_finite_differences(loss, rng):
    model, x = grouped_cnn(rng), rng.standard_normal((3, 1, 6, 6))
    y = targets(loss, rng, 3)
    v = [rng.standard_normal(p.shape) for p in model.parameters()]
    assert_close([("Hv", flat(cv.hvp(model, loss, x, y, v)), flat(numerical_hvp(model, loss, x, y, v)))],
                 rtol=1e-5, atol=1e-8)
    H = cv.hessian(model, loss, x, y)
    np.testing.assert_allclose(H, H.T, atol=1e-12)
    assert_close([("H", H, numerical_hessian(model, loss, x, y))], rtol=1e-5, atol=1e-8)


@pytest.mark.parametrize("chunk_images", [None, 1, 2])
@pytest.mark.parametrize("loss", LOSSES, ids=["ce", "mse"])
def test_grouped_diag_ggn_matches_jt_h_j(loss, chunk_images, rng, monkeypatch):
    """Also with the per-example gradients formed one or two images at a time."""
    from minicompress.nn import conv
    model, x = grouped_cnn(rng, nn.Sigmoid), rng.standard_normal((5, 1, 6, 6))
    y = targets(loss, rng, 5)
    if chunk_images is not None:  # the depthwise layer: 3 columns, 4 outputs, 9 entries per filter
        monkeypatch.setattr(conv, "GGN_CHUNK_FLOATS", chunk_images * 3 * 4 * 9)
    ggn = flat(cv.diag_ggn(model, loss, x, y))
    z = model(x)
    J = np.concatenate([jacobian(lambda: model(x), p.data) for p in model.parameters()], axis=1)
    J = J.reshape(len(x), z.shape[1], -1)
    reference = np.einsum("ncp,ncd,ndp->p", J, output_hessian(loss, z), J)
    assert_close([("diag GGN", ggn, reference)], rtol=1e-6, atol=1e-10)


@pytest.mark.parametrize("gauss_newton", [True, False])
def test_grouped_lecun_equals_the_slow_loop_recursion(gauss_newton, rng):
    model, x = grouped_cnn(rng, nn.ScaledTanh), rng.standard_normal((2, 1, 6, 6))
    loss = nn.SoftmaxCrossEntropy("sum")
    y = targets(loss, rng, 2)
    ours = cv.diag_lecun(model, loss, x, y, gauss_newton=gauss_newton)
    reference = lecun_loop(model, loss, x, y, gauss_newton)
    assert_close([(p.name, a, b) for p, a, b in zip(model.parameters(), ours, reference)],
                 rtol=1e-5, atol=1e-9)


def test_grouped_lecun_exact_for_a_single_grouped_conv_with_mse(rng):
    model = nn.Sequential(nn.Conv2d(4, 6, 3, stride=2, padding=1, groups=2, rng=rng, **F64),
                          nn.Flatten())
    x, loss = rng.standard_normal((2, 4, 5, 5)), nn.MSELoss()
    y = rng.standard_normal((2, 54))
    exact = cv.diag_hessian(model, loss, x, y)
    ours = cv.diag_lecun(model, loss, x, y, gauss_newton=True)
    assert_close([(p.name, a, b) for p, a, b in zip(model.parameters(), ours, exact)], 1e-8, 1e-12)


def test_grouped_ggn_equals_exact_diagonal_for_relu(rng):
    model, x = grouped_cnn(rng, nn.ReLU), rng.standard_normal((3, 1, 6, 6))
    loss = nn.SoftmaxCrossEntropy()
    y = targets(loss, rng, 3)
    assert_close(list(zip([p.name for p in model.parameters()], cv.diag_ggn(model, loss, x, y),
                          cv.diag_hessian(model, loss, x, y))), rtol=1e-8, atol=1e-12)


def test_macs_account_for_groups():
    """o·(c/g)·kh·kw·oh·ow: a depthwise 3×3 on 8 channels costs 1/8 of the dense conv."""
    dense = nn.Conv2d(8, 8, 3, rng=0)
    depthwise = nn.Conv2d(8, 8, 3, groups=8, rng=0)
    assert dense.macs((8, 4, 4)) == 8 * 8 * 9 * 16
    assert depthwise.macs((8, 4, 4)) == 8 * 1 * 9 * 16
    assert metrics.flops(nn.Sequential(depthwise), (8, 6, 6))["dense"] == 8 * 9 * 16


def test_bad_groups_give_clear_errors():
    with pytest.raises(ValueError, match=r"groups must divide.*groups=2.*in_channels=3"):
        nn.Conv2d(3, 4, 3, groups=2)
    with pytest.raises(ValueError, match=r"groups must divide.*out_channels=3"):
        nn.Conv2d(4, 3, 3, groups=2)
    with pytest.raises((ValueError, TypeError), match="groups"):
        nn.Conv2d(4, 4, 3, groups=0)
    conv = nn.Conv2d(4, 4, 3, groups=2, rng=0)
    with pytest.raises(ValueError, match=r"groups=2.*expected input of shape \(n, 4, h, w\)"):
        conv(np.zeros((1, 2, 5, 5), np.float32))


def test_grouped_conv_round_trips_through_save_and_load(tmp_path, rng):
    model = nn.Sequential(nn.Conv2d(4, 6, 3, groups=2, rng=rng), nn.ReLU(), nn.Flatten())
    loaded = nn.load(nn.save(model, tmp_path / "g.npz"))
    x = rng.standard_normal((2, 4, 5, 5)).astype(np.float32)
    assert loaded[0].groups == 2 and repr(loaded) == repr(model)
    np.testing.assert_array_equal(loaded(x), model(x))
