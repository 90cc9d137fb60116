"""Optimal Brain Surgeon against plain linear algebra (KKT systems, re-inversion, least squares),
the fast kernel against its readable loop, and bad input."""
import numpy as np
import pytest

from minicompress import nn
from minicompress.nn import curvature
from minicompress.nn.gradcheck import assert_close
from minicompress.nn.per_example import jacobian_factors, per_example_gradients
from minicompress.papers import hassibi1993_obs as obs


def spd(rng, p, n=None, ridge=1e-2):
    """A symmetric positive definite matrix with correlated coordinates (a Gram matrix)."""
    a = rng.standard_normal((n or 3 * p, p)) + rng.standard_normal(p)
    return a.T @ a / len(a) + ridge * np.eye(p)


def kkt(H, w, deleted):
    """argmin_v ½ (v − w)ᵀ H (v − w) subject to v_q = 0 for q in ``deleted``, by one dense solve
    of the KKT system [[H, E], [Eᵀ, 0]] [δw; λ] = [0; −w_Q]; returns (v, ½ δwᵀ H δw)."""
    p, deleted = len(w), list(deleted)
    E = np.eye(p)[:, deleted]
    system = np.block([[H, E], [E.T, np.zeros((len(deleted), len(deleted)))]])
    dw = np.linalg.solve(system, np.concatenate([np.zeros(p), -w[deleted]]))[:p]
    return w + dw, 0.5 * dw @ H @ dw


# ----- one step ------------------------------------------------------------------------------------
def test_saliency_is_w_squared_over_twice_the_inverse_diagonal(rng):
    H = spd(rng, 6)
    w, h_inv = rng.standard_normal(6), np.linalg.inv(H)
    assert_close([("L", obs.saliency(w, h_inv), w ** 2 / (2 * np.diag(h_inv)))], 1e-14, 0)
    _, h_after = obs.delete(w, h_inv, 2)
    assert obs.saliency(w, h_after)[2] == np.inf  # a deleted weight cannot be chosen again


def test_delete_reaches_the_constrained_minimum_of_the_quadratic(rng):
    H, w = spd(rng, 7), rng.standard_normal(7)
    for q in range(7):
        w_new, _ = obs.delete(w, np.linalg.inv(H), q)
        v, cost = kkt(H, w, [q])
        assert w_new[q] == 0.0
        assert_close([("w", w_new, v), ("L_q", obs.saliency(w, np.linalg.inv(H))[q:q + 1], np.array([cost]))],
                     1e-9, 1e-12)


def test_downdate_equals_reinverting_the_reduced_hessian(rng):
    H, w = spd(rng, 8), rng.standard_normal(8)
    h_inv, gone = np.linalg.inv(H), []
    for q in (3, 0, 6, 5):
        w, h_inv = obs.delete(w, h_inv, q)
        gone.append(q)
        keep = [k for k in range(8) if k not in gone]
        reference = np.zeros((8, 8))
        reference[np.ix_(keep, keep)] = np.linalg.inv(H[np.ix_(keep, keep)])
        assert h_inv.shape == (8, 8) and np.all(h_inv[gone] == 0) and np.all(h_inv[:, gone] == 0)
        assert_close([(f"H⁻¹ after deleting {gone}", h_inv, reference)], 1e-9, 1e-12)


def test_sequential_and_block_deletion_both_reach_the_kkt_solution(rng):
    H, w = spd(rng, 9), rng.standard_normal(9)
    Q = [1, 4, 7, 8]
    v, cost = kkt(H, w, Q)
    w_seq, h_seq = w, np.linalg.inv(H)
    for q in Q:
        w_seq, h_seq = obs.delete(w_seq, h_seq, q)
    w_blk, h_blk, L_Q = obs.delete_block(w, np.linalg.inv(H), Q)
    assert_close([("sequential", w_seq, v), ("block", w_blk, v), ("H⁻¹", h_blk, h_seq),
                  ("L_Q", np.array([L_Q]), np.array([cost]))], 1e-9, 1e-12)
    assert np.all(w_blk[Q] == 0)


# ----- many steps: the kernel against the loop -----------------------------------------------------
@pytest.mark.parametrize("p, count", [(5, 4), (70, 40), (150, 149)])
def test_prune_kernel_matches_the_readable_loop(rng, p, count):
    H, w = spd(rng, p), rng.standard_normal(p)
    fast = obs.prune(w, np.linalg.inv(H), count)
    slow = obs.prune_loop(w, np.linalg.inv(H), count)
    assert np.array_equal(fast[0] == 0, slow[0] == 0) and np.sum(fast[0] == 0) == count
    assert_close([("w", fast[0], slow[0]), ("H⁻¹", fast[1], slow[1]),
                  ("increase", np.array([fast[2]]), np.array([slow[2]]))], 1e-8, 1e-11)
    deleted = np.flatnonzero(fast[0] == 0)  # the quadratic's exact constrained minimum
    v, cost = kkt(H, w, deleted)
    assert_close([("KKT", fast[0], v), ("½δwᵀHδw", np.array([fast[2]]), np.array([cost]))], 1e-7, 1e-10)


def test_prune_honours_a_mask_and_continues_where_it_stopped(rng):
    H, w = spd(rng, 40), rng.standard_normal(40)
    mask = (rng.random(40) > 0.3).astype(float)
    w1, h1, _ = obs.prune(w, np.linalg.inv(H), 10, mask=mask)
    assert np.all(w1[mask == 0] == 0) and np.sum(w1 == 0) == np.sum(mask == 0) + 10
    free = np.flatnonzero(mask)  # masked weights are gone already: OBS on the others' quadratic
    v, _ = kkt(H[np.ix_(free, free)], w[free], np.flatnonzero(w1[free] == 0))
    assert_close([("masked + OBS", w1[free], v)], 1e-8, 1e-11)
    w2, h2, _ = obs.prune(w1, h1, 5)  # deleted rows of h1 are zero: they stay deleted
    assert np.all(w2[w1 == 0] == 0) and np.sum(w2 == 0) == np.sum(w1 == 0) + 5


def test_prune_in_blocks_deletes_as_many_and_predicts_its_own_increase(rng):
    H, w = spd(rng, 30), rng.standard_normal(30)
    w_b, _, increase = obs.prune(w, np.linalg.inv(H), 21, block_size=7)
    v, cost = kkt(H, w, np.flatnonzero(w_b == 0))
    assert np.sum(w_b == 0) == 21
    assert_close([("w", w_b, v), ("increase", np.array([increase]), np.array([cost]))], 1e-8, 1e-11)


# ----- the inverse Hessian ----------------------------------------------------------------------------
def test_recursive_outer_product_inverse_equals_the_inverse_of_the_sum(rng):
    X = rng.standard_normal((25, 8))
    for alpha, scale in ((1e-4, 1 / 25), (0.3, 1.0)):
        reference = np.linalg.inv(alpha * np.eye(8) + scale * X.T @ X)
        for block in (1, 4, 25):
            ours = obs.outer_product_inverse(X, alpha, scale=scale, block=block)
            assert_close([(f"block {block}", ours, reference)], 1e-8, 1e-10)


def test_inverse_hessian_of_a_network_for_each_curvature(rng):
    model = nn.Sequential(nn.Linear(3, 2, rng=rng, dtype=np.float64), nn.Tanh(),
                          nn.Linear(2, 1, rng=rng, dtype=np.float64), nn.Sigmoid())
    x, t, loss = rng.standard_normal((30, 3)), rng.uniform(0, 1, (30, 1)), nn.MSELoss()
    lam = 1e-2
    exact = curvature.hessian(model, loss, x, t)
    rows = jacobian_factors(model, loss, x, t)
    cases = {"exact": exact, "outer_product": rows.T @ rows}
    if np.linalg.eigvalsh(exact + lam * np.eye(len(exact))).min() <= 0:
        cases.pop("exact")
    for kind, H in cases.items():
        ours = obs.inverse_hessian(model, loss, x, t, kind=kind, damping=lam)
        assert_close([(kind, ours, np.linalg.inv(H + lam * np.eye(len(H))))], 1e-7, 1e-9)
    grads = per_example_gradients(model, loss, x, t)
    fisher = obs.inverse_hessian(model, loss, x, t, kind="fisher", damping=lam)
    reference = np.linalg.inv(grads.T @ grads / len(x) + lam * np.eye(grads.shape[1]))
    assert_close([("fisher", fisher, reference)], 1e-7, 1e-9)
    explicit = obs.inverse_hessian(model, loss, x, t, damping=lam, recursive=False)
    assert_close([("explicit", explicit, obs.inverse_hessian(model, loss, x, t, damping=lam))], 1e-7, 1e-9)
    first = model.parameters()[0]
    first.mask = np.array([[1.0, 0.0, 1.0], [0.0, 1.0, 1.0]])
    masked = obs.inverse_hessian(model, loss, x, t, kind="fisher", damping=lam)
    assert np.all(masked[[1, 3]] == 0) and np.all(masked[:, [1, 3]] == 0)
    assert np.all(np.diagonal(masked)[[0, 2, 4, 5]] > 0)


# ----- layer-wise OBS -------------------------------------------------------------------------------
def test_layerwise_rows_are_least_squares_fits_on_their_support(rng):
    X = rng.standard_normal((60, 12)) + 1.0  # correlated inputs: H far from diagonal
    W = rng.standard_normal((5, 12))
    W_new, mask = obs.prune_layerwise(W, X, 0.75)
    assert np.all((mask == 0).sum(axis=1) == 9) and np.all(W_new[mask == 0] == 0)
    for r in range(5):
        support = np.flatnonzero(mask[r])
        fit = np.linalg.lstsq(X[:, support], X @ W[r], rcond=None)[0]  # brute force, same support
        assert_close([(f"row {r}", W_new[r, support], fit)], 1e-8, 1e-10)
    lam = 3.0  # with damping the rows fit the damped objective: (H + λI)_SS ŵ_S = (H + λI)_S: w
    W_d, mask_d = obs.prune_layerwise(W, X, 0.5, damping=lam)
    Hd = 2 * X.T @ X + lam * np.eye(12)
    for r in range(5):
        s = np.flatnonzero(mask_d[r])
        assert_close([(f"damped row {r}", W_d[r, s], np.linalg.solve(Hd[np.ix_(s, s)], Hd[s] @ W[r]))],
                     1e-8, 1e-10)


def test_layerwise_kernel_matches_the_loop_over_chunks_masks_and_levels(rng, monkeypatch):
    monkeypatch.setattr(obs, "CHUNK_BYTES", 3 * 8 * 20 * 20)  # 3 rows per chunk: chunking runs
    X, W = np.abs(rng.standard_normal((50, 20))), rng.standard_normal((7, 20)).astype(np.float32)
    mask = (rng.random((7, 20)) > 0.2).astype(np.float32)
    mask[0] = 1
    lam = 0.1
    path = obs.layerwise_path(W, X, [0.0, 0.5, 0.9], damping=lam, mask=mask)
    H_inv = np.linalg.inv(2 * X.T @ X + lam * np.eye(20))
    for (W_new, new_mask), level in zip(path, (0.0, 0.5, 0.9)):
        assert W_new.dtype == np.float32 and np.all(new_mask[mask == 0] == 0)
        for r in range(7):
            w, h_inv = W[r].astype(np.float64) * mask[r], obs.restrict(H_inv, mask[r] == 0)
            k = max(round(level * 20) - int(np.sum(mask[r] == 0)), 0)
            reference = obs.prune_loop(w, h_inv, k)[0]
            assert np.array_equal(new_mask[r] == 0, (reference == 0) | (mask[r] == 0))
            assert_close([(f"level {level} row {r}", W_new[r].astype(np.float64), reference)], 1e-5, 1e-6)


# ----- bad input ----------------------------------------------------------------------------------
def test_bad_input_gives_clear_errors(rng):
    X = rng.standard_normal((30, 6))
    X[:, 2] = 0  # a dead input: H = 2XᵀX is singular
    W = rng.standard_normal((3, 6))
    with pytest.raises(ValueError, match="singular.*damping"):
        obs.prune_layerwise(W, X, 0.5)
    with pytest.raises(ValueError, match="singular.*damping"):
        obs.prune_layerwise(W, rng.standard_normal((4, 6)), 0.5)  # n < d: rank 4 of 6
    assert obs.prune_layerwise(W, X, 0.5, damping=1e-3)[0].shape == (3, 6)
    for bad in (1.0, -0.1, float("nan"), 2, True):
        with pytest.raises(ValueError, match=r"sparsity must be a fraction in \[0, 1\)"):
            obs.prune_layerwise(W, X, bad, damping=1e-3)
    with pytest.raises(ValueError, match=r"mask must be a 0/1 array of shape \(3, 6\)"):
        obs.prune_layerwise(W, X, 0.5, damping=1e-3, mask=np.ones((6, 3)))
    with pytest.raises(ValueError, match=r"mask must be a 0/1 array of shape \(6,\)"):
        obs.prune(rng.standard_normal(6), np.eye(6), 2, mask=np.ones(5))
    with pytest.raises(ValueError, match=r"mask must be a 0/1 array of shape \(3, 6\)"):
        obs.prune_layerwise(W, X, 0.5, damping=1e-3, mask=np.full((3, 6), 0.5))  # right shape, not 0/1
    with pytest.raises(ValueError, match=r"X must be a finite \(n, 6\)"):
        obs.prune_layerwise(W, X[:, :5], 0.5)
    for singular in (np.diag([1.0, 0.0, 2.0]), np.diag([1.0, 1e-18]), -np.eye(2)):  # Cholesky passes the 2nd
        with pytest.raises(ValueError, match="singular or not positive definite"):
            obs.inverse(singular)
    w, h_inv = obs.delete(np.ones(4), np.eye(4), 1)
    with pytest.raises(ValueError, match="already deleted"):
        obs.delete(w, h_inv, 1)
    with pytest.raises(ValueError, match=r"q must be an int index in \[0, 4\)"):
        obs.delete(w, h_inv, 4)
    with pytest.raises(ValueError, match=r"h_inv must be \(4, 4\)"):
        obs.saliency(np.ones(4), np.eye(3))
    with pytest.raises(ValueError, match="finite flat weight vector"):
        obs.saliency(np.array([1.0, np.nan]), np.eye(2))
    with pytest.raises(ValueError, match=r"count must be an int in \[0, 3\]"):
        obs.prune(w, h_inv, 4)
