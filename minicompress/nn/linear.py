"""Linear (fully connected) layer.

Index conventions: n batch, i input feature, o output feature.
"""
from __future__ import annotations

import numpy as np

from minicompress.nn import init
from minicompress.nn.checks import check_grad_out, check_input, positive_int
from minicompress.nn.module import Module, Parameter
from minicompress.rng import as_rng


class Linear(Module):
    """y = x Wᵀ + b.

    Parameters
    ----------
    in_features, out_features : int
    bias : bool
        Whether to learn an additive bias b.
    rng : np.random.Generator, int or None
        Randomness of the initialization, U(−1/√in, 1/√in) for W and b (PyTorch's default).
    dtype : floating dtype
        Of the parameters; inputs must have the same dtype.

    Shapes: x (n, i), W (o, i), b (o,), y (n, o).
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, *, rng=None,
                 dtype=np.float32):
        super().__init__()
        self.in_features = positive_int(in_features, "Linear", "in_features")
        self.out_features = positive_int(out_features, "Linear", "out_features")
        rng = as_rng(rng)
        shape = (self.out_features, self.in_features)
        self.weight = Parameter(init.uniform_fan_in(shape, rng=rng, dtype=dtype), "weight")
        self.bias = None
        if bias:
            b = init.uniform_fan_in((self.out_features,), self.in_features, rng=rng, dtype=dtype)
            self.bias = Parameter(b, "bias")

    def forward(self, x: np.ndarray) -> np.ndarray:
        check_input(self, x, "ni", {1: self.in_features}, self.weight.data.dtype, finite=True)
        self.cache["x"] = x
        y = x @ self.weight.value().T  # (n, o)
        if self.bias is not None:
            y += self.bias.value()
        return y

    def grad_params(self, g_out: np.ndarray) -> None:
        """∂E/∂W = g_outᵀ x (summed over the batch), ∂E/∂b = Σ_n g_out."""
        x = self.cached("x")
        check_grad_out(self, g_out, (x.shape[0], self.out_features))
        self.weight.add_grad(g_out.T @ x)  # (o, i)
        if self.bias is not None:
            self.bias.add_grad(g_out.sum(axis=0))

    def grad_input(self, g_out: np.ndarray) -> np.ndarray:
        """∂E/∂x = g_out W."""
        check_grad_out(self, g_out, (self.cached("x").shape[0], self.out_features))
        return g_out @ self.weight.value()  # (n, i)

    def config(self) -> dict:
        return dict(in_features=self.in_features, out_features=self.out_features,
                    bias=self.bias is not None, dtype=str(self.weight.data.dtype))

    def extra_repr(self) -> str:
        bias = "" if self.bias is not None else ", bias=False"
        return f"{self.in_features} -> {self.out_features}{bias}"
