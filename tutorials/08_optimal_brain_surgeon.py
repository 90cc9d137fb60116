# %% [markdown]
# # Tutorial 8: Optimal Brain Surgeon
#
# Optimal Brain Damage deletes the weight with the smallest saliency ½·h_kk·w_k² and leaves the
# others where they are: it reads only the diagonal of the Hessian H. Optimal Brain Surgeon
# (Hassibi & Stork 1993) keeps the whole H. Deleting weight q is the constraint w_q + δw_q = 0;
# the cheapest way to satisfy it moves *every* weight,
#
#     δw = −(w_q / [H⁻¹]_qq) · H⁻¹ e_q,      and costs     L_q = w_q² / (2 [H⁻¹]_qq).
#
# We look at it in two and three dimensions, then run it step by step on a tiny network, and
# finally prune one layer the way modern layer-wise pruners (OBC, SparseGPT) do.

# %%
import os
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from minicompress import nn
from minicompress.models import sigmoid_mlp
from minicompress.nn import curvature
from minicompress.papers import hassibi1993_obs as obs
from minicompress.train import fit

SEED = int(os.environ.get("MINICOMPRESS_SEED", 0))
OUT = Path("out/tutorials")
OUT.mkdir(parents=True, exist_ok=True)
rng = np.random.default_rng(SEED)

# %% [markdown]
# ## 1. Two weights: the diagonal ellipse and the full one
# A quadratic error E(v) = ½ (v − w)ᵀ H (v − w) around trained weights w. OBD sees the ellipse of
# diag(H); the real contours are tilted. Deleting w₁ means landing on the line v₁ = 0: OBD drops
# straight onto it, OBS slides to the lowest point of that line.

# %%
H = np.array([[1.0, 1.6], [1.6, 4.0]])
w = np.array([1.0, 0.55 + 0.1 * rng.random()])
E = lambda v: 0.5 * (v - w) @ H @ (v - w)  # noqa: E731
h_inv = np.linalg.inv(H)
for q in (0, 1):
    w_obs, _ = obs.delete(w, h_inv, q)
    print(f"delete w{q + 1}: OBD costs {0.5 * H[q, q] * w[q] ** 2:.3f} (= E of just zeroing it), "
          f"OBS costs {obs.saliency(w, h_inv)[q]:.3f} and moves the other weight to {w_obs[1 - q]:+.3f}")
    line = np.linspace(-3, 3, 60001)  # brute force along the constraint line
    grid = np.zeros((line.size, 2))
    grid[:, 1 - q] = line
    best = min(E(v) for v in grid[::100])
    assert abs(obs.saliency(w, h_inv)[q] - E(w_obs)) < 1e-12 and E(w_obs) <= best + 1e-6

# %% [markdown]
# In two dimensions the two methods always *choose* the same weight (w₁²/[H⁻¹]₁₁ against
# w₂²/[H⁻¹]₂₂ reduces to h₁₁w₁² against h₂₂w₂²), but OBS pays less, because it moves w₂.

# %%
a, b = np.meshgrid(np.linspace(-0.6, 1.6, 200), np.linspace(-0.8, 1.6, 200))
grid = np.stack([a - w[0], b - w[1]], axis=-1)
fig, ax = plt.subplots(figsize=(5, 4.5))
ax.contour(a, b, 0.5 * np.einsum("...i,ij,...j->...", grid, H, grid), levels=12, colors="C0", linewidths=0.8)
ax.contour(a, b, 0.5 * np.einsum("...i,ij,...j->...", grid, np.diag(np.diag(H)), grid), levels=[0.3],
           colors="C1", linestyles="--")
ax.axvline(0, color="k", lw=0.5), ax.axhline(0, color="k", lw=0.5)
ax.plot(*w, "ko", label="trained w")
ax.plot(0, w[1], "s", color="C1", label="OBD: w₁ = 0, nothing moves")
ax.plot(*obs.delete(w, h_inv, 0)[0], "^", color="C2", label="OBS: w₁ = 0, w₂ moves")
ax.set(xlabel="w₁", ylabel="w₂", title="E (blue) and OBD's diagonal view (dashed)")
ax.legend(fontsize=7)
fig.savefig(OUT / "08_two_weights.png", dpi=100)

# %% [markdown]
# With three weights the choices can differ: w₃ looks cheapest to OBD, but no other weight can make
# up for it; w₂ looks dearer, but w₁, strongly correlated with it, takes over its job.

# %%
H3 = np.array([[2.0, 1.9, 0.0], [1.9, 2.0, 0.0], [0.0, 0.0, 1.0]])
w3 = np.array([1.0, 0.8, 0.7])
obd_choice = int(np.argmin(0.5 * np.diag(H3) * w3 ** 2))
obs_choice = int(np.argmin(obs.saliency(w3, np.linalg.inv(H3))))
cost = lambda v: 0.5 * (v - w3) @ H3 @ (v - w3)  # noqa: E731
zeroed = w3.copy()
zeroed[obd_choice] = 0
print(f"OBD deletes w{obd_choice + 1} (error {cost(zeroed):.3f}); OBS deletes w{obs_choice + 1} "
      f"(error {cost(obs.delete(w3, np.linalg.inv(H3), obs_choice)[0]):.3f})")
assert obd_choice != obs_choice and cost(obs.delete(w3, np.linalg.inv(H3), obs_choice)[0]) < cost(zeroed)

# %% [markdown]
# ## 2. A tiny network, step by step
# A 2-2-1 sigmoid network learns XOR. The paper builds H⁻¹ from the outer-product (Gauss–Newton)
# form, one pattern at a time, starting from H₀⁻¹ = I/α: the recursion must equal the inverse of
# the explicit sum.

# %%
x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], np.float64)
t = np.array([[0], [1], [1], [0]], np.float64)
loss = nn.MSELoss(reduction="sum")
solved = lambda m: bool(np.all((m(x) > 0.5) == (t > 0.5)))  # noqa: E731
for attempt in range(20):  # some starts end in a local minimum: try the next
    net = sigmoid_mlp((2, 2, 1), init_scale=1.0, rng=np.random.default_rng([SEED, attempt]), dtype=np.float64)
    fit(net, loss, nn.SGD(net.parameters(), lr=0.5, momentum=0.9), x, t, epochs=3000, batch_size=4,
        shuffle=False, verbose=False, on_epoch=lambda r: np.abs(net(x) - t).max() < 0.3)
    if np.abs(net(x) - t).max() < 0.3:
        break
w = np.concatenate([p.data.ravel() for p in net.parameters()])
h_inv = obs.inverse_hessian(net, loss, x, t, damping=1e-4)  # the recursion
explicit = obs.inverse_hessian(net, loss, x, t, damping=1e-4, recursive=False)
assert np.allclose(h_inv, explicit, rtol=1e-6, atol=1e-6 * np.abs(explicit).max())
names = [f"{name}[{i}]" for name, p in net.named_parameters() for i in range(p.data.size)]
print("saliencies L_q:", ", ".join(f"{n} {L:.2e}" for n, L in zip(names, obs.saliency(w, h_inv))))

# %% [markdown]
# One OBS step: delete the weight of least saliency, move all the others by δw, and downdate H⁻¹
# (a rank-one update, no re-inversion). The downdated inverse is exactly the inverse of H with
# that row and column removed.

# %%
def with_weights(model, flat, deleted):
    """The network with flat weights ``flat`` and the ``deleted`` entries masked to zero."""
    start = 0
    for p in model.parameters():
        p.data = flat[start:start + p.data.size].reshape(p.shape).copy()
        p.mask = np.isin(np.arange(start, start + p.data.size), deleted).reshape(p.shape) == 0
        p.mask = p.mask.astype(np.float64)
        start += p.data.size
    return model


q = int(np.argmin(obs.saliency(w, h_inv)))
w_new, h_new = obs.delete(w, h_inv, q)
print(f"OBS deletes {names[q]}; the others move by {np.round(np.delete(w_new - w, q), 3)}")
keep = [k for k in range(w.size) if k != q]
full_H = np.linalg.inv(h_inv)
assert np.allclose(h_new[np.ix_(keep, keep)], np.linalg.inv(full_H[np.ix_(keep, keep)]), rtol=1e-5, atol=1e-6)
h = np.concatenate([a.ravel() for a in curvature.diag_lecun(net, loss, x, t)])
obd_q = int(np.argmin(0.5 * h * w ** 2))
zeroed = w.copy()
zeroed[obd_q] = 0
print(f"OBD deletes {names[obd_q]}: XOR still solved? OBS: {solved(with_weights(net, w_new, [q]))}, "
      f"OBD: {solved(with_weights(net, zeroed, [obd_q]))}")
assert solved(with_weights(net, w_new, [q]))

# %% [markdown]
# ## 3. Layer-wise OBS: one layer at a time
# For a network whose full Hessian is too large, prune each layer so that it keeps reproducing its
# own outputs on sample inputs X: row r of W costs ‖X (w_r − ŵ_r)‖², whose Hessian 2XᵀX is the
# same for every row. This is the Optimal Brain Compression solver (Frantar & Alistarh 2022).

# %%
X = rng.standard_normal((300, 40)) @ rng.standard_normal((40, 40)) * 0.3 + 1.0  # correlated inputs
W = rng.standard_normal((16, 40))
error = lambda V: float(np.sum((X @ (W - V).T) ** 2))  # noqa: E731
W_obs, mask = obs.prune_layerwise(W, X, 0.8, damping=1e-3)
W_mag = W * (np.abs(W) >= np.quantile(np.abs(W), 0.8, axis=1, keepdims=True))
print(f"80% of each row deleted: output error OBS {error(W_obs):.1f}, magnitude {error(W_mag):.1f}")
assert error(W_obs) < 0.5 * error(W_mag)

# %% [markdown]
# ## Exercises
# 1. Show on paper that in two dimensions OBS and OBD always choose the same weight.
# 2. Delete several weights with ``obs.delete`` one after another, and with ``obs.delete_block``
#    at once: compare the final weights and costs. When do they differ?
# 3. In section 2, replace the outer-product H by the exact Hessian (``kind="exact"``). Is it
#    positive definite at the trained XOR net? What does OBS do with a negative [H⁻¹]_qq?
# 4. Increase ``damping`` in section 3 from 1e-3 to 1e3. What does layer-wise OBS turn into?

# %% [markdown]
# **Checked exercises** (`minicompress course show NAME`: the statement and starter code). Write
# each function, then uncomment its `check(...)`: it prints "passed" or the first failing case.

# %%
from minicompress.course import check

# check("obs_step", obs_step)

# %%
# check("outer_product_inverse", outer_product_inverse)
