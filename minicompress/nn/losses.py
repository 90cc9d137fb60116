"""Losses: a value in ``forward(output, target)``, ∂E/∂output in ``backward()``.

The reduction is explicit because it sets the scale of every derivative: with
``reduction="mean"`` gradients (and second derivatives) carry a factor 1/n (1/(n·C) for MSE,
whose mean runs over every entry, as in PyTorch); with ``"sum"`` they do not.
"""
from __future__ import annotations

import numpy as np

from minicompress.nn.checks import check_array, check_finite

REDUCTIONS = ("mean", "sum")


def one_hot(labels: np.ndarray, num_classes: int, dtype=np.float32) -> np.ndarray:
    """Integer labels (n,) -> rows of the identity (n, num_classes)."""
    labels = np.asarray(labels)
    if not np.issubdtype(labels.dtype, np.integer) or labels.ndim != 1:
        raise TypeError(f"one_hot: expected integer labels of shape (n,), got {labels.dtype} "
                        f"array of shape {labels.shape}")
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(f"one_hot: labels must lie in [0, {num_classes}), got "
                         f"[{labels.min()}, {labels.max()}]")
    return np.eye(num_classes, dtype=dtype)[labels]


class _Loss:
    def __init__(self, reduction: str = "mean"):
        if reduction not in REDUCTIONS:
            raise ValueError(f"{type(self).__name__}: reduction must be one of {REDUCTIONS}, "
                             f"got {reduction!r}")
        self.reduction = reduction
        self.cache = {}

    def __call__(self, output: np.ndarray, target: np.ndarray) -> float:
        return self.forward(output, target)

    def cached(self, key: str):
        try:
            return self.cache[key]
        except KeyError:
            raise RuntimeError(f"{type(self).__name__}: backward called before forward") from None

    def _check_output(self, output: np.ndarray, layout: str) -> None:
        who = type(self).__name__
        check_array(output, who, "output")
        if output.ndim != 2 or output.shape[0] == 0:
            raise ValueError(f"{who}: expected output of shape {layout}, got {output.shape}")
        check_finite(output, who, "output")

    def __repr__(self) -> str:
        return f"{type(self).__name__}(reduction={self.reduction!r})"


class SoftmaxCrossEntropy(_Loss):
    """E = Σ_n −log p[n, t_n] (÷ n for "mean"), p = softmax(z) over the C classes.

    ``forward(z, t)``: logits z (n, C), integer labels t (n,) in [0, C).
    ``backward()`` = ∂E/∂z = p − onehot(t) (÷ n for "mean"), shape (n, C).
    """

    def forward(self, logits: np.ndarray, target: np.ndarray) -> float:
        self._check_output(logits, "(n, C)")
        n, classes = logits.shape
        target = np.asarray(target)
        if not np.issubdtype(target.dtype, np.integer):
            raise TypeError(f"SoftmaxCrossEntropy: target must hold integer class labels, got "
                            f"dtype {target.dtype}")
        if target.shape != (n,):
            raise ValueError(f"SoftmaxCrossEntropy: expected target of shape ({n},) for logits "
                             f"of shape {logits.shape}, got {target.shape}")
        if target.min() < 0 or target.max() >= classes:
            raise ValueError(f"SoftmaxCrossEntropy: labels must lie in [0, {classes}), got "
                             f"[{target.min()}, {target.max()}]")
        z = logits - logits.max(axis=1, keepdims=True)  # shift: exp never overflows
        exp_z = np.exp(z)
        sum_exp = exp_z.sum(axis=1, keepdims=True)
        nll = np.log(sum_exp[:, 0]) - z[np.arange(n), target]  # −log p[n, t_n]
        self.cache["p"], self.cache["target"] = exp_z / sum_exp, target
        total = float(nll.sum(dtype=np.float64))
        return total / n if self.reduction == "mean" else total

    def backward(self) -> np.ndarray:
        p, target = self.cached("p"), self.cached("target")
        g = p.copy()
        g[np.arange(len(target)), target] -= 1
        if self.reduction == "mean":
            g /= len(target)
        return g

    # ----- second derivatives w.r.t. the logits, per example ------------------------------
    # H_n = ∂²E/∂z_n² = (diag(p_n) − p_n p_nᵀ) · r, r = 1/n for "mean", 1 for "sum".
    def _scale(self) -> float:
        return 1.0 / len(self.cached("target")) if self.reduction == "mean" else 1.0

    def hessian_diag(self) -> np.ndarray:
        """diag(H_n) = (p − p²)·r for every example, (n, C): the recursion's boundary value."""
        p = self.cached("p")
        return (p - p * p) * self._scale()

    def hessian_sqrt(self) -> np.ndarray:
        """S (C, n, C) with Σ_c S[c, n] S[c, n]ᵀ = H_n: column c is √(p_c r)·(e_c − p), since
        (diag(√p) − p√pᵀ)(diag(√p) − p√pᵀ)ᵀ = diag(p) − ppᵀ when Σ p = 1."""
        p = self.cached("p")
        n, classes = p.shape
        eye = np.eye(classes, dtype=p.dtype)
        s = (eye[:, None, :] - p[None, :, :]) * np.sqrt(p * self._scale()).T[:, :, None]
        return s  # (C, n, C)

    def hessian_vector(self, rz: np.ndarray) -> np.ndarray:
        """H_n R{z_n} = (p ⊙ R{z} − p (pᵀ R{z}))·r: the R-operator applied to backward()."""
        p = self.cached("p")
        return (p * rz - p * (p * rz).sum(axis=1, keepdims=True)) * self._scale()

    def count_correct(self, logits: np.ndarray, target: np.ndarray) -> int:
        return int((logits.argmax(axis=1) == target).sum())


class MSELoss(_Loss):
    """E = Σ (o − t)² over every entry (÷ number of entries for "mean", as PyTorch).

    ``forward(o, t)``: output o (n, k) and a float target t of the same shape.
    ``backward()`` = ∂E/∂o = 2(o − t) (÷ o.size for "mean").
    """

    def forward(self, output: np.ndarray, target: np.ndarray) -> float:
        self._check_output(output, "(n, k)")
        check_array(target, "MSELoss", "target")
        if target.shape != output.shape:
            raise ValueError(f"MSELoss: target shape {target.shape} does not match output shape "
                             f"{output.shape}")
        check_finite(target, "MSELoss", "target")
        diff = output - target.astype(output.dtype, copy=False)  # keep the output's dtype
        self.cache["diff"] = diff
        total = float(np.square(diff).sum(dtype=np.float64))
        return total / diff.size if self.reduction == "mean" else total

    def backward(self) -> np.ndarray:
        diff = self.cached("diff")
        return (self._scale() * diff).astype(diff.dtype, copy=False)

    # ----- second derivatives: H = 2r·I, r = 1/size for "mean", 1 for "sum" -----------------
    def _scale(self) -> float:
        diff = self.cached("diff")
        return 2.0 / diff.size if self.reduction == "mean" else 2.0

    def hessian_diag(self) -> np.ndarray:
        diff = self.cached("diff")
        return np.full_like(diff, self._scale())

    def hessian_sqrt(self) -> np.ndarray:
        """S (k, n, k): column c is √(2r)·e_c for every example."""
        diff = self.cached("diff")
        n, k = diff.shape
        eye = np.sqrt(self._scale()) * np.eye(k, dtype=diff.dtype)
        return np.broadcast_to(eye[:, None, :], (k, n, k)).copy()

    def hessian_vector(self, rz: np.ndarray) -> np.ndarray:
        return (self._scale() * rz).astype(rz.dtype, copy=False)

    def count_correct(self, output: np.ndarray, target: np.ndarray) -> int | None:
        """Argmax agreement for one-hot-like targets; None for a single output column."""
        if output.shape[1] < 2:
            return None
        return int((output.argmax(axis=1) == target.argmax(axis=1)).sum())

