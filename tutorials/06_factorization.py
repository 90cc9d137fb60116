# %% [markdown]
# # Tutorial 6: low-rank factorization and predicting parameters (Denil et al. 2013)
#
# A weight matrix W (o × i) can be stored as a product W = V Uᵀ with V (o × k) and U (i × k):
# k(o + i) numbers instead of o·i. Three ways to get the factors: cut the SVD of a trained W (the
# best you can do for a given rank), learn both factors, or — Denil et al.'s idea — *fix* U to a
# dictionary that predicts a whole feature from its values at k chosen pixels, and learn only V.
#
# Run it as a script (`python tutorials/06_factorization.py`, about half a minute; another seed
# with `MINICOMPRESS_SEED=1`) or open it as a notebook with jupytext.

# %%
import os
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from minicompress import nn
from minicompress.datasets import load
from minicompress.factorize import FactorizedLinear, pixel_coordinates, relative_error, svd_layer, truncated_svd
from minicompress.models import mlp
from minicompress.papers import denil2013_predicting_parameters as denil
from minicompress.train import evaluate, fit

SEED = int(os.environ.get("MINICOMPRESS_SEED", 0))
N_TRAIN, EPOCHS = 6_000, 3
OUT = Path("out/tutorials")
x, y = load("synth_digits", "train", n=N_TRAIN)
x_test, y_test = load("synth_digits", "test", n=2_000)
x, x_test = (x - x.mean()) / x.std(), (x_test - x.mean()) / x.std()  # centred: SGD is faster
loss = nn.SoftmaxCrossEntropy()


def train(first_layer):
    """784 → first_layer → 500 → 10 (ReLU), SGD with a linearly decaying learning rate."""
    model = mlp((784, 500, 500, 10), first_layer=first_layer, rng=SEED)
    opt, steps = nn.SGD(model.parameters(), lr=0.1, momentum=0.9), EPOCHS * N_TRAIN // 100
    fit(model, loss, opt, x, y, epochs=EPOCHS, batch_size=100, rng=SEED, verbose=False,
        on_step=lambda s: setattr(opt, "lr", 0.1 * max(1 - s / steps, 1e-3)))
    return model


error = lambda model: 100 * (1 - evaluate(model, loss, x_test, y_test)["accuracy"])  # noqa: E731 (%)


# %% [markdown]
# ## 1. The SVD: what rank costs
# Train the full network, then cut its first layer to rank r. Eckart–Young: the truncated SVD is
# the best rank-r matrix in the Frobenius norm, and its error is √(Σ_{j>r} σ_j²).

# %%
first = nn.Linear(784, 500, rng=SEED)
W0 = first.weight.data.astype(np.float64)  # the initialization, kept for section 2
dense = train(first)
W, full_error, rows = first.weight.data.astype(np.float64), error(dense), []  # W (500, 784)
print(f"full network: {full_error:.2f}% test error")
for rank in (5, 20, 50, 150):
    left, right, s = truncated_svd(W, rank)
    residual = np.linalg.norm(W - left @ right.T)
    assert np.isclose(residual, np.sqrt((s[rank:] ** 2).sum()))  # Eckart–Young's error
    cut = mlp((784, 500, 500, 10), first_layer=svd_layer(first, rank), rng=0)
    for i in (3, 5):  # the layers above: the trained ones
        cut[i].load_state_dict(dense[i].state_dict())
    rows.append((rank, residual / np.linalg.norm(W), error(cut)))
    print(f"rank {rank:3d} ({rank * 1284 / W.size:5.1%} of the weights): relative error "
          f"{rows[-1][1]:.2f}, test error {rows[-1][2]:.2f}%")

# %% [markdown]
# The relative error falls slowly: a trained layer still carries its random initialization, which
# has no low-rank structure. Yet the test error recovers long before the residual is small.
#
# ## 2. Predicting a smooth feature from a few of its pixels
# Kernel ridge regression: with a kernel on pixel positions (squared exponential,
# k(p, q) = exp(−‖p − q‖²/2ℓ²)), a feature's values w_α at the pixels α predict all of it as
# ŵ = U_α w_α with U_α = k_αᵀ(K_αα + λI)⁻¹. The learned change W − W0 is smooth enough for it.

# %%
change = W - W0
feature = change[np.argmax(np.linalg.norm(change, axis=1))][None]  # the one that moved most
grid = pixel_coordinates((28, 28))
alpha = np.sort(np.random.default_rng(SEED).choice(784, 196, replace=False))  # 25% of the pixels
panels = {"W − W0": feature,
          "values at α": denil.predict_features(feature, np.eye(784)[:, alpha], alpha)}
for length_scale in (1.0, 2.0, 4.0):
    U = denil.kernel_ridge_dictionary(denil.se_kernel(grid, grid, length_scale), alpha, ridge=0.1)
    panels[f"ℓ = {length_scale:g}"] = denil.predict_features(feature, U, alpha)
errors = {title: relative_error(feature, image) for title, image in panels.items()}
fig, axes = plt.subplots(1, 5, figsize=(12, 2.8), constrained_layout=True)
for ax, (title, image) in zip(axes, panels.items()):
    ax.imshow(image.reshape(28, 28), cmap="RdBu_r", vmin=-abs(feature).max(), vmax=abs(feature).max())
    ax.set(title=f"{title}\nrel. error {errors[title]:.2f}", xticks=[], yticks=[])
OUT.mkdir(parents=True, exist_ok=True)
fig.savefig(OUT / "06_kernel_prediction.png", dpi=100)
print({k: round(v, 3) for k, v in errors.items()})

# %% [markdown]
# ## 3. Training with predicted parameters
# Fix U (one dictionary per column of 50 hidden units, each with its own random α) and learn
# only V: 10% of the first layer's weights. The dictionary matters: the SE kernel spreads each
# learned value over its neighbourhood; random atoms and the bare pixel subset do not.

# %%
results, se = {}, denil.se_kernel(grid, grid, 1.0)
for kind in ("se_kernel", "random_gaussian", "identity_subset", "learned"):
    layer = denil.predicted_layer(kind, 0.1, 500, kernel=se, ridge=1.0, rng=SEED)
    results[kind] = error(train(layer))
    print(f"{kind:16s} {layer.learned_fraction():.1%} learned ({layer.n_learned():,} of "
          f"{layer.n_dense():,} first-layer parameters): {results[kind]:.2f}% test error")
print(f"full network: {full_error:.2f}%")
assert rows[-1][1] < rows[0][1] and rows[-1][2] < rows[0][2]  # more rank, less error
assert errors["ℓ = 1"] < errors["values at α"] and min(errors["ℓ = 2"], errors["ℓ = 4"]) < 0.7
assert results["se_kernel"] < results["random_gaussian"] - 1  # prior knowledge beats random atoms
assert isinstance(layer, FactorizedLinear) and layer.learns_basis  # the last one: both learned

# %% [markdown]
# ## Exercises
# 1. Plot the singular values of W and of W0 on one log-scale axis. Where do they part?
#    *(Hint: `np.linalg.svd(W, compute_uv=False)`.)*
# 2. Set `ridge=1e-6` in section 2. Why does the prediction get *worse* at ℓ = 4?
#    *(Hint: K_αα is nearly singular when neighbouring α are much closer than ℓ.)*
# 3. In section 3, train the SE kernel with `ridge=1e-3`: its atoms grow and the largest
#    eigenvalue of U Uᵀ goes from ≈ 1 to ≈ 6. What does that do to SGD's step on W = V Uᵀ?
# 4. Use `minicompress.nn.curvature.diag_lecun(model, loss, x, y)` on a factorized model: which
#    entries of V look least salient for Optimal Brain Damage (½·h·v²)?

# %% [markdown]
# ## 4. Beyond matrices: a convolution kernel is a 4-way tensor (Kim et al. 2016, Lebedev et al. 2015)
# A conv kernel K (t, s, kh, kw) has a *mode-k unfolding* K_(k): mode k on the rows, all the other
# modes on the columns. HOSVD takes U_k = the leading left singular vectors of each K_(k) and the
# core G = K ×_k U_kᵀ. Tucker-2 factors only the two channel modes (the 5×5 is already small), and
# the conv becomes three: 1×1 (s → R_s, U_sᵀ), 5×5 (R_s → R_t, the core), 1×1 (R_t → t, U_t).
# Kim et al. pick (R_t, R_s) by VBMF on the two unfoldings: the singular values above the noise.

# %%
from minicompress import factorize, metrics, models

cnn = models.lenet5(rng=0)
opt = nn.SGD(cnn.parameters(), lr=0.05, momentum=0.9)
fit(cnn, loss, opt, x[:4000], y[:4000], epochs=2, batch_size=64, rng=0, verbose=False)
K = cnn[3].weight.data.astype(np.float64)  # conv2: (50, 20, 5, 5)
R_t, R_s = factorize.vbmf_ranks(K)
U_t = np.linalg.svd(factorize.unfold(K, 0), full_matrices=False)[0][:, :R_t]  # HOSVD by hand
U_s = np.linalg.svd(factorize.unfold(K, 1), full_matrices=False)[0][:, :R_s]
core = factorize.mode_product(factorize.mode_product(K, U_t.T, 0), U_s.T, 1)  # (R_t, R_s, 5, 5)
ref_core, (ref_t, ref_s) = factorize.tucker(K, (R_t, R_s), modes=(0, 1))
assert np.allclose(U_t @ U_t.T, ref_t @ ref_t.T) and np.allclose(U_s @ U_s.T, ref_s @ ref_s.T)
K_hat = factorize.tucker_to_tensor(core, [U_t, U_s], modes=(0, 1))
small = factorize.decompose(cnn, 3, "tucker2", ranks=(R_t, R_s), n_iter=0)  # the HOSVD
exact = factorize.decompose(cnn, 3, "tucker2", ranks=(50, 20))  # full ranks: the same function
macs = [sum(r["dense"] for r in metrics.flops(m, (1, 28, 28))["layers"][1:1 + n])
        for m, n in ((cnn, 1), (small, 3))]
print(f"VBMF ranks (R_t, R_s) = ({R_t}, {R_s}); relative error {relative_error(K, K_hat):.2f}; "
      f"conv2 MACs {macs[0]:,} -> {macs[1]:,}; test error {error(cnn):.2f}% -> {error(small):.2f}%")
assert np.allclose(exact(x_test[:8]), cnn(x_test[:8]), atol=1e-4) and macs[1] < macs[0]

# %%
fig, axes = plt.subplots(1, 4, figsize=(12, 3), constrained_layout=True,
                         gridspec_kw=dict(width_ratios=[10, 1, 2.5, 1]))
panels = [("original conv2: K_(0)\n50 × (20·5·5)", factorize.unfold(K, 0)),
          (f"1×1: U_sᵀ\n{R_s} × 20", U_s.T),
          (f"5×5: core G_(0)\n{R_t} × ({R_s}·5·5)", factorize.unfold(core, 0)),
          (f"1×1: U_t\n50 × {R_t}", U_t)]
for ax, (title, matrix) in zip(axes, panels):
    ax.imshow(matrix, cmap="RdBu_r", aspect="auto")
    ax.set(title=title, xticks=[], yticks=[])
fig.savefig(OUT / "06_tucker2.png", dpi=100)

# %% [markdown]
# ### Exercises (section 4)
# 5. Decompose conv2 with `method="cp"` at the rank of equal MACs: which of its four convs are
#    depthwise (`groups`)? Fine-tune both for one epoch: which one recovers more?
# 6. Run `factorize.cp(K, 11, n_iter=300, rng=0)` with and without `ridge=0.01` and compare
#    Σλ² with ‖K‖²: what is a *degenerate* CP fit, and why can it not be fine-tuned?

# %% [markdown]
# **Checked exercises** (`minicompress course show NAME`: the statement and starter code). Write
# each function, then uncomment its `check(...)`: it prints "passed" or the first failing case.

# %%
from minicompress.course import check

# check("kernel_ridge_dictionary", kernel_ridge_dictionary)

# %%
# check("low_rank", low_rank)
