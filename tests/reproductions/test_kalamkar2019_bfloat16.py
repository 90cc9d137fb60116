"""bfloat16 reproduction: the claim functions on hand-made rows (zero, negative and non-finite
measurements included), every dataset name through the shared loader, and the quick run's
headline claims for seeds other than 0."""
from dataclasses import replace

import numpy as np
import pytest

from minicompress.reproductions import experiment
from minicompress.reproductions import kalamkar2019_bfloat16 as bf

NAN = float("nan")
LRS = bf.Config.quick().lrs  # two: a large and a small learning rate




def table(errors=None, lost=None, zeroed=None, lrs=LRS):
    """Rows for every recipe at every lr: fp32 10% / 40%, the others as given."""
    errors = {"fp32": (10.0, 40.0), bf.MIXED: (10.2, 40.1), bf.PURE_SR: (9.9, 40.5), bf.PURE_RNE: (10.5, 80.0),
              bf.FP16: (10.1, 45.0), bf.FP16_MIXED: (10.0, 40.0), **(errors or {})}
    lost = {bf.PURE_RNE: (50.0, 97.0), **(lost or {})}
    zeroed = {bf.FP16_MIXED: (0.05, 0.01), bf.FP16: (0.05, 0.01), **(zeroed or {})}
    return {(r, lr): dict(recipe=r, lr=lr, test_error=errors[r][i], lost_updates=lost.get(r, (0.0, 0.0))[i],
                          errors_zeroed=zeroed.get(r, (0.0, 0.0))[i])
            for r in bf.RECIPES for i, lr in enumerate(lrs)}


def test_noise_is_two_standard_errors_of_a_difference():
    assert bf.noise_points(10.0, 1000) == pytest.approx(200 * np.sqrt(2 * 0.1 * 0.9 / 1000))  # 2.68
    assert bf.noise_points(0.0, 1000) == 0.0
    assert np.isnan(bf.noise_points(NAN, 1000)) and np.isnan(bf.noise_points(-5.0, 1000))
    assert np.isnan(bf.noise_points(10.0, 0))


def test_matches_fp32_within_noise_at_every_lr():
    lrs = LRS
    assert bf.matches_fp32(table(), bf.MIXED, lrs, 2000).holds
    noise = bf.noise_points(40.0, 2000)  # 3.10 points at fp32's 40%
    assert bf.matches_fp32(table({bf.MIXED: (10.0, 40.0 + noise - 0.01)}), bf.MIXED, lrs, 2000).holds
    assert not bf.matches_fp32(table({bf.MIXED: (10.0, 40.0 + noise + 0.01)}), bf.MIXED, lrs, 2000).holds
    assert bf.matches_fp32(table({bf.PURE_SR: (1.0, 1.0)}), bf.PURE_SR, lrs, 2000).holds  # better is within
    assert not bf.matches_fp32(table({bf.MIXED: (NAN, 40.0)}), bf.MIXED, lrs, 2000).holds
    assert not bf.matches_fp32(table({"fp32": (10.0, NAN)}), bf.MIXED, lrs, 2000).holds
    assert bf.matches_fp32(table({"fp32": (0.0, 0.0), bf.MIXED: (0.0, 0.0)}), bf.MIXED, lrs, 2000).holds
    contrast = bf.matches_fp32(table(), bf.FP16_MIXED, lrs, 2000)
    assert not contrast.headline and contrast.key == "bfloat16.mlp.fp16_mixed_matches_fp32"


def test_rne_stalls_needs_growing_losses_above_90_percent_and_a_clear_gap():
    lrs = LRS
    assert bf.rne_stalls(table(), lrs).holds
    assert not bf.rne_stalls(table(lost={bf.PURE_RNE: (50.0, 89.0)}), lrs).holds  # not above 90%
    assert not bf.rne_stalls(table(lost={bf.PURE_RNE: (99.0, 97.0)}), lrs).holds  # falls as lr shrinks
    assert not bf.rne_stalls(table({bf.PURE_RNE: (10.0, 41.9)}), lrs).holds  # within 2 points
    assert not bf.rne_stalls(table(lost={bf.PURE_RNE: (50.0, NAN)}), lrs).holds
    assert not bf.rne_stalls(table({bf.PURE_RNE: (10.0, NAN)}), lrs).holds


def test_fp16_underflow_needs_some_fp16_zeros_and_no_bf16_zero():
    lrs = LRS
    assert bf.fp16_loses_small_errors(table(), lrs).holds
    assert not bf.fp16_loses_small_errors(table(zeroed={bf.FP16_MIXED: (0.0, 0.0)}), lrs).holds
    assert not bf.fp16_loses_small_errors(table(zeroed={bf.MIXED: (0.01, 0.0)}), lrs).holds
    assert not bf.fp16_loses_small_errors(table(zeroed={bf.FP16_MIXED: (NAN, 0.01)}), lrs).holds


def test_claims_follow_the_recipes_that_ran():
    rows = list(table().values())
    keys = [c.key for c in bf.claims(rows, bf.Config.quick(), 2000)]
    assert keys == ["bfloat16.mlp.mixed_matches_fp32", "bfloat16.mlp.sr_updates_matches_fp32",
                    "bfloat16.mlp.fp16_mixed_matches_fp32", "bfloat16.mlp.rne_weights_stall",
                    "bfloat16.mlp.fp16_underflows_bf16_does_not"]
    only = replace(bf.Config.quick(), recipes=("fp32", bf.PURE_SR))
    assert [c.key for c in bf.claims([r for r in rows if r["recipe"] in only.recipes], only, 2000)] == \
        ["bfloat16.mlp.sr_updates_matches_fp32"]


def tiny():
    return replace(bf.Config.quick(), n_train=300, n_test=100, hidden=(8,), epochs=1, lrs=(0.1,),
                   recipes=("fp32", bf.MIXED))


@pytest.mark.parametrize("name", experiment.DATASETS)
def test_every_documented_dataset_name_goes_through_the_shared_loader(name, fake_loader, tmp_path):
    report = bf.reproduce(data=name, config=tiny(), out_dir=tmp_path, verbose=False)
    assert fake_loader == [name] and report.data == name


def test_mnist_test_split_runs_for_real(mnist_dir, tmp_path):
    report = bf.reproduce(data="mnist_test_split", data_dir=mnist_dir, config=tiny(), out_dir=tmp_path,
                          verbose=False)
    assert report.data == "mnist_test_split" and all(np.isfinite(r["test_error"]) for r in report.rows)


def check_quick_run(seed, tmp_path):
    report = bf.reproduce(quick=True, seed=seed, out_dir=tmp_path, verbose=False)
    assert report.figures[0].read_bytes()[:4] == b"\x89PNG"
    at = {(r["recipe"], r["lr"]): r for r in report.rows}
    assert at["fp32", max(bf.Config.quick().lrs)]["test_error"] < 20  # trained: chance is 90
    failed = [c for c in report.claims if c.headline and not c.holds]
    assert not failed, failed


def test_quick_run_seed_5(tmp_path):
    check_quick_run(5, tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 8])
def test_quick_run_other_seeds(seed, tmp_path):
    check_quick_run(seed, tmp_path)
