"""Karnin, the reproduction: the quick run's headline claims for two seeds, the toy tasks' claim
functions on hand-made rows (including zero, negative, NaN and missing measurements; LeNet's and the
overhead's: test_karnin1990_sensitivity_lenet.py), deletion on a copy."""
import copy
import math

import numpy as np
import pytest

from minicompress.models import sigmoid_mlp
from minicompress.reproductions import karnin1990_sensitivity as karnin
from minicompress.reproductions.experiment import deletion_accuracy, row

from .test_karnin1990_sensitivity_lenet import lenet_rows

# headline claims that do not hold, with the evidence in the reproduction's docstring
EXCEPTIONS = ("karnin.rpe.still_solves", "karnin.band.still_solves")


def made_rows(rho=0.8, deletable=(1.2, 2.0, 0.2, 2.0), still=(95.0, 100.0, 1.0, 100.0), **lenet):
    """The toy tasks' rows, and the LeNet and overhead rows (``lenet``: see ``lenet_rows``)."""
    rows = []
    for task, n_params in (("rule+exception", 13), ("2-D band", 17)):
        rows += [row(task, c, "Spearman with the true sensitivity S", rho, n=10) for c in ("karnin", "magnitude")]
        rows += [row(task, c, f"parameters deletable (of {n_params}) keeping accuracy", d, n=10)
                 for c, d in zip(karnin.CRITERIA, deletable)]
        rows += [row(task, c, karnin.STILL, v, n=10) for c, v in zip(karnin.CRITERIA, still)]
    return rows + lenet_rows(**lenet)


def verdicts(rows, data="synth_digits"):
    return {c.key: c.holds for c in karnin.claims(rows, data, 0.9)}


def test_claims_on_rows_that_show_them():
    held = verdicts(made_rows())
    expected_false = {"karnin.lenet.at_least_magnitude", "karnin.lenet.spearman"}  # our contrasts
    assert {k for k, v in held.items() if not v} == expected_false
    headline = [c.key for c in karnin.claims(made_rows(), "synth_digits", 0.9) if c.headline]
    assert headline == [f"karnin.{task}.{claim}" for task in ("rpe", "band")
                        for claim in ("spearman", "beats_random", "still_solves")] + ["karnin.overhead.negligible"]


@pytest.mark.parametrize("change, keys", [
    (dict(rho=0.6), ["rpe.spearman", "band.spearman"]),  # the threshold is "> 0.6"
    (dict(rho=math.nan), ["rpe.spearman", "band.spearman"]),
    (dict(deletable=(0.4, 2.0, 0.2, 2.0)), ["rpe.beats_random", "band.beats_random"]),  # twice is not more
    (dict(deletable=(0.0, 2.0, 0.0, 2.0)), ["rpe.beats_random"]),
    (dict(deletable=(0.0, 2.0, -1.0, 2.0)), ["rpe.beats_random"]),
    (dict(deletable=(math.nan, 2.0, 0.2, 2.0)), ["band.beats_random"]),
    (dict(still=(89.9, 100.0, 1.0, 100.0)), ["rpe.still_solves", "band.still_solves"]),  # the ≥ 90%
    (dict(still=(math.nan, 100.0, 1.0, 100.0)), ["rpe.still_solves"]),
])
def test_claims_fail_where_the_numbers_do_not_show_them(change, keys):
    held = verdicts(made_rows(**change))
    assert not any(held[f"karnin.{key}"] for key in keys)


def test_claims_cope_with_missing_rows():
    assert not any(c.holds for c in karnin.claims([], "synth_digits", 0.9))


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
