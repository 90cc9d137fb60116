"""K-FAC: each layer's block of the Gauss–Newton matrix as one Kronecker product G ⊗ A.

A Linear layer computes s_n = W ā_n (ā_n = [a_n, 1]: its input with a 1 appended for the bias,
[W | b] one matrix), so the gradient of a scalar through it is g ā_nᵀ with g = ∂/∂s_n, and its
block of the generalized Gauss–Newton matrix G = Σ_n J_nᵀ H_n J_n is exactly

    Σ_n Γ_n ⊗ ā_n ā_nᵀ,      Γ_n = Σ_c g_nc g_ncᵀ,   g_nc = J_{s_n}ᵀ S_nc

(S_nc the columns of a square root of the loss Hessian H_n = Σ_c S_nc S_ncᵀ, carried back to the
layer's output; ⊗ in the row-major order of [W | b]). K-FAC (Martens & Grosse 2015) treats
the two factors as independent over examples:

    block ≈ G ⊗ A,    A = (1/N) Σ_n ā_n ā_nᵀ,    G = Σ_n Γ_n,

which is exact for one example (N = 1). Both factors carry the loss's reduction through S
("mean": G has the 1/N, A is a mean). The variants of G:

- ``exact=True`` (the default; Botev et al. 2017's KFLR): every column of S is backpropagated
  (C backward passes of the columns at once, as ``diag_ggn``);
- ``exact=False`` (Martens & Grosse's Monte-Carlo Fisher): one sampled column per example —
  for softmax cross-entropy √r (p − e_t) with t drawn from the model's own p, otherwise S ξ
  with ξ ~ N(0, I) — whose outer product has expectation H_n: unbiased for G, one backward.

Conv2d by KFC (Grosse & Martens 2016): the inputs are the im2col patches ā_{n,t} of every
output location t, and under their spatial homogeneity and independence assumptions

    block ≈ G ⊗ A,   A = (1/N) Σ_n Σ_t ā_{n,t} ā_{n,t}ᵀ,   G = (1/|T|) Σ_n Σ_t Γ_{n,t}

(A sums over locations, G averages: KFC's Ω and Γ; the product is the same if the 1/|T| is
put into A instead, as "KFAC-expand" implementations do), exact when |T| = 1 and N = 1. Masked entries: the factors
are those of the masked network; ``block`` and ``kfac_diag`` are zero on masked rows/columns.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from minicompress.nn.conv import Conv2d
from minicompress.nn.linear import Linear
from minicompress.nn.losses import SoftmaxCrossEntropy
from minicompress.nn.parameter import Parameter
from minicompress.nn.sequential import Sequential
from minicompress.nn.hessian_operator import select_params
from minicompress.rng import as_rng


@dataclass
class KroneckerFactors:
    """One layer's factors: its GGN block ≈ G ⊗ A over vec([W | b]) (row-major).

    Attributes
    ----------
    layer : str
        The layer's name (``"0"``, ``"3"``, ...).
    params : list of Parameter
        Its weight and, if present, bias.
    A : ndarray (d + 1, d + 1), or (d, d) without bias
        d = in_features (Linear) or c_in·kh·kw (Conv2d, the patch length).
    G : ndarray (o, o)
        o = out_features or out_channels.
    """
    layer: str
    params: list
    A: np.ndarray
    G: np.ndarray

    def block(self) -> np.ndarray:
        """G ⊗ A in the parameters' own flattened order (weight.ravel(), then bias) (P_l, P_l)."""
        o, d = self.G.shape[0], self.A.shape[0]
        bias = len(self.params) == 2
        inputs = d - bias
        index = (np.arange(o)[:, None] * d + np.arange(inputs)).ravel()
        if bias:
            index = np.concatenate([index, np.arange(o) * d + inputs])
        mask = np.concatenate([np.ones(p.data.size) if p.mask is None else p.mask.ravel()
                               for p in self.params])
        return np.kron(self.G, self.A)[np.ix_(index, index)] * np.outer(mask, mask)

    def diag(self) -> list[np.ndarray]:
        """diag(G ⊗ A) = diag(G) diag(A)ᵀ, one array per parameter (zero where masked)."""
        full = np.outer(np.diag(self.G), np.diag(self.A))  # (o, d [+ 1])
        weight, out = self.params[0], [full[:, :self.A.shape[0] - (len(self.params) - 1)]]
        out[0] = out[0].reshape(weight.data.shape)
        if len(self.params) == 2:
            out.append(full[:, -1].copy())
        return [p.masked(a.astype(p.data.dtype)) for p, a in zip(self.params, out)]


def _leaves(module):
    if isinstance(module, Sequential):
        for layer in module.layers:
            yield from _leaves(layer)
    else:
        yield module


def _factor_layers(model, params):
    """The Linear/Conv2d layers holding a selected parameter, in forward order."""
    chosen = {id(p) for p in select_params(model, params, "kfac")}
    layers = []
    for layer in _leaves(model):
        own = layer.parameters() if not isinstance(layer, Sequential) else []
        if not any(id(p) in chosen for p in own):
            continue
        if not isinstance(layer, (Linear, Conv2d)) or getattr(layer, "groups", 1) != 1:
            raise NotImplementedError(f"kfac: {layer.describe()} is not a Linear or (ungrouped) "
                                      f"Conv2d layer; leave its parameters out of params")
        layers.append(layer)
    return layers


def _inputs(layer) -> np.ndarray:
    """ā as columns (d [+ 1], N·|T|): the layer's inputs (Linear) or patches (Conv2d)."""
    a = layer.cached("x").T if isinstance(layer, Linear) else layer.cached("cols")
    if layer.bias is not None:
        a = np.vstack([a, np.ones((1, a.shape[1]), a.dtype)])
    return a


def _loss_columns(loss, exact: bool, rng) -> np.ndarray:
    """S (m, N, C) with E[Σ_c S_c S_cᵀ] = H_n per example: all columns, or one sampled."""
    S = loss.hessian_sqrt()
    if exact:
        return S
    if isinstance(loss, SoftmaxCrossEntropy):
        p = loss.cached("p")
        t = (rng.random((len(p), 1)) > np.cumsum(p, axis=1)).sum(axis=1)  # t ~ p per row
        t = np.minimum(t, p.shape[1] - 1)  # cumsum rounding below 1
        col = p.copy()
        col[np.arange(len(p)), t] -= 1
        return (col * np.sqrt(loss._scale()))[None].astype(S.dtype)
    xi = rng.standard_normal(S.shape[:2]).astype(S.dtype)
    return np.einsum("cn,cnk->nk", xi, S)[None]


def kfac(model, loss, x, y, *, exact: bool = True, rng=None, params=None) -> list[KroneckerFactors]:
    """The Kronecker factors (A, G) of every Linear and Conv2d layer (see the module docstring).

    Parameters
    ----------
    exact : bool
        True (default): G from every column of the loss Hessian's square root (exact GGN,
        "KFLR"). False: one output sampled per example (the Monte-Carlo Fisher), using ``rng``.
    params : None (every layer), or the parameters (a Parameter, a Module, a list) whose layers
        to factor; all must belong to Linear or Conv2d layers of a Sequential model.

    Returns
    -------
    list of KroneckerFactors, in forward order.
    """
    if not isinstance(exact, (bool, np.bool_)):
        raise TypeError(f"kfac: exact must be True or False, got {exact!r}")
    rng = as_rng(rng)
    layers = _factor_layers(model, params)
    loss(model(x), y)
    n = len(x)
    A = {}
    for layer in layers:  # now, before any other pass reuses the conv's im2col buffer
        a = _inputs(layer).astype(np.float64)
        A[layer] = a @ a.T / n
    saved = [(p, p.hdiag) for p in model.parameters()]
    s, G, every = _loss_columns(loss, exact, rng), {}, list(_leaves(model))
    lowest = every.index(layers[0])
    for i in range(len(every) - 1, lowest - 1, -1):
        layer = every[i]
        if layer in A:
            s64 = s.astype(np.float64)
            if isinstance(layer, Linear):
                G[layer] = np.einsum("cno,cnp->op", s64, s64)
            else:  # (m, N, o, oh, ow): average over the |T| output locations
                G[layer] = np.einsum("cnohw,cnphw->op", s64, s64) / (s.shape[3] * s.shape[4])
        if i > lowest:
            s = layer.backward_ggn(s, need_input=True)
    for p, h in saved:  # backward_ggn adds into hdiag; leave it as it was
        p.hdiag = h
    return [KroneckerFactors(layer.name, layer.parameters(), A[layer], G[layer]) for layer in layers]


def kfac_diag(model, loss, x, y, *, exact: bool = True, rng=None, params=None) -> list[np.ndarray]:
    """diag(G ⊗ A) of :func:`kfac`, one array per selected parameter (all of ``model`` by
    default), aligned with ``model.parameters()`` order; zero at masked entries."""
    chosen = select_params(model, params, "kfac_diag")
    values = {}
    for factors in kfac(model, loss, x, y, exact=exact, rng=rng, params=chosen):
        values.update({id(p): d for p, d in zip(factors.params, factors.diag())})
    return [values[id(p)] for p in chosen]
