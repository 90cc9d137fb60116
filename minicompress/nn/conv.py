"""2-D convolution (cross-correlation, as in every deep-learning library), NCHW.

Index conventions: n batch, c input channel, o output channel, (h, w) input and (oh, ow) output
pixels, (i, j) kernel offset. W (o, c, kh, kw), b (o,).

    y[n, o, r, s] = b[o] + Σ_{c,i,j} W[o, c, i, j] · x_pad[n, c, r·sh + i, s·sw + j]

computed as one matrix product on the columns of :func:`~minicompress.nn.im2col.im2col`.

Grouped convolution (``groups=g``, as PyTorch): the c input and o output channels are split into
g contiguous groups, and output group q sees only input group q, so W is (o, c/g, kh, kw) and

    y[n, o, r, s] = b[o] + Σ_{c', i, j} W[o, c', i, j] · x_pad[n, q·c/g + c', r·sh + i, s·sw + j]

with q = ⌊o / (o/g)⌋ the group of output channel o.

Depthwise is g = c. The rows of im2col's columns are ordered (channel, i, j), so the columns of
group q are the contiguous block of rows q·k … (q+1)·k − 1, k = c/g·kh·kw, and every product
below becomes g independent products, one per group (a batched GEMM). With g = 1 each is the
plain GEMM, exactly as without groups.
"""
from __future__ import annotations

import numpy as np

from minicompress.nn import init
from minicompress.nn.checks import check_grad_out, check_input, pair, positive_int
from minicompress.nn.im2col import col2im, conv_output_size, im2col
from minicompress.nn.module import Module
from minicompress.nn.parameter import Parameter, accumulate
from minicompress.rng import as_rng


GGN_CHUNK_FLOATS = 4_000_000  # bound on the per-example gradients held at once (16 MB in float32)


class Conv2d(Module):
    """Convolution with zero padding, any kernel size and stride.

    Parameters
    ----------
    in_channels, out_channels : int
    kernel_size, stride, padding : int or (int, int)
    bias : bool
    groups : int
        g, dividing both channel counts: output group q sees only input group q.
    rng : np.random.Generator, int or None
        Randomness of the initialization, U(−1/√fan_in, 1/√fan_in), fan_in = c/g·kh·kw.
    dtype : floating dtype

    Shapes: x (n, c, h, w), W (o, c/g, kh, kw), y (n, o, oh, ow) with
    oh = ⌊(h + 2·ph − kh)/sh⌋ + 1.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 bias: bool = True, *, groups: int = 1, rng=None, dtype=np.float32):
        super().__init__()
        self.in_channels = positive_int(in_channels, "Conv2d", "in_channels")
        self.out_channels = positive_int(out_channels, "Conv2d", "out_channels")
        self.kernel_size = pair(kernel_size, "Conv2d", "kernel_size")
        self.stride = pair(stride, "Conv2d", "stride")
        self.padding = pair(padding, "Conv2d", "padding", minimum=0)
        self.groups = positive_int(groups, "Conv2d", "groups")
        if self.in_channels % self.groups or self.out_channels % self.groups:
            raise ValueError(f"Conv2d: groups must divide in_channels and out_channels, got "
                             f"groups={self.groups} with in_channels={self.in_channels}, "
                             f"out_channels={self.out_channels}")
        rng = as_rng(rng)
        shape = (self.out_channels, self.in_channels // self.groups, *self.kernel_size)
        self.weight = Parameter(init.uniform_fan_in(shape, rng=rng, dtype=dtype), "weight")
        self.bias = None
        if bias:
            fan_in = init.fans(shape)[0]
            b = init.uniform_fan_in((self.out_channels,), fan_in, rng=rng, dtype=dtype)
            self.bias = Parameter(b, "bias")
        self.buffers = {}  # reused im2col/col2im scratch space (large arrays, every step)
        self.buffers_r = {}  # the same for the R-operator's columns of R{x}

    def release_buffers(self) -> None:
        self.buffers.clear()
        self.buffers_r.clear()

    def output_shape(self, x_shape: tuple) -> tuple:
        n, _, h, w = x_shape
        (kh, kw), (sh, sw), (ph, pw) = self.kernel_size, self.stride, self.padding
        return n, self.out_channels, conv_output_size(h, kh, sh, ph), conv_output_size(w, kw, sw, pw)

    def forward(self, x: np.ndarray) -> np.ndarray:
        check_input(self, x, "nchw", {1: self.in_channels}, self.weight.data.dtype, finite=True)
        n, o, oh, ow = self.output_shape(x.shape)
        if oh < 1 or ow < 1:
            raise ValueError(f"{self.describe()}: kernel {self.kernel_size} with padding "
                             f"{self.padding} does not fit an input of size {x.shape[2:]}")
        cols = im2col(x, self.kernel_size, self.stride, self.padding, buffers=self.buffers)
        self.cache["x_shape"], self.cache["cols"] = x.shape, cols
        y = self._weight_times(self.weight.value().reshape(o, -1), cols)  # (o, oh·ow·n)
        if self.bias is not None:
            y += self.bias.value()[:, None]
        return np.ascontiguousarray(y.reshape(o, oh, ow, n).transpose(3, 0, 1, 2))

    def backward(self, g_out: np.ndarray) -> np.ndarray:
        g_t = self._channels_first(g_out)  # transposed once, used by both halves
        self._grad_params(g_t)
        return self._grad_input(g_t)

    def grad_params(self, g_out: np.ndarray) -> None:
        """∂E/∂W = g · colsᵀ summed over images and pixels; ∂E/∂b = Σ g."""
        self._grad_params(self._channels_first(g_out))

    def grad_input(self, g_out: np.ndarray) -> np.ndarray:
        """∂E/∂x = col2im(Wᵀ g): each pixel collects from every window it fell in."""
        return self._grad_input(self._channels_first(g_out))

    def _channels_first(self, g_out: np.ndarray) -> np.ndarray:
        """g_out (n, o, oh, ow) -> (o, oh·ow·n), the column order of im2col."""
        check_grad_out(self, g_out, self.output_shape(self.cached("x_shape")))
        return self._to_columns(g_out)

    def _to_columns(self, g: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(g.transpose(1, 2, 3, 0)).reshape(self.out_channels, -1)

    def _col2im(self, dcols: np.ndarray, x_shape: tuple) -> np.ndarray:
        return col2im(dcols, x_shape, self.kernel_size, self.stride, self.padding,
                      buffers=self.buffers)

    # ----- the three products, one per group (g = 1: the plain GEMM) -----------------------
    def _weight_times(self, W: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """W cols per group: W (o, k), cols (g·k, p) -> (o, p)."""
        if self.groups == 1:
            return W @ cols
        g, (o, k) = self.groups, W.shape
        return (W.reshape(g, o // g, k) @ cols.reshape(g, k, -1)).reshape(o, -1)

    def _weight_t_times(self, W: np.ndarray, g_t: np.ndarray) -> np.ndarray:
        """Wᵀ g per group: W (o, k), g (o, p) -> (g·k, p)."""
        if self.groups == 1:
            return W.T @ g_t
        g, (o, k) = self.groups, W.shape
        Wt = W.reshape(g, o // g, k).transpose(0, 2, 1)  # (g, k, o/g)
        return (Wt @ g_t.reshape(g, o // g, -1)).reshape(g * k, -1)

    def _outer(self, g_t: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """g colsᵀ per group, summed over the columns: g (o, p), cols (g·k, p) -> (o, k)."""
        if self.groups == 1:
            return g_t @ cols.T
        g, (o, p) = self.groups, g_t.shape
        cols_t = cols.reshape(g, -1, p).transpose(0, 2, 1)  # (g, p, k)
        return (g_t.reshape(g, o // g, p) @ cols_t).reshape(o, -1)

    def _grad_params(self, g_t: np.ndarray) -> None:
        cols = self.cached("cols")
        self.weight.add_grad(self._outer(g_t, cols).reshape(self.weight.shape))
        if self.bias is not None:
            self.bias.add_grad(g_t.sum(axis=1))

    def _grad_input(self, g_t: np.ndarray) -> np.ndarray:
        o = self.out_channels
        dcols = self._weight_t_times(self.weight.value().reshape(o, -1), g_t)  # (c·kh·kw, p)
        return self._col2im(dcols, self.cached("x_shape"))

    # ----- second order (protocol in minicompress.nn.module) ------------------------------
    def backward_diag(self, g_out, h_out, gauss_newton, need_input=True):
        """LeCun's rule for shared weights: W[o, c, i, j] is used by every output pixel, and
        (dropping the cross terms between those uses) its h_kk is the sum over all of them,
        Σ_{n, r, s} ∂²E/∂a[n, o, r, s]² · x_pad[n, c, r·sh + i, s·sw + j]² = h_t · (cols²)ᵀ.
        Input side: ∂²E/∂x² ≈ col2im((W²)ᵀ h)."""
        h_t, cols = self._channels_first(h_out), self.cached("cols")
        self.weight.add_hdiag(self._outer(h_t, cols * cols).reshape(self.weight.shape))
        if self.bias is not None:
            self.bias.add_hdiag(h_t.sum(axis=1))
        if not need_input:
            return None, None
        W2 = self.weight.value().reshape(self.out_channels, -1)
        h_in = self._col2im(self._weight_t_times(W2 * W2, h_t), self.cached("x_shape"))
        return (None if g_out is None else self.grad_input(g_out)), h_in

    def backward_ggn(self, s_out, need_input=True):
        """s (m, n, o, oh, ow). Per-example gradients do not factor here (each sums over pixels
        before it is squared), so they are formed explicitly: for image n and column c,
        G = s[c, n] (o, oh·ow) @ cols_n (oh·ow, c·kh·kw), a batched GEMM over images (and over
        groups), in chunks of images to bound memory."""
        m, n, o = s_out.shape[:3]
        cols = self.cached("cols").reshape(-1, s_out.shape[3] * s_out.shape[4], n)  # (k, p, n)
        per_image = s_out.reshape(m, n, o, -1).transpose(1, 0, 2, 3).reshape(n, m * o, -1)
        step = max(1, GGN_CHUNK_FLOATS // (m * o * cols.shape[0] // self.groups))
        hw, hb = 0.0, 0.0
        for start in range(0, n, step):
            part = slice(start, start + step)
            cols_part = np.ascontiguousarray(cols[:, :, part].transpose(2, 1, 0))  # (n', p, k)
            if self.groups == 1:
                g = per_image[part] @ cols_part  # (n', m·o, k): one GEMM per image
                hw = hw + np.einsum("nck,nck->ck", g, g).reshape(m, o, -1).sum(axis=0)
            else:
                hw = hw + self._ggn_grouped(per_image[part], cols_part, m)
            b = per_image[part].sum(axis=2)  # (n', m·o)
            hb = hb + (b * b).sum(axis=0).reshape(m, o).sum(axis=0)
        self.weight.add_hdiag(hw.reshape(self.weight.shape))
        if self.bias is not None:
            self.bias.add_hdiag(hb)
        if not need_input:
            return None
        n_, c, h, w = self.cached("x_shape")
        folded = s_out.reshape(m * n, *s_out.shape[2:])  # columns become extra images
        W2 = self.weight.value().reshape(o, -1)
        s_in = self._col2im(self._weight_t_times(W2, self._to_columns(folded)), (m * n, c, h, w))
        return s_in.reshape(m, n, c, h, w)

    def _ggn_grouped(self, s_part: np.ndarray, cols_part: np.ndarray, m: int) -> np.ndarray:
        """Σ over images and columns of the squared per-example gradients, group by group:
        s_part (n', m·o, p), cols_part (n', p, g·k) -> (o, k)."""
        g, (n_, _, p) = self.groups, s_part.shape
        og = self.out_channels // g
        s = s_part.reshape(n_, m, g, og, p).transpose(0, 2, 1, 3, 4).reshape(n_, g, m * og, p)
        c = cols_part.reshape(n_, p, g, -1).transpose(0, 2, 1, 3)  # (n', g, p, k)
        grads = s @ c  # (n', g, m·og, k)
        squares = np.einsum("nqck,nqck->qck", grads, grads).reshape(g, m, og, -1)
        return squares.sum(axis=1).reshape(self.out_channels, -1)

    def forward_r(self, rx, v):
        """R{y} = conv(R{x}; W) + conv(x; R{W}) + R{b}: the columns of R{x} are kept for
        backward_r."""
        x_shape, cols = self.cached("x_shape"), self.cached("cols")
        n, o, oh, ow = self.output_shape(x_shape)
        rW = self.weight.masked(v[self.weight]) if self.weight in v else None
        rb = self.bias.masked(v[self.bias]) if self.bias is not None and self.bias in v else None
        rcols = None
        ry = np.zeros((o, oh * ow * n), cols.dtype)
        if rx is not None:
            rcols = im2col(rx, self.kernel_size, self.stride, self.padding, buffers=self.buffers_r)
            ry += self._weight_times(self.weight.value().reshape(o, -1), rcols)
        if rW is not None:
            ry += self._weight_times(rW.reshape(o, -1), cols)
        if rb is not None:
            ry += rb[:, None]
        self.cache.update(rcols=rcols, rW=rW)
        return np.ascontiguousarray(ry.reshape(o, oh, ow, n).transpose(3, 0, 1, 2))

    def backward_r(self, g_out, rg_out, hv, need_input=True):
        """As Linear on the columns: R{∂E/∂W} = R{g} colsᵀ + g R{cols}ᵀ, R{∂E/∂b} = Σ R{g};
        R{g_in} = col2im(Wᵀ R{g} + R{W}ᵀ g)."""
        g_t, rg_t = self._channels_first(g_out), self._channels_first(rg_out)
        cols, rcols, rW = self.cached("cols"), self.cache["rcols"], self.cache["rW"]
        hw = self._outer(rg_t, cols)
        if rcols is not None:
            hw += self._outer(g_t, rcols)
        accumulate(hv, self.weight, hw.reshape(self.weight.shape))
        if self.bias is not None:
            accumulate(hv, self.bias, rg_t.sum(axis=1))
        if not need_input:
            return None, None
        W2 = self.weight.value().reshape(self.out_channels, -1)
        rdcols = self._weight_t_times(W2, rg_t)
        if rW is not None:
            rdcols += self._weight_t_times(rW.reshape(self.out_channels, -1), g_t)
        x_shape = self.cached("x_shape")
        return self._grad_input(g_t), self._col2im(rdcols, x_shape)

    def macs(self, output_shape: tuple, nonzero: bool = False) -> int:
        """c_out·(c_in/g)·kh·kw·oh·ow per example (the size of W times the output pixels; the
        zero padding included; nnz(W)·oh·ow with ``nonzero``); ``output_shape`` is
        (c_out, oh, ow)."""
        w = self.weight.value()
        return (int(np.count_nonzero(w)) if nonzero else w.size) * int(np.prod(output_shape[1:]))

    def config(self) -> dict:
        return dict(in_channels=self.in_channels, out_channels=self.out_channels,
                    kernel_size=list(self.kernel_size), stride=list(self.stride),
                    padding=list(self.padding), bias=self.bias is not None,
                    groups=self.groups, dtype=str(self.weight.data.dtype))

    def extra_repr(self) -> str:
        s = f"{self.in_channels} -> {self.out_channels}, kernel={self.kernel_size}"
        if self.stride != (1, 1):
            s += f", stride={self.stride}"
        if self.padding != (0, 0):
            s += f", padding={self.padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        return s + ("" if self.bias is not None else ", bias=False")
