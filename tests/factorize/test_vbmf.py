"""Empirical VBMF ranks (Nakajima et al. 2013): the paper's constants, planted ranks, errors."""
import math

import numpy as np
import pytest

from minicompress import factorize as fz
from minicompress.factorize import evbmf as vb


def test_tau_bar_is_the_papers_constant():
    """τ̲ = 2.5129 for α = 1, and close to 2.5129·√α otherwise (Nakajima et al.)."""
    assert abs(vb.tau_bar(1.0) - 2.5129) < 1e-4
    for alpha in (0.9, 0.5, 0.3):
        assert abs(vb.tau_bar(alpha) / (2.5129 * math.sqrt(alpha)) - 1) < 0.02


def test_the_free_energy_is_continuous_at_the_threshold():
    """ψ₁(x̲) = 0: keeping a component at the threshold costs nothing, which defines τ̲."""
    for alpha in (1.0, 0.4):
        t = vb.tau_bar(alpha)
        x_bar = (1 + t) * (1 + alpha / t)
        tau = vb._tau(np.array([x_bar]), alpha)[0]
        assert abs(tau - t) < 1e-8
        assert abs(math.log(tau + 1) + alpha * math.log(tau / alpha + 1) - tau) < 1e-8


def planted(rng, L, M, rank, sigma=1.0, strength=2.5):
    """rank components with singular values `strength`× the noise edge σ(√L + √M) and above."""
    U = np.linalg.qr(rng.standard_normal((L, rank)))[0]
    W = np.linalg.qr(rng.standard_normal((M, rank)))[0]
    s = strength * sigma * (math.sqrt(L) + math.sqrt(M)) * np.linspace(1, 1.6, rank)
    return U @ np.diag(s) @ W.T + sigma * rng.standard_normal((L, M))


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("L, M, rank", [(40, 60, 4), (60, 25, 3), (30, 30, 6), (20, 500, 2)])
def test_vbmf_recovers_the_planted_rank_and_the_noise_variance(L, M, rank, seed):
    rng = np.random.default_rng(seed)
    sigma = float(rng.uniform(0.1, 3))
    V = planted(rng, L, M, rank, sigma)
    out = fz.vbmf(V)
    assert out["rank"] == rank
    assert abs(out["sigma2"] / sigma ** 2 - 1) < 0.15
    assert fz.vbmf_rank(V.T) == rank and fz.vbmf_rank(1e3 * V) == rank


@pytest.mark.parametrize("seed", range(4))
def test_vbmf_finds_nothing_in_pure_noise(seed):
    rng = np.random.default_rng(seed)
    assert fz.vbmf_rank(rng.standard_normal((30, 50))) == 0
    assert fz.vbmf_rank(np.zeros((3, 4))) == 0


def test_a_weak_component_below_the_threshold_is_dropped(rng):
    """VB is conservative: a component at 0.8× the noise edge is not detected."""
    V = planted(rng, 40, 60, 3, strength=2.5)
    u, w = np.linalg.qr(rng.standard_normal((40, 1)))[0], np.linalg.qr(rng.standard_normal((60, 1)))[0]
    V += 0.8 * (math.sqrt(40) + math.sqrt(60)) * u @ w.T
    assert fz.vbmf_rank(V) == 3


def test_known_noise_variance_uses_the_analytic_threshold(rng):
    V = planted(rng, 20, 30, 2)
    out = fz.vbmf(V, sigma2=1.0)
    t = vb.tau_bar(20 / 30)
    assert math.isclose(out["threshold"], math.sqrt(30 * (1 + t) * (1 + (20 / 30) / t)), rel_tol=1e-12)
    assert out["rank"] == int(np.sum(np.linalg.svd(V, compute_uv=False) > out["threshold"])) == 2


def test_bad_input_gives_clear_errors():
    with pytest.raises(ValueError, match="2-D"):
        fz.vbmf_rank(np.ones(3))
    with pytest.raises(ValueError, match="NaN"):
        fz.vbmf_rank(np.array([[1.0, np.nan]]))
    with pytest.raises(ValueError, match="sigma2"):
        fz.vbmf_rank(np.ones((2, 2)), sigma2=-1.0)
