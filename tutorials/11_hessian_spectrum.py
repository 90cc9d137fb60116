# %% [markdown]
# # Tutorial 11: the Hessian's spectrum from Hessian-vector products
#
# A network's Hessian H has P² entries, far too many to form; but Hv costs about two backward
# passes (`cv.hvp`, Pearlmutter's R-operator). From products alone PyHessian (Yao et al. 2020)
# gets the top eigenvalues (power iteration, Lanczos), the trace (Hutchinson) and the whole
# eigenvalue density (stochastic Lanczos quadrature, SLQ). We build power iteration by hand on a
# 2-parameter model, then use the library's versions on a small MLP whose dense H we can still
# afford, so that every estimate is held against `numpy.linalg.eigh` (a few seconds as a script).

# %%
import os
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from minicompress import nn
from minicompress.datasets import load
from minicompress.nn import curvature as cv
from minicompress.train import fit

SEED = int(os.environ.get("MINICOMPRESS_SEED", 0))
OUT = Path("out/tutorials")
rng = np.random.default_rng(SEED)

# %% [markdown]
# ## 1. Power iteration by hand, two parameters
# y = tanh(w·x + b) near its fit to noisy data, squared error: H is 2×2. Power iteration repeats v ← Hv/‖Hv‖; v
# turns towards the eigenvector of the eigenvalue of largest |λ|, at the rate |λ₂/λ₁| per step,
# and the Rayleigh quotient vᵀHv gives λ with its sign.

# %%
x2 = rng.normal(loc=1.0, size=(40, 1))  # inputs off-centre: w and b pull together
y2 = np.tanh(1.5 * x2 - 0.5) + 0.1 * rng.normal(size=(40, 1))
tiny = nn.Sequential(nn.Linear(1, 1, rng=rng, dtype=np.float64), nn.Tanh())
tiny[0].weight.data[...], tiny[0].bias.data[...] = 1.5, -0.5  # near the fit, the generating values
mse = nn.MSELoss()
H2 = cv.hessian(tiny, mse, x2, y2)  # (2, 2), from two hvps
exact_values, exact_vectors = np.linalg.eigh(H2)
dominant = np.argmax(np.abs(exact_values))


def hv(v):  # the Hessian as an operator: a flat vector (w, b) -> H (w, b)
    return np.concatenate([h.ravel() for h in cv.hvp(tiny, mse, x2, y2, [v[:1].reshape(1, 1), v[1:]])])


v = np.ones(2) / np.sqrt(2)
for step in range(1, 501):
    w = hv(v)
    lam = v @ w
    if np.linalg.norm(w - lam * v) <= 1e-10 * abs(lam):
        break
    v = w / np.linalg.norm(w)
print(f"H = {np.round(H2, 4).tolist()}; eigh: {exact_values}; power iteration: λ = {lam:.10f} "
      f"after {step} hvps (|λ₂/λ₁| = {np.abs(exact_values).min() / np.abs(exact_values).max():.3f})")
assert np.allclose(H2, H2.T, atol=1e-12)
assert abs(lam - exact_values[dominant]) <= 1e-8 * abs(exact_values[dominant])
assert abs(abs(v @ exact_vectors[:, dominant]) - 1) < 1e-8  # the eigenvector, up to its sign

# %% [markdown]
# ## 2. Lanczos against power iteration on a small MLP
# A 49-16-10 ReLU MLP on 7×7 digits (P = 970) is small enough for the dense H. Lanczos keeps the
# whole Krylov basis {v, Hv, H²v, …} and reads the eigenvalues off a tridiagonal matrix;
# power iteration keeps one vector (and deflates for the next eigenvalue). Same tolerance, k = 3.

# %%
x, y = load("synth_digits", "train", n=2_000, seed=SEED)
x = x.astype(np.float64)  # float64 throughout: we compare with eigh to 1e-6
mlp = nn.Sequential(nn.AvgPool2d(4), nn.Flatten(), nn.Linear(49, 16, rng=rng, dtype=np.float64), nn.ReLU(),
                    nn.Linear(16, 10, rng=rng, dtype=np.float64))
loss = nn.SoftmaxCrossEntropy()
fit(mlp, loss, nn.Adam(mlp.parameters(), lr=1e-2), x, y, epochs=5, batch_size=64, rng=SEED, verbose=False)
xb, yb = x[:256], y[:256]  # E: the mean cross-entropy on this batch
H = cv.hessian(mlp, loss, xb, yb)
eigenvalues = np.linalg.eigvalsh(H)[::-1]  # decreasing
P = len(eigenvalues)
counts = {}
for method in ("lanczos", "power"):
    values, _, info = cv.top_eigenvalues(mlp, loss, xb, yb, 3, tol=1e-8, max_iter=2000, rng=SEED,
                                         method=method, return_info=True)
    counts[method] = info["hvps"]
    print(f"{method:8s}: {np.round(values, 6)} in {info['hvps']} hvps; eigh: {np.round(eigenvalues[:3], 6)}")
    assert np.allclose(values, eigenvalues[:3], rtol=1e-6)
assert counts["lanczos"] < counts["power"]

# %% [markdown]
# ## 3. The trace: Hutchinson against Hutch++
# Hutchinson averages zᵀHz over Rademacher z (E[zzᵀ] = I). Hutch++ spends a third of its hvps
# on a sketch of H's top subspace, takes that part's trace exactly and Hutchinson's only on the
# rest: the outliers, which dominate zᵀHz's variance, no longer count against it.

# %%
exact_trace = np.trace(H)
estimates = {m: [cv.trace(mlp, loss, xb, yb, n=30, rng=np.random.default_rng([SEED, k]), method=m)
                 for k in range(20)]
             for m in ("hutchinson", "hutch++")}
for m, e in estimates.items():
    print(f"{m:10s}: 20 estimates of 30 hvps, mean {np.mean(e):.4f} ± {np.std(e):.4f}; Tr(H) = {exact_trace:.4f}")
assert np.std(estimates["hutch++"]) < np.std(estimates["hutchinson"])
assert abs(np.mean(estimates["hutchinson"]) - exact_trace) < 5 * np.std(estimates["hutchinson"]) / np.sqrt(20)

# %% [markdown]
# ## 4. The whole spectrum: stochastic Lanczos quadrature
# m Lanczos steps from a random unit v give a tridiagonal T with eigenpairs (θᵢ, sᵢ): the
# quadrature vᵀf(H)v ≈ Σ sᵢ[0]² f(θᵢ). Averaged over probes, the nodes θ and weights s[0]² are
# a discrete stand-in for the density (1/P) Σ δ(t − λⱼ); PyHessian plots it smoothed, on a log
# scale, where its shape shows: a bulk near zero, and a few outliers.

# %%
nodes, weights = cv.spectral_density(mlp, loss, xb, yb, n_lanczos=40, n_probes=8, rng=SEED)
grid = np.linspace(eigenvalues[-1] - 0.05, eigenvalues[0] + 0.05, 1500)
fig, ax = plt.subplots(figsize=(6, 3.5), constrained_layout=True)
ax.semilogy(grid, cv.smoothed_density(nodes, weights, grid) + 1e-6, label="SLQ (8 probes × 40 steps)")
ax.semilogy(grid, cv.smoothed_density(eigenvalues, np.full(P, 1 / P), grid,
                                      sigma=0.01 * np.ptp(nodes)) + 1e-6, "k--", lw=0.8, label="eigh")
ax.set(xlabel="eigenvalue of H", ylabel="density (log)", title=f"49-16-10 MLP, P = {P}")
ax.legend()
OUT.mkdir(parents=True, exist_ok=True)
fig.savefig(OUT / "11_hessian_spectrum.png", dpi=80)
# checked: the first moment is Hutchinson's Tr(H)/P with unit probes (σ per probe from H), and
# the extreme nodes converge first
sigma = np.sqrt(2 * (np.sum(H ** 2) - np.sum(np.diag(H) ** 2))) / P
print(f"first moment {nodes @ weights:.5f}, Tr(H)/P = {exact_trace / P:.5f} (σ/√8 = {sigma / np.sqrt(8):.5f})")
assert abs(nodes @ weights - exact_trace / P) < 5 * sigma / np.sqrt(8)
assert np.isclose(weights.sum(), 1) and abs(nodes.max() - eigenvalues[0]) < 1e-6 * eigenvalues[0]
assert eigenvalues[0] > 10 * np.quantile(np.abs(eigenvalues), 0.9)  # an outlier far above the bulk

# %% [markdown]
# ## 5. One bit allocation (HAWQ-V2, Dong et al. 2020)
# Rounding layer l to b bits moves its weights by ΔW_l, and near a minimum the loss grows by about
# ½ ΔWᵀHΔW. HAWQ-V2 keeps only each layer's average curvature: Ω_l(b) = Tr(H_l)/n_l · ‖Q_b(W_l) − W_l‖².
# Every assignment of 2, 4 or 8 bits per layer is a point (size, Σ Ω); under a size budget we
# take the least sensitive one, a point of the Pareto frontier.

# %%
from minicompress.papers.dong2019_hawq import (choose_bits, layer_curvature, model_size, pareto_frontier,
                                               quantize_weights, sensitivity, weight_layers)

layers = weight_layers(mlp)
start = np.cumsum([0] + [p.data.size for p in mlp.parameters()])
block = {id(p): slice(a, b) for p, a, b in zip(mlp.parameters(), start[:-1], start[1:])}  # H's blocks
exact = np.array([np.trace(H[block[id(m.weight)], block[id(m.weight)]]) / m.weight.data.size for m in layers])
estimated = layer_curvature(mlp, loss, xb, yb, criterion="trace", n=300, rng=SEED)
print(f"Tr(H_l)/n_l: exact {np.round(exact, 5)}, Hutchinson (300 hvps) {np.round(estimated, 5)}")
assert np.all(np.abs(estimated - exact) < 0.5 * exact)
sizes = [m.weight.data.size for m in layers]
omega = sensitivity(exact, [m.weight for m in layers])  # (L, 3): 2, 4, 8 bits
budget = 4 * sum(sizes)  # the size of 4 bits everywhere
chosen = choose_bits(omega, sizes, budget=budget)
base = loss(mlp(xb), yb)
frontier = pareto_frontier(omega, sizes)
for bits, total, size in frontier:
    increase = loss(quantize_weights(mlp, bits)(xb), yb) - base
    print(f"bits {bits}: {size:5d} bits of weights, Σ Ω = {total:.2e}, loss +{increase:.2e}"
          + ("  <- chosen" if bits == chosen else ""))
assert model_size(mlp, chosen) <= budget
assert chosen in [bits for bits, _, _ in frontier]
for average in (2.5, 3.5, 6):  # other budgets, other points of the frontier
    print(f"budget {average} bits per weight on average: bits {choose_bits(omega, sizes, budget=average * sum(sizes))}")

# %% [markdown]
# ## Exercises
# 1. Start power iteration from a vector orthogonal to the top eigenvector (by `eigh`). What does
#    it converge to in exact arithmetic, and what happens in floating point?
# 2. Count how many eigenvalues lie above the SLQ density's bulk. Compare with the number of
#    classes (Papyan 2019), after 1 and after 20 epochs of training.
# 3. At what number of hvps does Hutch++ become exact here (hint: 3P)? Check it.

# %% [markdown]
# **Checked exercises** (`minicompress course show NAME`: the statement and starter code). Write
# each function, then uncomment its `check(...)`: it prints "passed" or the first failing case.

# %%
from minicompress.course import check

# check("power_iteration", power_iteration)

# %%
# check("hutchinson_trace", hutchinson_trace)
