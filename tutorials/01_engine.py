# %% [markdown]
# # Tutorial 1: the engine, by hand
#
# minicompress's engine is a few hundred lines of NumPy: every layer has a `forward` that
# caches what it needs and a `backward` that turns ∂E/∂output into ∂E/∂input (adding
# ∂E/∂weights on the way). Here we build the two classic MNIST networks, push a batch through
# them by hand, check a gradient against finite differences, train, and save.
#
# Run it as a script (`python tutorials/01_engine.py`, about ten seconds) or open it as a
# notebook (Jupyter with jupytext, VS Code, PyCharm). `MINICOMPRESS_SEED=1` runs it with
# another seed: the data, the initial weights and the order of the examples all follow it.

# %%
import copy
import os
from pathlib import Path

import numpy as np

from minicompress import nn
from minicompress.datasets import load
from minicompress.nn.gradcheck import check_gradients, numerical_gradient
from minicompress.train import evaluate, fit

SEED = int(os.environ.get("MINICOMPRESS_SEED", 0))
OUT = Path("out/tutorials")

# %% [markdown]
# ## 1. Two networks
# LeNet-300-100 is a multilayer perceptron on the 784 pixels; the LeNet-5-style CNN has two
# 5×5 convolutions (20 and 50 filters), each followed by 2×2 max pooling. Weight layouts are
# PyTorch's: Linear `(out, in)`, Conv2d `(c_out, c_in, kh, kw)`.

# %%
rng = np.random.default_rng(SEED)  # every random choice takes an explicit generator
lenet300 = nn.Sequential(nn.Flatten(), nn.Linear(784, 300, rng=rng), nn.ReLU(),
                         nn.Linear(300, 100, rng=rng), nn.ReLU(), nn.Linear(100, 10, rng=rng))
lenet5 = nn.Sequential(nn.Conv2d(1, 20, 5, rng=rng), nn.ReLU(), nn.MaxPool2d(2),
                       nn.Conv2d(20, 50, 5, rng=rng), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                       nn.Linear(800, 500, rng=rng), nn.ReLU(), nn.Linear(500, 10, rng=rng))
print(lenet5)
for name, p in lenet5.named_parameters():
    print(f"{name:9s} {str(p.shape):16s} {p.data.size:7,d} weights")

# %% [markdown]
# ## 2. Forward and backward, one layer at a time
# The offline default data are synthetic digits rendered from matplotlib's fonts: 28×28 grey
# images in [0, 1], NCHW, like MNIST.

# %%
x_train, y_train = load("synth_digits", "train", n=20_000, seed=SEED)
x_test, y_test = load("synth_digits", "test", n=5_000, seed=SEED)
batch, labels = x_train[:8], y_train[:8]

h = batch
for layer in lenet5:
    h = layer.forward(h)  # each layer caches its input (or what backward needs)
    print(f"{type(layer).__name__:9s} -> {h.shape}")

loss = nn.SoftmaxCrossEntropy()  # E = mean over the batch of −log softmax(z)[label]
print("loss", loss.forward(h, labels), "≈ log 10 =", np.log(10))

g = loss.backward()  # ∂E/∂z = (softmax(z) − onehot(label)) / n
lenet5.zero_grad()
for layer in reversed(lenet5.layers):
    g = layer.backward(g)  # adds ∂E/∂W into W.grad, returns ∂E/∂input
print("∂E/∂image:", g.shape, " |∂E/∂conv1.weight| =", np.linalg.norm(lenet5[0].weight.grad))

# %% [markdown]
# ## 3. Is the gradient right? Ask finite differences
# Central differences (E(w + ε) − E(w − ε)) / 2ε need float64: in float32 rounding swamps them.
# We copy the CNN to float64 and compare a few entries of the first convolution's gradient.

# %%
cnn64 = copy.deepcopy(lenet5).astype(np.float64)  # an independent float64 copy
batch64 = batch.astype(np.float64)
cnn64.zero_grad()
loss(cnn64(batch64), labels)
cnn64.backward(loss.backward())
w = cnn64[0].weight
picked = rng.choice(w.data.size, 5, replace=False)
for k in picked:
    entry = w.data.reshape(-1)[k:k + 1]  # a view of one weight
    numeric = numerical_gradient(lambda: loss(cnn64(batch64), labels), entry)[0]
    print(f"weight {k:3d}: backprop {w.grad.flat[k]: .8f}   finite differences {numeric: .8f}")
    assert abs(w.grad.flat[k] - numeric) < 1e-6

# every parameter of a small network, and the input, at once:
tiny = nn.Sequential(nn.Conv2d(1, 2, 3, rng=1, dtype=np.float64), nn.Tanh(), nn.MaxPool2d(2),
                     nn.Flatten(), nn.Linear(8, 3, rng=2, dtype=np.float64))
worst = check_gradients(tiny, nn.SoftmaxCrossEntropy(), rng.standard_normal((2, 1, 6, 6)),
                        np.array([0, 2]))
print(f"tiny CNN: worst error / tolerance = {worst:.3f} (≤ 1 passes)")

# %% [markdown]
# ## 4. Train
# `fit` shuffles with an explicit rng, shows one progress line, and stops with a clear error if
# the loss ever becomes NaN. Same seed, same bits (on one machine with one BLAS thread count:
# matrix products add in an order that depends on both).

# %%
optimizer = nn.SGD(lenet300.parameters(), lr=0.05, momentum=0.9)
chance = evaluate(lenet300, loss, x_test, y_test)["accuracy"]  # untrained: about 1 in 10
history = fit(lenet300, loss, optimizer, x_train, y_train, epochs=5, batch_size=128, rng=SEED,
              validation=(x_test, y_test))
print(f"test accuracy untrained {chance:.3f}; per epoch:",
      [f"{a:.3f}" for a in history["val_accuracy"]])
assert chance < 0.25 and history["val_accuracy"][-1] > 0.85  # five epochs take it far from chance

# %% [markdown]
# ## 5. Save and load
# A model file is a plain `.npz` (no pickle), written atomically; `nn.load` rebuilds the model.

# %%
path = nn.save(lenet300, OUT / "lenet300.npz")
again = nn.load(path)
assert np.array_equal(again(x_test[:100]), lenet300(x_test[:100]))
print(f"saved {path}; reloaded accuracy {evaluate(again, loss, x_test, y_test)['accuracy']:.3f}")

# %% [markdown]
# ## Exercises
# 1. Flip the sign of `Linear.grad_params` in a copy of the layer and watch `check_gradients`
#    fail. Which message tells you where? *(Hint: `tests/nn/test_gradients.py` does this.)*
# 2. Train LeNet-5 instead of LeNet-300-100. How many weights does each have, and which trains
#    faster per epoch here? *(Hint: `minicompress bench engine`.)*
# 3. Replace ReLU by `nn.Tanh()`. Does the learning rate need to change?

# %% [markdown]
# **Checked exercises** (`minicompress course show NAME`: the statement and starter code). Write
# each function, then uncomment its `check(...)`: it prints "passed" or the first failing case.

# %%
from minicompress.course import check

# check("linear_backward", linear_backward)

# %%
# check("softmax_cross_entropy_grad", softmax_cross_entropy_grad)
