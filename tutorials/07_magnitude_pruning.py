# %% [markdown]
# # Tutorial 7: magnitude pruning, the way PyTorch and TensorFlow do it
#
# The libraries' pruning is one idea: a weight's importance is its magnitude |w|. This tutorial
# walks through `minicompress.pruning` step by step: how much `amount` deletes, masks that
# combine, layer-wise vs global thresholds, fine-tuning with the masks fixed, Zhu & Gupta's
# gradual schedule inside `fit` (`minicompress.papers.zhu2017_magnitude`), and why a masked model
# is no faster until surgery.
#
# Run it as a script (`python tutorials/07_magnitude_pruning.py`, about half a minute; set
# `MINICOMPRESS_SEED` for other random draws) or open it as a notebook with jupytext.

# %%
import os

import numpy as np

from minicompress import metrics, nn, pruning
from minicompress.datasets import load
from minicompress.models import lenet_300_100
from minicompress.papers.zhu2017_magnitude import GradualPruning, prune_weights
from minicompress.train import evaluate, fit

SEED = int(os.environ.get("MINICOMPRESS_SEED", 0))
N_TRAIN, EPOCHS = 12_000, 6
rng = np.random.default_rng(SEED)

# %% [markdown]
# ## Masks from scores
# `compute_mask(scores, amount)` deletes the lowest scores. An int is a count; a float is a
# fraction of the entries *still unpruned*, rounded half to even like Python's `round`. Ties go
# by flat index: the lower index is deleted first.

# %%
scores = np.array([0.3, 0.1, 0.5, 0.1, 0.9, 0.7])
print(pruning.compute_mask(scores, 2))  # both 0.1s go
print(pruning.compute_mask(scores, 0.25))  # round(0.25 · 6) = round(1.5) = 2
first = pruning.compute_mask(scores, 0.5)  # 3 of 6
second = pruning.compute_mask(scores, 0.5, mask=first)  # round(1.5) = 2 of the 3 left
print(first, second)

# %% [markdown]
# ## A trained LeNet-300-100
# 784-300-100-10 with ReLU, on the offline synthetic digits.

# %%
x, y = load("synth_digits", "train", n=N_TRAIN)
x_test, y_test = load("synth_digits", "test", n=2_000)
loss = nn.SoftmaxCrossEntropy()


def train(model, epochs, lr, on_step=None):
    fit(model, loss, nn.SGD(model.parameters(), lr=lr, momentum=0.9), x, y, epochs=epochs,
        batch_size=128, rng=rng, verbose=False, on_step=on_step)
    return model


def accuracy(model):
    return evaluate(model, loss, x_test, y_test)["accuracy"]


dense = train(lenet_300_100(rng=rng), EPOCHS, 0.05)
dense_acc = accuracy(dense)
print(f"dense test accuracy {dense_acc:.2%}")


def copy(model):
    new = lenet_300_100()
    new.load_state_dict(model.state_dict())
    return new


# %% [markdown]
# ## Layer-wise or global?
# `prune(param, 0.9)` deletes 90% of *each* layer (PyTorch's `l1_unstructured`, TF-MOT).
# `global_prune(params, 0.9)` ranks all weights together, so big redundant layers lose more and
# the small output layer keeps more. The masks live on the parameters; the data are untouched.

# %%
layerwise, global_ = copy(dense), copy(dense)
prune_weights(layerwise, "layer", 0.9)  # pruning.prune(w, 0.9) on each weight matrix
prune_weights(global_, "global", 0.9)  # pruning.global_prune(pruning.weights(model), 0.9)
print(metrics.summary(global_, (1, 28, 28)))
out_layer = global_[5].weight  # the 100 -> 10 output layer
print(f"output layer kept: layer-wise {pruning.weights(layerwise)[2].mask.mean():.0%}, "
      f"global {out_layer.mask.mean():.0%}")
layer_before, global_before = accuracy(layerwise), accuracy(global_)
print(f"before fine-tuning: layer-wise {layer_before:.2%}, global {global_before:.2%}")

# %% [markdown]
# ## Fine-tuning with the masks fixed
# Masked entries get zero gradient and optimizers never move them, so training goes on as usual.

# %%
train(global_, 1, 0.01)
global_acc = accuracy(global_)
print(f"global 90% after one epoch of fine-tuning: {global_acc:.2%}")

# %% [markdown]
# ## Zhu & Gupta's gradual schedule
# Their Eq. 1, TF-MOT's `PolynomialDecay`: s_t = s_f + (s_i − s_f)(1 − (t − t₀)/(nΔt))³ at
# t = t₀, t₀ + Δt, …, t₀ + nΔt: most weights go early, while the network can still recover, and
# few late. `GradualPruning` applies it to every weight matrix from `fit(on_step=...)`; here the
# n = 10 updates, Δt = 10 steps apart, take the first 100 steps of two epochs of training.

# %%
gradual = copy(dense)
schedule = GradualPruning(gradual, 0.9, begin_step=0, n_updates=10, frequency=10)
print([round(schedule.target(k), 3) for k in range(0, 101, 10)])
train(gradual, 2, 0.01, on_step=schedule)
gradual_acc = accuracy(gradual)
print(f"gradual to 90% over {len(schedule.history)} updates: {gradual_acc:.2%}")

# %% [markdown]
# ## Masked is not faster: surgery
# The masked model still multiplies full matrices. Deleting whole hidden units (`ln_structured`
# along dim 0) and then `shrink` builds a smaller dense model with the same outputs: the units'
# rows go, and so do the next layer's matching columns.

# %%
structured = copy(dense)
pruning.ln_structured(structured[1].weight, 0.75, n=2, dim=0)
pruning.ln_structured(structured[3].weight, 0.75, n=2, dim=0)
small, index_map = pruning.shrink(structured)
print(small)
batch = x_test[:1000]
difference = np.abs(small(batch) - structured(batch)).max()
flops_ratio = metrics.flops(structured, (1, 28, 28))["dense"] / metrics.flops(small, (1, 28, 28))["dense"]
masked_ms = 1e3 * metrics.latency(structured, batch, repeats=10)
small_ms = 1e3 * metrics.latency(small, batch, repeats=10)
print(f"max |difference| {difference:.1e}; FLOPs ratio {flops_ratio:.1f}x; "
      f"masked {masked_ms:.2f} ms vs shrunk {small_ms:.2f} ms (measured here, not asserted)")

# %% [markdown]
# ## What this showed (checked)

# %%
assert second.sum() == 1 and first.sum() == 3  # masks combine: 3 of 6 then 2 of the 3 left
assert pruning.compute_mask(scores, 2).tolist() == [1, 0, 1, 0, 1, 1]  # ties: both 0.1s
assert dense_acc > 0.85  # chance is 0.1
assert abs(pruning.masked_fraction(pruning.weights(global_)) - 0.9) < 1e-6
assert out_layer.mask.mean() > pruning.weights(layerwise)[2].mask.mean()  # global spares the output layer
assert global_before > layer_before and global_acc > dense_acc - 0.03
assert abs(schedule.sparsity() - 0.9) < 1e-3 and gradual_acc > dense_acc - 0.03
assert difference < 1e-4 and index_map[1].size == 75 and index_map[3].size == 25
assert flops_ratio > 3

# %% [markdown]
# ## Exercises
# 1. Prune the dense model to 90% in one shot *without* fine-tuning, layer-wise and globally.
#    Which layer does global pruning hit hardest, and why? *(Hint: compare the layers' weight
#    scales, `np.abs(p.data).mean()`.)*
# 2. Rerun the gradual schedule with a linear ramp instead of Eq. 1's cube: `on_step=pruning.
#    ScheduledPruner(pruning.weights(model), pruning.PolynomialDecay(0.0, 0.9, begin_step=0,
#    end_step=100, power=1, frequency=10))`. Does the final accuracy change? *(Hint: Zhu & Gupta
#    argue for pruning fast early, while the network is redundant.)*
# 3. Structured-prune 90% of the hidden units instead of 75%. How do the FLOPs ratio and the
#    measured speedup of the shrunk model compare, and why are they not equal?
#    *(Hint: `metrics.summary(small, (1, 28, 28))`.)*

# %% [markdown]
# **Checked exercises** (`minicompress course show NAME`: the statement and starter code). Write
# each function, then uncomment its `check(...)`: it prints "passed" or the first failing case.

# %%
from minicompress.course import check

# check("compute_mask", compute_mask)

# %%
# check("polynomial_sparsity", polynomial_sparsity)
