"""2-D convolution (cross-correlation, as in every deep-learning library), NCHW.

Index conventions: n batch, c input channel, o output channel, (h, w) input and (oh, ow) output
pixels, (i, j) kernel offset. W (o, c, kh, kw), b (o,).

    y[n, o, r, s] = b[o] + Σ_{c,i,j} W[o, c, i, j] · x_pad[n, c, r·sh + i, s·sw + j]

computed as one matrix product on the columns of :func:`~minicompress.nn.im2col.im2col`.
"""
from __future__ import annotations

import numpy as np

from minicompress.nn import init
from minicompress.nn.checks import check_grad_out, check_input, pair, positive_int
from minicompress.nn.im2col import col2im, conv_output_size, im2col
from minicompress.nn.module import Module, Parameter
from minicompress.rng import as_rng


class Conv2d(Module):
    """Convolution with zero padding, any kernel size and stride.

    Parameters
    ----------
    in_channels, out_channels : int
    kernel_size, stride, padding : int or (int, int)
    bias : bool
    rng : np.random.Generator, int or None
        Randomness of the initialization, U(−1/√fan_in, 1/√fan_in), fan_in = c·kh·kw.
    dtype : floating dtype

    Shapes: x (n, c, h, w), y (n, o, oh, ow) with oh = ⌊(h + 2·ph − kh)/sh⌋ + 1.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 bias: bool = True, *, rng=None, dtype=np.float32):
        super().__init__()
        self.in_channels = positive_int(in_channels, "Conv2d", "in_channels")
        self.out_channels = positive_int(out_channels, "Conv2d", "out_channels")
        self.kernel_size = pair(kernel_size, "Conv2d", "kernel_size")
        self.stride = pair(stride, "Conv2d", "stride")
        self.padding = pair(padding, "Conv2d", "padding", minimum=0)
        rng = as_rng(rng)
        shape = (self.out_channels, self.in_channels, *self.kernel_size)
        self.weight = Parameter(init.uniform_fan_in(shape, rng=rng, dtype=dtype), "weight")
        self.bias = None
        if bias:
            fan_in = init.fans(shape)[0]
            b = init.uniform_fan_in((self.out_channels,), fan_in, rng=rng, dtype=dtype)
            self.bias = Parameter(b, "bias")
        self.buffers = {}  # reused im2col/col2im scratch space (large arrays, every step)

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
        y = self.weight.value().reshape(o, -1) @ cols  # (o, oh·ow·n)
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
        o = self.out_channels
        return np.ascontiguousarray(g_out.transpose(1, 2, 3, 0)).reshape(o, -1)

    def _grad_params(self, g_t: np.ndarray) -> None:
        cols = self.cached("cols")
        self.weight.add_grad((g_t @ cols.T).reshape(self.weight.shape))
        if self.bias is not None:
            self.bias.add_grad(g_t.sum(axis=1))

    def _grad_input(self, g_t: np.ndarray) -> np.ndarray:
        o = self.out_channels
        dcols = self.weight.value().reshape(o, -1).T @ g_t  # (c·kh·kw, oh·ow·n)
        return col2im(dcols, self.cached("x_shape"), self.kernel_size, self.stride, self.padding,
                      buffers=self.buffers)

    def config(self) -> dict:
        return dict(in_channels=self.in_channels, out_channels=self.out_channels,
                    kernel_size=list(self.kernel_size), stride=list(self.stride),
                    padding=list(self.padding), bias=self.bias is not None,
                    dtype=str(self.weight.data.dtype))

    def extra_repr(self) -> str:
        s = f"{self.in_channels} -> {self.out_channels}, kernel={self.kernel_size}"
        if self.stride != (1, 1):
            s += f", stride={self.stride}"
        if self.padding != (0, 0):
            s += f", padding={self.padding}"
        return s + ("" if self.bias is not None else ", bias=False")
