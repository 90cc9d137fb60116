"""Gupta et al. 2015: the limited-precision setup, and the quick reproduction's qualitative claims.

Bounds on test errors come from the test set's size: an error rate p measured on n = 1,000
images has standard deviation sqrt(p(1 − p)/n) ≤ 1.6 points, and a difference of two such rates
at most √2 times that (2.2 points). "Clearly worse" below means more than 5 of those (11 points);
"tracks" means within 3 (6.7 points).
"""
from dataclasses import replace

import numpy as np
import pytest

from minicompress import models
from minicompress.papers import gupta2015_limited_precision as method
from minicompress.reproductions import gupta2015_limited_precision as gupta
from minicompress.quant import Quantize

NOISE = 100 * np.sqrt(2 * 0.25 / 1_000)  # points: std of a difference of two error rates, n = 1,000


def on_grid(x, frac_bits, word_bits=16) -> bool:
    s = x * 2.0 ** frac_bits
    return bool(np.array_equal(s, np.round(s)) and np.abs(s).max() <= 2 ** (word_bits - 1))


def test_limited_precision_keeps_every_value_of_a_cnn_on_the_grid():
    rng = np.random.default_rng(0)
    model, optimizer, kinds = method.limited_precision(models.small_lenet(rng, channels=(2, 3, 8)), gupta.FixedPoint(16, 10),
                                                       "stochastic", 0.01, rng)
    assert sum(isinstance(m, Quantize) for m in model.layers) == 5  # input, 2 convs, 2 linears
    x, y = rng.random((4, 1, 28, 28)).astype(np.float32), np.array([0, 1, 2, 3])
    loss = gupta.nn.SoftmaxCrossEntropy("sum")
    for _ in range(3):
        model.zero_grad()
        out = model(x)
        loss(out, y)
        model.grad_params(loss.backward())
        optimizer.step()
    assert on_grid(out, 10) and all(on_grid(p.data, 10) for p in model.parameters())
    assert len(optimizer.lost) == 3 and kinds["errors"].counts["values"] > 0
    float_model, float_optimizer, none = method.limited_precision(models.mlp((784, 5, 10), rng=rng), None, None, 0.1, rng)
    assert none == {} and float_optimizer.weights is None


def test_quick_reproduction_shows_the_qualitative_claims(tmp_path):
    report = gupta.reproduce(quick=True, seed=0, out_dir=tmp_path, verbose=False)
    assert report.figures[0].read_bytes()[:4] == b"\x89PNG"
    rows = {r["format"]: r for r in report.rows if r["model"] == "mlp"}
    assert list(rows) == ["float32", "RN <8,8>", "SR <8,8>", "RN <6,10>", "SR <6,10>", "RN <2,14>", "SR <2,14>"]
    float32 = rows["float32"]["test_error"]
    assert float32 < 50  # it learned: chance is 90
    # round-to-nearest at FL = 8: the updates vanish and training stalls; SR trains like float32
    assert rows["RN <8,8>"]["lost_updates"] > 95
    assert rows["RN <8,8>"]["test_error"] > rows["SR <8,8>"]["test_error"] + 5 * NOISE
    for fl in ("<8,8>", "<6,10>"):
        assert rows[f"SR {fl}"]["test_error"] < float32 + 3 * NOISE
    # fewer updates are lost as the grid gets finer (eps/2 = 2^-(FL+1))
    lost = [rows[f"RN {f}"]["lost_updates"] for f in ("<8,8>", "<6,10>", "<2,14>")]
    assert lost == sorted(lost, reverse=True)
    assert rows["SR <2,14>"]["act_saturated"] > 0  # IL = 2: the range bites
    assert len(report.claims) == 3
    assert "SR <8,8>" in report.table()


@pytest.mark.slow
def test_two_seeds_report_their_spread(tmp_path):
    cfg = replace(gupta.Config.quick(), frac_bits=(8,), cnn=True, cnn_n_train=1_000,
                  cnn_epochs=1, cnn_frac_bits=(8,), cnn_channels=(4, 8, 32))
    report = gupta.reproduce(seed=3, out_dir=tmp_path, config=cfg, verbose=False)
    assert {r["model"] for r in report.rows} == {"mlp", "cnn"}
    assert all(np.isfinite(r["test_error"]) for r in report.rows)
