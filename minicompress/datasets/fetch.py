"""Find a downloaded dataset's files on disk, check them, and download the missing ones.

Where files are looked for, in order, for each published file ``NAME.gz``:

1. ``<data folder>/<dataset>/NAME.gz``, then ``.../NAME`` (a copy gunzipped by hand);
2. the same two names directly in ``<data folder>`` (so ``data_dir`` may also point straight
   at a folder that holds the files).

A file found there is used as it is, never downloaded again. With ``verify=True`` (the default)
it must match the published MD5 or the MD5 of the published file's decompressed content; a
mismatch is an error that says what was expected and how to go on. ``verify=False`` reads local
files whatever their checksum: use it for a local copy whose provenance you know (such as a
reconstructed training set), and say so when you report results. Downloads are always verified.
A missing file is downloaded into ``<data folder>/<dataset>/``; if that fails (no network), the
error lists each file to place and the exact folder.
"""
from __future__ import annotations

from pathlib import Path

from minicompress.datasets import checksums
from minicompress.datasets.cache import data_folder
from minicompress.datasets.download import DownloadError, download as download_file


def dataset_folder(dataset, data_dir=None) -> Path:
    """The folder that downloads of ``dataset`` (a ``RemoteDataset``) go to."""
    return data_folder(data_dir) / dataset.name


def find_local(remote_file, folders):
    """First existing copy of ``remote_file`` (gzip or gunzipped) in ``folders``, else None."""
    names = (remote_file.name, remote_file.name.removesuffix(".gz"))
    for folder in folders:
        for name in dict.fromkeys(names):
            if (folder / name).is_file():
                return folder / name
    return None


def ensure_files(dataset, split=None, *, data_dir=None, download=True, verify=True,
                 mirrors=None, progress=True) -> list[Path]:
    """Return the local paths of the files ``split`` needs, downloading what is missing.

    Parameters
    ----------
    dataset : RemoteDataset
        From :mod:`minicompress.datasets.registry`.
    split : {"train", "test"} or None
        None means every file of the dataset.
    data_dir : str, os.PathLike or None
        The data folder (see :func:`minicompress.datasets.cache.data_folder`).
    download : bool
        Try the mirrors for missing files. False only looks on disk.
    verify : bool
        Check the MD5 of files found on disk. Downloads are always checked.
    mirrors : sequence of str, optional
        Base URLs to use instead of the dataset's own (tests point this at a local server).
    progress : bool
        Show download progress on stderr.

    Returns
    -------
    list of Path
        One path per file, in the order of ``dataset.files(split)``.

    Raises
    ------
    ValueError
        If a file on disk fails verification.
    FileNotFoundError
        If files are missing and could not be downloaded; the message names them and the folder.
    """
    folder = dataset_folder(dataset, data_dir)
    wanted = dataset.all_files() if split is None else dataset.files(split)
    bases = dataset.mirrors if mirrors is None else tuple(mirrors)
    paths, missing, failures = [], [], []
    for remote in wanted:
        path = find_local(remote, (folder, data_folder(data_dir)))
        if path is not None:
            if verify:
                _check(path, remote, dataset)
        elif download and not failures:  # after one failure (no network?) stop trying
            urls = [base.rstrip("/") + "/" + remote.name for base in bases]
            try:
                path = download_file(urls, folder / remote.name, md5=remote.md5,
                                     progress=progress)
            except DownloadError as err:
                failures.append(str(err))
        if path is None:
            missing.append(remote)
        paths.append(path)
    if missing:
        raise FileNotFoundError(_placement_message(dataset, missing, folder, bases, failures))
    return paths


def _check(path, remote, dataset) -> None:
    """Raise ValueError unless ``path`` matches the published checksums of ``remote``."""
    if checksums.matches(path, remote.md5, remote.content_md5):
        return
    try:
        found = f"content MD5 {checksums.content_md5(path)}"
    except ValueError as err:
        found = str(err)
    expected = f"MD5 {remote.md5} (the published file)"
    if remote.content_md5:
        expected += f" or content MD5 {remote.content_md5} (its decompressed content)"
    raise ValueError(
        f"{path} is not the published {dataset.title} file {remote.name}: "
        f"file MD5 {checksums.file_md5(path)}, {found}; expected {expected}. It may be "
        "corrupt, incomplete, another version or another dataset. Delete it to download it "
        "again, or pass verify=False to read it anyway (then do not report the results as "
        f"{dataset.title} without saying where the file came from)."
    )


def _placement_message(dataset, missing, folder, bases, failures) -> str:
    files = "\n".join(f"  {f.name}  ({f.size:,} bytes, MD5 {f.md5})" for f in missing)
    message = (
        f"{dataset.title}: {len(missing)} file(s) not found in {folder} and not downloaded.\n"
        f"Place these files, as published, in {folder}:\n{files}\n"
        f"They are published at {', '.join(bases)}. Or pass data_dir= (or set "
        f"MINICOMPRESS_DATA) to a folder that holds them."
    )
    if failures:
        message += "\nDownload errors:\n" + "\n".join(f"  {f}" for f in failures)
    return message
