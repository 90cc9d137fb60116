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
# We compare them on a small tanh network and a small ReLU CNN trained on digits (about ten
# seconds as a script; `MINICOMPRESS_SEED=1` draws other data, weights and batches).

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

SEED = int(os.environ.get("MINICOMPRESS_SEED", 0))
OUT = Path("out/tutorials")
rng = np.random.default_rng(SEED)

# %% [markdown]
# ## 1. Two small networks, briefly trained
# Both see 14×14 digits (2×2 average pooling first) so that the exact diagonal, one hvp per
# weight, stays cheap. float64 throughout: we want to see the methods differ, not rounding.

# %%
x, y = load("synth_digits", "train", n=5_000, seed=SEED)
x = x.astype(np.float64)
hidden = 12
tanh_net = nn.Sequential(nn.AvgPool2d(2), nn.Flatten(),
                         nn.Linear(196, hidden, rng=rng, dtype=np.float64), nn.Tanh(),
                         nn.Linear(hidden, 10, rng=rng, dtype=np.float64))
relu_cnn = nn.Sequential(nn.AvgPool2d(2), nn.Conv2d(1, 4, 5, rng=rng, dtype=np.float64), nn.ReLU(),
                         nn.MaxPool2d(2), nn.Flatten(),
                         nn.Linear(4 * 5 * 5, 10, rng=rng, dtype=np.float64))
loss = nn.SoftmaxCrossEntropy()
for net in (tanh_net, relu_cnn):
    fit(net, loss, nn.Adam(net.parameters(), lr=3e-3), x, y, epochs=5, batch_size=64, rng=SEED,
        verbose=False)
x_batch, y_batch = x[:200], y[:200]  # E on this batch

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
# the GGN diagonal *is* the exact diagonal. For tanh they differ. LeCun's recursion drops the
# cross terms ∂²E/∂a_i∂a_j between units: nothing is dropped for the last layer here (a Linear
# layer straight into the loss: W[o, i] reaches only output o), so it is exact there, and it is
# an approximation below it.

# %%
net_of = {"tanh MLP": tanh_net, "ReLU CNN": relu_cnn}


def rank_agreement(name, method):  # Spearman's ρ between a method's h_kk and the exact ones
    return spearmanr(results[name, "exact"], results[name, method])[0]


def first_layer_gap(name, method):  # the largest error on the first layer's weights, relative
    first = net_of[name][2 if name == "tanh MLP" else 1].weight.data.size  # (they come first)
    exact, approx = results[name, "exact"][:first], results[name, method][:first]
    return np.abs(approx - exact).max() / np.abs(exact).max()


fig, axes = plt.subplots(2, 3, figsize=(12, 7), constrained_layout=True)
for row, name in enumerate(net_of):
    exact = results[name, "exact"]
    for ax, method in zip(axes[row], list(METHODS)[1:]):
        approx = results[name, method]
        ax.scatter(exact, approx, s=4, alpha=0.5)
        lim = [min(exact.min(), approx.min()), max(exact.max(), approx.max())]
        ax.plot(lim, lim, "k--", lw=0.8)
        ax.set(title=f"{name}: {method}\nSpearman ρ = {rank_agreement(name, method):.3f}",
               xlabel="exact h_kk", ylabel=f"{method} h_kk")
        print(f"{name}, {method}: ρ = {rank_agreement(name, method):.3f}, largest error on the "
              f"first layer {first_layer_gap(name, method):.0%}")
OUT.mkdir(parents=True, exist_ok=True)
fig.savefig(OUT / "02_second_derivatives.png", dpi=80)
print("figure:", OUT / "02_second_derivatives.png")

# %% [markdown]
# What the figure shows, checked:

# %%
assert np.allclose(results["ReLU CNN", "GGN"], results["ReLU CNN", "exact"], atol=1e-12)
assert first_layer_gap("tanh MLP", "GGN") > 0.01  # the f″ terms the GGN drops show for tanh
assert (results["tanh MLP", "exact"] < 0).any()  # and the exact diagonal can be negative there
for name, net in net_of.items():
    last = sum(p.data.size for p in net[-1].parameters())  # the last layer's entries come last
    assert np.allclose(results[name, "LeCun (OBD)"][-last:], results[name, "exact"][-last:],
                       atol=1e-12)
    assert first_layer_gap(name, "LeCun (OBD)") > 0.01  # below it, the cross terms are missing
    assert (results[name, "LeCun (OBD)"] >= 0).all()  # the LM form never goes negative
    assert rank_agreement(name, "LeCun (OBD)") > 0.8  # yet it ranks the weights much alike

# %% [markdown]
# ## 4. Even the last layer, when an activation follows it
# OBD's own networks squash their outputs with tanh. Then the last Linear layer is followed by
# f, and the OBD form (``gauss_newton=True``) drops f″·∂E/∂y even there: it gives the GGN's
# h_kk, not the Hessian's. With ``gauss_newton=False`` the recursion keeps that term and is exact.

# %%
squashed = nn.Sequential(nn.Linear(49, 10, rng=rng, dtype=np.float64), nn.Tanh())
x_small = x_batch[:, 0, ::4, ::4].reshape(len(x_batch), -1)  # 7×7 pixels as 49 inputs
targets = nn.one_hot(y_batch, 10, dtype=np.float64)
exact = cv.diag_hessian(squashed, nn.MSELoss(), x_small, targets)[0]
full = cv.diag_lecun(squashed, nn.MSELoss(), x_small, targets, gauss_newton=False)[0]
obd = cv.diag_lecun(squashed, nn.MSELoss(), x_small, targets)[0]
gap = np.abs(obd - exact).max() / np.abs(exact).max()
print(f"tanh outputs: f'' kept, largest gap {np.abs(full - exact).max():.1e}; OBD form {gap:.0%}")
assert np.allclose(full, exact, atol=1e-12) and gap > 0.05

# %% [markdown]
# ## Exercises
# 1. Switch the loss to `nn.MSELoss()` with one-hot targets. Which LeCun variant becomes exact
#    for the tanh network's first layer, and why? *(Hint: the curvature module's docstring.)*
# 2. Estimate the exact diagonal with `cv.diag_hutchinson(net, loss, x, y, n, rng)` for n = 10,
#    100, 1000. How does the error shrink?
# 3. Rank the weights by ½·h·w² under each diagonal. How many of the 20% least salient weights
#    do the exact and the OBD ranking share?

# %% [markdown]
# **Checked exercises** (`minicompress course show NAME`: the statement and starter code). Write
# each function, then uncomment its `check(...)`: it prints "passed" or the first failing case.

# %%
from minicompress.course import check

# check("lecun_linear", lecun_linear)

# %%
# check("lecun_tanh", lecun_tanh)
