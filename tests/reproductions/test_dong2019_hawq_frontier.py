"""The frontier part of the HAWQ reproduction (Σ Ω as a predictor of the loss): its rows on a tiny
CNN against the frontier and by hand, its claim on hand-made rows (holding, failing, NaN)."""
import numpy as np

from minicompress import models
from minicompress.papers.dong2019_hawq import pareto_frontier, weight_layers
from minicompress.reproductions import dong2019_hawq_frontier as part

from .test_dong2019_hawq import rows


def test_frontier_rows_are_the_frontier_evaluated():
    model = models.small_lenet(np.random.default_rng(0), channels=(2, 4, 5))
    sizes = np.array([layer.weight.data.size for layer in weight_layers(model)])
    omega = np.random.default_rng(1).uniform(0.1, 1.0, (len(sizes), 3)) * np.array([8.0, 2.0, 1.0])
    total = lambda a: float(sum(a))  # noqa: E731
    evaluated = []

    def test_of(a):
        evaluated.append(a)
        return dict(loss=0.01 * sum(a), accuracy=0.5)
    points, frontier = part.frontier_rows(model, omega, sizes, (2, 4, 8), total, test_of)
    assert frontier == pareto_frontier(omega, sizes, (2, 4, 8)) and evaluated == [a for a, _, _ in frontier]
    assert len(points) == len(frontier) > 1
    for row, (a, _, _) in zip(points, frontier):
        assert (row["experiment"], row["method"], row["bits"]) == ("frontier", "frontier", "/".join(map(str, a)))
        assert row["avg_bits"] == np.dot(a, sizes) / sizes.sum() and row["omega"] == sum(a)
        assert row["test_loss"] == 0.01 * sum(a) and row["test_accuracy"] == 50.0


def test_omega_predicts_loss():
    assert part.omega_predicts_loss(rows()).holds
    flipped = ((0.01, 0.6), (0.1, 0.15), (0.05, 0.3))
    assert not part.omega_predicts_loss(rows(hawq=0.9, eig=0.9, uniform=0.1, reversed_=0.1, randoms=(0.1, 0.1),
                                             frontier=flipped)).holds
    assert not part.omega_predicts_loss(rows(hawq=np.nan, eig=np.nan, uniform=np.nan, reversed_=np.nan,
                                             randoms=(np.nan, np.nan), four=(np.nan, np.nan),
                                             frontier=((0.1, np.nan),))).holds
    budgeted_wrong = rows(hawq=0.9, eig=0.9, uniform=0.12, reversed_=0.11, randoms=(0.13, 0.14))
    assert not part.omega_predicts_loss(budgeted_wrong).holds  # the frontier alone ranks right: ρ = 1
    assert not part.omega_predicts_loss(rows()).headline
