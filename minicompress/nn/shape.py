"""Flatten: (n, c, h, w) -> (n, c·h·w), the bridge from convolutional to linear layers."""
from __future__ import annotations

import numpy as np

from minicompress.nn.checks import check_array, check_grad_out
from minicompress.nn.module import Module


class Flatten(Module):
    """Keep the batch axis, merge all others (C order, as PyTorch's ``nn.Flatten``)."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        check_array(x, self.describe())
        if x.ndim < 2:
            raise ValueError(f"{self.describe()}: expected input of shape (n, ...), got {x.shape}")
        self.cache["x_shape"] = x.shape
        return x.reshape(x.shape[0], -1)

    def grad_input(self, g_out: np.ndarray) -> np.ndarray:
        x_shape = self.cached("x_shape")
        check_grad_out(self, g_out, (x_shape[0], int(np.prod(x_shape[1:]))))
        return g_out.reshape(x_shape)

    def backward_diag(self, g_out, h_out, gauss_newton, need_input=True):
        x_shape = self.cached("x_shape")
        return (None if g_out is None else g_out.reshape(x_shape)), h_out.reshape(x_shape)

    def backward_ggn(self, s_out, need_input=True):
        return s_out.reshape(s_out.shape[:1] + self.cached("x_shape"))

    def forward_r(self, rx, v):
        return None if rx is None else rx.reshape(rx.shape[0], -1)

    def backward_r(self, g_out, rg_out, hv, need_input=True):
        x_shape = self.cached("x_shape")
        return g_out.reshape(x_shape), rg_out.reshape(x_shape)

    def config(self) -> dict:
        return {}
