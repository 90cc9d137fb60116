"""Mishra et al. 2021's method on the two LeNets: which layers are eligible, one-shot N:M
pruning of a model, and the model's bytes in the N:M format, counted by hand."""
import numpy as np
import pytest

from minicompress import pruning
from minicompress.models import lenet5, lenet_300_100
from minicompress.papers.mishra2021_nm_sparsity import (eligible, is_nm_model, model_bytes, prune_nm,
                                                        sparsity_per_weight)


def test_eligible_layers_are_those_whose_inputs_divide_by_m():
    ok, dense = eligible(lenet_300_100(rng=0), 4)
    assert [name for name, _ in ok] == ["1.weight", "3.weight", "5.weight"] and dense == []
    ok, dense = eligible(lenet_300_100(rng=0), 8)  # 784 inputs divide by 8; 300 and 100 do not
    assert [name for name, _ in ok] == ["1.weight"] and dense == ["3.weight", "5.weight"]
    ok, dense = eligible(lenet5(rng=0), 4)  # the first convolution has one input channel
    assert [name for name, _ in ok] == ["3.weight", "7.weight", "9.weight"] and dense == ["0.weight"]


@pytest.mark.parametrize("n,m", [(2, 4), (1, 4), (4, 8)])
def test_prune_nm_masks_every_eligible_weight_and_nothing_else(n, m):
    model = lenet5(rng=1)
    left_dense = prune_nm(model, n, m)
    assert is_nm_model(model, n, m)
    params = dict(model.named_parameters())
    ok, _ = eligible(model, m)
    for name, p in ok:
        assert pruning.masked_fraction([p]) == pytest.approx(1 - n / m)
        np.testing.assert_array_equal(p.mask, pruning.nm_mask(p.data, n, m))
    for name in left_dense:
        assert params[name].mask is None
    assert all(params[k].mask is None for k in params if k.endswith("bias"))
    fractions = sparsity_per_weight(model)
    assert fractions["0.weight"] == 0 and fractions["7.weight"] == pytest.approx(1 - n / m)
    assert fractions["3.weight"] == (0 if m == 8 else pytest.approx(1 - n / m))  # 20 channels
    assert not is_nm_model(lenet5(rng=1), n, m)  # a dense model is not N:M sparse


def test_model_bytes_by_hand():
    model = lenet_300_100(rng=0)
    with pytest.raises(ValueError, match="not 2:4 sparse"):
        model_bytes(model)  # dense weights cannot be stored in the format
    prune_nm(model, 2, 4)
    b = model_bytes(model)
    # 266,610 float32 parameters dense; weights 235,200 + 30,000 + 1,000; biases 410
    assert b["dense"] == 266_610 * 4 and b["dense_weights"] == 266_200 * 4
    # each weight: half its entries as float32 + 2 bits for each kept entry
    per_layer = [s // 2 * 4 + s // 2 * 2 // 8 for s in (235_200, 30_000, 1_000)]
    assert per_layer == [499_800, 63_750, 2_125]
    assert b["nm_weights"] == sum(per_layer) and b["nm"] == sum(per_layer) + 410 * 4
    assert b["nm_weights"] / b["dense_weights"] == 17 / 32


def test_model_bytes_keeps_ineligible_weights_dense():
    model = lenet_300_100(rng=0)
    prune_nm(model, 4, 8)  # only the first layer: 235,200 weights, 3-bit indices
    b = model_bytes(model, 4, 8)
    first = 117_600 * 4 + 117_600 * 3 // 8
    assert b["nm_weights"] == first and b["nm"] == first + (30_000 + 1_000 + 410) * 4
