"""Kim, Park, Yoo, Choi, Yang & Shin (2016): Tucker-2 compression of convolutions, ranks by VBMF.

Reference: Y.-D. Kim, E. Park, S. Yoo, T. Choi, L. Yang, D. Shin, "Compression of Deep
Convolutional Neural Networks for Fast and Low Power Mobile Applications", ICLR 2016,
arXiv:1511.06530. (Neither section nor equation numbers could be checked against its PDF here:
the tags name the paper's topics.)

The idea [proposed method]. "One-shot whole network compression" in three steps: (1) choose the ranks of
every layer by variational Bayesian matrix factorization, (2) Tucker-decompose each kernel,
(3) fine-tune the whole network to recover the accuracy lost in (2).

Tucker-2 [Tucker decomposition of a kernel]. A convolution with kernel K (D × D × S × T; S input
and T output channels) maps the input X (H × W × S) to

    Y(h', w', t) = Σ_{i, j, s} K(i, j, s, t) X(h_i, w_j, s).

The spatial modes are small (D = 3, 5), so only the two channel modes are decomposed:

    K(i, j, s, t) = Σ_{r3, r4} C(i, j, r3, r4) U⁽³⁾(s, r3) U⁽⁴⁾(t, r4),

and the convolution becomes three: a 1×1 convolution S → R3 with U⁽³⁾, a D×D
convolution R3 → R4 with the core C (the original stride and padding), and a 1×1 convolution
R4 → T with U⁽⁴⁾. Ranks (R3, R4) = (S, T) reproduce the layer exactly.

Cost [complexity analysis]. Parameters S·T·D² become S·R3 + D²·R3·R4 + T·R4 (compression ratio
M), multiply-adds S·T·D²·H'·W' become S·R3·H·W + D²·R3·R4·H'·W' + T·R4·H'·W' (speedup E), H×W
the input and H'×W' the output size:

    M = S T D² / (S R3 + D² R3 R4 + T R4),
    E = S T D² H' W' / (S R3 H W + D² R3 R4 H' W' + T R4 H' W').

Rank selection [VBMF]. R3 and R4 are the ranks that global analytic VBMF (Nakajima et
al. 2013) finds in the mode-3 and mode-4 unfoldings of K: the singular components of each
unfolding that stand above the noise level VBMF estimates. No rank is hand-tuned.

In the engine's layout K is (T, S, D, D) = (c_out, c_in, kh, kw), so the paper's mode 4 is our
mode 0 and mode 3 our mode 1; ranks here are written (R4, R3) = (R_t, R_s), as
:func:`minicompress.factorize.decompose` takes them. The Tucker-2 factors are those of the
HOSVD refined by HOOI (the paper uses a Tucker toolbox; both fit the same model).
"""
from __future__ import annotations

import numpy as np

from minicompress import factorize, nn


def vbmf_ranks(weight: np.ndarray) -> tuple[int, int]:
    """(R4, R3) = (R_t, R_s): the EVBMF ranks of the output- and input-channel unfoldings of a
    kernel (c_out, c_in, kh, kw), each at least 1 [rank selection]."""
    return factorize.vbmf_ranks(weight)


def tucker2(model: nn.Sequential, index: int, ranks=None, *, n_iter: int = 10) -> nn.Sequential:
    """A copy of ``model`` whose conv at ``index`` is 1×1 (S → R3), D×D (R3 → R4), 1×1 (R4 → T),
    the ranks (R4, R3) from :func:`vbmf_ranks` unless given; layers after ``index`` move up by
    2. Fine-tune it afterwards (step 3), like any model."""
    return factorize.decompose(model, index, "tucker2", ranks, n_iter=n_iter)


def compression_ratio(s: int, t: int, d: int, r3: int, r4: int) -> float:
    """M = S T D² / (S R3 + D² R3 R4 + T R4) (the weights only)."""
    return s * t * d * d / (s * r3 + d * d * r3 * r4 + t * r4)


def speedup(s: int, t: int, d: int, r3: int, r4: int, in_hw: tuple, out_hw: tuple) -> float:
    """E = S T D² H'W' / (S R3 H W + D² R3 R4 H'W' + T R4 H'W') (multiply-adds)."""
    hw, out = in_hw[0] * in_hw[1], out_hw[0] * out_hw[1]
    return s * t * d * d * out / (s * r3 * hw + d * d * r3 * r4 * out + t * r4 * out)
