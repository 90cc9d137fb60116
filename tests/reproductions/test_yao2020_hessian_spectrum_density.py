"""The eigenvalue density of the Hessian-spectrum reproduction: its three claims on hand-made rows
(holding, failing, NaN); the SLQ numbers against the dense Hessian and the runs:
tests/reproductions/test_yao2020_hessian_spectrum.py; the bulk edge: tests/nn/test_spectrum.py."""
import numpy as np

from minicompress.reproductions import yao2020_hessian_spectrum_density as part

from .test_yao2020_hessian_spectrum import rows


def test_outliers_after_training():
    assert part.outliers_after_training(rows(), "lenet300").holds
    assert part.outliers_after_training(rows(top_dense=0.5), "lenet300").holds  # exactly 10 × 0.05
    assert not part.outliers_after_training(rows(top_dense=0.49), "lenet300").holds
    assert not part.outliers_after_training(rows(edge=np.nan), "lenet300").holds
    assert not part.outliers_after_training(rows(top_dense=np.inf), "lenet300").holds
    assert not part.outliers_after_training(rows(), "lenet5").holds  # no such rows
    assert part.outliers_after_training(rows(), "lenet300").headline
    assert part.outliers_after_training(rows()[::-1], "lenet300").holds  # the whole net's row, not a layer's


def test_outliers_about_classes():
    assert part.outliers_about_classes(rows(outliers=10), "lenet300").holds
    assert part.outliers_about_classes(rows(outliers=5), "lenet300").holds
    assert part.outliers_about_classes(rows(outliers=20), "lenet300").holds
    assert not part.outliers_about_classes(rows(outliers=21), "lenet300").holds  # all of the top 2C + 1
    assert not part.outliers_about_classes(rows(outliers=4), "lenet300").holds
    assert not part.outliers_about_classes(rows(outliers=np.nan), "lenet300").holds
    assert not part.outliers_about_classes(rows(), "lenet300").headline


def test_slq_matches_hutchinson():
    t2 = 31.599055  # Student's t, 2 degrees of freedom, two-sided 99.9% (tables)
    assert part.slq_matches_hutchinson(rows(), "lenet300").holds  # 10 apart, 5 × 31.6 allowed
    assert part.slq_matches_hutchinson(rows(slq=110 + 5 * t2 - 1e-3), "lenet300").holds
    assert not part.slq_matches_hutchinson(rows(slq=110 + 5 * t2 + 1e-3), "lenet300").holds
    assert not part.slq_matches_hutchinson(rows(slq=135.1, df=1000), "lenet300").holds  # t ≈ 3.3
    assert not part.slq_matches_hutchinson(rows(df=0), "lenet300").holds  # one probe: no spread
    assert not part.slq_matches_hutchinson(rows(se=np.nan), "lenet300").holds
    assert not part.slq_matches_hutchinson(rows(slq=np.nan), "lenet300").holds
    assert not part.slq_matches_hutchinson(rows(se=-1.0, slq=110.0), "lenet300").holds
