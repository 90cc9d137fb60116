"""decompose: a conv replaced by the Tucker-2 or CP sequence of smaller convs."""
import numpy as np
import pytest

from minicompress import factorize as fz
from minicompress import metrics, models, nn, pruning
from minicompress.nn.gradcheck import check_gradients


def lenet(rng):
    return models.lenet5(rng=rng, dtype=np.float64)


def test_full_rank_tucker2_keeps_lenet5_outputs(rng):
    model = lenet(rng)
    x = rng.standard_normal((3, 1, 28, 28))
    new = fz.decompose(model, models.CONV2, "tucker2", ranks=(50, 20))
    assert len(new) == len(model) + 2
    assert [type(m).__name__ for m in new.layers[3:6]] == ["Conv2d"] * 3
    np.testing.assert_allclose(new(x), model(x), rtol=1e-10, atol=1e-10)
    assert model[3].weight.data.shape == (50, 20, 5, 5)  # the original is untouched


@pytest.mark.parametrize("stride, padding", [(1, 0), (2, 1), ((2, 1), (0, 2))])
def test_full_rank_tucker2_with_stride_and_padding(stride, padding, rng):
    conv = nn.Conv2d(4, 6, (3, 2), stride, padding, rng=rng, dtype=np.float64)
    model = nn.Sequential(conv, nn.ReLU())
    x = rng.standard_normal((2, 4, 7, 6))
    new = fz.decompose(model, 0, "tucker2", ranks=(6, 4), n_iter=0)
    np.testing.assert_allclose(new(x), model(x), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("stride, padding", [(1, 0), (2, 2), ((1, 2), (1, 0))])
def test_cp_at_the_kernels_rank_keeps_the_outputs(stride, padding, rng):
    """A kernel that is exactly of CP rank 4: the four convs reproduce the layer."""
    R = 4
    conv = nn.Conv2d(5, 6, 3, stride, padding, rng=rng, dtype=np.float64)
    factors = [rng.standard_normal((s, R)) / np.sqrt(s)
               for s in conv.weight.shape]
    conv.weight.data = fz.cp_to_tensor(np.linspace(1, 2, R), factors)
    model = nn.Sequential(conv, nn.Tanh(), nn.Flatten())
    x = rng.standard_normal((2, 5, 7, 7))
    new = fz.decompose(model, 0, "cp", ranks=R, n_iter=3000)
    assert [m.groups for m in new.layers[:4]] == [1, R, R, 1]
    assert [m.kernel_size for m in new.layers[:4]] == [(1, 1), (3, 1), (1, 3), (1, 1)]
    np.testing.assert_allclose(new(x), model(x), rtol=1e-8, atol=1e-8)


@pytest.mark.parametrize("stride, padding", [(1, 0), (2, 1)])
def test_full_rank_svd_of_the_im2col_matrix_keeps_the_outputs(stride, padding, rng):
    conv = nn.Conv2d(3, 5, 3, stride, padding, rng=rng, dtype=np.float64)
    model = nn.Sequential(conv, nn.Tanh())
    x = rng.standard_normal((2, 3, 6, 6))
    new = fz.decompose(model, 0, "svd", ranks=5)
    assert [m.kernel_size for m in new.layers[:2]] == [(3, 3), (1, 1)]
    np.testing.assert_allclose(new(x), model(x), rtol=1e-10, atol=1e-12)
    low = fz.decompose(model, 0, "svd", ranks=2)  # the best rank-2 W_mat (Eckart-Young)
    left, right, _ = fz.truncated_svd(conv.weight.data.reshape(5, -1), 2)
    np.testing.assert_allclose(low[1].weight.data.reshape(5, 2) @ low[0].weight.data.reshape(2, -1),
                               left @ right.T, atol=1e-12)


def test_macs_of_the_decomposed_layers():
    """Tucker-2: s·R_s + R_s·R_t·kh·kw + R_t·t per output pixel; CP: R·(s + kh + kw + t)."""
    model = models.lenet5(rng=0)
    dense = metrics.flops(model, (1, 28, 28))["layers"][1]["dense"]
    assert dense == 50 * 20 * 25 * 8 * 8
    tucker = metrics.flops(fz.decompose(model, 3, "tucker2", ranks=(12, 7)), (1, 28, 28))["layers"]
    assert [r["dense"] for r in tucker[1:4]] == [20 * 7 * 12 * 12, 7 * 12 * 25 * 8 * 8, 12 * 50 * 8 * 8]
    cp = metrics.flops(fz.decompose(model, 3, "cp", ranks=9, n_iter=5), (1, 28, 28))["layers"]
    assert [r["dense"] for r in cp[1:5]] == [20 * 9 * 144, 9 * 5 * 8 * 12, 9 * 5 * 8 * 8, 9 * 50 * 64]


def test_vbmf_ranks_are_the_default_for_tucker2(rng):
    """ranks=None: EVBMF of the two channel unfoldings; a kernel of multilinear rank (3, 2)
    plus small noise gets exactly those ranks."""
    core = rng.standard_normal((3, 2, 3, 3))
    u_t, u_s = np.linalg.qr(rng.standard_normal((30, 3)))[0], np.linalg.qr(rng.standard_normal((20, 2)))[0]
    w = fz.tucker_to_tensor(core, [u_t, u_s], (0, 1)) + 1e-3 * rng.standard_normal((30, 20, 3, 3))
    assert fz.vbmf_ranks(w) == (3, 2)
    conv = nn.Conv2d(20, 30, 3, rng=0, dtype=np.float64)
    conv.weight.data = w
    new = fz.decompose(nn.Sequential(conv), 0)
    assert (new[0].out_channels, new[1].out_channels) == (2, 3)


def test_the_decomposed_model_trains_prunes_and_saves(rng, tmp_path):
    model = nn.Sequential(nn.Conv2d(2, 4, 3, padding=1, rng=rng, dtype=np.float64), nn.ReLU(),
                          nn.Flatten(), nn.Linear(4 * 5 * 5, 3, rng=rng, dtype=np.float64))
    x, y = rng.standard_normal((3, 2, 5, 5)), rng.integers(0, 3, 3)
    for method, ranks in (("tucker2", (3, 2)), ("cp", 3)):
        new = fz.decompose(model, 0, method, ranks, n_iter=5)
        check_gradients(new, nn.SoftmaxCrossEntropy(), x, y)
        pruning.prune(new[1].weight, 0.5)
        assert new[1].weight.mask is not None and new[1].weight.value().size == new[1].weight.data.size
        loaded = nn.load(nn.save(new, tmp_path / f"{method}.npz"))
        np.testing.assert_array_equal(loaded(x), new(x))


def test_bad_arguments_give_clear_errors(rng):
    model = models.lenet5(rng=0)
    with pytest.raises(ValueError, match=r"rank of mode 0 \(size 50\).*\[1, 50\], got 51"):
        fz.decompose(model, 3, "tucker2", ranks=(51, 5))
    with pytest.raises(ValueError, match=r"rank of mode 1 \(size 20\).*got 0"):
        fz.decompose(model, 3, "tucker2", ranks=(5, 0))
    with pytest.raises(ValueError, match=r"ranks=\(R_t, R_s\)"):
        fz.decompose(model, 3, "tucker2", ranks=5)
    with pytest.raises(ValueError, match="cp: rank.*got 0"):
        fz.decompose(model, 3, "cp", ranks=0)
    with pytest.raises(ValueError, match="needs ranks=R"):
        fz.decompose(model, 3, "cp")
    with pytest.raises(ValueError, match="method must be one of"):
        fz.decompose(model, 3, "tt")
    with pytest.raises(ValueError, match=r"SVD rank must be an int in \[1, 50\], got 51"):
        fz.decompose(model, 3, "svd", ranks=51)
    with pytest.raises(ValueError, match="needs ranks=R"):
        fz.decompose(model, 3, "svd")
    with pytest.raises(TypeError, match="layer 1 must be a Conv2d"):
        fz.decompose(model, 1)
    with pytest.raises(ValueError, match=r"index must be a layer index in \[0, 9\]"):
        fz.decompose(model, 10)
    grouped = nn.Sequential(nn.Conv2d(4, 4, 3, groups=2, rng=0))
    with pytest.raises(TypeError, match="groups=1"):
        fz.decompose(grouped, 0)


def test_recompose_gives_the_kernel_at_full_rank():
    net = models.lenet5(rng=0, dtype=np.float64)
    K = net[3].weight.data
    for method, ranks in (("tucker2", (50, 20)), ("svd", 50)):
        new = fz.decompose(net, 3, method, ranks)
        np.testing.assert_allclose(fz.recompose(new, 3, method), K, atol=1e-12)
    rng = np.random.default_rng(0)  # one generator: the spatial factors differ (K not symmetric in i, j)
    factors = [rng.standard_normal((s, 3)) for s in K.shape]
    net[3].weight.data = fz.cp_to_tensor(np.ones(3), factors)
    new = fz.decompose(net, 3, "cp", 3, n_iter=2000)
    np.testing.assert_allclose(fz.recompose(new, 3, "cp"), net[3].weight.data, atol=1e-8)
    with pytest.raises(ValueError, match="recompose: method must be one of"):
        fz.recompose(new, 3, "tucker3")
    for index in (0, -1, len(new) - 1, 2.0):  # not where decompose put the layers, or not an index
        with pytest.raises(ValueError, match="recompose: expected the 4 Conv2d layers"):
            fz.recompose(new, index, "cp")
