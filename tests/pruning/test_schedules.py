"""Schedules against TF-MOT's formula and update rule; the pruner inside fit(on_step=...)."""
import numpy as np
import pytest

from minicompress import nn, pruning
from minicompress.pruning import ConstantSparsity, PolynomialDecay, ScheduledPruner
from minicompress.train import fit


def test_polynomial_decay_values_follow_the_formula():
    s = PolynomialDecay(0.0, 0.8, begin_step=100, end_step=1100, power=3, frequency=100)
    assert s.sparsity(0) == 0.0 and s.sparsity(100) == 0.0  # clipped before begin
    assert s.sparsity(600) == pytest.approx(0.8 - 0.8 * 0.5 ** 3)  # p = 0.5: 0.7
    assert s.sparsity(350) == pytest.approx(0.8 - 0.8 * 0.75 ** 3)
    assert s.sparsity(1100) == pytest.approx(0.8) and s.sparsity(5000) == pytest.approx(0.8)
    t = PolynomialDecay(0.2, 0.6, begin_step=0, end_step=10, power=1, frequency=1)
    assert [round(t.sparsity(k), 10) for k in (0, 5, 10)] == [0.2, 0.4, 0.6]  # linear


def test_updates_only_on_the_frequency_grid_between_begin_and_end():
    s = PolynomialDecay(0.0, 0.8, begin_step=100, end_step=1100, frequency=100)
    updates = [k for k in range(0, 1500) if s(k) is not None]
    assert updates == list(range(100, 1101, 100))
    assert s(600) == pytest.approx(0.7) and s(650) is None
    c = ConstantSparsity(0.5, begin_step=10, frequency=5)  # end_step = -1: forever
    assert c(10) == 0.5 and c(12) is None and c(10 ** 9) == 0.5 and c(9) is None
    one_shot = ConstantSparsity(0.9, begin_step=7, end_step=7)
    assert [k for k in range(100) if one_shot(k) is not None] == [7]


@pytest.mark.parametrize("make, text", [
    (lambda: ConstantSparsity(1.0, 0), r"target_sparsity: expected a sparsity .* in \[0, 1\), got 1.0"),
    (lambda: ConstantSparsity(-0.1, 0), "target_sparsity"),
    (lambda: ConstantSparsity(0.5, -1), r"begin_step: expected an int >= 0, got -1"),
    (lambda: ConstantSparsity(0.5, 10, end_step=5), r"end_step \(5\) must be >= begin_step \(10\)"),
    (lambda: ConstantSparsity(0.5, 0, frequency=0), "frequency: expected an int >= 1"),
    (lambda: PolynomialDecay(0.0, 0.9, 0, -1), r"end_step: expected an int >= 0, got -1"),
    (lambda: PolynomialDecay(0.0, 0.9, 5, 5), "end_step must be > begin_step"),
    (lambda: PolynomialDecay(0.0, float("nan"), 0, 10), "final_sparsity"),
    (lambda: PolynomialDecay(0.0, 0.9, 0, 10, power=0), "power must be a number > 0"),
])
def test_bad_schedules_are_rejected(make, text):
    with pytest.raises(ValueError, match=text):
        make()


def test_pruner_keeps_tf_mot_counts_per_layer():
    a = nn.Parameter(np.arange(1.0, 11.0), "a")  # 10 entries
    b = nn.Parameter(np.arange(1.0, 1001.0), "b")  # 1000 entries
    pruner = ScheduledPruner([a, b], ConstantSparsity(0.95, begin_step=0))
    pruner(0)
    # keep max(round(n · 0.05), 1): round(0.5) = 0 -> 1 kept of 10; 50 kept of 1000
    assert a.mask.sum() == 1 and a.mask[-1] == 1 and b.mask.sum() == 50
    assert pruner.history == [dict(step=0, target=0.95, sparsity=(9 + 950) / 1010)]
    # 10 · 0.67 = 6.7 kept -> 7 (not 6); 10 · 0.75 = 7.5 -> 8 (half to even, not 7)
    for target, kept in ((0.33, 7), (0.25, 8)):
        c = nn.Parameter(np.arange(1.0, 11.0), "c")
        ScheduledPruner([c], ConstantSparsity(target, begin_step=0))(0)
        assert c.mask.sum() == kept, target


def test_masks_only_gain_zeros():
    a = nn.Parameter(np.arange(1.0, 11.0), "a")
    targets = iter([0.5, 0.3, 0.7])
    pruner = ScheduledPruner([a], lambda step: next(targets))
    pruner(1)
    assert a.mask.sum() == 5
    pruner(2)  # a lower target changes nothing
    assert a.mask.sum() == 5
    pruner(3)
    assert a.mask.tolist() == [0] * 7 + [1] * 3


def test_global_scope_ranks_across_parameters():
    a, b = nn.Parameter(np.array([1.0, 2.0]), "a"), nn.Parameter(np.array([3.0, 4.0, 5.0, 6.0]), "b")
    ScheduledPruner([a, b], ConstantSparsity(0.5, 0), scope="global")(0)
    assert a.mask.tolist() == [0, 0] and b.mask.tolist() == [0, 1, 1, 1]


def test_gradual_pruning_inside_fit(rng):
    model = nn.Sequential(nn.Linear(8, 16, rng=0), nn.ReLU(), nn.Linear(16, 4, rng=1))
    x = rng.standard_normal((120, 8)).astype(np.float32)
    y = rng.integers(0, 4, 120)
    schedule = PolynomialDecay(0.0, 0.75, begin_step=2, end_step=20, frequency=3)
    pruner = ScheduledPruner(pruning.weights(model), schedule)
    seen = []

    def on_step(step):
        pruner(step)
        seen.append(float(pruner.sparsity()))
    fit(model, nn.SoftmaxCrossEntropy(), nn.SGD(model.parameters(), lr=0.1, momentum=0.9), x, y,
        epochs=3, batch_size=10, rng=0, verbose=False, on_step=on_step)  # 36 steps
    assert [r["step"] for r in pruner.history] == [2, 5, 8, 11, 14, 17, 20]
    assert np.all(np.diff(seen) >= 0)  # sparsity never decreases
    for p in pruning.weights(model):
        assert p.data.size - p.mask.sum() == p.data.size - max(round(p.data.size * 0.25), 1)
        assert not p.value()[p.mask == 0].any()


def test_pruner_names_a_bad_schedule_or_target():
    w = nn.Parameter(np.arange(1.0, 7.0).reshape(2, 3), "w")
    with pytest.raises(TypeError, match="schedule: expected a callable .*got float"):
        ScheduledPruner([w], 0.5)
    with pytest.raises(TypeError, match="scores: expected None or a function of a parameter, got ndarray"):
        ScheduledPruner([w], lambda step: 0.5, scores=np.ones((2, 3)))
    for target in (1.5, float("nan"), -0.1, "0.5"):
        with pytest.raises(ValueError, match=r"schedule\(7\): expected a sparsity \(fraction of zeros\) in \[0, 1\)"):
            ScheduledPruner([w], lambda step: target)(7)
    assert w.mask is None  # nothing was pruned on the way
