"""Report and Claim: strict JSON, claims merged over seeds, the scorecard and the survey table."""
import json

import numpy as np
import pytest

from minicompress.report import Claim, Report, merge_claims, scorecard, strict, survey_table


def claim(holds, seeds=None, measured="1.0", headline=True, key="p.x"):
    return Claim(key, "x is below y", headline, holds, measured=measured, paper="Fig. 1", seeds=seeds)


def test_strict_turns_numpy_and_non_finite_values_into_plain_json():
    value = dict(a=np.float32(0.5), b=np.nan, c=[np.inf, -np.inf, 1], d=np.arange(3), e=(np.int64(2),),
                 f=np.bool_(True), g=float("nan"))
    out = strict(value)
    assert out == dict(a=0.5, b=None, c=[None, None, 1], d=[0, 1, 2], e=[2], f=True, g=None)
    json.dumps(out, allow_nan=False)


def test_to_dict_is_strict_json_and_keeps_the_claims():
    report = Report("t", rows=[dict(v=np.nan, w=np.float64(2))], claims=[claim(True), claim(False, key="p.y")],
                    notes=["n"], data="synth_digits")
    d = json.loads(json.dumps(report.to_dict(), allow_nan=False), parse_constant=lambda c: 1 / 0)
    assert d["rows"] == [dict(v=None, w=2.0)] and d["data"] == "synth_digits"
    assert [c["holds"] for c in d["claims"]] == [True, False]
    assert [c["seeds"] for c in d["claims"]] == [[1, 1], [0, 1]]
    assert Claim.from_dict(d["claims"][1]) == claim(False, key="p.y")


def test_claim_seeds_and_status():
    assert claim(True).seeds == (1, 1) and claim(False).seeds == (0, 1)
    assert claim(True, seeds=3).seeds == (3, 3) and claim(False, seeds=3).seeds == (0, 3)
    assert claim(False, seeds=(2, 3)).status() == "2 of 3 seeds"
    assert claim(True, seeds=(3, 3)).status() == "holds (3/3 seeds)"
    assert claim(False).status() == "does not hold"
    for bad in [(4, 3), (-1, 2)]:
        with pytest.raises(ValueError, match="seeds"):
            claim(True, seeds=bad)
    with pytest.raises(ValueError, match="key"):
        Claim("", "t", True, True)


def test_merge_adds_up_seeds_and_holds_only_if_every_run_held():
    runs = [[claim(True, measured="1"), claim(True, key="p.y", headline=False)],
            [claim(False, measured="2"), claim(True, key="p.y", headline=False)],
            [claim(True, measured="1")]]
    merged = merge_claims(runs)
    assert [c.key for c in merged] == ["p.x", "p.y"]
    assert merged[0].seeds == (2, 3) and not merged[0].holds and merged[0].measured == "1 | 2"
    assert merged[1].seeds == (2, 2) and merged[1].holds and merged[1].measured == "1.0"


def results(error=None):
    paper = dict(section="Pruning", paper="A & B 1990", title="t", data="synth_digits", error=error, seeds=[0],
                 claims=[claim(True).to_dict(), claim(False, key="p.y", headline=False).to_dict()])
    return dict(command="minicompress reproduce all --quick", seeds=[0], data="", papers=dict(ab=paper))


def test_scorecard_lists_headline_claims_and_counts_the_others():
    text = scorecard(results())
    assert "x is below y" in text and "holds" in text
    assert "1 of 1 headline claims hold; other claims (our contrasts): 0 of 1 hold." in text
    assert max(len(line) for line in text.splitlines()[1:]) <= 118
    assert "ERROR boom" in scorecard(results(error="boom"))


def test_survey_table_has_one_row_per_headline_claim():
    table = survey_table(results())
    rows = [line for line in table.splitlines() if line.startswith("| Pruning")]
    assert rows == ["| Pruning | A & B 1990 | `ab` | synth_digits, 0 | x is below y | 1.0 | 1/1 |"]


def test_survey_table_shows_the_first_seeds_measurement_and_the_seed_count():
    merged = merge_claims([[claim(True, measured="0.5")], [claim(False, measured="0.9")], [claim(True, measured="0.6")]])
    r = results()
    r["papers"]["ab"]["claims"] = [c.to_dict() for c in merged + [claim(True, headline=False, key="p.z")]]
    r["papers"]["ab"]["seeds"] = [0, 1, 2]
    rows = [line for line in survey_table(r).splitlines()[2:]]
    assert rows == ["| Pruning | A & B 1990 | `ab` | synth_digits, 0-2 | x is below y | 0.5 | 2/3 |"]


def test_markdown_report_holds_claims_notes_and_rows():
    text = Report("T", rows=[dict(a=1.23456, b="x|y")], notes=["note"], claims=[claim(True)]).markdown()
    assert text.startswith("# T") and "| x is below y | yes | holds | 1.0 | Fig. 1 |" in text
    assert "- note" in text and "| 1.235 | x\\|y |" in text


def test_merge_results_keeps_each_papers_command_and_refuses_duplicates():
    from minicompress.report import merge_results
    a, b = results(), results()
    b["papers"] = dict(cd=b["papers"]["ab"])
    b["command"] = "minicompress reproduce cd"
    merged = merge_results([a, b])
    assert list(merged["papers"]) == ["ab", "cd"]
    assert merged["papers"]["cd"]["command"] == "minicompress reproduce cd"
    with pytest.raises(ValueError, match="more than one"):
        merge_results([a, a])
