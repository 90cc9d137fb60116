"""The list of datasets: names, what each one is, and for the downloaded ones their files.

File sizes and MD5 checksums are the ones the dataset authors publish. ``content_md5`` is the
MD5 of a file's decompressed content, which also identifies a re-gzipped or gunzipped copy.
Mirrors are base URLs tried in order; the file name is appended to each.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RemoteFile:
    """One published file: its name, size in bytes and checksums."""

    name: str
    size: int
    md5: str
    content_md5: str | None = None


@dataclass(frozen=True)
class RemoteDataset:
    """A dataset that is downloaded (or placed by hand) into ``<data folder>/<name>/``."""

    name: str
    title: str
    mirrors: tuple[str, ...]
    train_files: tuple[RemoteFile, ...]
    test_files: tuple[RemoteFile, ...]
    classes: tuple[str, ...]

    def files(self, split: str) -> tuple[RemoteFile, ...]:
        """The files that ``split`` ("train" or "test") is read from."""
        return {"train": self.train_files, "test": self.test_files}[split]

    def all_files(self) -> tuple[RemoteFile, ...]:
        """Every file of the dataset, each once, in a fixed order."""
        return tuple(dict.fromkeys(self.train_files + self.test_files))


MNIST = RemoteDataset(
    name="mnist",
    title="MNIST",
    mirrors=(
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
    ),
    train_files=(
        RemoteFile("train-images-idx3-ubyte.gz", 9912422,
                   "f68b3c2dcbeaaa9fbdd348bbdeb94873", "6bbc9ace898e44ae57da46a324031adb"),
        RemoteFile("train-labels-idx1-ubyte.gz", 28881,
                   "d53e105ee54ea40749a09fcbcd1e9432", "a25bea736e30d166cdddb491f175f624"),
    ),
    test_files=(
        RemoteFile("t10k-images-idx3-ubyte.gz", 1648877,
                   "9fb629c4189551a2d022fa330f9573f3", "2646ac647ad5339dbf082846283269ea"),
        RemoteFile("t10k-labels-idx1-ubyte.gz", 4542,
                   "ec29112dd5afa0611ce80d1b7f02629c", "27ae3e4e09519cfbb04c329615203637"),
    ),
    classes=tuple("0123456789"),
)

FASHION_MNIST = RemoteDataset(
    name="fashion_mnist",
    title="Fashion-MNIST",
    mirrors=(
        "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
    ),
    train_files=(
        RemoteFile("train-images-idx3-ubyte.gz", 26421880,
                   "8d4fb7e6c68d591d4c3dfef9ec88bf0d", "f4a8712d7a061bf5bd6d2ca38dc4d50a"),
        RemoteFile("train-labels-idx1-ubyte.gz", 29515,
                   "25c81989df183df01b3e8a0aad5dffbe", "9018921c3c673c538a1fc5bad174d6f9"),
    ),
    test_files=(
        RemoteFile("t10k-images-idx3-ubyte.gz", 4422102,
                   "bef4ecab320f06d8554ea6380940ec79", "8181f5470baa50b63fa0f6fddb340f0a"),
        RemoteFile("t10k-labels-idx1-ubyte.gz", 5148,
                   "bb300cfdad3c16e7a12a480ee83cd310", "15d484375f8d13e6eb1aabb0c3f46965"),
    ),
    classes=("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
             "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"),
)

# The *binary* version (records of 1 label byte + 3072 pixel bytes); the python version is a
# pickle, and unpickling runs code, so it is never used.
_CIFAR10_TARBALL = RemoteFile("cifar-10-binary.tar.gz", 170052171,
                              "c32a1d4ab5d03f1284b67883e8d87530")
CIFAR10 = RemoteDataset(
    name="cifar10",
    title="CIFAR-10 (binary version)",
    mirrors=("https://www.cs.toronto.edu/~kriz/",),
    train_files=(_CIFAR10_TARBALL,),
    test_files=(_CIFAR10_TARBALL,),
    classes=("airplane", "automobile", "bird", "cat", "deer",
             "dog", "frog", "horse", "ship", "truck"),
)

REMOTE = {d.name: d for d in (MNIST, FASHION_MNIST, CIFAR10)}

# One line per dataset, in the order ``minicompress data list`` shows them.
SUMMARIES = {
    "synth_digits": "60,000 + 10,000 grey 28x28 digits rendered from matplotlib's fonts "
                    "(generated offline, cached)",
    "mnist": "60,000 + 10,000 grey 28x28 handwritten digits (download, 12 MB)",
    "fashion_mnist": "60,000 + 10,000 grey 28x28 clothing images, 10 classes (download, 31 MB)",
    "cifar10": "50,000 + 10,000 colour 32x32 images, 10 classes (download, 170 MB)",
    "rule_plus_exception": "16 patterns of 4 bits, y = AB or not(A or B or C or D) "
                           "(Mozer & Smolensky 1989)",
    "multiplexer": "64 patterns of 6 bits, y = data bit chosen by 2 address bits "
                   "(Mozer & Smolensky 1989)",
    "karnin_2d": "points in the unit square, class 1 inside a diagonal band "
                 "(a 2-D task for Karnin 1990; generated, 200 + 1,000)",
}
NAMES = tuple(SUMMARIES)
