"""The command line: help, list, demo, bench, reproduce and results run and say what they should."""
import json

import numpy as np
import pytest

from minicompress import cli
from minicompress.cli import main, parse_seeds
from minicompress.report import Claim, Report
from minicompress.reproductions import REPRODUCTIONS


def test_help(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert "list" in out and "demo" in out and "bench" in out


def test_list_names_every_method(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    for entry in REPRODUCTIONS:
        assert entry.command in out and f"papers/{entry.module}.py" in out
        assert f"reproductions/{entry.module}.py" in out


def test_unknown_command_fails(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["frobnicate"])
    assert exit_info.value.code != 0


def test_demo_trains_saves_and_reloads(tmp_path, capsys):
    assert main(["demo", "--epochs", "2", "--n-train", "2000", "--data-dir", str(tmp_path / "data"),
                 "--out", str(tmp_path / "out")]) == 0
    out = capsys.readouterr().out
    assert "test accuracy" in out and (tmp_path / "out" / "lenet300.npz").is_file()


def test_bench_prints_ratios(capsys):
    assert main(["bench", "all", "--rounds", "1", "--steps", "2", "--no-torch"]) == 0
    out = capsys.readouterr().out
    assert "ratio" in out and "diag_ggn" in out and "LeNet-5" in out


def test_reproduce_bad_data_is_a_one_line_error(capsys):
    assert main(["reproduce", "obd", "--quick", "--data", "nonsense"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "unknown image dataset 'nonsense'" in err[0]


def fake_reproduce(fail=None):
    """A stand-in for every reproduction: one row, one headline claim that holds in even seeds,
    one contrast; ``fail`` names a paper that raises."""
    def run(entry, args, seed, out_dir, verbose):
        if entry.command == fail:
            raise ZeroDivisionError("division by zero")
        print(f"{entry.command} prints a lot", flush=True)
        claims = [Claim(f"{entry.command}.headline", f"{entry.command}'s headline", True,
                        seed % 2 == 0, measured=f"{seed}.0 points", paper="Table 1"),
                  Claim(f"{entry.command}.contrast", "a contrast", False, True, measured="x")]
        return Report(f"{entry.command} report", rows=[dict(method="x", accuracy=np.float64(0.5),
                      spread=np.nan)], notes=["data note"], claims=claims, data="synth_digits"), 1.0
    return run


def test_reproduce_all_prints_progress_and_a_scorecard_and_writes_strict_json(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(cli, "run_one", fake_reproduce())
    assert main(["reproduce", "all", "--quick", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "prints a lot" not in out  # the papers' own output goes to their logs
    assert "prints a lot" in (tmp_path / "obd" / "log.txt").read_text()
    lines = out.splitlines()
    assert sum(line.startswith("[") and "headline claims hold" in line for line in lines) == len(REPRODUCTIONS)
    assert "obd's headline" in out and "a contrast" not in out
    assert f"{len(REPRODUCTIONS)} of {len(REPRODUCTIONS)} headline claims hold" in out
    assert len(lines) < 60  # one screen
    text = (tmp_path / "results.json").read_text()
    results = json.loads(text, parse_constant=lambda c: 1 / 0)  # no bare NaN
    obd = results["papers"]["obd"]
    assert obd["rows"][0]["accuracy"] == 0.5 and obd["rows"][0]["spread"] is None
    assert obd["claims"][0]["seeds"] == [1, 1] and obd["section"] and obd["error"] is None
    assert results["seeds"] == [0] and results["minicompress"] and "command" in results
    report = (tmp_path / "obd" / "report.md").read_text()
    assert "obd's headline" in report and "a contrast" in report and "| method |" in report


def test_reproduce_all_records_a_failing_paper_runs_the_rest_and_exits_nonzero(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(cli, "run_one", fake_reproduce(fail="obd"))
    assert main(["reproduce", "all", "--quick", "--out", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "ZeroDivisionError" in out
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["papers"]["obd"]["error"].startswith("ZeroDivisionError")
    assert results["papers"]["denil"]["error"] is None  # run after the failure
    assert "Traceback" in (tmp_path / "obd" / "log.txt").read_text()


def test_seeds_merge_claims_and_count_how_many_held(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(cli, "run_one", fake_reproduce())
    assert main(["reproduce", "obd", "--seeds", "0-3", "--out", str(tmp_path)]) == 0
    results = json.loads((tmp_path / "results.json").read_text())
    claim = results["papers"]["obd"]["claims"][0]
    assert claim["seeds"] == [2, 4] and claim["holds"] is False
    assert [r["seed"] for r in results["papers"]["obd"]["rows"]] == [0, 1, 2, 3]
    assert main(["results", str(tmp_path / "results.json")]) == 0
    assert "2 of 4 seeds" in capsys.readouterr().out


def test_parse_seeds():
    assert parse_seeds(None, 3) == [3]
    assert parse_seeds("3", 5) == [5, 6, 7]
    assert parse_seeds("0-2", 0) == [0, 1, 2]
    assert parse_seeds("1,4", 0) == [1, 4]
    for bad in ("", "a", "3-1", "-1", "0-x"):
        with pytest.raises(ValueError, match="--seeds"):
            parse_seeds(bad, 0)


def test_results_prints_the_scorecard_and_the_markdown_table(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(cli, "run_one", fake_reproduce())
    assert main(["reproduce", "all", "--quick", "--out", str(tmp_path)]) == 0
    capsys.readouterr()
    assert main(["results", str(tmp_path / "results.json"), "--markdown"]) == 0
    table = capsys.readouterr().out
    assert table.count("\n| ") >= len(REPRODUCTIONS) and "| obd's headline | 0.0 points | 1/1 |" in table


def test_results_rejects_a_file_that_is_not_a_results_json(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text('{"obd": NaN}')
    assert main(["results", str(bad)]) == 1
    assert "NaN" in capsys.readouterr().err
    bad.write_text("[1, 2]")
    assert main(["results", str(bad)]) == 1
    assert "papers" in capsys.readouterr().err


def test_output_cut_short_by_a_pipe_is_not_an_error(tmp_path):
    """`minicompress results FILE | head -1`: no traceback, exit code 0."""
    import subprocess
    import sys
    from pathlib import Path
    results = Path(__file__).resolve().parents[1] / "minicompress" / "results" / "quick_synth_digits.json"
    reader = subprocess.Popen([sys.executable, "-m", "minicompress", "results", str(results)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, bufsize=1)
    reader.stdout.readline()
    reader.stdout.close()  # the reader stops, as head does
    stderr = reader.stderr.read()
    assert reader.wait(timeout=60) == 0 and "Traceback" not in stderr, stderr
