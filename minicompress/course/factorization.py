"""Exercises of tutorial 06 (factorization): Denil et al.'s kernel-ridge dictionary (NeurIPS
2013) and the truncated SVD, the best rank-r approximation (Eckart-Young)."""
from __future__ import annotations

import numpy as np

from minicompress.course.checking import Case, random_cases
from minicompress.course.exercise import Exercise
from minicompress.factorize.svd import truncated_svd
from minicompress.papers import denil2013_predicting_parameters as denil


def se_kernel_1d(n, length_scale):
    """K[i, j] = exp(−(i − j)² / 2ℓ²) on the points 0 … n−1."""
    p = np.arange(n, dtype=np.float64)[:, None]
    return denil.se_kernel(p, p, length_scale)


def ridge_cases():
    edge = [Case("edge: the identity kernel (independent inputs)",
                 dict(K=np.eye(3), alpha=np.array([0, 2]), ridge=0.0)),
            Case("edge: a ridge of 1 on the identity kernel", dict(K=np.eye(3), alpha=np.array([1]), ridge=1.0)),
            Case("edge: alpha not sorted", dict(K=se_kernel_1d(4, 1.0), alpha=np.array([3, 0]), ridge=0.1)),
            Case("edge: every input in alpha", dict(K=se_kernel_1d(3, 0.7), alpha=np.array([0, 1, 2]), ridge=0.01))]
    return edge + random_cases(_ridge_inputs)


def _ridge_inputs(r):
    n = int(r.integers(4, 9))
    alpha = r.choice(n, size=int(r.integers(1, n)), replace=False)
    return dict(K=se_kernel_1d(n, float(r.uniform(0.5, 2.0))), alpha=alpha, ridge=float(r.uniform(0.01, 1.0)))


def low_rank(W, rank):
    """left @ rightᵀ of the library's truncated_svd."""
    left, right, _ = truncated_svd(W, rank)
    return left @ right.T


def low_rank_cases():
    edge = [Case("edge: a diagonal matrix, rank 1", dict(W=np.diag([1.0, 3.0, 2.0]), rank=1)),
            Case("edge: full rank gives W back", dict(W=np.array([[1.0, 2.0], [3.0, 4.0]]), rank=2)),
            Case("edge: a wide matrix", dict(W=np.array([[1.0, 0.0, 2.0, 0.0], [0.0, -1.0, 0.0, 0.5]]), rank=1))]
    return edge + random_cases(lambda r: dict(W=r.normal(size=tuple(r.integers(2, 6, size=2))),
                                              rank=int(r.integers(1, 3))))


EXERCISES = [
    Exercise(
        name="kernel_ridge_dictionary", tutorial="06_factorization",
        title="Denil et al.'s kernel-ridge dictionary: predict a whole feature from a few values",
        statement="""
Implement kernel_ridge_dictionary(K, alpha, ridge) -> U (Denil et al. 2013, the choice of
dictionary by kernel ridge regression):

    U_α = k_αᵀ (K_αα + λ I)⁻¹          (i, |α|)

so that a feature w (i,) is predicted from its values w_α at the inputs α as ŵ = U_α w_α.
K : (i, i) symmetric positive semi-definite kernel over all inputs; alpha : (|α|,) int
indices (not necessarily sorted; the columns of U follow alpha's order); K_αα = K[α][:, α],
k_α = K[α, :] (|α|, i); ridge λ ≥ 0. Returns float64 (i, |α|).
""",
        stub='''
import numpy as np

def kernel_ridge_dictionary(K, alpha, ridge):
    """K (i, i), alpha (a,) int indices, ridge >= 0 -> U (i, a)."""
    raise NotImplementedError
''',
        hint="np.ix_(alpha, alpha) picks K_αα. Solve a linear system instead of inverting, and "
             "mind which side the transpose goes: U has one row per input.",
        reference=denil.kernel_ridge_dictionary, cases=ridge_cases, rtol=1e-6, atol=1e-9),
    Exercise(
        name="low_rank", tutorial="06_factorization",
        title="The best rank-r approximation of a weight matrix (truncated SVD)",
        statement="""
Implement low_rank(W, rank) -> W_hat, the rank-r matrix nearest to W in the Frobenius norm
(Eckart-Young; the baseline of every factorization paper):

    W = U Σ Vᵀ (SVD, σ_1 ≥ σ_2 ≥ …),    Ŵ = U_r Σ_r V_rᵀ = Σ_{k ≤ r} σ_k u_k v_kᵀ

W : (o, i); 1 ≤ rank ≤ min(o, i); Ŵ : (o, i). As two layers it costs r·(o + i) parameters.
""",
        stub='''
import numpy as np

def low_rank(W, rank):
    """W (o, i), rank r -> the best rank-r approximation (o, i)."""
    raise NotImplementedError
''',
        hint="np.linalg.svd(W, full_matrices=False) returns U, σ (descending) and Vᵀ.",
        reference=low_rank, cases=low_rank_cases, rtol=1e-7, atol=1e-9),
]
