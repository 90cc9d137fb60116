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
        Missing file; corrupt, truncated or foreign file; names or shapes that do not match.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"load: no model file at {path}")
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {key: archive[key] for key in archive.files}  # reads (and CRC-checks) all
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as err:
        raise ValueError(f"load: {path} is not a readable .npz file (corrupt or truncated?): {err}") from err
    try:
        meta = json.loads(str(arrays.pop("__meta__")))
        assert meta["format"] == FORMAT
    except (KeyError, ValueError, TypeError, AssertionError):
        raise ValueError(f"load: {path} is not a minicompress model file (no valid __meta__)") from None
    if meta["version"] > VERSION:
        raise ValueError(f"load: {path} has format version {meta['version']}; this minicompress "
                         f"reads up to version {VERSION}: upgrade minicompress")
    if sorted(arrays) != meta["keys"]:
        raise ValueError(f"load: {path} is incomplete: it lists {meta['keys']} but holds {sorted(arrays)}")
    if model is None:
        if meta["architecture"] is None:
            raise ValueError(f"load: {path} holds a model with layers outside the engine; build "
                             f"the model yourself and pass it: load(path, model)")
        model = build(meta["architecture"])
    try:
        model.load_state_dict(arrays)
    except ValueError as err:
        raise ValueError(f"load: {path} does not fit the given model: {err}") from None
    return model
