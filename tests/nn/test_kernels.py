"""Vectorized kernels against their readable loop references (exact equality)."""
import numpy as np
import pytest

from minicompress import nn
from minicompress.nn.im2col import col2im, col2im_loop, im2col, im2col_loop
from minicompress.nn.pool import max_pool_backward_loop, max_pool_loop

CONV_CASES = [  # x shape, kernel, stride, padding
    ((2, 3, 6, 5), (3, 3), (1, 1), (0, 0)),
    ((1, 1, 7, 7), (2, 2), (2, 2), (0, 0)),
    ((3, 2, 5, 8), (3, 2), (2, 3), (1, 2)),
    ((2, 4, 4, 4), (1, 1), (1, 1), (0, 0)),
    ((2, 2, 3, 3), (3, 3), (1, 1), (2, 2)),
    ((4, 1, 9, 6), (4, 3), (3, 1), (1, 0)),
]


@pytest.mark.parametrize("shape, kernel, stride, padding", CONV_CASES)
def test_im2col_equals_loop(shape, kernel, stride, padding, rng):
    x = rng.standard_normal(shape).astype(np.float32)
    fast = im2col(x, kernel, stride, padding)
    assert fast.dtype == np.float32
    np.testing.assert_array_equal(fast, im2col_loop(x, kernel, stride, padding))


@pytest.mark.parametrize("shape, kernel, stride, padding", CONV_CASES)
def test_col2im_equals_loop_and_is_adjoint(shape, kernel, stride, padding, rng):
    x = rng.standard_normal(shape)
    cols = rng.standard_normal(im2col(x, kernel, stride, padding).shape)
    back = col2im(cols, shape, kernel, stride, padding)
    np.testing.assert_allclose(back, col2im_loop(cols, shape, kernel, stride, padding), rtol=1e-12)
    # <im2col(x), cols> == <x, col2im(cols)>: col2im is the transpose of im2col
    assert np.isclose(np.vdot(im2col(x, kernel, stride, padding), cols), np.vdot(x, back))


def test_buffers_are_reused_and_results_stay_correct(rng):
    buffers = {}
    x1, x2 = rng.standard_normal((2, 2, 5, 5)), rng.standard_normal((2, 2, 5, 5))
    c1 = im2col(x1, (3, 3), (1, 1), (1, 1), buffers=buffers).copy()
    first = buffers["cols"]
    c2 = im2col(x2, (3, 3), (1, 1), (1, 1), buffers=buffers)
    assert buffers["cols"] is first  # same memory, new content
    np.testing.assert_array_equal(c1, im2col_loop(x1, (3, 3), (1, 1), (1, 1)))
    np.testing.assert_array_equal(c2, im2col_loop(x2, (3, 3), (1, 1), (1, 1)))
    g1 = col2im(c1, x1.shape, (3, 3), (1, 1), (1, 1), buffers=buffers)
    g2 = col2im(c1, x1.shape, (3, 3), (1, 1), (1, 1), buffers=buffers)
    np.testing.assert_array_equal(g1, g2)  # accumulation buffer is cleared, result not a view


def test_conv_matches_direct_definition(rng):
    """y[n,o,r,s] = b[o] + Σ W[o,c,i,j] x_pad[n,c,r·sh+i,s·sw+j], summed with plain loops."""
    conv = nn.Conv2d(2, 3, (3, 2), stride=(2, 1), padding=(1, 1), rng=0, dtype=np.float64)
    x = rng.standard_normal((2, 2, 5, 4))
    y = conv(x)
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    W, b = conv.weight.data, conv.bias.data
    for n, o, r, s in np.ndindex(*y.shape):
        ref = b[o] + np.sum(W[o] * xp[n, :, 2 * r:2 * r + 3, s:s + 2])
        assert np.isclose(y[n, o, r, s], ref)


MAXPOOL_CASES = [  # x shape, kernel, stride
    ((2, 3, 6, 4), (2, 2), (2, 2)),
    ((2, 2, 7, 7), (3, 3), (2, 2)),
    ((1, 2, 5, 7), (2, 3), (1, 2)),
    ((3, 1, 5, 5), (5, 5), (1, 1)),
    ((2, 2, 7, 5), (2, 2), (2, 2)),  # disjoint windows (one scatter), floor mode drops a row and a column
    ((1, 2, 8, 9), (2, 2), (3, 3)),  # disjoint with gaps between the windows
    ((2, 1, 6, 6), (3, 2), (3, 2)),  # disjoint, rectangular
]


@pytest.mark.parametrize("shape, kernel, stride", MAXPOOL_CASES)
def test_max_pool_equals_loop(shape, kernel, stride, rng):
    x = rng.standard_normal(shape).astype(np.float32)
    pool = nn.MaxPool2d(kernel, stride)
    y = pool(x)
    y_ref, argmax = max_pool_loop(x, kernel, stride)
    np.testing.assert_array_equal(y, y_ref)
    g = rng.standard_normal(y.shape).astype(np.float32)
    g_in = pool.backward(g)
    assert g_in.dtype == np.float32
    np.testing.assert_allclose(g_in, max_pool_backward_loop(g, argmax, shape, kernel, stride),
                               rtol=1e-6)


@pytest.mark.parametrize("shape, kernel, stride", MAXPOOL_CASES)
def test_max_pool_ties_go_to_first_maximum(shape, kernel, stride, rng):
    """Integer-valued inputs make ties common (as zeros after a ReLU do): each output's
    gradient must reach exactly one input, the first maximum in row-major window order."""
    x = rng.integers(0, 3, shape).astype(np.float64)
    pool = nn.MaxPool2d(kernel, stride)
    y = pool(x)
    _, argmax = max_pool_loop(x, kernel, stride)
    g = rng.standard_normal(y.shape)
    np.testing.assert_allclose(pool.backward(g), max_pool_backward_loop(g, argmax, shape, kernel, stride))
    assert np.isclose(pool.backward(g).sum(), g.sum())  # nothing duplicated, nothing lost


@pytest.mark.parametrize("shape, kernel, stride", MAXPOOL_CASES)
def test_max_pool_routes_leading_columns_like_the_loop(shape, kernel, stride, rng):
    """The GGN pass routes (m, n, c, oh, ow): each of the m columns as the loop routes it."""
    x = rng.integers(0, 3, shape).astype(np.float64)  # ties
    pool = nn.MaxPool2d(kernel, stride)
    y = pool(x)
    _, argmax = max_pool_loop(x, kernel, stride)
    s = rng.standard_normal((3, *y.shape))
    routed = pool.backward_ggn(s)
    assert routed.shape == (3, *shape)
    for c in range(3):
        np.testing.assert_allclose(routed[c], max_pool_backward_loop(s[c], argmax, shape, kernel, stride),
                                   rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("shape, kernel, stride", MAXPOOL_CASES)
def test_avg_pool_equals_loop(shape, kernel, stride, rng):
    x = rng.standard_normal(shape)
    pool = nn.AvgPool2d(kernel, stride)
    y = pool(x)
    n, c, _, _ = shape
    ref = np.zeros_like(y)
    for b, ch, r, s in np.ndindex(*y.shape):
        ref[b, ch, r, s] = x[b, ch, r * stride[0]:r * stride[0] + kernel[0],
                             s * stride[1]:s * stride[1] + kernel[1]].mean()
    np.testing.assert_allclose(y, ref, rtol=1e-12)
    g = rng.standard_normal(y.shape)
    g_ref = np.zeros(shape)
    for b, ch, r, s in np.ndindex(*y.shape):
        g_ref[b, ch, r * stride[0]:r * stride[0] + kernel[0],
              s * stride[1]:s * stride[1] + kernel[1]] += g[b, ch, r, s] / (kernel[0] * kernel[1])
    np.testing.assert_allclose(pool.backward(g), g_ref, rtol=1e-12)
