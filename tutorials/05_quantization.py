# %% [markdown]
# # Tutorial 5: quantization with fixed point, stochastic rounding and bfloat16
#
# A number format is a grid. This tutorial looks at the grid of 16-bit fixed point (Gupta et al.
# 2015) and of bfloat16, at the two ways of rounding onto it, at the update that rounding makes
# vanish, and then trains a network with every value in 16 bits, without touching a layer.
#
# Run it as a script (`python tutorials/05_quantization.py`, about half a minute; set
# `MINICOMPRESS_SEED` for other random draws) or open it as a notebook with jupytext. Figures go
# to `out/tutorial05/`.

# %%
import os
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from minicompress import models, nn
from minicompress.datasets import load
from minicompress.papers.gupta2015_limited_precision import limited_precision
from minicompress.quant import BFLOAT16, FixedPoint, quantize_fixed, quantize_float, to_codes
from minicompress.train import fit

SEED = int(os.environ.get("MINICOMPRESS_SEED", 0))
N_TRAIN, EPOCHS, LR = 6_000, 4, 0.1
OUT = Path("out/tutorial05")
OUT.mkdir(parents=True, exist_ok=True)

# %% [markdown]
# ## The grid
# `FixedPoint(word_bits, frac_bits)` holds an integer code k in `word_bits` bits (two's
# complement, sign included) and means k·ε with ε = 2^−frac_bits. Gupta et al. call it ⟨IL, FL⟩.

# %%
fmt = FixedPoint(8, 4)  # <4, 4>: step 1/16, range [-8, 8 - 1/16]
print(fmt)
x = np.array([1.0, 1.03, 1.05, -1.25, 100.0])
q = quantize_fixed(x, fmt, "nearest")
print(q, to_codes(q, fmt), [fmt.bits(v) for v in q])  # 1.03 -> 1, 1.05 -> 1.0625, 100 saturates

# %% [markdown]
# ## Two ways to round
# Round-to-nearest always sends 0.1 to 0 on a grid of step 0.25. Stochastic rounding sends it to
# 0.25 with probability 0.1/0.25 = 0.4 and to 0 otherwise: each result is wrong, the mean is right.

# %%
coarse = FixedPoint(8, 2)
many = np.full(10_000, 0.1)
nearest = quantize_fixed(many, coarse, "nearest")
stochastic = quantize_fixed(many, coarse, "stochastic", rng=SEED)
print(f"nearest mean {nearest.mean():.4f}, stochastic mean {stochastic.mean():.4f} (x = 0.1)")
fig, ax = plt.subplots(figsize=(5, 3), layout="constrained")
ax.hist([nearest, stochastic], bins=[-0.125, 0.125, 0.375], label=["nearest", "stochastic"])
ax.set(xticks=[0, 0.25], xlabel="rounded value of 0.1", ylabel="count")
ax.legend()
fig.savefig(OUT / "roundings.png")

# %% [markdown]
# ## A lost update
# Add 0.001 to a weight of 1.0 a thousand times, rounding into ⟨8, 8⟩ (step 2⁻⁸ ≈ 0.0039) after
# each addition. Under round-to-nearest every 0.001 is less than half a step: it is lost, every
# time. Under stochastic rounding each one survives in expectation, and the weight reaches ≈ 2.

# %%
fmt16 = FixedPoint(16, 8)
w_nearest, w_stochastic, rng = [1.0], [1.0], np.random.default_rng(SEED + 1)
for _ in range(1000):
    w_nearest.append(float(quantize_fixed(w_nearest[-1] + 0.001, fmt16, "nearest")))
    w_stochastic.append(float(quantize_fixed(w_stochastic[-1] + 0.001, fmt16, "stochastic", rng=rng)))
fig, ax = plt.subplots(figsize=(5, 3), layout="constrained")
ax.plot(w_nearest, label="nearest")
ax.plot(w_stochastic, label="stochastic")
ax.plot(1 + 0.001 * np.arange(1001), "k:", label="exact")
ax.set(xlabel="update", ylabel="weight")
ax.legend()
fig.savefig(OUT / "lost_update.png")
print(f"after 1000 updates of 0.001: nearest {w_nearest[-1]}, stochastic {w_stochastic[-1]:.4f}")

# %% [markdown]
# ## bfloat16: the upper half of a float32
# 1 sign bit, 8 exponent bits (float32's range), 7 mantissa bits. Rounding to nearest-even drops
# the low 16 bits of the float32 pattern with a carry. The spacing grows with the number, so an
# update is lost when it is below half the spacing at the weight: 2⁻⁸ at 1.0.

# %%
for v in (1.0, -2.5, 1 + 2 ** -7, 3.0e38):
    print(f"{v:>12g}  {BFLOAT16.bits(quantize_float(np.float32(v), BFLOAT16, 'nearest_even'))}")
print("float32 pattern of 1 + 2^-8:", format(int(np.float32(1 + 2 ** -8).view(np.uint32)), "032b"))
tie = float(quantize_float(np.float32(1 + 2 ** -8), BFLOAT16, "nearest_even"))
print(f"1 + 2^-8 is a tie and goes to the even neighbour: {tie}; spacing at 1: {BFLOAT16.spacing(1.0)}")
small_step = float(quantize_float(np.float32(1.0 + 0.003), BFLOAT16, "nearest_even"))  # lost

# %% [markdown]
# ## Training in 16-bit fixed point
# Gupta et al.'s setup (`minicompress.papers.gupta2015_limited_precision`): `limited_precision`
# copies a network to float64 and inserts `Quantize` modules, which round every layer output in
# forward and every error in backward, so each dot product of 16-bit values is exact and rounded
# once; its `QuantizedOptimizer` stores the weights in the format, w ← Q(w − η·g), and counts the
# updates that rounding cancelled. At this learning rate almost every update η·g is below half a
# step of ⟨8, 8⟩ (2⁻⁹): nearest rounding throws it away, stochastic rounding keeps it on average.

# %%
x, y = load("synth_digits", "train", n=N_TRAIN)
test = load("synth_digits", "test", n=1_000)


def train(fmt, rounding):
    init, order, draws = (np.random.default_rng([SEED, k]) for k in range(3))  # same start for all
    model, optimizer, _ = limited_precision(models.mlp((784, 128, 128, 10), rng=init), fmt, rounding,
                                            LR / 100, draws)  # the loss is summed over 100 images
    history = fit(model, nn.SoftmaxCrossEntropy("sum"), optimizer, x, y, epochs=EPOCHS,
                  batch_size=100, rng=order, validation=test, verbose=False)
    return [100 * (1 - a) for a in history["val_accuracy"]], optimizer.lost_fraction()


curves = {name: train(fmt, r) for name, fmt, r in (("float32", None, None),
                                                   ("nearest <8,8>", fmt16, "nearest"),
                                                   ("stochastic <8,8>", fmt16, "stochastic"))}
fig, ax = plt.subplots(figsize=(5, 3), layout="constrained")
for name, (errors, lost) in curves.items():
    ax.plot(range(1, EPOCHS + 1), errors, marker="o", label=f"{name} ({100 * lost:.0f}% lost)")
ax.set(xlabel="epoch", ylabel="test error (%)")
ax.legend()
fig.savefig(OUT / "training.png")
print({name: f"{errors[-1]:.1f}% error, {100 * lost:.1f}% of updates lost" for name, (errors, lost) in curves.items()})

# %% [markdown]
# ## What this showed (checked)

# %%
assert abs(stochastic.mean() - 0.1) < 5 * np.sqrt(0.4 * 0.6 / 10_000) * 0.25  # unbiased (5 sd)
assert nearest.max() == 0 and w_nearest[-1] == 1.0  # every small update lost
assert abs(w_stochastic[-1] - 2.0) < 0.1  # kept in expectation (sd ≈ 0.03)
assert tie == 1.0 and small_step == 1.0 and q[-1] == fmt.max
(float_err, _), (near_err, near_lost), (sto_err, _) = curves.values()
assert near_lost > 0.99 and near_err[-1] > sto_err[-1] + 20  # nearest stalls: it barely learns
assert sto_err[-1] < float_err[-1] + 5  # stochastic tracks float32 (5 ≈ 3 sd of the difference)

# %% [markdown]
# ## Exercises
# 1. Repeat the lost-update experiment with ⟨2, 14⟩. Which updates are lost now? *Hint:* the
#    threshold is ε/2 = 2⁻¹⁵.
# 2. Train with `FixedPoint(16, 14)` everywhere. Look at `Quantizer.fraction("saturated")` for
#    the activations (the third value `limited_precision` returns). *Hint:* the range is [−2, 2);
#    compare `convert_logits=False`, which leaves the softmax's input unclipped.
# 3. Train with bfloat16 weights: `QuantizedOptimizer(sgd, Quantizer(BFLOAT16, "nearest_even"))`
#    at lr 0.1 and 0.01 (mean loss), then with `compute=` instead (float32 master weights).
#    *Hint:* `minicompress reproduce bfloat16 --quick` compares all the recipes.

# %% [markdown]
# **Checked exercises** (`minicompress course show NAME`: the statement and starter code). Write
# each function, then uncomment its `check(...)`: it prints "passed" or the first failing case.

# %%
from minicompress.course import check

# check("stochastic_round", stochastic_round)

# %%
# check("bfloat16_round", bfloat16_round)
