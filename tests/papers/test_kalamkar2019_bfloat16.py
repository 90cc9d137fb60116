"""bfloat16 recipes: what each stores and computes with (Kalamkar et al.'s mixed precision: bf16
matrix-product inputs, float32 accumulation and master weights), checked value by value."""
import numpy as np
import pytest

from minicompress import models, nn
from minicompress.papers.kalamkar2019_bfloat16 import RECIPES, recipe_setup
from minicompress.quant import BFLOAT16, FLOAT16, Quantize, quantize_float


def is_in(x, fmt) -> bool:
    return bool(np.array_equal(quantize_float(np.asarray(x, np.float32), fmt, "toward_zero"), x))


def bf16_by_bits(x):
    """TensorFlow's round-to-nearest-even on the float32 pattern (no NaN/inf here): the reference."""
    u = np.asarray(x, np.float32).view(np.uint32).astype(np.uint64)
    u = (u + 0x7FFF + ((u >> 16) & 1)) & 0xFFFF0000
    return u.astype(np.uint32).view(np.float32)


def one_step(model, optimizer, x, y):
    loss = nn.SoftmaxCrossEntropy()
    model.zero_grad()
    loss(model(x), y)
    model.grad_params(loss.backward())
    optimizer.step()


def test_mixed_precision_keeps_float32_masters_and_bf16_copies_in_the_products():
    rng = np.random.default_rng(0)
    model, opt, kinds = recipe_setup(models.mlp((784, 16, 10), rng=rng), "bf16 mixed (TPU)", 0.1, rng)
    assert set(kinds) == {"activations", "errors"}
    x, y = rng.random((8, 1, 28, 28)).astype(np.float32), rng.integers(0, 10, 8)
    for _ in range(2):
        one_step(model, opt, x, y)
    assert all(is_in(p.data, BFLOAT16) for p in model.parameters())  # what the layers compute with
    assert not all(is_in(w, BFLOAT16) for w in opt.stored)  # the float32 master weights
    assert all(w.dtype == np.float32 for w in opt.stored)
    for p, w in zip(model.parameters(), opt.stored):
        assert np.array_equal(p.data, bf16_by_bits(w))  # the copies are RNE of the masters
    # a Quantize before each Linear rounds its input, one after it rounds the incoming error
    names = [type(m).__name__ for m in model.layers]
    assert names == ["Flatten", "Quantize", "Linear", "Quantize", "ReLU", "Quantize", "Linear", "Quantize"]


@pytest.mark.parametrize("recipe, fmt, rounding", [("bf16 weights, SR updates", BFLOAT16, "stochastic"),
                                                   ("bf16 weights, RNE updates", BFLOAT16, "nearest_even"),
                                                   ("fp16, no loss scaling", FLOAT16, "nearest_even")])
def test_pure_16_bit_recipes_store_the_weights_in_16_bits(recipe, fmt, rounding):
    rng = np.random.default_rng(1)
    model, opt, _ = recipe_setup(models.mlp((784, 16, 10), rng=rng), recipe, 0.1, rng)
    assert opt.compute is None and opt.weights.rounding == rounding and opt.weights.fmt == fmt
    one_step(model, opt, rng.random((4, 1, 28, 28)).astype(np.float32), np.array([0, 1, 2, 3]))
    assert all(is_in(p.data, fmt) for p in model.parameters())


def test_fp32_is_untouched_and_unknown_recipes_are_refused():
    rng = np.random.default_rng(2)
    net = models.mlp((784, 16, 10), rng=rng)
    plain, opt, none = recipe_setup(net, "fp32", 0.1, rng)
    assert plain is net and none == {} and opt.weights is None and opt.compute is None
    assert not any(isinstance(m, Quantize) for m in plain.modules())
    with pytest.raises(ValueError, match="recipe: expected one of"):
        recipe_setup(net, "bf16", 0.1, rng)
    assert list(RECIPES)[:2] == ["fp32", "bf16 mixed (TPU)"]
