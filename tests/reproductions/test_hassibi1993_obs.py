"""The OBS reproduction: its claim functions on hand-made rows (the toy problems' and layer-wise
OBS's: in test_hassibi1993_obs_toy_problems.py, test_hassibi1993_obs_layerwise.py), and the
quick run (flat weights: tests/pruning/test_masks.py)."""
import numpy as np
import pytest

from minicompress.reproductions import hassibi1993_obs as rep

from .test_hassibi1993_obs_layerwise import layer_rows

NAN = float("nan")


# ----- claim functions on hand-made rows -------------------------------------------------------------
def obd_rows(obs_objective, obd_objective, obs_ratio, obd_ratio=0.3, levels=(0.1, 0.2, 0.3, 0.5)):
    rows = []
    for d in levels:
        for m, value, ratio in (("OBS", obs_objective, obs_ratio), ("OBD", obd_objective, obd_ratio)):
            rows.append(dict(experiment="OBD mlp", method=m, deleted=d, predicted=ratio * 0.01, actual=0.01,
                             objective=value(d) if callable(value) else value))
    return rows


def test_obd_network_claims():
    keys = ("obs.mlp.below_obd", "obs.mlp.prediction", "obs.mlp.predicts_better_than_obd")
    holds = lambda rows: [c.holds for c in rep.obd_claims(rows, "OBD mlp", True)]  # noqa: E731
    assert holds(obd_rows(0.1, 0.2, 1.0)) == [True, True, True]
    assert [c.key for c in rep.obd_claims(obd_rows(0.1, 0.2, 1.0), "OBD mlp", True)] == list(keys)
    assert holds(obd_rows(lambda d: 0.3 if d == 0.5 else 0.1, 0.2, 0.5)) == [False, False, True]
    assert holds(obd_rows(0.1, 0.2, 1.4, obd_ratio=1.2)) == [True, False, False]
    for bad in (NAN, 0.0, -1.0):  # a non-finite or non-positive ratio never holds
        assert holds(obd_rows(0.1, 0.2, bad))[1:] == [False, False]
    assert holds(obd_rows(NAN, 0.2, 1.0))[0] is False
    assert holds(obd_rows(lambda d: 0.3 if d == 0.3 else 0.1, 0.2, 1.0))[0] is False  # 30% counts
    rows = obd_rows(0.1, 0.2, 1.0)
    for r in rows:
        r["actual"] = 0.0  # no increase: no ratio to judge
    assert holds(rows)[1:] == [False, False]
    for r in rows:
        r["actual"], r["predicted"] = -0.01, -0.01  # both negative: a ratio of 1 that means nothing
    assert holds(rows)[1:] == [False, False]
    assert holds([]) == [False, False, False]


def test_claims_gather_every_part_and_the_cnn_only_where_it_ran():
    keys = ["obs.xor.only_obs_deletes_a_removable_weight", "obs.monk.more_than_obd_and_magnitude",
            *(f"obs.monk{p}.fraction_removed" for p in (1, 2, 3)),
            "obs.mlp.below_obd", "obs.mlp.prediction", "obs.mlp.predicts_better_than_obd"]
    assert [c.key for c in rep.claims([])] == keys + ["obs.layerwise.beats_magnitude"]
    cnn = [{**r, "experiment": "OBD cnn"} for r in obd_rows(0.1, 0.2, 1.0)]
    claims = rep.claims(obd_rows(0.1, 0.2, 1.0) + cnn + layer_rows(0.9, 0.8))
    assert [c.key for c in claims] == keys + [k.replace("mlp", "cnn") for k in keys[-3:]] + [
        "obs.layerwise.beats_magnitude"]
    assert all(c.holds for c in claims[-7:])  # OBS below OBD, ratio 1 against OBD's 0.3, OBS above magnitude
    assert not any(c.headline for c in claims[-4:-1])  # the CNN's are not headline claims


# ----- the quick run ----------------------------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 3])
def test_quick_reproduction(seed, tmp_path):
    """What held in all ten quick seeds on synthetic digits (the module docstring has the k-of-10
    table of every claim): OBS never deletes a needed XOR weight; it removes at least as many
    MONK weights as OBD and reaches the paper's MONK-2 fraction; its objective is below OBD's on
    OBD's MLP from 30% to 70% deleted; layer-wise OBS beats magnitude from 75% to 95%."""
    report = rep.reproduce(quick=True, seed=seed, out_dir=tmp_path, verbose=False)
    rows, claims = report.rows, {c.key: c for c in report.claims}
    xor = {r["method"]: r for r in rows if r["experiment"] == "xor"}
    assert xor["OBS"]["nets"] >= 5 and xor["OBS"]["needed_deleted"] == 0
    assert xor["OBD"]["needed_deleted"] >= xor["OBS"]["nets"] // 2
    monk = {(r["experiment"], r["method"]): r["removed_pct"] for r in rows if r["experiment"].startswith("MONK")}
    assert all(monk[f"MONK-{p}", "OBS"] >= monk[f"MONK-{p}", "OBD"] for p in (1, 2, 3))
    assert claims["obs.monk2.fraction_removed"].holds
    mlp = {(r["method"], r["deleted"]): r["objective"] for r in rows if r["experiment"] == "OBD mlp"}
    assert all(mlp["OBS", d] < mlp["OBD", d] for d in (0.3, 0.4, 0.5, 0.6, 0.7))
    layer = {(r["method"], r["deleted"]): r["test_accuracy"] for r in rows if r["experiment"].startswith("layer-wise")}
    assert all(layer["OBS", s] > layer["magnitude", s] for s in (0.75, 0.9, 0.95))
    assert all(np.isfinite(c.holds) for c in report.claims) and (tmp_path / "obs.png").exists()
