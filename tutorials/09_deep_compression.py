# %% [markdown]
# # Tutorial 9: Deep Compression, a model file that is really 40× smaller
#
# Han, Mao & Dally (ICLR 2016) chain the survey's three families: prune (keep ~8% of the
# weights), share the survivors' values by k-means (a few bits of index per weight into a small
# codebook), then Huffman-code the indices and the gaps between kept weights. This tutorial does
# k-means on one layer by hand, builds the codebook, draws the Huffman code of a small index
# stream, and then runs the whole pipeline and measures the file with `os.path.getsize`.
#
# Run it as a script (`python tutorials/09_deep_compression.py`) or as a notebook.

# %%
import copy
import os
import tempfile

import numpy as np

from minicompress import nn
from minicompress.datasets import load
from minicompress.models import lenet_300_100
from minicompress.papers.han2016_deep_compression import compression_rate, prune_to, share_weights
from minicompress.quant.sharing import SharedWeights, kmeans
from minicompress.storage import (code_lengths, entropy, expected_length, huffman_decode,
                                  huffman_encode, load_compressed, relative_index, save_compressed)
from minicompress.train import evaluate, fit

SEED = int(os.environ.get("MINICOMPRESS_SEED", 0))
rng = np.random.default_rng(SEED)
x, y = load("synth_digits", "train", n=6_000)
x_test, y_test = load("synth_digits", "test", n=2_000)
loss = nn.SoftmaxCrossEntropy()


def train(model, epochs, lr):
    opt = nn.SGD(model.parameters(), lr=lr, momentum=0.9, weight_decay=5e-4)
    fit(model, loss, opt, x, y, epochs=epochs, batch_size=64, rng=rng, verbose=False)
    return model


def error(model):
    return 1 - evaluate(model, loss, x_test, y_test)["accuracy"]


# %% [markdown]
# ## Stage 1: prune, retrain, repeat
# LeNet-300-100, then magnitude pruning to the paper's kept fractions (8%, 9%, 26% of the three
# layers) in two rounds, retraining with the masks fixed after each.

# %%
model = train(lenet_300_100(rng=rng), 6, 0.05)
dense_error = error(model)
dense = copy.deepcopy(model.clear())
for kept in ([0.28, 0.3, 0.5], [0.08, 0.09, 0.26]):
    prune_to(model, kept)
    train(model, 2, 0.005)
pruned_error = error(model)
print(f"dense error {dense_error:.2%}, pruned and retrained {pruned_error:.2%}")

# %% [markdown]
# ## Stage 2 by hand: k-means on one layer
# Take the kept weights of the second layer and 8 centroids spread linearly over their range
# (the paper's best initialization). Lloyd's algorithm: give every weight to its nearest
# centroid, move every centroid to the mean of its weights, repeat. The sum of squared errors
# can only go down.

# %%
w = model[3].weight.data[model[3].weight.mask != 0].astype(np.float64)
c = np.linspace(w.min(), w.max(), 8)
sse, labels = [], None
while True:
    new = np.abs(w[:, None] - c[None, :]).argmin(axis=1)  # (n, 8) distances -> nearest
    if labels is not None and np.array_equal(new, labels):
        break  # no weight changed cluster: converged
    labels = new
    sse.append(((w - c[labels]) ** 2).sum())
    c = np.array([w[labels == j].mean() if np.any(labels == j) else c[j] for j in range(8)])
print(f"{len(sse)} rounds; SSE:", " ".join(f"{s:.4f}" for s in sse[:5]), "...", f"{sse[-1]:.4f}")
library_c, library_labels = kmeans(w, 8)
print("centroids by hand ", np.round(np.sort(c), 4))
print("minicompress.kmeans", np.round(library_c, 4))

# %% [markdown]
# ## The codebook
# `SharedWeights` keeps the centroids C (k values) and an index I per weight (−1 where the
# connection was pruned), and computes with W = C[I]. Only C is trained; its gradient is the sum
# of its members' gradients. Eq. 1 gives the gain for n dense weights of b bits: n·b / (n·log₂k + k·b).

# %%
layer = SharedWeights.from_layer(copy.deepcopy(model[3]), 8)
print(layer, "\ncodebook", np.round(layer.codebook.data, 4))
print("index of the first kept weights:", layer.index[layer.index >= 0][:12])
print(f"Eq. 1 for this layer's {layer.index.size} weights, k = 8: {compression_rate(layer.index.size, 8):.1f}x")

# %% [markdown]
# ## Stage 3: the Huffman code of a small index stream
# The cluster indices are not equally frequent. Huffman merges the two rarest subtrees until
# one tree is left; a symbol's depth is its code length. Canonical codes are then numbered in
# order of (length, symbol), so the file only has to store the lengths.

# %%
stream = layer.index[layer.index >= 0]
counts = dict(zip(*np.unique(stream, return_counts=True)))
data, table = huffman_encode(stream)
for symbol in sorted(table, key=lambda s: (len(table[s]), s)):
    print(f"cluster {symbol}: {counts[symbol]:5d} times  code {table[symbol]}")
h, mean_bits = entropy(stream), expected_length(table, stream)
print(f"entropy {h:.3f} bits, Huffman {mean_bits:.3f} bits, fixed width 3 bits; "
      f"{len(data)} bytes instead of {int(np.ceil(3 * stream.size / 8))}")
decoded = huffman_decode(data, table, stream.size)
print("relative index of kept positions [1, 2, 40] with 3 bits:", relative_index([1, 2, 40], 3))

# %% [markdown]
# ## The whole pipeline, and the file
# Every layer shared at 6 bits, the centroids fine-tuned for one epoch, then
# `save_compressed`: relative index of 5 bits and cluster codes, both Huffman-coded, a header,
# a checksum. The dense model goes through the same function for comparison.

# %%
shared = share_weights(model, [6, 6, 6])
train(shared, 1, 0.0005)
shared_error = error(shared)
folder = tempfile.mkdtemp()
save_compressed(dense, os.path.join(folder, "dense.mcz"))
save_compressed(shared, os.path.join(folder, "deep.mcz"))
dense_bytes = os.path.getsize(os.path.join(folder, "dense.mcz"))
deep_bytes = os.path.getsize(os.path.join(folder, "deep.mcz"))
loaded = load_compressed(os.path.join(folder, "deep.mcz"))
loaded_error = error(loaded)
print(f"dense {dense_bytes:,} bytes, Deep Compression {deep_bytes:,} bytes: "
      f"{dense_bytes / deep_bytes:.1f}x smaller; error {dense_error:.2%} -> {loaded_error:.2%}")

# %% [markdown]
# ## What this showed (checked)

# %%
assert all(b <= a + 1e-12 for a, b in zip(sse, sse[1:]))  # k-means never goes uphill
np.testing.assert_allclose(np.sort(c), library_c, atol=1e-9)  # our loop = the library
assert h <= mean_bits < h + 1 and mean_bits < 3  # within a bit of the entropy, below fixed width
assert np.array_equal(decoded, stream)
assert relative_index([1, 2, 40], 3).tolist() == [1, 0, 7, 7, 7, 7, 7, 2]  # gap 37 = 5·7 + 2
assert dense_bytes / deep_bytes > 30  # the paper: 40x
assert loaded_error == shared_error  # the file holds exactly the model
assert dense_error < 0.3 and loaded_error < dense_error + 0.03

# %% [markdown]
# ## Exercises
# 1. Share the layers at 2, 3 and 4 bits with `init="random"` and `init="density"` instead of
#    linear. Which loses the most before fine-tuning? *(Hint: plot the centroids over a histogram
#    of the weights: where are the large weights?)*
# 2. Save the shared model with `huffman=False`. How many bytes does Huffman coding save, and on
#    which stream most? *(Hint: `minicompress.storage.inspect_compressed`.)*
# 3. Try `index_bits=3` and `index_bits=8`. Why is neither end best? *(Hint: count the fillers,
#    `symbols - entries` in the header.)*

# %% [markdown]
# **Checked exercises** (`minicompress course show NAME`: the statement and starter code). Write
# each function, then uncomment its `check(...)`: it prints "passed" or the first failing case.

# %%
from minicompress.course import check

# check("kmeans_share", kmeans_share)

# %%
# check("compression_rate", compression_rate)
