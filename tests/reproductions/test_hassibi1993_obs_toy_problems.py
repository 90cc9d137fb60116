"""Part (a) of the OBS reproduction, the toy problems: its claim functions on hand-made rows (the
runs: tests/reproductions/test_hassibi1993_obs.py; MONK's data: tests/datasets/test_toy.py)."""
from minicompress.reproductions import hassibi1993_obs_toy_problems as rep

NAN = float("nan")


# ----- claim functions on hand-made rows -------------------------------------------------------------
def xor_rows(obs_wrong=0, obd_wrong=3, mag_wrong=1, nets=5):
    return [dict(experiment="xor", method="OBS", nets=nets, needed_deleted=obs_wrong),
            dict(experiment="xor", method="OBD", nets=nets, needed_deleted=obd_wrong),
            dict(experiment="xor", method="magnitude", nets=nets, needed_deleted=mag_wrong)]


def test_xor_claim():
    assert rep.xor_claim(xor_rows()).holds
    assert not rep.xor_claim(xor_rows(obs_wrong=1)).holds
    assert not rep.xor_claim(xor_rows(mag_wrong=0)).holds
    assert not rep.xor_claim(xor_rows(nets=0)).holds
    assert not rep.xor_claim(xor_rows(obd_wrong=NAN)).holds
    assert not rep.xor_claim([]).holds


def monk_rows(pct):
    return [dict(experiment=f"MONK-{p}", method=m, removed_pct=v) for (p, m), v in pct.items()]


def test_monk_claims():
    good = {(p, m): v for p in (1, 2, 3) for m, v in zip(rep.METHODS, (rep.PAPER_MONK[p] - 5, 30, 20))}
    claims = {c.key: c.holds for c in rep.monk_claims(monk_rows(good))}
    assert all(claims.values())
    tie = {**good, (3, "magnitude"): good[3, "OBS"]}
    assert not rep.monk_claims(monk_rows(tie))[0].holds  # "more", not "as many"
    low = {**good, (2, "OBS"): rep.PAPER_MONK[2] - 11}
    assert not {c.key: c.holds for c in rep.monk_claims(monk_rows(low))}["obs.monk2.fraction_removed"]
    for bad in (NAN, -1.0):
        claims = {c.key: c.holds for c in rep.monk_claims(monk_rows({**good, (1, "OBS"): bad}))}
        assert not claims["obs.monk1.fraction_removed"] and not claims["obs.monk.more_than_obd_and_magnitude"]
    assert not any(c.holds for c in rep.monk_claims([]))
