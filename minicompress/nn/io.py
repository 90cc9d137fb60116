"""Saving and loading models as ``.npz`` files: no pickle, atomic writes, clear errors.

A file holds one array per parameter (named as in ``state_dict``: ``"0.weight"``,
``"0.weight_mask"``) and ``"__meta__"``, a JSON string with the format version and, for
models built from the engine's layers, the architecture, so ``load(path)`` can rebuild them.
Models with layers of their own (paper files) are loaded into an instance the caller builds:
``load(path, model)``.
"""
from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np

from minicompress.files import atomic_write
from minicompress.nn.activations import ReLU, ScaledTanh, Sigmoid, Tanh
from minicompress.nn.conv import Conv2d
from minicompress.nn.linear import Linear
from minicompress.nn.module import Module
from minicompress.nn.sequential import Sequential
from minicompress.nn.pool import AvgPool2d, MaxPool2d
from minicompress.nn.shape import Flatten

FORMAT, VERSION = "minicompress-model", 1
LAYERS = {cls.__name__: cls for cls in (Linear, Conv2d, MaxPool2d, AvgPool2d, Flatten, ReLU,
                                        Tanh, Sigmoid, ScaledTanh)}


def architecture(model: Module) -> dict | None:
    """JSON-able description of a model made of engine layers, or None if it has others."""
    if isinstance(model, Sequential):
        layers = [architecture(layer) for layer in model]
        return None if None in layers else {"type": "Sequential", "layers": layers}
    if type(model).__name__ in LAYERS and type(model) is LAYERS[type(model).__name__]:
        return {"type": type(model).__name__, **model.config()}
    return None


def build(spec: dict) -> Module:
    """Inverse of :func:`architecture` (fresh weights, to be overwritten by a state dict)."""
    spec = dict(spec)
    kind = spec.pop("type")
    if kind == "Sequential":
        return Sequential(*(build(layer) for layer in spec["layers"]))
    cls = LAYERS[kind]
    if cls in (Linear, Conv2d):
        spec["rng"] = 0
    return cls(**spec)


def save(model: Module, path) -> Path:
    """Write ``model``'s parameters (and masks, and architecture) to ``path`` atomically."""
    if not isinstance(model, Module):
        raise TypeError(f"save: expected a Module, got {type(model).__name__}")
    state = model.state_dict()
    meta = {"format": FORMAT, "version": VERSION, "architecture": architecture(model),
            "keys": sorted(state)}
    path = Path(path)
    with atomic_write(path) as f:
        np.savez(f, __meta__=np.array(json.dumps(meta)), **state)
    return path


def load(path, model: Module | None = None) -> Module:
    """Read a file written by :func:`save`.

    Parameters
    ----------
    path : str or Path
    model : Module, optional
        Load into this model (names and shapes must match). Without it, the model is rebuilt
        from the architecture stored in the file.

    Raises
    ------
    FileNotFoundError, ValueError
        Missing file; a file of another kind (named in the message: a pickle, a lone .npy
        array, text, a foreign archive; pickles are never loaded); corrupt or truncated files;
        names, shapes or values (NaN, inf) that do not fit.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"load: no model file at {path}")
    expected = "a minicompress model file (the .npz archive nn.save writes)"
    kind = file_kind(path)
    if kind != "a zip archive":
        raise ValueError(f"load: {path} is {kind}, not {expected}")
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {key: archive[key] for key in archive.files}  # reads (and CRC-checks) all
    except ValueError as err:
        if "pickle" in str(err) or "Object arrays" in str(err):
            raise ValueError(f"load: {path} holds Python objects (pickled arrays), which "
                             f"minicompress never loads; expected {expected}") from None
        raise ValueError(f"load: {path} is not a readable .npz file (corrupt or truncated?): {err}") from err
    except (OSError, EOFError, zipfile.BadZipFile) as err:
        raise ValueError(f"load: {path} is not a readable .npz file (corrupt or truncated?): {err}") from err
    meta = _read_meta(arrays.pop("__meta__", None))
    if meta is None:
        raise ValueError(f"load: {path} is a zip archive without a valid minicompress __meta__ "
                         f"entry (it holds {sorted(arrays)[:5]}); expected {expected}")
    if meta["version"] > VERSION:
        raise ValueError(f"load: {path} has format version {meta['version']}; this minicompress "
                         f"reads up to version {VERSION}: upgrade minicompress")
    if sorted(arrays) != sorted(meta["keys"]):
        raise ValueError(f"load: {path} is incomplete: it lists {meta['keys']} but holds {sorted(arrays)}")
    if model is None:
        if meta["architecture"] is None:
            raise ValueError(f"load: {path} holds a model with layers outside the engine; build "
                             f"the model yourself and pass it: load(path, model)")
        try:
            model = build(meta["architecture"])
        except (KeyError, TypeError, ValueError) as err:
            raise ValueError(f"load: {path} describes an architecture this minicompress cannot "
                             f"build ({type(err).__name__}: {err})") from None
    elif not isinstance(model, Module):
        raise TypeError(f"load: model must be a Module, got {type(model).__name__}")
    try:
        model.load_state_dict(arrays)
    except ValueError as err:
        raise ValueError(f"load: {path} does not fit the model: {err}") from None
    return model


def file_kind(path: Path) -> str:
    """What a file is, from its first bytes (for messages): "a zip archive" (.npz), "a single
    NumPy array (.npy)", "a Python pickle", "an empty file", "a text file" or "a binary file"."""
    with open(path, "rb") as f:
        head = f.read(512)
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return "a zip archive"
    if head.startswith(b"\x93NUMPY"):
        return "a single NumPy array (.npy)"
    if head[:1] == b"\x80":  # the PROTO opcode that starts every pickle of protocol 2 or later
        return "a Python pickle"
    if not head:
        return "an empty file"
    try:
        head.decode("utf-8")
        return "a text file"
    except UnicodeDecodeError:
        return "a binary file of an unknown kind"


def _read_meta(meta) -> dict | None:
    """The parsed ``__meta__`` entry, or None unless it is a valid minicompress header."""
    try:
        meta = json.loads(str(meta))
    except (TypeError, ValueError):
        return None
    ok = (isinstance(meta, dict) and meta.get("format") == FORMAT
          and isinstance(meta.get("version"), int) and not isinstance(meta.get("version"), bool)
          and isinstance(meta.get("keys"), list) and all(isinstance(k, str) for k in meta["keys"])
          and (meta.get("architecture") is None or isinstance(meta.get("architecture"), dict)))
    return meta if ok else None
