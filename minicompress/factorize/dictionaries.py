"""Fixed dictionaries for a factorized layer W = V Uᵀ whose U is not learned: the pieces that
know nothing of any one paper.

Index conventions: i input feature (a pixel), k atom (a column of U), G column group; α a set of
k distinct inputs. A dictionary is an array U (G, i, k), one (i, k) matrix per group, as
:class:`minicompress.factorize.FactorizedLinear` takes it.

``pixel_coordinates``  the (row, column) of every pixel, for kernels on an image's grid
``random_indices``     α: k distinct inputs drawn at random (``check_indices`` validates one)
``gaussian_atoms``     U with i.i.d. N(0, 1/i) entries: random atoms of norm ≈ 1
``identity_atoms``     U = the columns α of the identity: a weight is zero outside α (random
                       connectivity), each atom of norm 1

Kernel-based dictionaries (Denil et al. 2013) are in :mod:`minicompress.papers.denil2013_predicting_parameters`.
"""
from __future__ import annotations

import numpy as np

from minicompress.rng import as_rng


def pixel_coordinates(image_shape=(28, 28)) -> np.ndarray:
    """(h·w, 2) float (row, column) of each pixel, in the C order that Flatten uses."""
    return np.indices(image_shape).reshape(len(image_shape), -1).T.astype(np.float64)


def check_indices(alpha, n_inputs: int) -> np.ndarray:
    """``alpha`` as an array if it holds distinct int indices in [0, n_inputs), else a ValueError."""
    alpha = np.asarray(alpha)
    if (alpha.ndim != 1 or alpha.size == 0 or not np.issubdtype(alpha.dtype, np.integer)
            or alpha.min() < 0 or alpha.max() >= n_inputs or len(np.unique(alpha)) != alpha.size):
        raise ValueError(f"alpha: expected distinct int indices in [0, {n_inputs}), got {alpha!r}")
    return alpha


def random_indices(n_inputs: int, n_atoms: int, rng) -> np.ndarray:
    """α: ``n_atoms`` distinct inputs drawn uniformly at random, sorted."""
    if not 1 <= n_atoms <= n_inputs:
        raise ValueError(f"n_atoms: expected an int in [1, {n_inputs}], got {n_atoms!r}")
    return np.sort(as_rng(rng).choice(n_inputs, n_atoms, replace=False))


def gaussian_atoms(n_inputs: int, n_atoms: int, n_groups: int = 1, rng=None) -> np.ndarray:
    """U (G, i, k) with i.i.d. N(0, 1/i) entries: each atom has expected squared norm 1."""
    return as_rng(rng).standard_normal((n_groups, n_inputs, n_atoms)) / np.sqrt(n_inputs)


def identity_atoms(alphas, n_inputs: int) -> np.ndarray:
    """U (G, i, k) with U[g] = the columns alphas[g] of the i × i identity (alphas (G, k))."""
    alphas = np.atleast_2d(alphas)
    return np.stack([np.eye(n_inputs)[:, check_indices(a, n_inputs)] for a in alphas])
