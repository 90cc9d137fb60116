"""Lebedev, Ganin, Rakhuba, Oseledets & Lempitsky (2015): a convolution as four, by CP.

Reference: V. Lebedev, Y. Ganin, M. Rakhuba, I. Oseledets, V. Lempitsky, "Speeding-up
Convolutional Neural Networks Using Fine-tuned CP-Decomposition", ICLR 2015, arXiv:1412.6553.
(Neither section nor equation numbers could be checked against the PDF here: the tags name
the paper's topics.)

The idea [CP-decomposition of the kernel]. A convolution with a d × d kernel K from S input to T output channels,

    V(x, y, t) = Σ_{i, j, s} K(i − x + δ, j − y + δ, s, t) U(i, j, s),   δ = (d − 1)/2,

is approximated by a rank-R CP decomposition of its 4-way kernel,

    K(i, j, s, t) = Σ_{r=1}^{R} K^x(i − x + δ, r) K^y(j − y + δ, r) K^s(s, r) K^t(t, r),

which turns it into a sequence of four convolutions with small kernels [implementation]:

    U^s(i, j, r)  = Σ_s K^s(s, r) U(i, j, s)                  1×1, S → R
    U^sy(i, y, r) = Σ_j K^y(j − y + δ, r) U^s(i, j, r)        d×1 per channel (depthwise)
    U^syx(x, y, r) = Σ_i K^x(i − x + δ, r) U^sy(i, y, r)      1×d per channel (depthwise)
    V(x, y, t)    = Σ_r K^t(t, r) U^syx(x, y, r)              1×1, R → T

(in the engine's (c_out, c_in, kh, kw) layout the vertical factor comes first; the order of the
two depthwise passes does not change the result). Cost per output pixel: S·T·d² multiply-adds
become R·(S + 2d + T) (ignoring the larger input of the first 1×1 when the layer strides or
does not pad), so the speedup is S T d² / (R (S + 2d + T)).

Fitting [fitting the factors]. The paper fits the factors by non-linear least squares
(Tensorlab), minimizing ‖K − Σ_r K^x ∘ K^y ∘ K^s ∘ K^t‖ — the same objective as the alternating
least squares used here (:func:`minicompress.factorize.cp`), which converges more slowly but
never increases the error. On a noisy kernel (a trained one is) plain ALS drifts into
*degenerate* fits: pairs of huge components that nearly cancel, Σ_r λ_r² ≫ ‖K‖², which make a
network that fine-tuning cannot train (on LeNet-5's conv2 at rank 11, Σ λ² = 115 ‖K‖² after 300
sweeps; the fine-tuned network diverged). A small Tikhonov term (``ridge``) removes them at no
cost in error (Σ λ² = 1.7 ‖K‖², same relative error 0.77). Then [fine-tuning] the decomposed layers replace the original and the
whole network is fine-tuned by back-propagation: without fine-tuning a CP network loses far more
accuracy than after it.

Reported [experiments]: 8.5× CPU speedup of a character-classification CNN's second and third layers
for a 1% accuracy loss; 4× on AlexNet's second conv layer for +1% top-5 error.
"""
from __future__ import annotations

from minicompress import factorize, nn


def cp_layers(model: nn.Sequential, index: int, rank: int, *, n_iter: int = 300, rng=0,
              ridge: float = 0.0) -> nn.Sequential:
    """A copy of ``model`` whose conv at ``index`` is the four convolutions of a rank-``rank`` CP
    decomposition of its kernel (fitted by ALS from ``rng``'s initialization, Tikhonov-regularized
    by ``ridge`` against degenerate factors); layers after ``index`` move up by 3. Fine-tune it
    afterwards [fine-tuning]."""
    return factorize.decompose(model, index, "cp", rank, n_iter=n_iter, rng=rng, ridge=ridge)


def macs_per_pixel(s: int, t: int, d: int, rank: int) -> tuple[int, int]:
    """(S T d², R (S + 2d + T)): multiply-adds per output pixel of the conv and of its CP form."""
    return s * t * d * d, rank * (s + 2 * d + t)


def speedup(s: int, t: int, d: int, rank: int) -> float:
    """S T d² / (R (S + 2d + T)), the theoretical speedup of the CP form."""
    dense, cp = macs_per_pixel(s, t, d, rank)
    return dense / cp
