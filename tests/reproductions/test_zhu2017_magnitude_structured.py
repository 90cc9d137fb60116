"""The structured run of the magnitude-pruning reproduction: the run on a small untrained
LeNet-300-100 (units removed, outputs kept, sizes by hand) and its claim on hand-made rows."""
import numpy as np
import pytest

from minicompress.models import lenet_300_100
from minicompress.reproductions import zhu2017_magnitude_structured as part

from .test_zhu2017_magnitude import CFG, NAN, rows, tiny


def test_the_structured_run_removes_units_and_keeps_the_outputs():
    cfg = tiny()  # hidden (16, 8), 75% of the units: 4 and 2 remain
    model = lenet_300_100(rng=np.random.default_rng(0), hidden=cfg.hidden)
    trained = []
    x = np.random.default_rng(1).random((60, 1, 28, 28)).astype(np.float32)
    masked, shrunk = part.structured(cfg, model, lambda m, e, lr: trained.append((e, lr)),
                                     lambda m: 50.0, x, verbose=False)
    assert trained == [(cfg.finetune_epochs, pytest.approx(cfg.lr / 10))]
    assert (masked["method"], shrunk["method"]) == ("masked", "after surgery")
    dense_macs, small_macs = 784 * 16 + 16 * 8 + 8 * 10, 784 * 4 + 4 * 2 + 2 * 10
    assert shrunk["flops_ratio"] == pytest.approx(dense_macs / small_macs)
    params = dense_macs + 16 + 8 + 10
    assert masked["compression"] == pytest.approx(params / (small_macs + 4 + 2 + 10))
    assert shrunk["max_output_difference"] < 1e-5 and shrunk["speedup"] == pytest.approx(masked["ms"] / shrunk["ms"])


def test_surgery_claim_needs_equal_outputs_and_a_speedup():
    assert part.surgery_is_faster(rows(), CFG).holds
    assert not part.surgery_is_faster(rows(speedup=0.9), CFG).holds
    assert not part.surgery_is_faster(rows(speedup=0.0), CFG).holds
    assert not part.surgery_is_faster(rows(difference=1e-3), CFG).holds
    assert not part.surgery_is_faster(rows(speedup=NAN), CFG).holds
    assert not part.surgery_is_faster(rows(), CFG).headline
