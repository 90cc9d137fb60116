"""The Hessian-spectrum reproduction: its measurements against the dense Hessian and eigh on a tiny
float64 net (whole, per layer, pruned), its claims on hand-made rows (holding, failing, NaN; the
density's: test_yao2020_hessian_spectrum_density.py), a tiny run of both LeNets, and (slow) the
quick run's headline claims."""
import numpy as np
import pytest

from minicompress import models, nn, pruning
from minicompress.nn import curvature as cv
from minicompress.reproductions import find
from minicompress.reproductions import yao2020_hessian_spectrum as spec
from minicompress.reproductions.yao2020_hessian_spectrum import Config


def tiny_problem(seed=0):
    rng = np.random.default_rng(seed)
    model = models.mlp((12, 6, 4), rng=rng, dtype=np.float64)
    x, y = rng.normal(size=(30, 12)), rng.integers(0, 4, 30)
    return model, (x, y)


TINY = Config(tol=1e-10, max_iter=200, n_lanczos=40, n_probes=3, trace_probes=2000)


def test_measurements_match_the_dense_hessian():
    model, (x, y) = tiny_problem()
    H = cv.hessian(model, nn.SoftmaxCrossEntropy(), x, y)
    whole, layers, (nodes, weights) = spec._measure(model, (x, y), TINY, np.random.default_rng(1), True, True)
    assert whole["top_eigenvalue"] == pytest.approx(np.linalg.eigvalsh(H)[-1], rel=1e-8)
    assert whole["params"] == H.shape[0] and whole["trace"] == pytest.approx(np.trace(H), rel=0.1)
    assert whole["avg_trace"] == pytest.approx(whole["trace"] / H.shape[0])
    assert weights.sum() == pytest.approx(1.0) and nodes.max() <= np.linalg.eigvalsh(H)[-1] + 1e-8
    assert abs(whole["slq_trace"] - np.trace(H)) <= 5 * whole["trace_se"]
    start = 0
    for (name, values), layer in zip(layers.items(), [model[1], model[3]]):
        n = sum(p.data.size for p in layer.parameters())
        block = H[start:start + n, start:start + n]  # parameters are flattened layer by layer
        assert values["params"] == n and name.endswith("Linear")
        assert values["top_eigenvalue"] == pytest.approx(np.linalg.eigvalsh(block)[-1], rel=1e-8)
        assert values["trace"] == pytest.approx(np.trace(block), rel=0.06)  # 2,000 probes: ~2% off
        start += n
    assert sum(v["trace"] for v in layers.values()) == pytest.approx(whole["trace"])


def test_a_pruned_net_is_measured_on_its_remaining_entries():
    model, (x, y) = tiny_problem(1)
    pruning.global_prune(pruning.weights(model), 0.7)
    H = cv.hessian(model, nn.SoftmaxCrossEntropy(), x, y)  # zero rows and columns where masked
    kept = np.abs(H).sum(axis=0) > 0
    whole, _, _ = spec._measure(model, (x, y), TINY, np.random.default_rng(2), False, False)
    assert whole["params"] == sum(int(np.count_nonzero(p.mask)) if p.mask is not None else p.data.size
                                  for p in model.parameters()) >= kept.sum()
    assert whole["top_eigenvalue"] == pytest.approx(np.linalg.eigvalsh(H[np.ix_(kept, kept)])[-1], rel=1e-8)
    assert "bulk_edge" not in whole  # no density asked for


def rows(top_init=1.0, top_dense=20.0, edge=0.05, outliers=10, slq=100.0, trace=110.0, se=5.0,
         top_pruned=30.0, avg_dense=1e-3, avg_pruned=2e-3, net="lenet300", df=2):
    base = dict(net=net, layer="all")
    return [dict(base, state="init", top_eigenvalue=top_init, bulk_edge=0.1, slq_trace=slq, trace=trace, trace_se=se,
                 trace_df=df),
            dict(base, state="dense", top_eigenvalue=top_dense, bulk_edge=edge, outliers=outliers, slq_trace=slq,
                 trace=trace, trace_se=se, trace_df=df, avg_trace=avg_dense),
            dict(base, state="dense", layer="1 Linear", top_eigenvalue=1e9, bulk_edge=1e9),  # not "all": ignored
            dict(base, state="pruned", top_eigenvalue=top_pruned, avg_trace=avg_pruned)]


def test_training_sharpens():
    assert spec.training_sharpens(rows(), "lenet300").holds
    assert not spec.training_sharpens(rows(top_init=20.0), "lenet300").holds  # equal is not larger
    assert not spec.training_sharpens(rows(top_init=np.nan), "lenet300").holds
    assert not spec.training_sharpens(rows(), "lenet300").headline


def test_flatness_comparison_reports_either_direction():
    for measure in ("top_eigenvalue", "avg_trace"):
        claim = spec.dense_flatter_than_pruned(rows(), "lenet300", measure)
        assert claim.holds and "dense flatter" in claim.measured and not claim.headline
        assert claim.key == f"spectrum.lenet300.dense_flatter_than_pruned.{measure}"
    claim = spec.dense_flatter_than_pruned(rows(top_pruned=10.0), "lenet300", "top_eigenvalue")
    assert not claim.holds and "pruned flatter" in claim.measured
    assert not spec.dense_flatter_than_pruned(rows(avg_pruned=1e-3), "lenet300", "avg_trace").holds
    assert not spec.dense_flatter_than_pruned(rows(avg_pruned=np.nan), "lenet300", "avg_trace").holds
    assert not spec.dense_flatter_than_pruned(rows(top_pruned=np.nan), "lenet300").holds
    assert not spec.dense_flatter_than_pruned(rows(avg_dense=np.nan), "lenet300", "avg_trace").holds
    assert "no order" in spec.dense_flatter_than_pruned(rows(avg_dense=np.nan), "lenet300", "avg_trace").measured


def test_registered():
    assert find("spectrum").module == "yao2020_hessian_spectrum"


def test_a_tiny_run_of_both_lenets(tmp_path):
    cfg = Config(n_train=300, n_test=100, epochs=(1, 1), finetune_epochs=(1, 1), curvature_images=(64, 12),
                 n_lanczos=6, n_probes=2, trace_probes=3, tol=0.1, max_iter=21, count_outliers=("lenet300",))
    with _no_check():
        report = spec.reproduce(config=cfg, seed=3, out_dir=tmp_path, verbose=False)
    assert report.figures[0].read_bytes()[:4] == b"\x89PNG"
    whole = {(r["net"], r["state"]): r for r in report.rows if r["layer"] == "all"}
    assert set(whole) == {(n, s) for n in ("lenet300", "lenet5") for s in ("init", "dense", "pruned")}
    for net, n_layers in (("lenet300", 3), ("lenet5", 4)):
        dense, pruned = whole[net, "dense"], whole[net, "pruned"]
        layers = [r for r in report.rows if r["net"] == net and r["state"] == "pruned" and r["layer"] != "all"]
        assert len(layers) == n_layers and sum(r["trace"] for r in layers) == pytest.approx(pruned["trace"])
        weights = sum(p.data.size for p in pruning.weights(spec.BUILDERS[net]()))
        assert pruned["params"] == pytest.approx(dense["params"] - 0.9 * weights, abs=1)
        assert all(np.isfinite(r["top_eigenvalue"]) for r in report.rows)
    assert "outliers" in whole["lenet300", "dense"] and "outliers" not in whole["lenet5", "dense"]
    keys = [c.key for c in report.claims]
    assert "spectrum.lenet5.outliers_about_classes" not in keys and len(keys) == 11
    assert [c.key for c in report.claims if c.headline] == ["spectrum.lenet300.outliers_after_training",
                                                            "spectrum.lenet5.outliers_after_training"]


def _no_check():
    import contextlib
    import warnings

    @contextlib.contextmanager
    def quiet():  # a 25-step Lanczos on a barely trained net may stop short of tol: it says so
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            yield
    return quiet()


def test_same_seed_same_numbers(tmp_path):
    cfg = Config(n_train=200, n_test=100, nets=("lenet300",), epochs=(1,), finetune_epochs=(1,), lrs=(0.05,),
                 curvature_images=(40,), n_lanczos=5, n_probes=2, trace_probes=2, max_iter=25, tol=1e-2)
    with _no_check():
        one, two = (spec.reproduce(config=cfg, seed=5, out_dir=tmp_path, verbose=False) for _ in range(2))
    assert one.rows == two.rows


def test_bad_configs_are_refused(tmp_path):
    with pytest.raises(ValueError, match="max_iter must be at least"):
        spec.reproduce(config=Config(max_iter=20), out_dir=tmp_path, verbose=False)
    with pytest.raises(ValueError, match="one value per net"):
        spec.reproduce(config=Config(lrs=(0.05,)), out_dir=tmp_path, verbose=False)
    with pytest.raises(ValueError, match="unknown nets"):
        spec.reproduce(config=Config(count_outliers=("resnet",)), out_dir=tmp_path, verbose=False)


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1])
def test_quick_run_holds_its_headline_claims(seed, tmp_path):
    report = spec.reproduce(quick=True, seed=seed, out_dir=tmp_path, verbose=False)
    assert all(c.holds for c in report.claims if c.headline)
    assert all(r["accuracy"] > 80 for r in report.rows if r["state"] == "dense" and r["layer"] == "all")
