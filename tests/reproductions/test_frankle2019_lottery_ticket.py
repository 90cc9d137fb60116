"""The lottery ticket reproduction: claim functions on hand-made rows, a tiny run of the whole
pipeline, and (slow) the quick run's headline claims for two seeds."""
import numpy as np
import pytest

from minicompress.reproductions import find
from minicompress.reproductions import frankle2019_lottery_ticket as lottery
from minicompress.reproductions.frankle2019_lottery_ticket import (DENSE, REINIT, RESET, REWIND, Config,
                                                                   reinit_below_dense, reinit_below_ticket,
                                                                   rewound_match_dense, tickets_learn_faster,
                                                                   tickets_match_dense)

CFG = Config.quick()


def rows(dense=97.0, ticket=(97.5, 97.2), reinit=(96.0, 95.5), rewound=(97.1, 97.0),
         dense_stop=600, ticket_stop=(300, 420), left=(21.1, 16.9)):
    out = [dict(method=DENSE, round=0, remaining=100.0, accuracy=dense, early_stop=dense_stop)]
    # a ticket outside the 10-21.5% range that must not count
    out.append(dict(method=RESET, round=1, remaining=80.1, accuracy=0.0, early_stop=10_000))
    for i, frac in enumerate(left):
        out += [dict(method=RESET, round=7 + i, remaining=frac, accuracy=ticket[i], early_stop=ticket_stop[i]),
                dict(method=REINIT, round=7 + i, remaining=frac, accuracy=reinit[i], early_stop=700),
                dict(method=REWIND, round=7 + i, remaining=frac, accuracy=rewound[i], early_stop=400)]
    return out


ALL = (tickets_match_dense, reinit_below_dense, reinit_below_ticket, tickets_learn_faster, rewound_match_dense)


def test_claims_hold_on_a_typical_run_and_only_the_range_counts():
    for claim in ALL:
        assert claim(rows(), CFG).holds, claim.__name__
    assert [claim(rows(), CFG).headline for claim in ALL] == [True, True, True, True, False]


def test_each_claim_fails_when_its_comparison_turns():
    assert not tickets_match_dense(rows(ticket=(97.0, 96.9)), CFG).holds        # mean 96.95 < 97
    assert tickets_match_dense(rows(ticket=(97.0, 97.0)), CFG).holds            # equal is enough
    assert not reinit_below_dense(rows(reinit=(97.0, 97.0)), CFG).holds          # not below
    assert not reinit_below_ticket(rows(ticket=(96.0, 95.5)), CFG).holds        # equal means
    assert not tickets_learn_faster(rows(ticket_stop=(600, 700)), CFG).holds
    assert tickets_learn_faster(rows(ticket_stop=(600, 600)), CFG).holds
    assert not rewound_match_dense(rows(rewound=(96.0, 97.9)), CFG).holds       # mean 96.95


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_measurements_never_hold(bad):
    for claim in (tickets_match_dense, reinit_below_dense, rewound_match_dense):
        assert not claim(rows(dense=bad), CFG).holds
    assert not tickets_match_dense(rows(ticket=(bad, 99.0)), CFG).holds
    assert not reinit_below_ticket(rows(reinit=(bad, 90.0)), CFG).holds
    assert not tickets_learn_faster(rows(dense_stop=bad), CFG).holds
    assert not tickets_match_dense(rows(left=(bad, bad)), CFG).holds  # no ticket in the range


def test_zero_negative_and_empty_rows():
    assert tickets_match_dense(rows(dense=0.0, ticket=(0.0, 0.0)), CFG).holds
    assert not tickets_match_dense(rows(dense=0.0, ticket=(-1.0, 0.0)), CFG).holds
    assert reinit_below_dense(rows(dense=0.0, reinit=(-1.0, -1.0)), CFG).holds
    assert not tickets_learn_faster(rows(dense_stop=0, ticket_stop=(1, 1)), CFG).holds
    assert not tickets_learn_faster(rows(dense_stop=-5, ticket_stop=(1, 1)), CFG).holds
    for claim in ALL:
        assert not claim([], CFG).holds
        assert not claim(rows(left=(50.0, 40.0)), CFG).holds  # rounds outside the range only


def test_registered():
    assert find("lottery").module == "frankle2019_lottery_ticket"


def test_a_tiny_run_of_the_whole_pipeline(tmp_path):
    cfg = Config(n_train=600, n_val=100, n_test=200, epochs=1, rounds=2, eval_every=3, rewind_iteration=3)
    report = lottery.reproduce(config=cfg, seed=5, out_dir=tmp_path, verbose=False)
    assert report.figures[0].read_bytes()[:4] == b"\x89PNG"
    assert [r["method"] for r in report.rows] == [DENSE, RESET, REINIT, REWIND, RESET, REINIT, REWIND]
    left = [round(r["remaining"], 2) for r in report.rows]
    # 266,200 weights; one round keeps 188,160 + 24,000 + 900 of them, two keep 150,528 + 19,200 + 810
    assert left == [100.0] + [round(100 * 213_060 / 266_200, 2)] * 3 + [round(100 * 170_538 / 266_200, 2)] * 3
    assert all(r["early_stop"] % 3 == 0 and 0 < r["early_stop"] <= 9 for r in report.rows)  # 9 steps
    assert len(report.claims) == 5


def test_an_imp_round_prunes_then_resets_to_theta_0_and_builds_both_controls():
    from minicompress import pruning
    from minicompress.models import lenet_300_100
    from minicompress.papers.frankle2019_lottery_ticket import snapshot
    ticket = lenet_300_100(rng=0)
    theta_0 = snapshot(ticket)
    theta_k = snapshot(lenet_300_100(rng=1))  # stands for the weights after k iterations
    trained = snapshot(lenet_300_100(rng=2))  # stands for the trained weights
    for name, p in ticket.named_parameters():
        p.data = trained[name].copy()
    reinit, rewound = lottery.imp_round(ticket, theta_0, theta_k, CFG, np.random.default_rng(3))
    for name, p in ticket.named_parameters():
        np.testing.assert_array_equal(p.data, theta_0[name])
    for w, trained_w in zip(pruning.weights(ticket), (trained["1.weight"], trained["3.weight"], trained["5.weight"])):
        np.testing.assert_array_equal(w.mask, pruning.compute_mask(np.abs(trained_w), 0.2 if w.shape[0] > 10 else 0.1))
    for name, p in rewound.named_parameters():
        np.testing.assert_array_equal(p.data, theta_k[name])
    for control in (reinit, rewound):
        for w, t in zip(pruning.weights(control), pruning.weights(ticket)):
            np.testing.assert_array_equal(w.mask, t.mask)
    assert not np.array_equal(dict(reinit.named_parameters())["1.weight"].data, theta_0["1.weight"])
    assert lottery.imp_round(ticket, theta_0, theta_k, CFG, np.random.default_rng(3), controls=False) == (None, None)


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1])
def test_quick_run_headline_claims_hold(seed, tmp_path):
    report = lottery.reproduce(quick=True, seed=seed, out_dir=tmp_path, verbose=False)
    assert report.rows[0]["accuracy"] > 85  # the dense network on 5,000 synthetic digits: about 89%
    for claim in report.claims:
        if claim.headline:
            assert claim.holds, claim.measured
