"""Part (c) of the OBS reproduction, layer-wise OBS: its claim on hand-made rows and a layer's
inputs X (the runs: tests/reproductions/test_hassibi1993_obs.py)."""
import numpy as np

from minicompress import nn
from minicompress.reproductions import hassibi1993_obs_layerwise as rep

NAN = float("nan")


def layer_rows(obs_acc, mag_acc, sparsities=(0.5, 0.75, 0.9, 0.95)):
    return [dict(experiment="layer-wise LeNet-300-100", method=m, deleted=s,
                 test_accuracy=a(s) if callable(a) else a)
            for s in sparsities for m, a in (("OBS", obs_acc), ("magnitude", mag_acc))]


def test_layerwise_claim():
    assert rep.layerwise_claim(layer_rows(0.9, 0.8)).holds
    assert not rep.layerwise_claim(layer_rows(0.9, 0.9)).holds  # a tie at 90–95% is no win
    assert rep.layerwise_claim(layer_rows(lambda s: 0.897 if s < 0.9 else 0.95, 0.9)).holds  # −0.3 points
    assert not rep.layerwise_claim(layer_rows(lambda s: 0.89 if s < 0.9 else 0.95, 0.9)).holds  # −1 point
    assert not rep.layerwise_claim(layer_rows(0.9, NAN)).holds
    assert not rep.layerwise_claim([]).holds


def test_a_layers_inputs_are_the_rows_its_weight_rows_multiply():
    rng = np.random.default_rng(0)
    h = rng.normal(size=(3, 2, 6, 6)).astype(np.float32)
    dense = nn.Linear(72, 5, rng=rng)
    X = rep._layer_inputs(dense, h)
    assert X.shape == (3, 72) and np.allclose(X @ dense.weight.data.T + dense.bias.data, dense(h.reshape(3, -1)),
                                              atol=1e-5)
    conv = nn.Conv2d(2, 4, 3, rng=rng)
    X = rep._layer_inputs(conv, h)  # (oh·ow·n, c·kh·kw): a row per window, ordered (oh, ow, n)
    products = (X @ conv.weight.data.reshape(4, -1).T).reshape(4, 4, 3, 4).transpose(2, 3, 0, 1)  # (n, co, oh, ow)
    assert np.allclose(products + conv.bias.data[None, :, None, None], conv(h), atol=1e-5)
