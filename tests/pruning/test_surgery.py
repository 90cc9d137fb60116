"""Surgery: smaller models computing the same outputs (Linear→Linear, Conv→Conv,
Conv→Flatten→Linear), constants folded, the index map, and the refusals."""
import numpy as np
import pytest

from minicompress import metrics, nn, pruning
from minicompress.pruning import remove_units, shrink

F64 = dict(dtype=np.float64)


def assert_same_outputs(a, b, x):
    np.testing.assert_allclose(b(x), a(x), rtol=0, atol=1e-12)


def test_linear_to_linear_through_activations(rng):
    model = nn.Sequential(nn.Linear(6, 7, rng=0, **F64), nn.ReLU(), nn.Linear(7, 5, rng=1, **F64),
                          nn.Tanh(), nn.Linear(5, 3, rng=2, **F64))
    pruning.ln_structured(model[0].weight, 3, n=2, dim=0)  # rows only: biases stay (folded)
    model[2].weight.mask = np.ones((5, 7))
    model[2].weight.mask[:, 4] = 0  # unit 4 of layer 0 is read by nobody: dead out
    x = rng.standard_normal((9, 6))
    small, index_map = shrink(model)
    assert_same_outputs(model, small, x)
    dead = sorted(set(np.flatnonzero(~model[0].weight.mask.any(axis=1))) | {4})
    assert index_map[0].tolist() == [u for u in range(7) if u not in dead]
    assert small[0].weight.shape == (7 - len(dead), 6) and small[2].weight.shape == (5, 7 - len(dead))
    assert small[0].out_features == small[2].in_features == 7 - len(dead)
    assert index_map[2].tolist() == list(range(5))  # nothing dead in layer 2
    assert model[0].weight.shape == (7, 6)  # the original is untouched


def test_sigmoid_constants_are_folded_into_the_next_bias(rng):
    model = nn.Sequential(nn.Linear(4, 5, rng=0, **F64), nn.Sigmoid(), nn.Linear(5, 2, rng=1, **F64))
    model[0].weight.data[[1, 3]] = 0.0  # these units emit σ(b) ≠ 0 whatever the input
    small, index_map = shrink(model)
    assert index_map[0].tolist() == [0, 2, 4]
    assert_same_outputs(model, small, rng.standard_normal((6, 4)))


def test_conv_to_conv_through_pools_and_conv_to_flatten_to_linear(rng):
    model = nn.Sequential(
        nn.Conv2d(2, 6, 3, rng=0, **F64), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 5, 2, rng=1, **F64), nn.ReLU(), nn.AvgPool2d(2), nn.Flatten(),
        nn.Linear(5 * 2 * 2, 4, rng=2, **F64))
    pruning.ln_structured(model[0].weight, 0.5, n=1, dim=0)  # 3 of 6 filters
    pruning.ln_structured(model[3].weight, 2, n=2, dim=0)  # 2 of 5 filters
    x = rng.standard_normal((3, 2, 12, 12))
    small, index_map = shrink(model)
    assert_same_outputs(model, small, x)
    assert len(index_map[0]) == 3 and len(index_map[3]) == 3
    assert small[3].weight.shape == (3, 3, 2, 2) and small[7].weight.shape == (4, 3 * 2 * 2)
    assert metrics.count_params(small) < metrics.count_params(model)
    # by hand: conv 3·2·3·3 weights x 10·10 positions + conv 3·3·2·2 x 4·4 + linear 12·4
    assert metrics.flops(small, (2, 12, 12))["dense"] == 5400 + 576 + 48
    # fewer than the masked model's nonzero MACs: the consumers' inputs from removed units go too
    assert metrics.flops(model, (2, 12, 12))["nonzero"] > 6024


def test_padded_consumer_keeps_units_with_a_nonzero_constant(rng):
    model = nn.Sequential(nn.Conv2d(1, 4, 3, rng=0, **F64), nn.ReLU(),
                          nn.Conv2d(4, 2, 3, padding=1, rng=1, **F64))
    model[0].weight.data[:] = 0.0
    model[0].bias.data[:] = [0.5, -0.5, 0.0, 2.0]  # relu: 0.5, 0, 0, 2
    small, index_map = shrink(model)
    assert index_map[0].tolist() == [0, 3]  # border pixels would differ if these were folded
    assert_same_outputs(model, small, rng.standard_normal((2, 1, 7, 7)))


def test_masks_travel_with_the_kept_units(rng):
    model = nn.Sequential(nn.Linear(5, 6, rng=0, **F64), nn.ReLU(), nn.Linear(6, 2, rng=1, **F64))
    pruning.prune(model[0].weight, 0.3)
    pruning.ln_structured(model[0].weight, 2, n=2, dim=0)
    small, index_map = shrink(model)
    assert np.array_equal(small[0].weight.mask, model[0].weight.mask[index_map[0]])
    assert_same_outputs(model, small, rng.standard_normal((4, 5)))


def test_remove_units_keeps_the_given_units_in_order_and_the_result_saves(tmp_path, rng):
    model = nn.Sequential(nn.Linear(3, 4, rng=0, **F64), nn.ReLU(), nn.Linear(4, 2, rng=1, **F64))
    small = remove_units(model, 0, [3, 1])
    assert np.array_equal(small[0].weight.data, model[0].weight.data[[3, 1]])
    assert np.array_equal(small[2].weight.data, model[2].weight.data[:, [3, 1]])
    loaded = nn.load(nn.save(small, tmp_path / "small.npz"))
    x = rng.standard_normal((2, 3))
    np.testing.assert_array_equal(loaded(x), small(x))


def test_refusals_name_the_problem():
    model = nn.Sequential(nn.Linear(3, 4, rng=0), nn.ReLU(), nn.Linear(4, 2, rng=1))
    with pytest.raises(ValueError, match="is the output layer"):
        remove_units(model, 2, [0])
    with pytest.raises(TypeError, match="only Linear and Conv2d have units"):
        remove_units(model, 1, [0])
    with pytest.raises(ValueError, match="keep: expected a non-empty"):
        remove_units(model, 0, [])
    with pytest.raises(ValueError, match=r"keep: indices must be distinct and in \[0, 3\]"):
        remove_units(model, 0, [0, 4])

    class Mixer(nn.Module):
        def forward(self, x):
            return x[:, ::-1]
    odd = nn.Sequential(nn.Linear(3, 4, rng=0), Mixer(), nn.Linear(4, 2, rng=1))
    with pytest.raises(TypeError, match="does not know how Mixer"):
        shrink(odd)
    with pytest.raises(TypeError, match="flat Sequential"):
        shrink(nn.Sequential(model))
