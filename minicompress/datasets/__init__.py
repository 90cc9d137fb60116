"""Datasets: one function, :func:`load`, for every dataset minicompress uses.

======================  ============================================================
name                    what ``load`` returns
======================  ============================================================
"synth_digits"          generated offline from matplotlib's fonts (the default);
                        x float32 (n, 1, 28, 28) in [0, 1], y int64 (n,); 60,000 / 10,000
"mnist"                 MNIST, downloaded or placed by hand; same shapes; 60,000 / 10,000
"fashion_mnist"         Fashion-MNIST; same shapes; 60,000 / 10,000
"cifar10"               CIFAR-10, binary version; x float32 (n, 3, 32, 32); 50,000 / 10,000
"rule_plus_exception"   16 patterns: x float32 (16, 4) of 0/1, y int64 (16,) of 0/1
"multiplexer"           64 patterns: x float32 (64, 6) of 0/1, y int64 (64,) of 0/1
"karnin_2d"             points in the unit square: x float32 (n, 2), y int64 (n,) of 0/1;
                        200 / 1,000
======================  ============================================================

Files live in the data folder: ``data_dir``, else ``$MINICOMPRESS_DATA``, else ``./data``.
``data/README.md`` in the repository says where each dataset comes from, its licence, sizes and
checksums. Nothing is read, generated or downloaded at import time.
"""
from __future__ import annotations

import numbers

from minicompress.datasets import registry, toy
from minicompress.datasets.cache import data_folder
from minicompress.datasets.cifar10 import load_cifar10
from minicompress.datasets.mnist import load_idx_dataset
from minicompress.datasets.splits import SPLITS, check_split, split_rng, train_test_split

NAMES = registry.NAMES
KARNIN_2D_SIZES = {"train": 200, "test": 1000}

__all__ = ["NAMES", "SPLITS", "data_folder", "load", "load_train_test", "train_test_split"]
MNIST_TEST_SPLIT = "mnist_test_split"  # the real MNIST test set, split in two (see below)


def load(name, split="train", *, data_dir=None, seed=0, n=None, download=True, verify=True,
         mirrors=None, progress=True):
    """Load one split of a dataset as NumPy arrays ``(x, y)``.

    Parameters
    ----------
    name : str
        One of ``NAMES`` (see the table in this module's docstring).
    split : {"train", "test"}
        For generated datasets the two splits come from independent random streams. For the
        Boolean tasks both splits are the full truth table (the papers train and test on it).
    data_dir : str, os.PathLike or None
        The data folder. Downloads go to ``<data_dir>/<name>/``; files are also found directly
        in ``data_dir``, so it may point straight at a folder that holds a dataset's files.
    seed : int
        For generated datasets ("synth_digits", "karnin_2d"): same seed, same bytes. Ignored by
        the others, whose content is fixed.
    n : int, optional
        Number of examples. Generated datasets generate that many (default: the sizes in the
        table); real datasets return the first ``n`` of the split (in file order, so not
        exactly balanced: use :func:`train_test_split` for a stratified subset). Not accepted
        by the Boolean tasks.
    download : bool
        Real datasets: download missing files. False only looks on disk.
    verify : bool
        Real datasets: check the MD5 of files found on disk (default). False reads them
        whatever their checksum, for local copies of known provenance (for example the
        reconstructed MNIST training set); downloads are always checked.
    mirrors : sequence of str, optional
        Real datasets: base URLs to download from instead of the published ones.
    progress : bool
        Real datasets: show download progress on stderr.

    Returns
    -------
    x : np.ndarray, float32
        Images (n, c, h, w) in [0, 1], or Boolean / 2-D inputs (n, n_inputs).
    y : np.ndarray, int64, (n,)
        Class indices.

    Raises
    ------
    ValueError
        Unknown name or split, bad ``n``, or a local file that fails verification.
    FileNotFoundError
        A real dataset's files are missing and could not be downloaded; the message says which
        files to place in which folder.
    """
    if name not in NAMES:
        raise ValueError(f"unknown dataset {name!r}; expected one of: {', '.join(NAMES)}")
    check_split(split)
    if n is not None:
        _check_n(n)
    if name == "synth_digits":
        # Imported here: it needs matplotlib and scipy, which take a third of a second to
        # import, and the other datasets need neither.
        from minicompress.datasets.synth_digits import load_synth_digits

        return load_synth_digits(split, n, seed=seed, data_dir=data_dir)
    if name == "karnin_2d":
        return toy.karnin_2d(n or KARNIN_2D_SIZES[split], split_rng(seed, split))
    if name == "rule_plus_exception":
        return _whole_table(toy.rule_plus_exception, n)
    if name == "multiplexer":
        return _whole_table(toy.multiplexer, n)

    where = dict(data_dir=data_dir, download=download, verify=verify, mirrors=mirrors,
                 progress=progress)
    if name == "cifar10":
        x, y = load_cifar10(split, **where)
    else:
        x, y = load_idx_dataset(registry.REMOTE[name], split, **where)
    if n is None:
        return x, y
    if n > len(y):
        raise ValueError(f"n: {n} requested, but the {name} {split} split has {len(y)} examples")
    return x[:n].copy(), y[:n].copy()


def load_train_test(name="synth_digits", *, n_train=None, n_test=None, seed=0, data_dir=None,
                    verify=True):
    """Training and test data for an experiment: ``((x, y), (x_test, y_test))``.

    Parameters
    ----------
    name : str
        An image dataset of :func:`load` ("synth_digits", "mnist", "fashion_mnist", "cifar10"),
        or "mnist_test_split": the real MNIST *test* set (10,000 images; the only MNIST files on
        a machine that has just those) split, stratified and seeded, into 8,000 training and
        2,000 test images. Report results on it as such.
    n_train, n_test : int, optional
        Fewer examples (generated data: generate that many; real data: the first ones).
    seed : int
        Generation seed of synthetic digits, or the seed of the split.
    data_dir, verify
        As for :func:`load`.
    """
    if name == MNIST_TEST_SPLIT:
        x, y = load("mnist", "test", data_dir=data_dir, verify=verify)
        (x, y), (x_test, y_test) = train_test_split(x, y, test_size=2_000, rng=seed)
        for what, n, available in (("n_train", n_train, len(y)), ("n_test", n_test, len(y_test))):
            if n is not None:
                _check_n(n, what)
                if n > available:
                    raise ValueError(f"{what}: {n} requested, but {MNIST_TEST_SPLIT} has "
                                     f"{available} examples in that part")
        return (x[:n_train], y[:n_train]), (x_test[:n_test], y_test[:n_test])
    if name not in ("synth_digits", "mnist", "fashion_mnist", "cifar10"):
        raise ValueError(f"unknown image dataset {name!r}; expected synth_digits, mnist, "
                         f"fashion_mnist, cifar10 or {MNIST_TEST_SPLIT}")
    common = dict(seed=seed, data_dir=data_dir, verify=verify)
    return load(name, "train", n=n_train, **common), load(name, "test", n=n_test, **common)


def _whole_table(make, n):
    if n is not None:
        raise ValueError(f"n: {make.__name__} is a fixed truth table and takes no n (got {n!r})")
    return make()


def _check_n(n, what: str = "n") -> None:
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 1:
        raise ValueError(f"{what}: expected a positive int number of examples, got {n!r}")
