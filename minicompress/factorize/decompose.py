"""decompose(model, index, method): a convolution replaced by a sequence of smaller ones.

Index conventions: kernel K (t, s, y, x) = (c_out, c_in, kh, kw), as Conv2d stores it.

Tucker-2 (Kim et al. 2016): K ≈ G ×_0 U_t ×_1 U_s with core G (R_t, R_s, kh, kw), so

    conv(K) = 1×1 conv (s → R_s, weight U_sᵀ) → kh×kw conv (R_s → R_t, weight G, the original
              stride and padding) → 1×1 conv (R_t → t, weight U_t, the original bias).

CP (Lebedev et al. 2015): K(t, s, y, x) ≈ Σ_r λ_r K_t(t, r) K_s(s, r) K_y(y, r) K_x(x, r), so

    conv(K) = 1×1 conv (s → R, K_sᵀ) → depthwise kh×1 conv (R groups, K_y; vertical stride and
              padding) → depthwise 1×kw conv (K_x; horizontal stride and padding) → 1×1 conv
              (R → t, K_t, the original bias),

each factor's column r scaled by λ_r^(1/4), so that no layer of the chain starts much larger
than another (the gradients of a product are inversely proportional to its factors' scales).

SVD of the im2col matrix (the channel-only baseline): W_mat = K.reshape(t, s·kh·kw) ≈ L Rᵀ at
rank R, so conv(K) = kh×kw conv (s → R, weight Rᵀ; the original stride and padding) → 1×1 conv
(R → t, weight L, the original bias): the spatial filter is not factored, only the channels.

All three are exact when the decomposition is: the 1×1 convs have no bias, so the zero padding of the
input stays zero through them, and a separable kh×1 then 1×kw convolution on zero-padded rows and
columns equals the kh×kw one on the zero-padded image. The new layers are spliced into a copy of
the model's (flat) Sequential, so it trains, prunes and saves like any other; the layers after
``index`` move up by 2 (Tucker-2), 3 (CP) or 1 (SVD).
"""
from __future__ import annotations

import copy
import numbers

import numpy as np

from minicompress import nn
from minicompress.factorize.tensors import cp, tucker, unfold
from minicompress.factorize.evbmf import vbmf_rank
from minicompress.factorize.svd import truncated_svd

METHODS = ("tucker2", "cp", "svd")
SPAN = {"tucker2": 3, "cp": 4, "svd": 2}  # layers that replace the decomposed conv


def vbmf_ranks(weight: np.ndarray) -> tuple[int, int]:
    """Kim et al.'s ranks (R_t, R_s): EVBMF of the output- and input-channel unfoldings of the
    kernel (their mode-4 and mode-3), each at least 1."""
    w = np.asarray(weight, np.float64)
    return max(1, vbmf_rank(unfold(w, 0))), max(1, vbmf_rank(unfold(w, 1)))


def decompose(model: nn.Sequential, index: int, method: str = "tucker2", ranks=None, *,
              n_iter: int | None = None, rng=0, ridge: float = 0.0) -> nn.Sequential:
    """A copy of ``model`` with its Conv2d at ``index`` replaced by smaller convolutions.

    Parameters
    ----------
    model : Sequential
        Flat (no nested Sequential); ``model[index]`` a Conv2d with groups=1.
    index : int
    method : "tucker2", "cp" or "svd"
    ranks : (R_t, R_s) for Tucker-2 (None: :func:`vbmf_ranks`), or an int R for CP and SVD
        (required)
    n_iter : int, optional
        HOOI sweeps after the HOSVD (Tucker-2, default 10) or ALS sweeps (CP, default 300).
    rng : np.random.Generator, int or None
        For the ALS initialization (CP; see :func:`~minicompress.factorize.tensors.cp`).
    ridge : float
        CP only: Tikhonov regularization of ALS against degenerate factors (see ``cp``).

    Returns
    -------
    Sequential, the dtype of the original layer.
    """
    if not isinstance(model, nn.Sequential) or any(isinstance(m, nn.Sequential) for m in model):
        raise TypeError(f"decompose: expected a flat Sequential model, got {type(model).__name__}")
    if not isinstance(index, numbers.Integral) or not 0 <= index < len(model):
        raise ValueError(f"decompose: index must be a layer index in [0, {len(model) - 1}], "
                         f"got {index!r}")
    conv = model[index]
    if not isinstance(conv, nn.Conv2d) or conv.groups != 1:
        raise TypeError(f"decompose: layer {index} must be a Conv2d with groups=1, got "
                        f"{conv.describe()}")
    if method not in METHODS:
        raise ValueError(f"decompose: method must be one of {METHODS}, got {method!r}")
    if method == "tucker2":
        new = _tucker2_layers(conv, ranks, 10 if n_iter is None else n_iter)
    elif ranks is None:
        raise ValueError(f"decompose: method={method!r} needs ranks=R (an int)")
    elif method == "cp":
        new = _cp_layers(conv, ranks, 300 if n_iter is None else n_iter, rng, ridge)
    else:
        new = _svd_layers(conv, ranks)
    layers = copy.deepcopy(model.clear()).layers
    return nn.Sequential(*layers[:index], *new, *layers[index + 1:])


def recompose(model: nn.Sequential, index: int, method: str) -> np.ndarray:
    """K̂ (t, s, d, d), float64: the kernel that the ``SPAN[method]`` layers from ``index`` on
    (made by :func:`decompose`) compose, to compare with the original kernel."""
    if method not in METHODS:
        raise ValueError(f"recompose: method must be one of {METHODS}, got {method!r}")
    span = SPAN[method]
    layers = list(model)[index:index + span] if isinstance(index, numbers.Integral) and index >= 0 else []
    if len(layers) != span or not all(isinstance(layer, nn.Conv2d) for layer in layers):
        raise ValueError(f"recompose: expected the {span} Conv2d layers that decompose(..., method={method!r}) "
                         f"puts at index {index!r}, got {[type(layer).__name__ for layer in layers]}")
    w = [layer.weight.data.astype(np.float64) for layer in layers]
    if method == "tucker2":  # U_sᵀ (r_s, s), core (r_t, r_s, d, d), U_t (t, r_t)
        return np.einsum("ab,bcij,cs->asij", w[2][:, :, 0, 0], w[1], w[0][:, :, 0, 0])
    if method == "cp":
        return np.einsum("tr,rs,ri,rj->tsij", w[3][:, :, 0, 0], w[0][:, :, 0, 0], w[1][:, 0, :, 0],
                         w[2][:, 0, 0, :])
    return np.einsum("tr,rsij->tsij", w[1][:, :, 0, 0], w[0])


def _conv(c_in, c_out, kernel, weight, *, stride=1, padding=0, groups=1, bias=None):
    layer = nn.Conv2d(c_in, c_out, kernel, stride, padding, bias=bias is not None, groups=groups,
                      rng=0, dtype=weight.dtype)
    layer.weight.data = np.ascontiguousarray(weight).reshape(layer.weight.shape)
    if bias is not None:
        layer.bias.data = bias.copy()
    return layer


def _tucker2_layers(conv: nn.Conv2d, ranks, n_iter: int) -> list:
    w = conv.weight.value()
    ranks = vbmf_ranks(w) if ranks is None else ranks
    if isinstance(ranks, numbers.Integral) or len(ranks) != 2:
        raise ValueError(f"decompose: Tucker-2 needs ranks=(R_t, R_s), got {ranks!r}")
    core, (u_t, u_s) = tucker(w, ranks, modes=(0, 1), n_iter=n_iter)
    r_t, r_s = core.shape[:2]
    bias, dtype = None if conv.bias is None else conv.bias.value(), w.dtype
    return [_conv(conv.in_channels, r_s, 1, u_s.T.astype(dtype)),
            _conv(r_s, r_t, conv.kernel_size, core.astype(dtype), stride=conv.stride,
                  padding=conv.padding),
            _conv(r_t, conv.out_channels, 1, u_t.astype(dtype), bias=bias)]


def _cp_layers(conv: nn.Conv2d, rank, n_iter: int, rng, ridge: float) -> list:
    w = conv.weight.value()
    weights, factors = cp(w, rank, n_iter=n_iter, rng=rng, ridge=ridge)
    k_t, k_s, k_y, k_x = (A * weights ** 0.25 for A in factors)  # λ shared: balanced scales
    (kh, kw), (sh, sw), (ph, pw) = conv.kernel_size, conv.stride, conv.padding
    bias, dtype = None if conv.bias is None else conv.bias.value(), w.dtype
    return [_conv(conv.in_channels, rank, 1, k_s.T.astype(dtype)),
            _conv(rank, rank, (kh, 1), k_y.T.astype(dtype), stride=(sh, 1), padding=(ph, 0),
                  groups=rank),
            _conv(rank, rank, (1, kw), k_x.T.astype(dtype), stride=(1, sw), padding=(0, pw),
                  groups=rank),
            _conv(rank, conv.out_channels, 1, k_t.astype(dtype), bias=bias)]


def _svd_layers(conv: nn.Conv2d, rank) -> list:
    w = conv.weight.value()
    t, s = conv.out_channels, conv.in_channels
    upper = min(t, w[0].size)
    if not isinstance(rank, numbers.Integral) or isinstance(rank, bool) or not 1 <= rank <= upper:
        raise ValueError(f"decompose: the SVD rank must be an int in [1, {upper}], got {rank!r}")
    left, right, _ = truncated_svd(w.reshape(t, -1).astype(np.float64), int(rank))
    bias, dtype = None if conv.bias is None else conv.bias.value(), w.dtype
    return [_conv(s, rank, conv.kernel_size, right.T.astype(dtype), stride=conv.stride,
                  padding=conv.padding),
            _conv(rank, t, 1, left.astype(dtype), bias=bias)]
