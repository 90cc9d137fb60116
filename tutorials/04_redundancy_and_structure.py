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
# Run as a script (`MINICOMPRESS_QUICK=1` for a one-minute version) or open it with jupytext.

# %%
import os

import matplotlib.pyplot as plt
import numpy as np

from minicompress import nn, pruning
from minicompress.bench import median_ms, print_table
from minicompress.datasets import load_train_test
from minicompress.papers import srinivas2015_data_free as sb, wen2016_ssl as ssl
from minicompress.metrics import flops
from minicompress.models import CONV1, CONV2, lenet5, mlp as mlp_net
from minicompress.pruning.lowered import to_csr
from minicompress.train import evaluate, fit

QUICK = os.environ.get("MINICOMPRESS_QUICK") == "1"
N_TRAIN, EPOCHS = (4_000, 3) if QUICK else (10_000, 6)
(x, y), (x_test, y_test) = load_train_test("synth_digits", n_train=N_TRAIN, n_test=1_000)
loss, rng = nn.SoftmaxCrossEntropy(), np.random.default_rng(0)


def train(model, epochs, lr, optimizer=None):
    optimizer = optimizer or nn.SGD(model.parameters(), lr=lr, momentum=0.9, weight_decay=5e-4)
    fit(model, loss, optimizer, x, y, epochs=epochs, batch_size=64, rng=rng, verbose=False)
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
# cheapest pair, update, repeat: `merge_sequence` returns the whole order.

# %%
mlp = train(mlp_net((784, 500, 10), rng=rng), EPOCHS, 0.05)
w_in, a_out = sb.weight_sets(mlp, 1)
order = sb.merge_sequence(w_in, a_out, 499)
saliency = np.array([m.saliency for m in order])
stop = sb.knee(saliency)
most = order[:400]  # 80% of the 500 hidden neurons
curve = {"dense": accuracy(mlp), "surgery": accuracy(sb.merge_neurons(mlp, 1, most)),
         "no surgery": accuracy(sb.merge_neurons(mlp, 1, most, surgery=False))}
print({k: f"{v:.2%}" for k, v in curve.items()}, f"knee after {stop} merges")
fig, ax = plt.subplots(figsize=(5, 3))
ax.semilogy(np.arange(1, 500), saliency)
ax.axvline(stop, ls="--", color="grey")
ax.set(xlabel="neurons merged", ylabel="saliency of the merge", title="the data-free stopping rule")
plt.show()

# %% [markdown]
# ## Structured sparsity learning on LeNet-5
# The group lasso λ Σ_g ‖W_g‖₂ (unsquared norms) zeroes whole groups. `GroupLasso` wraps the
# optimizer: after each SGD step every group is shrunk by lr·λ, W_g ← W_g·max(0, 1 − lr·λ/‖W_g‖)
# (the proximal step), so weak groups land *exactly* at zero. Filter-wise groups are rows of the
# convolution's GEMM matrix, channel-wise groups its input channels.

# %%
cnn = train(lenet5(rng), EPOCHS, 0.05)
dense_cnn = accuracy(cnn)
sparse_cnn = lenet5(0)
sparse_cnn.load_state_dict(cnn.state_dict())
kinds = {"filter": 0.6, "channel": 0.6} if QUICK else {"filter": 0.15, "channel": 0.15}
terms = ssl.ssl_terms(sparse_cnn, {CONV1: kinds, CONV2: kinds})
train(sparse_cnn, EPOCHS, 0.01, ssl.GroupLasso(nn.SGD(sparse_cnn.parameters(), lr=0.01, momentum=0.9), terms))
ssl.zero_small_groups(terms)  # masks hold the zero groups at zero while fine-tuning
train(sparse_cnn, 1, 0.01)
small = ssl.shrink_structured(sparse_cnn)
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
# ## Is it faster? Measured, beside the FLOPs
# The shrunk model is a smaller dense network. For contrast, the dense network pruned to the
# same number of nonzeros *per layer*, unstructured, run with scipy.sparse (CSR) matrices (not
# fine-tuned, so its accuracy suffers; SSL's model, on the other hand, trained for longer than
# the dense one, which is why it may even be more accurate here).

# %%
same_nonzeros = lenet5(0)
same_nonzeros.load_state_dict(cnn.state_dict())
for index in (0, 3, 7, 9):
    w = same_nonzeros[index].weight
    pruning.prune(w, int(w.data.size - small[index].weight.data.size))
batch = x_test[:256]
models = {"dense": cnn, "SSL shrunk": small, "unstructured CSR": to_csr(same_nonzeros)}
dense_macs = flops(cnn, (1, 28, 28))["dense"]
rows = [dict(model=name, accuracy=100 * accuracy(m), macs_x=dense_macs / flops(m, (1, 28, 28))["dense"],
             ms=median_ms(lambda: m(batch), 5 if QUICK else 20, 2)) for name, m in models.items()]
for row in rows:
    row["speedup"] = rows[0]["ms"] / row["ms"]
print_table(rows, "LeNet-5, batch 256 (times measured here, on this machine, right now)")
shrunk_error = np.abs(small(batch) - sparse_cnn(batch)).max()

# %% [markdown]
# ## What this showed (checked)

# %%
assert duplicate_error < 1e-12 and scaled_error < 1e-12  # merging duplicates is exact
assert steps[0].saliency < 1e-20 and 0 < stop < 499
assert curve["surgery"] > curve["no surgery"]  # surgery keeps what deleting loses
assert curve["dense"] > 0.7 and dense_cnn > 0.8
assert shrunk_error < 1e-4  # surgery changes nothing (float32 rounding)
assert rows[1]["macs_x"] > 1.5  # fewer multiply-accumulates; wall-clock is printed, not asserted
assert small[CONV1].weight.shape[0] < 20

# %% [markdown]
# ## Exercises
# 1. Merge with `normalize=True` in `merge_sequence` and compare the accuracy at 50%, 80% and
#    90% of the neurons merged. Which merges does the knee keep, and what do they cost? *Hint:* `sb.merge_neurons(mlp, 1, order[:k])` for each k.
# 2. Replace the channel groups by shape groups (`{"filter": ..., "shape": ...}`). Which
#    columns of conv2's GEMM matrix survive? *Hint:* `ssl.survivors`, and
#    `small[3].columns` when conv2 became a `ColumnConv2d`.
# 3. Train SSL with `method="subgradient"` and print the smallest group norms after training.
#    Why are none of them exactly zero? *Hint:* `ssl.group_norms(w, "filter")`; compare lr·λ.
# 4. Time the unstructured model at 99% sparsity. Where does scipy.sparse start to win?
