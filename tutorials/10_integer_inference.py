# %% [markdown]
# # Tutorial 10: 8-bit integer inference, by hand and for a whole network
#
# Jacob et al. (CVPR 2018), the scheme behind TensorFlow Lite: every weight and activation is an
# 8-bit integer code q standing for the real number r = S·(q − Z). This tutorial quantizes one
# layer by hand (scale, zero point, the integer matrix product, the requantization multiplier),
# then a whole network, then trains one *through* the rounding (quantization-aware training).
#
# Run it as a script (`python tutorials/10_integer_inference.py`) or as a notebook (jupytext).

# %%
import os

import numpy as np

from minicompress import models, nn
from minicompress.datasets import load_train_test
from minicompress.papers.jacob2018_integer_inference import post_training, quantization_aware, to_integer
from minicompress.quant import choose_qparams, dequantize_affine, integer_matmul, quantize_affine
from minicompress.quant.requantize import multiplier_value, quantize_multiplier, requantize
from minicompress.train import fit

SEED = int(os.environ.get("MINICOMPRESS_SEED", 0))
rng = np.random.default_rng(SEED)
(x, y), (x_test, y_test) = load_train_test("synth_digits", n_train=5_000, n_test=1_000, seed=SEED)

# %% [markdown]
# ## Scale and zero point
# A range [lo, hi] (always widened to hold 0) is cut into 255 steps: S = (hi − lo)/255, and the
# zero point Z is the code of the real 0. So 0 is exact: a zero-padded border or a ReLU's zeros
# cost no error at all. Everything else is off by at most S/2.

# %%
r = rng.uniform(-1.0, 3.0, 1000)
S, Z = choose_qparams(r.min(), r.max())  # int8 codes in [-128, 127]
q = quantize_affine(r, S, Z)
print(f"S = {S:.5f}, Z = {Z}; codes from {q.min()} to {q.max()}, dtype {q.dtype}")
r_hat = dequantize_affine(q, S, Z, dtype=np.float64)
assert np.abs(r_hat - r).max() <= S / 2 + 1e-12
assert quantize_affine(np.array([0.0]), S, Z)[0] == Z and dequantize_affine(np.array([Z]), S, Z)[0] == 0

# %% [markdown]
# ## One layer in integers
# Train LeNet-300-100 for five epochs, then take its first layer, y = W x + b. With x ≈ S₁(q₁ − Z₁)
# and W ≈ S₂ q₂ (weights symmetric: Z₂ = 0),
#
#     y ≈ S₁S₂ · [Σ_k (q₁ − Z₁) q₂ + q_b],     q_b = round(b / (S₁S₂))  (an int32 bias)
#
# The bracket is an integer: int8 × int8 products summed in int32.

# %%
net = models.lenet_300_100(rng=SEED)
fit(net, nn.SoftmaxCrossEntropy(), nn.SGD(net.parameters(), lr=0.05, momentum=0.9), x, y,
    epochs=5, batch_size=64, rng=SEED, verbose=False)
fc1 = net[1]
x_flat = x_test[:200].reshape(200, -1)
S1, Z1 = choose_qparams(0.0, 1.0)  # pixels lie in [0, 1]
q1 = quantize_affine(x_flat, S1, Z1)
S2, _ = choose_qparams(fc1.weight.data.min(), fc1.weight.data.max(), symmetric=True)
q2 = quantize_affine(fc1.weight.data, S2, 0, narrow=True)
q_b = np.rint(fc1.bias.data / (S1 * S2)).astype(np.int32)
acc = integer_matmul(q1, q2.T) - np.int32(Z1) * q2.sum(axis=1, dtype=np.int32) + q_b  # int32, (200, 300)
print("accumulator", acc.dtype, "largest |acc|", np.abs(acc).max(), "of 2^31 =", 2 ** 31)
y_float = x_flat @ fc1.weight.data.T + fc1.bias.data
assert np.abs(S1 * S2 * acc - y_float).max() < 0.05 * np.abs(y_float).max()

# %% [markdown]
# ## The requantization multiplier
# The next layer wants the ReLU'd output as int8 codes of its own scale S₃: q₃ = Z₃ + M·acc with
# M = S₁S₂/S₃, a real number in (0, 1). Integer hardware writes it as M = 2⁻ⁿ·M₀/2³¹ with M₀ an
# int32 in [2³⁰, 2³¹): a 64-bit product, a rounding, and a rounding right shift by n.

# %%
relu = np.maximum(y_float, 0)
S3, Z3 = choose_qparams(0.0, relu.max())
M = S1 * S2 / S3
M0, n = quantize_multiplier(M)
print(f"M = {M:.8f} = 2^-{n} * {M0} / 2^31 = {multiplier_value(M0, n):.8f}")
q3 = requantize(acc, M0, n, Z3, Z3, 127)  # clamp from Z₃ up: the ReLU, fused
q3_real = np.clip(np.rint(M * acc) + Z3, Z3, 127)  # the same rescale in float64
print(f"codes equal to the float rescale: {np.mean(q3 == q3_real):.3%}; largest difference "
      f"{np.abs(q3 - q3_real).max()} code (ties and 2^-31 rounding of M)")
assert acc.dtype == np.int32 and np.abs(q3 - q3_real).max() <= 1

# %% [markdown]
# ## A whole network, post-training
# `post_training` observes the activation ranges on a few hundred images (calibration) and
# converts the network into integer layers: int8 in, int32 accumulators, int8 out. Its
# `simulate` computes the same formulas in float64; the two agree bit for bit.

# %%
acc_float = 100 * np.mean(net.eval()(x_test).argmax(axis=1) == y_test)
fake, int_model = post_training(net, x[:300], per_channel=True)
acc_int8 = 100 * np.mean(int_model.predict(x_test) == y_test)
codes = int_model.forward(int_model.quantize_input(x_test[:100]))
assert np.array_equal(codes, int_model.simulate(int_model.quantize_input(x_test[:100])))
print(f"float32 {acc_float:.1f}%  int8 {acc_int8:.1f}%  ({int_model.nbytes() / 1024:.0f} kB "
      f"instead of {4 * sum(p.data.size for p in net.parameters()) / 1024:.0f} kB)")
assert acc_int8 > acc_float - 1.5

# %% [markdown]
# ## Fewer bits, and training through the rounding
# With 3-bit weights (codes −3 … 3) post-training quantization loses accuracy. Quantization-aware
# training keeps float weights, but computes with their rounded copies in every step; the
# gradient passes straight through the rounding (1 inside the range, 0 where it clamps).

# %%
_, int3 = post_training(net, x[:300], weight_bits=3, per_channel=False)
acc_ptq3 = 100 * np.mean(int3.predict(x_test) == y_test)
qat = quantization_aware(net, weight_bits=3, per_channel=False)
fit(qat, nn.SoftmaxCrossEntropy(), nn.SGD(qat.parameters(), lr=0.01, momentum=0.9), x, y,
    epochs=1, batch_size=64, rng=SEED, verbose=False)
acc_qat3 = 100 * np.mean(to_integer(qat).predict(x_test) == y_test)
print(f"3-bit weights: post-training {acc_ptq3:.1f}%, quantization-aware {acc_qat3:.1f}%")
assert acc_qat3 > acc_ptq3

# %% [markdown]
# ## Exercises
# 1. Calibrate with `observer="percentile"` and `"mse"` instead of min–max: which changes the
#    int8 accuracy, and why does the choice matter more for 4-bit activations?
# 2. Quantize fc1 per tensor instead of per output channel: how much larger is the worst-case
#    error of a weight row whose values are small?
# 3. Compute M₀ with `quantize_multiplier(M, bits=8)`: how many codes change? At what number of
#    bits does the rescale stop differing from the float rounding on this layer?
# 4. Count the multiply-accumulates of the integer model with `integer_ops` and compare with
#    `minicompress.metrics.flops` of the float model.

# %% [markdown]
# **Checked exercises** (`minicompress course show NAME`: the statement and starter code). Write
# each function, then uncomment its `check(...)`: it prints "passed" or the first failing case.

# %%
from minicompress.course import check

# check("quantize_affine", quantize_affine)

# %%
# check("quantize_multiplier", quantize_multiplier)
