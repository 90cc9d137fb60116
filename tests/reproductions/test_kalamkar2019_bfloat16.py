"""bfloat16 recipes: what each stores and computes with, and the quick reproduction's claims.

Bounds on test errors come from the test set's size: rates measured on n = 1,000 images differ
by noise of standard deviation at most 100·sqrt(2·0.25/n) = 2.2 points; "matches" means within
3 of those, "stalls" more than 5 worse.
"""
from dataclasses import replace

import numpy as np
import pytest

from minicompress import models
from minicompress.papers.kalamkar2019_bfloat16 import recipe_setup
from minicompress.reproductions import kalamkar2019_bfloat16 as bfloat16
from minicompress.quant import BFLOAT16, quantize_float

NOISE = 100 * np.sqrt(2 * 0.25 / 1_000)


def is_bf16(x) -> bool:
    return bool(np.array_equal(quantize_float(x, BFLOAT16, "toward_zero"), x))


def test_each_recipe_stores_and_computes_in_its_own_format():
    rng = np.random.default_rng(0)
    tpu, opt, kinds = recipe_setup(models.mlp((784, 16, 10), rng=rng), "bf16 mixed (TPU)", 0.1, rng)
    assert all(is_bf16(p.data) for p in tpu.parameters())  # layers compute with bf16 copies
    assert not all(is_bf16(w) for w in opt.stored)  # the master weights are float32
    assert set(kinds) == {"activations", "errors"}
    pure, opt, _ = recipe_setup(models.mlp((784, 16, 10), rng=rng), "bf16 weights, SR updates", 0.1, rng)
    assert opt.compute is None and opt.weights.rounding == "stochastic"
    assert all(is_bf16(p.data) for p in pure.parameters())
    plain, opt, none = recipe_setup(models.mlp((784, 16, 10), rng=rng), "fp32", 0.1, rng)
    assert none == {} and opt.weights is None and opt.compute is None


def test_quick_reproduction_shows_the_qualitative_claims(tmp_path):
    report = bfloat16.reproduce(quick=True, seed=0, out_dir=tmp_path, verbose=False)
    assert report.figures[0].read_bytes()[:4] == b"\x89PNG"
    at = {(r["recipe"], r["lr"]): r for r in report.rows}
    large, small = bfloat16.Config.quick().lrs
    for lr in (large, small):
        fp32 = at["fp32", lr]["test_error"]
        assert at["bf16 mixed (TPU)", lr]["test_error"] < fp32 + 3 * NOISE
        assert at["bf16 weights, SR updates", lr]["test_error"] < fp32 + 3 * NOISE
    assert at["fp32", large]["test_error"] < 50  # it learned: chance is 90
    rne = [at["bf16 weights, RNE updates", lr] for lr in (large, small)]
    assert rne[1]["lost_updates"] > 90 and rne[1]["lost_updates"] > rne[0]["lost_updates"]
    assert rne[1]["test_error"] > at["fp32", small]["test_error"] + 5 * NOISE  # it stalls
    # bfloat16 has float32's exponent range: no back-propagated error underflows; float16 loses some
    assert all(at["bf16 mixed (TPU)", lr]["errors_zeroed"] == 0 for lr in (large, small))
    assert at["fp16 mixed (fp32 master)", large]["errors_zeroed"] > 0
    assert len(report.claims) == 4 and all(c.holds for c in report.claims[2:4])


@pytest.mark.slow
def test_two_seeds_report_their_spread(tmp_path):
    cfg = replace(bfloat16.Config.quick(), lrs=(0.1,), epochs=2,
                  recipes=("fp32", "bf16 weights, SR updates"))
    report = bfloat16.reproduce(seed=5, out_dir=tmp_path, config=cfg, verbose=False)
    assert len(report.rows) == 2 and all(np.isfinite(r["test_error"]) for r in report.rows)
