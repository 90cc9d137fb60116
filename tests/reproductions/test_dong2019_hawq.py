"""HAWQ reproduction: a tiny configuration end to end (stand-in data), the helpers, and the claim
functions on hand-made rows (holding, failing, NaN; the frontier's claim and rows:
test_dong2019_hawq_frontier.py)."""
import numpy as np
import pytest

from minicompress.reproductions import dong2019_hawq as repro

TINY = repro.Config(n_train=300, n_test=100, channels=(2, 4, 5), epochs=1, curvature_images=32,
                    trace_probes=3, n_random=2)


def test_tiny_run_returns_every_claim(fake_loader, tmp_path):
    report = repro.reproduce(config=TINY, out_dir=tmp_path, verbose=False)
    keys = {c.key for c in report.claims}
    assert keys == {"hawq.lenet.beats_reversed", "hawq.lenet.beats_uniform", "hawq.lenet.four_bit_budget",
                    "hawq.lenet.trace_no_worse_than_eigenvalue", "hawq.lenet.beats_random",
                    "hawq.lenet.omega_ranks_loss_increase"}
    assert {c.key for c in report.claims if c.headline} == {"hawq.lenet.beats_reversed", "hawq.lenet.beats_uniform"}
    mixed = {r["method"]: r for r in report.rows if r["experiment"] == repro.MIXED}
    assert mixed["uniform 3"]["bits"] == "3/3/3/3"
    sizes = [r["weights"] for r in report.rows if r["experiment"] == "curvature"]
    budget = repro.budgets(np.array(sizes))[repro.MIXED]
    assert all(r["avg_bits"] * sum(sizes) <= budget + 1e-9 for r in mixed.values())
    frontier = [r["bits"] for r in report.rows if r["experiment"] == "frontier"]
    assert len(frontier) == len(set(frontier)) > 1 and "8/8/8/8" in frontier  # the largest point is on it
    assert report.figures and report.figures[0].is_file()


def test_budgets_mirroring_and_random_picks():
    sizes = np.array([50, 200, 200, 10])
    b = repro.budgets(sizes)
    assert b == {repro.FOUR: 4 * 460, repro.MIXED: 8 * 60 + 3 * 400}
    np.testing.assert_array_equal(repro.mirrored(np.array([3.0, 1.0, 2.0, 4.0])), [2.0, 4.0, 3.0, 1.0])
    picks = repro.random_near(sizes, (2, 4, 8), b[repro.MIXED], (8, 2, 4, 8), 5, np.random.default_rng(0))
    assert len(set(picks)) == len(picks) == 5 and (8, 2, 4, 8) not in picks
    assert all(0.9 * b[repro.MIXED] <= np.dot(a, sizes) <= b[repro.MIXED] for a in picks)
    again = repro.random_near(sizes, (2, 4, 8), b[repro.MIXED], (8, 2, 4, 8), 5, np.random.default_rng(0))
    assert again == picks


def rows(hawq=0.2, eig=0.2, uniform=0.3, reversed_=0.5, randoms=(0.4, 0.6), four=(0.1, 0.1),
         four_bits=("4/4/4/4", "4/4/4/4"), frontier=((0.01, 0.15), (0.1, 0.6), (0.05, 0.3))):
    out = [dict(experiment="float", method="float32", test_loss=0.1)]
    mixed = [("hawq (trace)", "8/2/4/8", 0.03, hawq), ("hawq (eigenvalue)", "8/2/4/8", 0.03, eig),
             ("uniform 3", "3/3/3/3", 0.07, uniform), ("reversed", "8/4/2/8", 0.05, reversed_)]
    mixed += [(f"random {k}", f"r{k}", 0.06 + k, v) for k, v in enumerate(randoms)]
    out += [dict(experiment=repro.MIXED, method=m, bits=b, omega=o, test_loss=v) for m, b, o, v in mixed]
    out += [dict(experiment=repro.FOUR, method="hawq (trace)", bits=four_bits[0], omega=0.01, test_loss=four[0]),
            dict(experiment=repro.FOUR, method="uniform 4", bits=four_bits[1], omega=0.01, test_loss=four[1])]
    out += [dict(experiment="frontier", method="frontier", bits=f"f{k}", omega=o, test_loss=v)
            for k, (o, v) in enumerate(frontier)]
    return out


def test_headline_claims():
    assert repro.beats(rows(), "reversed").holds and repro.beats(rows(), "uniform").holds
    assert not repro.beats(rows(hawq=0.5), "reversed").holds  # equal: not lower
    assert not repro.beats(rows(hawq=0.35), "uniform").holds
    assert repro.beats(rows(hawq=0.35), "reversed").holds
    assert not repro.beats(rows(hawq=np.nan), "reversed").holds
    assert not repro.beats(rows(uniform=np.nan), "uniform").holds
    assert repro.beats(rows(), "reversed").headline


def test_contrast_claims():
    assert repro.ties_at_four_bits(rows()).holds  # the same assignment
    assert repro.ties_at_four_bits(rows(four=(0.1, 0.2), four_bits=("8/4/4/2", "4/4/4/4"))).holds
    assert not repro.ties_at_four_bits(rows(four=(0.3, 0.2), four_bits=("8/4/4/2", "4/4/4/4"))).holds
    assert not repro.ties_at_four_bits(rows(four=(np.nan, 0.2), four_bits=("8/4/4/2", "4/4/4/4"))).holds
    assert repro.trace_vs_eigenvalue(rows()).holds
    assert not repro.trace_vs_eigenvalue(rows(eig=0.1)).holds
    assert not repro.trace_vs_eigenvalue(rows(eig=np.nan)).holds
    assert repro.beats_random(rows()).holds
    assert not repro.beats_random(rows(hawq=0.55)).holds  # above the mean 0.5
    assert not repro.beats_random(rows(randoms=(0.4, np.nan))).holds
    assert not any(c.headline for c in (repro.ties_at_four_bits(rows()), repro.beats_random(rows())))


@pytest.mark.slow
def test_quick_run_on_real_digits(mnist_dir, tmp_path):
    report = repro.reproduce(quick=True, data="mnist_test_split", data_dir=mnist_dir, out_dir=tmp_path,
                             verbose=False)
    assert next(r for r in report.rows if r["experiment"] == "float")["test_accuracy"] > 95  # it learned
    assert next(c for c in report.claims if c.key == "hawq.lenet.beats_reversed").holds
