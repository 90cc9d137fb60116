"""Magnitude pruning's reproduction: the claim functions on hand-made rows (zero, negative and
non-finite measurements included; the structured run's: test_zhu2017_magnitude_structured.py),
the small dense baseline, every dataset name through the
shared loader, and the quick run's headline claims for seeds other than 0."""
from dataclasses import replace

import numpy as np
import pytest

from minicompress import metrics, pruning
from minicompress.models import lenet_300_100, small_dense_hidden
from minicompress.papers.zhu2017_magnitude import prune_weights
from minicompress.reproductions import experiment
from minicompress.reproductions import zhu2017_magnitude as magnitude

NAN = float("nan")
CFG = replace(magnitude.Config.quick(), compressions=(2, 32))




def rows(dense=93.0, one_shot=92.5, gradual=92.9, small=88.0, sweep=None, speedup=3.0, difference=1e-6):
    """Rows as the reproduction makes them; ``sweep`` maps (method, c) to (before, after)."""
    out = [dict(experiment="schedule", method="dense", compression=1.0, accuracy=dense),
           dict(experiment="schedule", method="one_shot", compression=12.2, accuracy=one_shot, weights=21776),
           dict(experiment="schedule", method="gradual", compression=12.2, accuracy=gradual, weights=21776)]
    out.append(dict(experiment="schedule", method="small dense", compression=12.2, accuracy=small, weights=21501,
                    hidden="(27, 9)"))
    sweep = {**{(m, c): v for m, v in (("layer", (80.0, 90.0)), ("global", (85.0, 91.0)), ("random", (10.0, 20.0)))
                for c in CFG.compressions}, **(sweep or {})}
    out += [dict(experiment="sweep", method=m, compression=float(c), accuracy=b, finetuned=a)
            for (m, c), (b, a) in sweep.items()]
    out.append(dict(experiment="structured", method="after surgery", compression=4.4, accuracy=90.0,
                    speedup=speedup, flops_ratio=4.37, max_output_difference=difference))
    return out


def test_gradual_must_match_one_shot():
    assert magnitude.gradual_beats_one_shot(rows()).holds
    assert magnitude.gradual_beats_one_shot(rows(gradual=92.5)).holds  # a tie counts
    assert not magnitude.gradual_beats_one_shot(rows(gradual=92.4)).holds
    assert not magnitude.gradual_beats_one_shot(rows(gradual=NAN)).holds
    assert not magnitude.gradual_beats_one_shot(rows(one_shot=float("inf"))).holds
    assert magnitude.gradual_beats_one_shot(rows(one_shot=0.0, gradual=0.0)).holds


def test_12x_within_the_papers_threshold_of_dense():
    assert magnitude.sparse_within_dense(rows()).holds  # 0.1 below
    assert magnitude.sparse_within_dense(rows(dense=93.2)).holds  # 0.3: on the threshold
    assert not magnitude.sparse_within_dense(rows(dense=93.21)).holds
    assert magnitude.sparse_within_dense(rows(dense=80.0)).holds  # sparse better: a negative gap
    assert not magnitude.sparse_within_dense(rows(dense=NAN)).holds
    assert not magnitude.sparse_within_dense(rows(gradual=float("inf"))).holds
    claim = magnitude.sparse_within_dense(rows())
    assert claim.headline and "1.64% -> 1.59%" in claim.paper


def test_large_sparse_against_small_dense():
    assert magnitude.large_sparse_beats_small_dense(rows()).holds
    assert not magnitude.large_sparse_beats_small_dense(rows(small=93.0)).holds
    assert not magnitude.large_sparse_beats_small_dense(rows(small=NAN)).holds
    assert magnitude.large_sparse_beats_small_dense(rows(gradual=0.0, small=0.0)).holds


def test_global_beats_random_everywhere_and_fine_tuning_recovers():
    assert magnitude.global_beats_random(rows(), CFG).holds
    worse = rows(sweep={("random", 32): (86.0, 20.0)})  # random ahead before fine-tuning at 32x
    claim = magnitude.global_beats_random(worse, CFG)
    assert not claim.holds and "-1.00 points at 32x" in claim.measured
    assert not magnitude.global_beats_random(rows(sweep={("global", 2): (NAN, 91.0)}), CFG).holds
    assert magnitude.finetuning_recovers(rows(), CFG).holds
    assert not magnitude.finetuning_recovers(rows(sweep={("global", 32): (85.0, 85.0)}), CFG).holds
    assert not magnitude.finetuning_recovers(rows(sweep={("global", 32): (85.0, NAN)}), CFG).holds


def test_small_dense_has_at_most_the_given_weights_and_is_the_largest_such():
    h1, h2 = small_dense_hidden(26_620)
    weights = 784 * h1 + h1 * h2 + h2 * 10
    assert (h1, h2) == (33, 11) and weights <= 26_620
    assert metrics.count_params(pruning.weights(lenet_300_100(rng=0, hidden=(h1, h2)))) == weights
    assert 784 * (h1 + 1) + (h1 + 1) * round((h1 + 1) / 3) + round((h1 + 1) / 3) * 10 > 26_620


def test_han_rates_give_12x_on_lenet_300_100():
    model = lenet_300_100(rng=0)
    prune_weights(model, "layer", magnitude.HAN_RATES)
    weights = pruning.weights(model)
    kept = sum(int(w.mask.sum()) for w in weights)
    assert kept == 18_816 + 2_700 + 260 and 12.0 < metrics.count_params(weights) / kept < 12.5  # 267K -> 22K


def tiny():
    return replace(magnitude.Config.quick(), n_train=300, n_test=100, hidden=(16, 8), dense_epochs=1,
                   prune_epochs=2, decay_epochs=1, frequency=2, compressions=(2,), finetune_epochs=1,
                   latency_batch=50, latency_repeats=1)


@pytest.mark.parametrize("name", experiment.DATASETS)
def test_every_documented_dataset_name_goes_through_the_shared_loader(name, fake_loader, tmp_path):
    report = magnitude.reproduce(data=name, config=tiny(), out_dir=tmp_path, verbose=False)
    assert fake_loader == [name] and report.data == name and len(report.claims) == 6


def test_mnist_test_split_runs_for_real(mnist_dir, tmp_path):
    report = magnitude.reproduce(data="mnist_test_split", data_dir=mnist_dir, config=tiny(),
                                 out_dir=tmp_path, verbose=False)
    assert report.data == "mnist_test_split" and all(np.isfinite(r["accuracy"]) for r in report.rows)


def check_quick_run(seed, tmp_path):
    report = magnitude.reproduce(quick=True, seed=seed, out_dir=tmp_path, verbose=False)
    assert report.figures[0].read_bytes()[:4] == b"\x89PNG"
    dense = magnitude._at(report.rows, "schedule", "dense")["accuracy"]
    assert dense > 90  # percent: trained (chance is 10)
    held = {c.key: c.holds for c in report.claims}
    for key in ("magnitude.lenet.gradual_beats_one_shot", "magnitude.lenet.large_sparse_beats_small_dense",
                "magnitude.lenet.global_beats_random", "magnitude.lenet.finetuning_recovers"):
        assert held[key], [c for c in report.claims if c.key == key]
    shrunk = magnitude._at(report.rows, "structured", "after surgery")
    assert shrunk["max_output_difference"] < 1e-4  # same outputs (the speed is not asserted)
    # 75% of the hidden units go: 784-75-25-10 has 784·75 + 75·25 + 25·10 = 60,925 MACs
    assert shrunk["flops_ratio"] == pytest.approx((784 * 300 + 300 * 100 + 100 * 10) / 60_925)


def test_quick_run_seed_4(tmp_path):
    check_quick_run(4, tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 9])
def test_quick_run_other_seeds(seed, tmp_path):
    check_quick_run(seed, tmp_path)
