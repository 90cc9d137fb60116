"""The 4-bit multiplexer, part (2) of the skeletonization reproduction: its claims directly on
hand-made rows, the trimming routes' unit choice by hand, and a tiny run's rows and counts (the
claims through the reproduction's claims(): test_mozer1988_skeletonization.py)."""
import math
from dataclasses import replace

import numpy as np

from minicompress.models import sigmoid_mlp
from minicompress.pruning.gates import gate, gates
from minicompress.reproductions import mozer1988_skeletonization as mozer
from minicompress.reproductions import mozer1988_skeletonization_multiplexer as part

from .test_mozer1988_skeletonization import SETTINGS, made_rows


def test_multiplexer_claims():
    claims = part.multiplexer_claims(made_rows(), SETTINGS)
    assert [c.key for c in claims] == ["skeletonization.mux.fewer_failures", "skeletonization.mux.random_fails_more",
                                       "skeletonization.mux.fewer_failures.lr0.25_mom0.9",
                                       "skeletonization.mux.random_fails_more.lr0.25_mom0.9"]
    assert all(c.holds for c in claims) and [c.headline for c in claims] == [True, False, False, False]
    assert "1 vs 6 failures of 20 nets; by outgoing |w| 1; at random 15" == claims[0].measured
    without_random = part.multiplexer_claims(made_rows(), SETTINGS, part.ROUTES[:3])
    assert len(without_random) == 2 and "at random" not in without_random[0].measured
    assert not any(c.holds for c in part.multiplexer_claims(made_rows(failures=(math.nan,) * 4), SETTINGS))
    assert not any(c.holds for c in part.multiplexer_claims([], SETTINGS))


def test_the_routes_choose_their_unit():
    model = gate(sigmoid_mlp((6, 4, 1), init_scale=0.5, rng=np.random.default_rng(0)))
    hidden = gates(model)[1]
    consumer = model.layers[model.layers.index(hidden) + 1]
    consumer.weight.data[:] = np.array([[0.5, -0.2, 0.9, -0.1]])  # the least |w| outgoing: unit 3
    assert part.baseline("magnitude", np.random.default_rng(0))(model) == 3
    assert part.baseline("relevance", np.random.default_rng(0)) is None  # skeletonize's own choice
    draws = [part.baseline("random", np.random.default_rng(5))(model) for _ in range(2)]
    assert draws[0] == draws[1] == int(np.random.default_rng(5).integers(4))


def test_a_tiny_run_counts_its_failures():
    cfg = replace(mozer.Config.quick(), mux_seeds=2, mux_max_epochs=3, mux_settings=((0.5, 0.0),),
                  mux_routes=("scratch", "magnitude"))
    run = part.multiplexer(cfg, 0, verbose=False)
    assert run["counts"] == {((0.5, 0.0), "scratch"): 2, ((0.5, 0.0), "magnitude"): 2}  # 3 sweeps: none converge
    failures = [r for r in run["rows"] if r["measure"] == "failures (nets)"]
    assert [(r["method"], r["value"], r["n"]) for r in failures] == [("4 hidden from scratch", 2.0, 2),
                                                                      ("8 -> 4 by magnitude", 2.0, 2)]
    assert run["notes"] and len(run["rows"]) == 4
