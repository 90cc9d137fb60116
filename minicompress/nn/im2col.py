"""im2col / col2im: a convolution as one matrix product.

A convolution of x (n, c, h, w) with W (o, c, kh, kw) computes, for every output pixel, the dot
product of W with one kh×kw window of x. ``im2col`` copies every window into a column of

    cols (c·kh·kw, oh·ow·n)        row = (channel, kernel row, kernel col)
                                   column = (output row, output col, image)

so that y = W.reshape(o, c·kh·kw) @ cols is one large, fast GEMM. ``col2im`` is its adjoint: it
adds every column back into the window it came from (windows overlap, so values accumulate).

Layout choice: the image index n is the *last* (fastest) axis of the columns, as in
Krizhevsky's cuda-convnet ("CHWN"). Then the copy for a kernel offset (i, j) moves runs of n
(or ow·n) contiguous numbers, and NumPy's per-row overhead stays small even for 8×8 feature
maps; with n first, col2im spends most of its time on rows of 8 numbers. The price is one
transpose of x on the way in (cheap, into a padded buffer) and of y on the way out.

The loops are over the kh·kw kernel offsets only, never over images or output pixels.
``im2col_loop`` and ``col2im_loop`` are the readable definitions the tests compare against.
"""
from __future__ import annotations

import numpy as np


def conv_output_size(size: int, kernel: int, stride: int, padding: int) -> int:
    """⌊(size + 2·padding − kernel) / stride⌋ + 1 (0 or less: the kernel does not fit)."""
    return (size + 2 * padding - kernel) // stride + 1


def _buffer(buffers, key, shape, dtype, zero: bool):
    """A scratch array from ``buffers[key]`` when one of the right size exists, else a new one
    (stored there). Reusing large scratch arrays every step avoids fresh page faults."""
    out = None if buffers is None else buffers.get(key)
    if out is None or out.size != np.prod(shape) or out.dtype != dtype:
        out = np.empty(shape, dtype)
        if buffers is not None:
            buffers[key] = out
    out = out.reshape(shape)
    if zero:
        out.fill(0)
    return out


def im2col(x: np.ndarray, kernel: tuple, stride: tuple, padding: tuple, *,
           buffers: dict | None = None) -> np.ndarray:
    """Windows of x as columns.

    Parameters
    ----------
    x : ndarray (n, c, h, w)
    kernel, stride, padding : (int, int)
        (kh, kw), (sh, sw), (ph, pw); zero padding on both sides.
    buffers : dict, optional
        Scratch space kept by the caller between calls: the padded input and the columns are
        written into ``buffers["x_padded"]`` and ``buffers["cols"]``, reused when the sizes
        match. The returned ``cols`` is then a view of that buffer, overwritten by the next call.

    Returns
    -------
    cols : ndarray (c·kh·kw, oh·ow·n)
    """
    n, c, h, w = x.shape
    (kh, kw), (sh, sw), (ph, pw) = kernel, stride, padding
    oh, ow = conv_output_size(h, kh, sh, ph), conv_output_size(w, kw, sw, pw)
    xp = _buffer(buffers, "x_padded", (c, h + 2 * ph, w + 2 * pw, n), x.dtype, zero=False)
    if ph or pw:  # zero only the border: the interior is overwritten just below
        xp[:, :ph], xp[:, h + ph:], xp[:, :, :pw], xp[:, :, w + pw:] = 0, 0, 0, 0
    xp[:, ph:ph + h, pw:pw + w] = x.transpose(1, 2, 3, 0)  # (c, h+2ph, w+2pw, n)
    cols = _buffer(buffers, "cols", (c, kh, kw, oh, ow, n), x.dtype, zero=False)
    for i in range(kh):
        for j in range(kw):
            cols[:, i, j] = xp[:, i:i + sh * oh:sh, j:j + sw * ow:sw]  # (c, oh, ow, n)
    return cols.reshape(c * kh * kw, oh * ow * n)


def col2im(cols: np.ndarray, x_shape: tuple, kernel: tuple, stride: tuple, padding: tuple, *,
           buffers: dict | None = None) -> np.ndarray:
    """Adjoint of :func:`im2col`: add every column back into its window.

    Parameters
    ----------
    cols : ndarray (c·kh·kw, oh·ow·n)
    x_shape : (n, c, h, w)
    kernel, stride, padding : (int, int)
    buffers : dict, optional
        Scratch space kept by the caller: the accumulation happens in ``buffers["g_padded"]``.

    Returns
    -------
    x : ndarray (n, c, h, w), a new array
        x[n, c, r, s] = Σ over the windows (i, j, oh, ow) that contain pixel (r, s).
    """
    n, c, h, w = x_shape
    (kh, kw), (sh, sw), (ph, pw) = kernel, stride, padding
    oh, ow = conv_output_size(h, kh, sh, ph), conv_output_size(w, kw, sw, pw)
    cols = cols.reshape(c, kh, kw, oh, ow, n)
    xp = _buffer(buffers, "g_padded", (c, h + 2 * ph, w + 2 * pw, n), cols.dtype, zero=True)
    for i in range(kh):
        for j in range(kw):
            xp[:, i:i + sh * oh:sh, j:j + sw * ow:sw] += cols[:, i, j]
    return xp[:, ph:ph + h, pw:pw + w].transpose(3, 0, 1, 2).copy()  # never a view of xp


def im2col_loop(x: np.ndarray, kernel: tuple, stride: tuple, padding: tuple) -> np.ndarray:
    """Readable reference for :func:`im2col`: one window at a time."""
    n, c, h, w = x.shape
    (kh, kw), (sh, sw), (ph, pw) = kernel, stride, padding
    oh, ow = conv_output_size(h, kh, sh, ph), conv_output_size(w, kw, sw, pw)
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    cols = np.zeros((c * kh * kw, oh, ow, n), x.dtype)
    for b in range(n):
        for r in range(oh):
            for s in range(ow):
                window = xp[b, :, r * sh:r * sh + kh, s * sw:s * sw + kw]  # (c, kh, kw)
                cols[:, r, s, b] = window.ravel()
    return cols.reshape(c * kh * kw, oh * ow * n)


def col2im_loop(cols: np.ndarray, x_shape: tuple, kernel: tuple, stride: tuple,
                padding: tuple) -> np.ndarray:
    """Readable reference for :func:`col2im`: add one window at a time."""
    n, c, h, w = x_shape
    (kh, kw), (sh, sw), (ph, pw) = kernel, stride, padding
    oh, ow = conv_output_size(h, kh, sh, ph), conv_output_size(w, kw, sw, pw)
    cols = cols.reshape(c * kh * kw, oh, ow, n)
    xp = np.zeros((n, c, h + 2 * ph, w + 2 * pw), cols.dtype)
    for b in range(n):
        for r in range(oh):
            for s in range(ow):
                xp[b, :, r * sh:r * sh + kh, s * sw:s * sw + kw] += cols[:, r, s, b].reshape(c, kh, kw)
    return xp[:, :, ph:ph + h, pw:pw + w].copy()
