"""Denil et al. 2013, the experiments: the quick reproduction's headline claims, and each claim
function on hand-made rows."""
import numpy as np
import pytest

from minicompress.reproductions import denil2013_predicting_parameters as denil


def test_reproduce_checks_its_config_before_training(tmp_path):
    with pytest.raises(ValueError, match="unknown kind 'dct'; expected one of se_kernel, empirical, "
                                         "random_gaussian, identity_subset, learned"):
        denil.reproduce(config=denil.Config(dictionaries=("se_kernel", "dct")), out_dir=tmp_path)
    with pytest.raises(ValueError, match=r"fraction: expected a number in \(0, 1\], got 0"):
        denil.reproduce(config=denil.Config(fractions=(0.1, 0)), out_dir=tmp_path)


def test_equal_count_width_is_the_widest_within_budget():
    budget = denil.mlp_count(500) - 784 * 500 + 500 * 78  # the factorized net at 10%
    h = denil.equal_count_width(budget)
    assert denil.mlp_count(h) <= budget < denil.mlp_count(h + 1)
    with pytest.raises(ValueError, match="below the smallest MLP"):
        denil.equal_count_width(100)


def test_quick_reproduction(tmp_path):
    report = denil.reproduce(quick=True, seed=0, out_dir=tmp_path, verbose=False)
    assert len(report.figures) == 2 and all(f.read_bytes()[:4] == b"\x89PNG" for f in report.figures)
    claims = {c.key: c for c in report.claims}
    assert claims["denil.mlp.se25_within_full"].holds
    assert claims["denil.mlp.se10_beats_random"].holds
