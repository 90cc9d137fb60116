"""Karnin, the reproduction: the quick run's headline claims for two seeds, the claim functions
on hand-made rows (including zero, negative, NaN and missing measurements), deletion on a copy."""
import copy
import math

import numpy as np
import pytest

from minicompress.models import sigmoid_mlp
from minicompress.reproductions import karnin1990_sensitivity as karnin
from minicompress.reproductions.experiment import deletion_accuracy, row

AT = "test accuracy %, 90% of weights deleted"
# headline claims that do not hold, with the evidence in the reproduction's docstring
EXCEPTIONS = ("karnin.rpe.still_solves", "karnin.band.still_solves")


def made_rows(rho=0.8, deletable=(1.2, 2.0, 0.2, 2.0), still=(95.0, 100.0, 1.0, 100.0), lenet=(65.0, 75.0, 10.0),
              lenet_rho=0.07, first=0.99, seconds=(0.10, 0.11), data="synth_digits"):
    rows = []
    for task, n_params in (("rule+exception", 13), ("2-D band", 17)):
        rows += [row(task, c, "Spearman with the true sensitivity S", rho, n=10) for c in ("karnin", "magnitude")]
        rows += [row(task, c, f"parameters deletable (of {n_params}) keeping accuracy", d, n=10)
                 for c, d in zip(karnin.CRITERIA, deletable)]
        rows += [row(task, c, karnin.STILL, v, n=10) for c, v in zip(karnin.CRITERIA, still)]
    experiment = f"{data} minibatch SGD"
    rows += [row(experiment, c, AT, a) for c, a in zip(("karnin", "magnitude", "random"), lenet)]
    rows += [row(experiment, "dense", "test accuracy %", 80.0),
             row(experiment, "karnin", "Spearman with S, sampled weights", lenet_rho),
             row(experiment, "magnitude", "Spearman with S, sampled weights", 0.1),
             row(experiment, "−g·w_f", "Spearman with S (first-order term)", first),
             row(experiment, "S", "% of sampled weights with S < 0", 48.0)]
    rows += [row("overhead", k, "seconds per epoch, fastest", s) for k, s in zip(("SGD", "ShadowArray(SGD)"), seconds)]
    return rows + [row("overhead", "ShadowArray", "extra memory / parameter memory", 3.0)]


def verdicts(rows, data="synth_digits"):
    return {c.key: c.holds for c in karnin.claims(rows, data, 0.9)}


def test_claims_on_rows_that_show_them():
    held = verdicts(made_rows())
    expected_false = {"karnin.lenet.at_least_magnitude", "karnin.lenet.spearman"}  # our contrasts
    assert {k for k, v in held.items() if not v} == expected_false
    headline = [c.key for c in karnin.claims(made_rows(), "synth_digits", 0.9) if c.headline]
    assert headline == [f"karnin.{task}.{claim}" for task in ("rpe", "band")
                        for claim in ("spearman", "beats_random", "still_solves")] + ["karnin.overhead.negligible"]
    assert verdicts(made_rows(lenet=(75.0, 75.0, 10.0), lenet_rho=0.7))["karnin.lenet.at_least_magnitude"]


@pytest.mark.parametrize("change, keys", [
    (dict(rho=0.6), ["rpe.spearman", "band.spearman"]),  # the threshold is "> 0.6"
    (dict(rho=math.nan), ["rpe.spearman", "band.spearman"]),
    (dict(deletable=(0.4, 2.0, 0.2, 2.0)), ["rpe.beats_random", "band.beats_random"]),  # twice is not more
    (dict(deletable=(0.0, 2.0, 0.0, 2.0)), ["rpe.beats_random"]),
    (dict(deletable=(0.0, 2.0, -1.0, 2.0)), ["rpe.beats_random"]),
    (dict(deletable=(math.nan, 2.0, 0.2, 2.0)), ["band.beats_random"]),
    (dict(still=(89.9, 100.0, 1.0, 100.0)), ["rpe.still_solves", "band.still_solves"]),  # the ≥ 90%
    (dict(still=(math.nan, 100.0, 1.0, 100.0)), ["rpe.still_solves"]),
    (dict(lenet=(10.0, 75.0, 10.0)), ["lenet.beats_random"]),
    (dict(lenet=(math.nan, 75.0, 10.0)), ["lenet.beats_random"]),
    (dict(first=math.nan), ["lenet.first_order"]),
    (dict(seconds=(0.10, 0.126)), ["overhead.negligible"]),  # the 1.25×
    (dict(seconds=(0.0, 0.1)), ["overhead.negligible"]),
    (dict(seconds=(0.1, -0.1)), ["overhead.negligible"]),
    (dict(seconds=(0.1, math.nan)), ["overhead.negligible"]),
])
def test_claims_fail_where_the_numbers_do_not_show_them(change, keys):
    held = verdicts(made_rows(**change))
    assert not any(held[f"karnin.{key}"] for key in keys)


def test_the_full_batch_contrast_is_claimed_only_where_it_was_run():
    assert "karnin.lenet.full_batch_ranks_better" not in verdicts(made_rows())
    rank = "Spearman with S, sampled weights"
    for full, holds in ((0.3, True), (0.07, False), (math.nan, None)):
        held = verdicts(made_rows() + [row("synth_digits full-batch GD", "karnin", rank, full)])
        assert held.get("karnin.lenet.full_batch_ranks_better") is holds


def test_claims_cope_with_missing_rows():
    assert not any(c.holds for c in karnin.claims([], "synth_digits", 0.9))
    held = verdicts(made_rows(data="mnist"), "synth_digits")  # no LeNet rows for this data
    assert not any(v for k, v in held.items() if k.startswith("karnin.lenet"))


def test_deletion_accuracy_prunes_a_copy(rng):
    model = sigmoid_mlp((2, 2, 1), rng=rng)
    before = copy.deepcopy(model.state_dict())
    scores = [np.arange(p.data.size, dtype=float).reshape(p.shape) for p in model.parameters()]
    seen = []
    deletion_accuracy(model, lambda m: m.parameters(), scores, 3,
                      lambda m: seen.append(sum(int((p.mask == 0).sum()) for p in m.parameters()
                                                if p.mask is not None)) or 1.0)
    assert seen == [3]
    assert all(p.mask is None for p in model.parameters())
    assert all((before[k] == v).all() for k, v in model.state_dict().items())


@pytest.mark.parametrize("seed", [0, pytest.param(1, marks=pytest.mark.slow)])
def test_quick_reproduction_holds_its_headline_claims(tmp_path, capsys, seed):
    report = karnin.reproduce(quick=True, seed=seed, out_dir=tmp_path, verbose=False)
    assert capsys.readouterr() == ("", "")  # verbose=False prints nothing
    assert len(report.figures) == 2 and all(f.read_bytes()[:4] == b"\x89PNG" for f in report.figures)
    assert report.data == "synth_digits" and report.notes
    timing = "karnin.overhead.negligible"  # computed, but not asserted: it depends on machine load
    headline = {c.key: c for c in report.claims if c.headline}
    assert set(headline) >= {timing, *EXCEPTIONS}
    assert all("nan" not in headline[key].measured for key in (timing, *EXCEPTIONS))
    failed = [f"{c.text}: {c.measured}" for key, c in headline.items()
              if key not in (timing, *EXCEPTIONS) and not c.holds]
    assert not failed, failed


def test_an_unknown_dataset_is_refused_before_any_work(tmp_path):
    with pytest.raises(ValueError, match="unknown image dataset 'digits'"):
        karnin.reproduce(quick=True, data="digits", out_dir=tmp_path, verbose=False)
