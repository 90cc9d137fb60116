"""Linear (fully connected) layer.

Index conventions: n batch, i input feature, o output feature.
"""
from __future__ import annotations

import numpy as np

from minicompress.nn import init
from minicompress.nn.checks import check_grad_out, check_input, positive_int
from minicompress.nn.module import Module
from minicompress.nn.parameter import Parameter, accumulate
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

    # ----- second order (protocol in minicompress.nn.module) ------------------------------
    def backward_diag(self, g_out, h_out, gauss_newton, need_input=True):
        """LeCun's rule: W[o, i] enters only a[n, o] = Σ_i W[o, i] x[n, i], linearly, so
        ∂²E/∂W[o, i]² = Σ_n ∂²E/∂a[n, o]² · x[n, i]², and (diagonal approximation)
        ∂²E/∂x[n, i]² ≈ Σ_o W[o, i]² · ∂²E/∂a[n, o]²."""
        x = self.cached("x")
        self.weight.add_hdiag(h_out.T @ (x * x))  # (o, i)
        if self.bias is not None:
            self.bias.add_hdiag(h_out.sum(axis=0))
        if not need_input:
            return None, None
        W = self.weight.value()
        return (None if g_out is None else g_out @ W), h_out @ (W * W)

    def backward_ggn(self, s_out, need_input=True):
        """s (m, n, o). Column c's per-example gradient is s[c, n, o]·x[n, i], so the sum of its
        squares over c and n is (Σ_c s²)ᵀ x²: the columns are summed *before* the product."""
        x = self.cached("x")
        s2 = np.einsum("cno,cno->no", s_out, s_out)  # (n, o)
        self.weight.add_hdiag(s2.T @ (x * x))
        if self.bias is not None:
            self.bias.add_hdiag(s2.sum(axis=0))
        return s_out @ self.weight.value() if need_input else None  # (m, n, i)

    def forward_r(self, rx, v):
        """R{y} = R{x} Wᵀ + x R{W}ᵀ + R{b}, with R{W} = v[W] (masked like W)."""
        x, W = self.cached("x"), self.weight.value()
        rW = self.weight.masked(v[self.weight]) if self.weight in v else None
        rb = self.bias.masked(v[self.bias]) if self.bias is not None and self.bias in v else None
        self.cache.update(rx=rx, rW=rW)
        ry = np.zeros((x.shape[0], self.out_features), x.dtype) if rx is None else rx @ W.T
        if rW is not None:
            ry += x @ rW.T
        if rb is not None:
            ry += rb
        return ry

    def backward_r(self, g_out, rg_out, hv, need_input=True):
        """g_in = g W;  R{g_in} = R{g} W + g R{W};  R{∂E/∂W} = R{g}ᵀ x + gᵀ R{x};
        R{∂E/∂b} = Σ_n R{g}."""
        x, rx, rW = self.cached("x"), self.cache["rx"], self.cache["rW"]
        hw = rg_out.T @ x
        if rx is not None:
            hw += g_out.T @ rx
        accumulate(hv, self.weight, hw)
        if self.bias is not None:
            accumulate(hv, self.bias, rg_out.sum(axis=0))
        if not need_input:
            return None, None
        W = self.weight.value()
        rg_in = rg_out @ W
        if rW is not None:
            rg_in += g_out @ rW
        return g_out @ W, rg_in

    def macs(self, output_shape: tuple, nonzero: bool = False) -> int:
        """in·out per example (nnz(W) with ``nonzero``); bias additions are not counted."""
        w = self.weight.value()
        return int(np.count_nonzero(w)) if nonzero else w.size

    def config(self) -> dict:
        return dict(in_features=self.in_features, out_features=self.out_features,
                    bias=self.bias is not None, dtype=str(self.weight.data.dtype))

    def extra_repr(self) -> str:
        bias = "" if self.bias is not None else ", bias=False"
        return f"{self.in_features} -> {self.out_features}{bias}"

