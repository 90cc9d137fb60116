"""FP8 training recipe: the per-tensor scale (a power of two bringing amax just under the
format's max), scaled rounding against its definition, and what each recipe stores and rounds."""
import numpy as np
import pytest

from minicompress import models
from minicompress.papers.micikevicius2022_fp8 import RECIPES, ScaledQuantizer, recipe_setup, scale_for, zeroed_fraction
from minicompress.quant import E4M3, E5M2, Quantize, quantize_float


@pytest.mark.parametrize("amax", [1e-7, 3e-3, 0.7, 1.0, 448.0, 5e4])
def test_scale_brings_amax_into_the_top_binade(amax):
    x = np.array([amax, -amax / 3, 0.0])
    for fmt in (E4M3, E5M2):
        s = scale_for(x, fmt)
        assert np.log2(s) == np.round(np.log2(s))  # a power of two: the scaling is exact
        assert fmt.max / 2 < s * amax <= fmt.max
    assert scale_for(np.zeros(3), E4M3) == 1.0 and scale_for(np.array([np.nan]), E5M2) == 1.0


def test_scaled_rounding_is_rounding_of_the_scaled_tensor(rng):
    g = rng.standard_normal(10_000).astype(np.float32) * 1e-6  # gradients far below E5M2's normals
    q = ScaledQuantizer(E5M2, "nearest_even", count=True)
    out = q(g)
    s = np.float32(scale_for(g, E5M2))
    assert np.array_equal(out, quantize_float(g * s, E5M2, "nearest_even") / s)
    assert q.counts["zeroed"] == 0 and q.outside(g) is None
    plain = quantize_float(g, E5M2, "nearest_even")
    assert np.mean(plain == 0) > 0.3  # unscaled, a third of them underflow
    assert np.abs(out - g).max() <= np.abs(g).max() * 2 ** -3  # relative precision of E5M2


def test_each_recipe_rounds_its_tensors_with_their_own_quantizers():
    rng = np.random.default_rng(0)
    for recipe, (forward, backward, scaled) in RECIPES.items():
        model, opt, kinds = recipe_setup(models.mlp((784, 16, 10), rng=rng), recipe, 0.1, rng)
        if forward is None:
            assert kinds == {} and opt.compute is None
            continue
        quantizers = [m for m in model.modules() if isinstance(m, Quantize)]
        fwd = [m.forward_quantizer for m in quantizers if m.forward_quantizer is not None]
        bwd = [m.backward_quantizer for m in quantizers if m.backward_quantizer is not None]
        assert len(fwd) == len(bwd) == 2 and len({id(q) for q in fwd + bwd}) == 4  # one per tensor
        assert all(q.fmt == forward for q in fwd) and all(q.fmt == backward for q in bwd)
        assert all(isinstance(q, ScaledQuantizer) == scaled for q in fwd + bwd + [opt.compute])
        stored = [p.data for p in model.parameters()]
        assert all(np.array_equal(opt.compute.quantize(w), w) for w in stored)  # the copies are on the grid
        assert np.isnan(zeroed_fraction(kinds["errors"]))  # nothing seen yet
    with pytest.raises(ValueError, match="recipe: expected one of"):
        recipe_setup(models.mlp((784, 16, 10), rng=rng), "fp4", 0.1, rng)
