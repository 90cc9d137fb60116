"""Factorization machinery, the survey's third family: a layer whose weight is a product
(W = V Uᵀ), the truncated SVD (and a layer made from it), and fixed dictionaries U.

>>> from minicompress.factorize import FactorizedLinear, truncated_svd   # doctest: +SKIP
"""
from minicompress.factorize.dictionaries import (check_indices, gaussian_atoms, identity_atoms,
                                                 pixel_coordinates, random_indices)
from minicompress.factorize.linear import FactorizedLinear
from minicompress.factorize.svd import relative_error, svd_layer, truncated_svd

__all__ = ["FactorizedLinear", "truncated_svd", "relative_error", "svd_layer", "pixel_coordinates",
           "check_indices", "random_indices", "gaussian_atoms", "identity_atoms"]
