# %% [markdown]
# # Tutorial 2: second derivatives, side by side
#
# Optimal Brain Damage ranks weights by the saliency ½·h_kk·w_k², where h_kk = ∂²E/∂w_k² is a
# diagonal entry of the Hessian. minicompress computes that diagonal four ways:
#
# | function | what it is | cost |
# |---|---|---|
# | `diag_hessian` | the exact diagonal (one Hessian-vector product per weight) | P hvps |
# | `diag_ggn` | the exact diagonal of the Gauss–Newton matrix JᵀHJ (drops f″ terms) | ≈ C backwards |
# | `diag_lecun(gauss_newton=False)` | Becker & LeCun's recursion (drops cross terms) | ≈ 1 backward |
# | `diag_lecun()` | the same without f″ terms (Levenberg–Marquardt form, OBD's choice) | ≈ 1 backward |
#
# We compare them on a small tanh network and a small ReLU CNN trained on digits.

# %%
import os
import time
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from scipy.stats import spearmanr

from minicompress import nn
from minicompress.datasets import load
from minicompress.nn import curvature as cv
from minicompress.train import fit

QUICK = os.environ.get("MINICOMPRESS_QUICK") == "1"
OUT = Path("out/tutorials")
rng = np.random.default_rng(0)

# %% [markdown]
# ## 1. Two small networks, briefly trained
# Both see 14×14 digits (2×2 average pooling first) so that the exact diagonal, one hvp per
# weight, stays cheap. float64 throughout: we want to see the methods differ, not rounding.

# %%
x, y = load("synth_digits", "train", n=1_000 if QUICK else 5_000, seed=0)
x = x.astype(np.float64)
hidden = 8 if QUICK else 20
tanh_net = nn.Sequential(nn.AvgPool2d(2), nn.Flatten(),
                         nn.Linear(196, hidden, rng=rng, dtype=np.float64), nn.Tanh(),
                         nn.Linear(hidden, 10, rng=rng, dtype=np.float64))
relu_cnn = nn.Sequential(nn.AvgPool2d(2), nn.Conv2d(1, 4, 5, rng=rng, dtype=np.float64), nn.ReLU(),
                         nn.MaxPool2d(2), nn.Flatten(),
                         nn.Linear(4 * 5 * 5, 10, rng=rng, dtype=np.float64))
loss = nn.SoftmaxCrossEntropy()
for net in (tanh_net, relu_cnn):
    fit(net, loss, nn.Adam(net.parameters(), lr=3e-3), x, y, epochs=2 if QUICK else 5,
        batch_size=64, rng=1, verbose=False)
x_batch, y_batch = x[:50 if QUICK else 200], y[:50 if QUICK else 200]  # E on this batch

# %% [markdown]
# ## 2. Four diagonals, and what each costs
# Each function runs its own forward pass and returns one array per parameter.

# %%
METHODS = {"exact": cv.diag_hessian, "GGN": cv.diag_ggn,
           "LeCun (f'' kept)": lambda *a: cv.diag_lecun(*a, gauss_newton=False),
           "LeCun (OBD)": cv.diag_lecun}


def gradient_pass(net):
    net.zero_grad()
    loss(net(x_batch), y_batch)
    net.grad_params(loss.backward())


results, seconds = {}, {}
for name, net in (("tanh MLP", tanh_net), ("ReLU CNN", relu_cnn)):
    start = time.perf_counter()
    for _ in range(10):
        gradient_pass(net)
    base = (time.perf_counter() - start) / 10
    for method, fn in METHODS.items():
        start = time.perf_counter()
        diag = fn(net, loss, x_batch, y_batch)
        seconds[name, method] = (time.perf_counter() - start) / base
        results[name, method] = np.concatenate([d.ravel() for d in diag])
    print(f"{name}: {results[name, 'exact'].size} weights; time / gradient pass: " +
          ", ".join(f"{m} {seconds[name, m]:.1f}x" for m in METHODS))

# %% [markdown]
# ## 3. How close are the cheap ones?
# For the ReLU CNN, the network is piecewise linear in every weight, so the f″ terms vanish and
# the GGN diagonal *is* the exact diagonal. For tanh they differ. LeCun's recursion is exact for
# the last layer (nothing is dropped there) and approximate below it.

# %%
fig, axes = plt.subplots(2, 3, figsize=(12, 7), constrained_layout=True)
for row, name in enumerate(("tanh MLP", "ReLU CNN")):
    exact = results[name, "exact"]
    for ax, method in zip(axes[row], list(METHODS)[1:]):
        approx = results[name, method]
        rho = spearmanr(exact, approx)[0]
        ax.scatter(exact, approx, s=4, alpha=0.5)
        lim = [min(exact.min(), approx.min()), max(exact.max(), approx.max())]
        ax.plot(lim, lim, "k--", lw=0.8)
        ax.set(title=f"{name}: {method}\nSpearman ρ = {rho:.3f}", xlabel="exact h_kk",
               ylabel=f"{method} h_kk")
OUT.mkdir(parents=True, exist_ok=True)
fig.savefig(OUT / "02_second_derivatives.png", dpi=100)
print("figure:", OUT / "02_second_derivatives.png")

# %%
assert np.allclose(results["ReLU CNN", "GGN"], results["ReLU CNN", "exact"], atol=1e-12)
assert not np.allclose(results["tanh MLP", "GGN"], results["tanh MLP", "exact"], atol=1e-6)
for name, net in (("tanh MLP", tanh_net), ("ReLU CNN", relu_cnn)):
    last = sum(p.data.size for p in net[-1].parameters())  # the last layer's entries come last
    assert np.allclose(results[name, "LeCun (OBD)"][-last:], results[name, "exact"][-last:],
                       atol=1e-12)
    assert (results[name, "LeCun (OBD)"] >= 0).all()  # the LM form never goes negative

# %% [markdown]
# ## Exercises
# 1. Switch the loss to `nn.MSELoss()` with one-hot targets. Which LeCun variant becomes exact
#    for the tanh network's first layer, and why? *(Hint: the curvature module's docstring.)*
# 2. Estimate the exact diagonal with `cv.diag_hutchinson(net, loss, x, y, n, rng)` for n = 10,
#    100, 1000. How does the error shrink?
# 3. Rank the weights by ½·h·w² under each diagonal. How many of the 20% least salient weights
#    do the exact and the OBD ranking share?
