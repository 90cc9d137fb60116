"""Kim et al. 2016, the method: the paper's cost formulas against the engine's own MAC count,
the exact full-rank case, and VBMF ranks of a kernel of known multilinear rank."""
import numpy as np

from minicompress import factorize, metrics, nn
from minicompress.papers import kim2016_tucker as kim


def test_the_papers_formulas_match_the_engines_counts():
    """M and E of the paper against parameters and MACs counted layer by layer (LeNet-5's conv2:
    S = 20, T = 50, D = 5, 12×12 → 8×8)."""
    conv = nn.Conv2d(20, 50, 5, bias=False, rng=0)
    model = kim.tucker2(nn.Sequential(conv), 0, ranks=(13, 8), n_iter=0)
    params = sum(layer.weight.data.size for layer in model)
    macs = metrics.flops(model, (20, 12, 12))["dense"]
    assert np.isclose(kim.compression_ratio(20, 50, 5, r3=8, r4=13), 20 * 50 * 25 / params)
    assert np.isclose(kim.speedup(20, 50, 5, 8, 13, (12, 12), (8, 8)), 20 * 50 * 25 * 64 / macs)
    assert np.isclose(kim.speedup(20, 50, 5, 8, 13, (12, 12), (8, 8)),
                      1_600_000 / (20 * 8 * 144 + 25 * 8 * 13 * 64 + 50 * 13 * 64))


def test_full_ranks_reproduce_the_layer(rng):
    model = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1, rng=rng, dtype=np.float64), nn.ReLU())
    x = rng.standard_normal((2, 3, 5, 5))
    np.testing.assert_allclose(kim.tucker2(model, 0, ranks=(4, 3))(x), model(x), atol=1e-12)


def test_vbmf_ranks_find_the_multilinear_rank(rng):
    """A (40, 24, 3, 3) kernel of multilinear rank (5, 3) in the channel modes, plus noise 1/20
    of its scale: EVBMF of the two unfoldings returns (R4, R3) = (5, 3)."""
    core = rng.standard_normal((5, 3, 3, 3))
    u4, u3 = (np.linalg.qr(rng.standard_normal(s))[0] for s in ((40, 5), (24, 3)))
    k = factorize.tucker_to_tensor(core, [u4, u3], (0, 1))
    k += 0.05 * np.abs(k).mean() * rng.standard_normal(k.shape)
    assert kim.vbmf_ranks(k) == (5, 3)
    model = nn.Sequential(nn.Conv2d(24, 40, 3, rng=0, dtype=np.float64))
    model[0].weight.data = k
    new = kim.tucker2(model, 0)
    assert (new[0].out_channels, new[1].out_channels) == (3, 5)
