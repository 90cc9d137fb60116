"""The command line: help, list, demo and bench run and say what they should."""
import numpy as np
import pytest

from minicompress.cli import METHODS, main


def test_help(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert "list" in out and "demo" in out and "bench" in out


def test_list_names_every_method(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    for name, section, paper, module in METHODS:
        assert name in out and module in out


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


def test_reproduce_all_writes_a_summary_and_results_json(tmp_path, monkeypatch, capsys):
    import json

    from minicompress import cli
    from minicompress.report import Report

    def fake_run(name, module, args, out_dir):
        return Report(f"{name} report", rows=[dict(method="x", accuracy=np.float64(0.5))],
                      notes=[f"{name}: claim held"]), 1.0
    monkeypatch.setattr(cli, "run_one", fake_run)
    assert main(["reproduce", "all", "--quick", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "obd: claim held" in out and "magnitude: claim held" in out
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["obd"]["rows"][0]["accuracy"] == 0.5 and "section" in results["obd"]
