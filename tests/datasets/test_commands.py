"""``minicompress data list | fetch | show`` through the real argparse wiring."""
import argparse
import gzip

import pytest

from minicompress.datasets import commands


def run(*argv):
    parser = argparse.ArgumentParser(prog="minicompress")
    commands.add_parser(parser.add_subparsers())
    args = parser.parse_args(list(argv))
    return args.func(args)


def test_list_shows_every_dataset_and_where_it_lives(tmp_path, capsys):
    assert run("data", "list", "--data-dir", str(tmp_path)) == 0
    out = capsys.readouterr().out
    for name in ("synth_digits", "mnist", "fashion_mnist", "cifar10", "rule_plus_exception",
                 "multiplexer", "karnin_2d"):
        assert f"\n{name} " in out
    assert f"not downloaded in {tmp_path / 'mnist'}" in out
    assert "not generated yet" in out


def test_list_sees_the_shared_mnist_test_set(shared_data, capsys):
    assert run("data", "list", "--data-dir", str(shared_data)) == 0
    assert f"test present in {shared_data / 'mnist'}" in capsys.readouterr().out


@pytest.mark.parametrize("name", ["synth_digits", "karnin_2d", "multiplexer",
                                  "rule_plus_exception"])
def test_show_writes_a_picture(tmp_path, capsys, name):
    out = tmp_path / f"{name}.png"
    assert run("data", "show", name, "--out", str(out), "--data-dir", str(tmp_path)) == 0
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert capsys.readouterr().out.strip() == str(out)


def test_show_real_mnist(shared_data, tmp_path):
    out = tmp_path / "mnist.png"
    assert run("data", "show", "mnist", "--split", "test", "--out", str(out),
               "--data-dir", str(shared_data / "mnist")) == 0
    assert out.stat().st_size > 10_000


def test_fetch_generated_datasets(tmp_path, capsys):
    assert run("data", "fetch", "karnin_2d", "--data-dir", str(tmp_path)) == 0
    assert "nothing to fetch" in capsys.readouterr().out


def test_fetch_with_a_bad_local_file_fails_with_exit_code_1(tmp_path, capsys):
    folder = tmp_path / "mnist"
    folder.mkdir()
    for name in ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
                 "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        (folder / name).write_bytes(gzip.compress(b"not mnist"))
    assert run("data", "fetch", "mnist", "--data-dir", str(tmp_path), "--quiet") == 1
    err = capsys.readouterr().err
    assert err.startswith("minicompress data fetch: error: ") and "verify=False" in err


def test_unknown_name_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as caught:
        run("data", "show", "mnsit", "--out", "x.png")
    assert caught.value.code == 2
    assert "invalid choice: 'mnsit'" in capsys.readouterr().err
