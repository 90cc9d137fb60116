"""Factorization machinery, the survey's third family: a layer whose weight is a product
(W = V Uᵀ), the truncated SVD, and the dictionaries of Denil et al. (2013).

>>> from minicompress.factorize import FactorizedLinear, truncated_svd   # doctest: +SKIP
"""
from minicompress.factorize.linear import FactorizedLinear
from minicompress.factorize.svd import relative_error, truncated_svd

__all__ = ["FactorizedLinear", "truncated_svd", "relative_error"]
