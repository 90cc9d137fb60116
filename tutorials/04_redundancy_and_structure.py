# %% [markdown]
# # Tutorial 4: redundancy and structure, removing whole neurons and filters
#
# Zeroing single weights makes a network smaller on paper but not faster: the matrices keep
# their shapes. Removing whole units does both. Two papers, two ways to find removable units:
#
# * Srinivas & Babu (2015): two neurons with the same incoming weights are one neuron; merge
#   them, using the weights alone (no data);
# * Wen et al. (2016): train with a *group lasso* that pushes whole filters, channels and filter
#   shapes to exactly zero, then cut them out.
#
# Run it as a script or open it with jupytext (about 20 s on a laptop core).

# %%
import os

import matplotlib.pyplot as plt
import numpy as np

from minicompress import nn, pruning
from minicompress.datasets import load_train_test
from minicompress.metrics import flops, latencies
from minicompress.models import CONV1, CONV2, FC1, FC2, lenet5, mlp
from minicompress.papers import srinivas2015_data_free as sb, wen2016_ssl as ssl
from minicompress.pruning.lowered import same_nonzeros, to_csr
from minicompress.train import evaluate, fit

SEED = int(os.environ.get("MINICOMPRESS_SEED", 0))
(x, y), (x_test, y_test) = load_train_test("synth_digits", n_train=4_000, n_test=1_000)
loss, rng = nn.SoftmaxCrossEntropy(), np.random.default_rng(SEED)


def train(model, epochs, lr=0.01, wrap=None):
    """Caffe's LeNet solver: SGD, momentum 0.9, weight decay 5e-4, batches of 64."""
    optimizer = nn.SGD(model.parameters(), lr=lr, momentum=0.9, weight_decay=5e-4)
    fit(model, loss, wrap(optimizer) if wrap else optimizer, x, y, epochs=epochs, batch_size=64,
        rng=rng, verbose=False)
    return model


def accuracy(model):
    return evaluate(model, loss, x_test, y_test)["accuracy"]


# %% [markdown]
# ## Two identical neurons are one neuron
# The next layer sees z = Σ_k a_k h(W_k·x). If W_3 = W_1, then a_1 h(W_1·x) + a_3 h(W_3·x) =
# (a_1 + a_3) h(W_1·x): delete neuron 3 and add its outgoing weights to neuron 1's.

# %%
tiny = nn.Sequential(nn.Linear(4, 5, rng=0, dtype=np.float64), nn.ReLU(),
                     nn.Linear(5, 2, rng=1, dtype=np.float64))
tiny[0].weight.data[3], tiny[0].bias.data[3] = tiny[0].weight.data[1], tiny[0].bias.data[1]
merged = pruning.remove_units(tiny, 0, [0, 1, 2, 4])  # delete neuron 3 ...
merged[2].weight.data[:, 1] += tiny[2].weight.data[:, 3]  # ... and do the surgery a_1 ← a_1 + a_3
probe = np.random.default_rng(1).standard_normal((6, 4))
duplicate_error = np.abs(merged(probe) - tiny(probe)).max()
print(f"5 neurons -> 4, largest output change {duplicate_error:.1e}")

# %% [markdown]
# ReLU is positively homogeneous, h(c·W·x) = c·h(W·x) for c > 0, so a *scaled* copy merges too:
# a_1 ← a_1 + c·a_3. (With tanh it would not: tanh(2t) ≠ 2 tanh(t).)

# %%
tiny[0].weight.data[3], tiny[0].bias.data[3] = 3.0 * tiny[0].weight.data[1], 3.0 * tiny[0].bias.data[1]
steps = sb.merge_sequence(*sb.weight_sets(tiny, 0), 1, normalize=True)
print(steps[0])  # merges 3 into 1 (or 1 into 3) with saliency ~0 and scale 3 (or 1/3)
scaled_error = np.abs(sb.merge_neurons(tiny, 0, steps)(probe) - tiny(probe)).max()

# %% [markdown]
# ## Near-duplicates: the saliency s_ij = ⟨a_j²⟩ ‖W_i − W_j‖²
# Real neurons are never exact copies. Merging j into i changes z by a_j (h(W_j·x) − h(W_i·x)),
# at most |a_j| ‖W_i − W_j‖ ‖x‖ for ReLU; dropping ‖x‖ leaves a cost that needs no data. Merge the
# cheapest pair, update, repeat: `merge_sequence` returns the whole order. How many to merge? The
# paper reads it off the curve of the merges' saliencies; `knee` is one explicit way to read it.

# %%
net = train(mlp((784, 500, 10), rng=rng), 8, lr=0.05)
order = sb.merge_sequence(*sb.weight_sets(net, 1), 499)
saliency = np.array([m.saliency for m in order])
stop = sb.knee(saliency)
most = order[:400]  # 80% of the 500 hidden neurons
curve = {"dense": accuracy(net), "surgery": accuracy(sb.merge_neurons(net, 1, most)),
         "no surgery": accuracy(sb.merge_neurons(net, 1, most, surgery=False)),
         "at the knee": accuracy(sb.merge_neurons(net, 1, order[:stop]))}
print({k: f"{v:.2%}" for k, v in curve.items()}, f"knee after {stop} merges")
fig, ax = plt.subplots(figsize=(5, 3))
ax.semilogy(np.arange(1, 500), saliency)
ax.axvline(stop, ls="--", color="grey")
ax.set(xlabel="neurons merged", ylabel="saliency of the merge", title="a data-free stopping rule")
plt.show()

# %% [markdown]
# The knee lands late: the last merges cost orders of magnitude more than the first, so on a
# linear scale the curve bends only near the end, and the net merged there has lost accuracy.

# %% [markdown]
# ## Structured sparsity learning on LeNet-5
# The group lasso λ Σ_g ‖W_g‖₂ (unsquared norms) zeroes whole groups. `GroupLasso` wraps the
# optimizer: after each SGD step every group is shrunk, W_g ← W_g·max(0, 1 − τ/‖W_g‖) with
# τ = lr·λ/(1 − μ) (the proximal step), so weak groups land *exactly* at zero. Why 1/(1 − μ)? With
# momentum μ a steady step moves the weights by lr·g/(1 − μ), ten times lr·g for μ = 0.9; the
# shrinkage must be as large, or the net minimizes E + λR/10. Filter-wise groups are rows of a
# convolution's GEMM matrix, channel-wise groups its input channels. conv1 has a single input
# channel, so a channel group there would be the whole layer: it gets filter groups only.

# %%
cnn = train(lenet5(rng), 3, lr=0.05)
dense_cnn = accuracy(cnn)
sparse_cnn = lenet5(0)
sparse_cnn.load_state_dict(cnn.state_dict())
lam = 0.06
terms = ssl.ssl_terms(sparse_cnn, {CONV1: {"filter": lam}, CONV2: {"filter": lam, "channel": lam}})
train(sparse_cnn, 3, wrap=lambda optimizer: ssl.GroupLasso(optimizer, terms))
ssl.zero_small_groups(terms)  # masks hold the zero groups at zero
small = ssl.shrink_structured(sparse_cnn)  # the compact net: dead filters and channels removed
shrunk_error = np.abs(small(x_test[:256]) - sparse_cnn(x_test[:256])).max()
train(small, 1, lr=0.001)  # fine-tune the compact net, without the group lasso
print(ssl.survivors(sparse_cnn))
print(small)

# %%
fig, axes = plt.subplots(2, 20, figsize=(10, 1.4))
for row, model in zip(axes, (cnn, sparse_cnn)):
    w = model[CONV1].weight.value()[:, 0]
    for ax, f in zip(row, w):
        ax.imshow(f, cmap="RdBu_r", vmin=-abs(w).max(), vmax=abs(w).max())
        ax.set_axis_off()
fig.suptitle("conv1 filters before (top) and after SSL (bottom; blank = removed)")
plt.show()

# %% [markdown]
# ## Is it faster? Measured, beside the MACs
# The shrunk model is a smaller dense network. For contrast, the dense network pruned to the
# same number of nonzeros *per layer*, unstructured, run with scipy.sparse (CSR) matrices (not
# fine-tuned, so its accuracy suffers). `latencies` times them interleaved, round after round, so
# that a change in the machine's speed hits all three alike.

# %%
unstructured = same_nonzeros(cnn, small, (CONV1, CONV2, FC1, FC2))
models = {"dense": cnn, "SSL shrunk": small, "unstructured CSR": to_csr(unstructured)}
times = latencies(models, x_test[:256], (CONV1, CONV2), repeats=3, rounds=2)
macs = {name: flops(m, (1, 28, 28))["dense"] for name, m in models.items()}
for name, m in models.items():
    print(f"{name:17s} accuracy {accuracy(m):.2%}  "
          f"MACs {macs['dense'] / macs[name]:.2f}x fewer  measured {times['dense']['network'] / times[name]['network']:.2f}x "
          f"faster (conv2 {times['dense'][CONV2] / times[name][CONV2]:.2f}x)  [this machine, right now]")

# %% [markdown]
# ## What this showed (checked)

# %%
assert duplicate_error < 1e-12 and scaled_error < 1e-12  # merging duplicates is exact
assert steps[0].saliency < 1e-20 and 0 < stop < 499
assert curve["surgery"] > curve["no surgery"] + 0.01  # surgery keeps what deleting loses
assert curve["dense"] > 0.8 and dense_cnn > 0.85
assert shrunk_error < 1e-4  # surgery changes nothing (float32 rounding)
assert macs["dense"] / macs["SSL shrunk"] > 2  # fewer multiply-accumulates; wall-clock is printed, not asserted
assert small[CONV1].weight.shape[0] < 20 and small[CONV2].weight.shape[1] < 20
assert accuracy(small) > dense_cnn - 0.03

# %% [markdown]
# ## Exercises
# 1. Merge with `normalize=True` in `merge_sequence` and compare the accuracy at 50%, 80% and
#    90% of the neurons merged. *Hint:* `sb.merge_neurons(net, 1, order[:k])` for each k.
# 2. The knee above reads the saliency curve on a linear scale. Read it on a log scale
#    (`sb.knee(np.log(saliency + 1e-12))`, shifted to start at 0): where does it stop now, and what
#    does that merge cost in accuracy?
# 3. Replace the channel groups by shape groups (`{"filter": ..., "shape": ...}`). Which
#    columns of conv2's GEMM matrix survive? *Hint:* `ssl.survivors`, and `small[3].columns`
#    when conv2 became a `ColumnConv2d`.
# 4. Train SSL with `method="subgradient"` (the paper's step) and `zero_below=0`, and print the
#    smallest group norms. Why is none exactly zero? What does the authors' zeroing (`zero_below=1e-4`)
#    change, and why does it need a small learning rate to work? *Hint:* compare lr·λ with 1e-4.
# 5. Time the unstructured model at 99% sparsity. Where does scipy.sparse start to win?

# %% [markdown]
# **Checked exercises** (`minicompress course show NAME`: the statement and starter code). Write
# each function, then uncomment its `check(...)`: it prints "passed" or the first failing case.

# %%
from minicompress.course import check

# check("pairwise_saliency", pairwise_saliency)

# %%
# check("merge_once", merge_once)

# %%
# check("group_shrink", group_shrink)
