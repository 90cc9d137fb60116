"""Structured Sparsity Learning: a group lasso zeroes whole filters, channels and filter shapes,
so the pruned network is a smaller *dense* network, and really faster.

W. Wen, C. Wu, Y. Wang, Y. Chen, H. Li. "Learning Structured Sparsity in Deep Neural Networks."
NeurIPS 2016, arXiv:1608.03665.

The idea. Scattered zeros do not speed up a dense GEMM; zeros in whole rows and columns of a
layer's lowered weight matrix do, as the matrix gets smaller. SSL adds a group lasso, the sum of
the unsquared L2 norms of groups of weights, which drives whole groups exactly to zero:

    E(W) = E_D(W) + λ R(W) + Σ_l Σ_kind λ_kind Σ_g ‖W_g^(l)‖₂          (the paper's objective)

with the paper's groups of a conv weight W (N filters, C channels, M×K kernel):

    filter-wise   W[n, :, :, :]   a row of the lowered GEMM matrix: removes filter n
    channel-wise  W[:, c, :, :]   removes input channel c (and the filter that produced it)
    shape-wise    W[:, c, m, k]   a column of the GEMM matrix: one tap of the filter shape
    layer-wise    W               the whole layer (depth; needs a shortcut to stay connected)
    and of a fully connected W (out, in): neuron-wise W[o, :], input-wise W[:, i].

A layer with one input channel (LeNet's conv1) has a single channel group, the whole layer: a
channel-wise term there would be a layer-wise lasso that can only remove the layer, so
:class:`GroupTerm` refuses it (ask for kind="layer" if that is meant).

The step (``method=``), for SGD with momentum μ (v ← μv + g, W ← W − ηv):

    "subgradient", the paper's (the authors' Caffe): λ W_g/‖W_g‖₂ added to the gradient before
    the step, then every regularized weight with |w| ≤ 1e-4 set to zero after it (their code
    does so to every parameter after every update). A fixed point has 0 ∈ ∇E + λ∂R: the
    objective above. The zeroing makes a group exactly zero only once a step moves its weights
    by less than 1e-4, i.e. at a small learning rate.
    "proximal" (default): the step, then block soft-thresholding
    W_g ← W_g · max(0, 1 − τ/‖W_g‖₂) with τ = ηλ/(1 − μ). The 1/(1 − μ) is what makes the
    objective the stated one: at a fixed point the velocity is v = g/(1 − μ), the step moves W by
    ηg/(1 − μ), and the prox of τR then requires 0 ∈ g + (1 − μ)τ/η ∂R = g + λ∂R. (A threshold of
    ηλ would minimize E + (1 − μ)λR, ten times weaker for μ = 0.9.) A group its gradient cannot
    hold up lands *exactly* at zero and stays there; overlapping groups (filters, channels and
    shapes share weights) get their proxes one kind after another, a standard approximation of
    the prox of the sum.

Then groups whose norm fell below a threshold are zeroed and held by masks
(:func:`zero_small_groups`), and the model is shrunk (:func:`shrink_structured`): dead filters,
channels and neurons go (:func:`minicompress.pruning.shrink`), dead shape columns turn a Conv2d
into a :class:`~minicompress.pruning.lowered.ColumnConv2d`. The compact net is then fine-tuned
without the group lasso.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from minicompress import nn, pruning
from minicompress.pruning.lowered import ColumnConv2d

# kind: (weight dimensions, axes summed over for one group's norm); conv W (N, C, M, K), fc W (out, in)
GROUPS = {
    "filter": (4, (1, 2, 3)),  # W[n, :, :, :]  -> norms (N, 1, 1, 1)
    "channel": (4, (0, 2, 3)),  # W[:, c, :, :]  -> (1, C, 1, 1)
    "shape": (4, (0,)),  # W[:, c, m, k]  -> (1, C, M, K)
    "neuron": (2, (1,)),  # W[o, :]  -> (out, 1)
    "input": (2, (0,)),  # W[:, i]  -> (1, in)
    "layer": (None, None),  # W -> one norm
}


def group_norms(w: np.ndarray, kind: str) -> np.ndarray:
    """‖W_g‖₂ of every group, shaped to broadcast against ``w`` (summed axes kept as size 1)."""
    if kind not in GROUPS:
        raise ValueError(f"kind: expected one of {', '.join(GROUPS)}, got {kind!r}")
    ndim, axes = GROUPS[kind]
    if ndim is not None and w.ndim != ndim:
        raise ValueError(f"{kind}-wise groups need a {'conv (N, C, M, K)' if ndim == 4 else 'linear (out, in)'} "
                         f"weight, got shape {w.shape}")
    return np.sqrt(np.sum(w * w, axis=axes, keepdims=True))


def group_lasso(w: np.ndarray, kind: str) -> float:
    """R_g(W) = Σ_g ‖W_g‖₂ (unsquared norms: that is what makes groups exactly zero)."""
    return float(np.sum(group_norms(w, kind)))


def group_lasso_grad(w: np.ndarray, kind: str) -> np.ndarray:
    """∂R_g/∂W = W_g / ‖W_g‖₂ for a nonzero group, 0 for a zero group (the subgradient of least
    norm, the one that lets a zero group stay zero)."""
    norms = group_norms(w, kind)
    return np.divide(w, norms, out=np.zeros_like(w), where=norms > 0)


def group_shrink(w: np.ndarray, kind: str, threshold: float) -> np.ndarray:
    """prox of threshold·R_g: W_g · max(0, 1 − threshold / ‖W_g‖₂) (block soft-thresholding)."""
    norms = group_norms(w, kind)
    scale = np.maximum(0.0, 1.0 - threshold / np.maximum(norms, np.finfo(w.dtype).tiny))
    return w * scale.astype(w.dtype)


@dataclass(frozen=True)
class GroupTerm:
    """λ Σ_g ‖W_g‖₂ over the ``kind``-wise groups of one weight."""

    param: nn.Parameter
    kind: str
    strength: float

    def __post_init__(self):
        group_norms(self.param.data, self.kind)  # fails early on a bad kind or shape
        if self.kind == "channel" and self.param.data.shape[1] == 1:
            raise ValueError(f"kind: a channel-wise group of {self.param.name!r}, which has one input "
                             f"channel, is the whole layer; use kind='layer' if that is meant")
        if not np.isfinite(self.strength) or self.strength < 0:
            raise ValueError(f"strength: expected a finite number >= 0, got {self.strength!r}")


class GroupLasso:
    """Wrap an SGD optimizer so that every step also applies the group lasso terms.

    ``method="proximal"``: the wrapped step, then W_g ← prox(W_g) with threshold
    lr·λ/(1 − momentum) per term. ``method="subgradient"``: add λ W_g/‖W_g‖₂ to the gradients,
    the wrapped step, then zero the regularized weights with |w| ≤ ``zero_below`` (the authors'
    Caffe; 0 turns it off). Both minimize E + Σ λ R_g (see the module docstring). Used by
    :func:`minicompress.train.fit` like any optimizer.
    """

    METHODS = ("proximal", "subgradient")

    def __init__(self, optimizer: nn.Optimizer, terms, method: str = "proximal", *, zero_below: float = 1e-4):
        if method not in self.METHODS:
            raise ValueError(f"method: expected one of {self.METHODS}, got {method!r}")
        if not isinstance(optimizer, nn.SGD):
            raise TypeError(f"optimizer: expected an nn.SGD (the thresholds assume its step), got "
                            f"{type(optimizer).__name__}")
        if not np.isfinite(zero_below) or zero_below < 0:
            raise ValueError(f"zero_below: expected a finite number >= 0, got {zero_below!r}")
        self.optimizer, self.terms, self.method, self.zero_below = optimizer, list(terms), method, zero_below
        foreign = [t.param.name for t in self.terms if not any(t.param is p for p in optimizer.params)]
        if foreign:
            raise ValueError(f"terms: parameters {foreign} are not updated by the optimizer")

    def zero_grad(self) -> None:
        self.optimizer.zero_grad()

    def threshold(self, term: GroupTerm) -> float:
        """τ = lr·λ/(1 − μ): the prox threshold whose fixed point minimizes E + λR."""
        return self.optimizer.lr * term.strength / (1.0 - self.optimizer.momentum)

    def step(self) -> None:
        if self.method == "subgradient":
            for t in self.terms:
                t.param.add_grad(t.strength * group_lasso_grad(t.param.value(), t.kind))
        self.optimizer.step()
        for t in self.terms:
            p = t.param
            if self.method == "proximal":
                new = group_shrink(p.value(), t.kind, self.threshold(t))
            else:
                new = np.where(np.abs(p.data) <= self.zero_below, 0, p.data).astype(p.data.dtype)
            np.copyto(p.data, new, where=True if p.mask is None else p.mask > 0)  # in place

    def penalty(self) -> float:
        """Σ_terms λ R_g(W) at the current weights."""
        return sum(t.strength * group_lasso(t.param.value(), t.kind) for t in self.terms)


def ssl_terms(model: nn.Sequential, strengths: dict) -> list[GroupTerm]:
    """Group terms from ``{layer index: {kind: λ}}``, e.g. ``{0: {"filter": 0.1, "shape": 0.1}}``."""
    for index in strengths:
        if not isinstance(model[index], (nn.Conv2d, nn.Linear)):
            raise ValueError(f"layer {index}: {model[index].describe()} has no weight to regularize")
    return [GroupTerm(model[index].weight, kind, float(strength))
            for index, kinds in strengths.items() for kind, strength in kinds.items()]


def zero_small_groups(terms, threshold: float = 1e-4) -> int:
    """Set every group of norm < ``threshold`` to zero and keep it there with a mask (combined
    with any mask already set). Returns how many groups were zeroed."""
    count = 0
    for t in terms:
        dead = group_norms(t.param.value(), t.kind) < threshold  # (broadcastable to the weight)
        count += int(dead.sum())
        keep = np.broadcast_to(~dead, t.param.shape).astype(t.param.data.dtype)
        t.param.mask = keep if t.param.mask is None else t.param.mask * keep
    return count


def shrink_structured(model: nn.Sequential) -> nn.Sequential:
    """The smaller dense model: :func:`~minicompress.pruning.shrink` removes dead filters,
    channels and neurons; then every convolution with all-zero columns of its lowered matrix
    becomes a ColumnConv2d without them. Outputs equal the model's up to rounding."""
    small, _ = pruning.shrink(model)
    zero_column = lambda m: not m.weight.value().reshape(m.out_channels, -1).any(axis=0).all()
    return nn.Sequential(*(ColumnConv2d.from_conv(m) if isinstance(m, nn.Conv2d) and zero_column(m) else m
                           for m in small.layers))


def survivors(model: nn.Sequential) -> list[dict]:
    """Per convolution of ``model`` (masked, not yet shrunk): the filters, input channels and shape
    columns that survive surgery, out of how many. A channel whose producer filter died counts
    as gone, as surgery removes it."""
    small, _ = pruning.shrink(model)
    return [dict(layer=before.name, filters=after.out_channels, of_filters=before.out_channels,
                 channels=after.in_channels, of_channels=before.in_channels,
                 columns=int(after.weight.value().reshape(after.out_channels, -1).any(axis=0).sum()),
                 of_columns=int(np.prod(before.weight.shape[1:])))
            for before, after in zip(model.layers, small.layers) if isinstance(before, nn.Conv2d)]
