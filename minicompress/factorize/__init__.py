"""Factorization machinery, the survey's third family: a layer whose weight is a product
(W = V Uᵀ), the truncated SVD (and a layer made from it), fixed dictionaries U, and the tensor
decompositions of a convolution kernel (Tucker / HOSVD / HOOI, CP by ALS, VBMF ranks) with
``decompose`` to turn a conv into the smaller convs they stand for.

>>> from minicompress.factorize import FactorizedLinear, truncated_svd   # doctest: +SKIP
"""
from minicompress.factorize.dictionaries import (check_indices, gaussian_atoms, identity_atoms,
                                                 pixel_coordinates, random_indices)
from minicompress.factorize.linear import FactorizedLinear
from minicompress.factorize.decompose import decompose, recompose, vbmf_ranks
from minicompress.factorize.svd import relative_error, svd_layer, truncated_svd
from minicompress.factorize.tensors import (cp, cp_to_tensor, fold, khatri_rao, mode_product,
                                            tucker, tucker_to_tensor, unfold)
from minicompress.factorize.evbmf import vbmf, vbmf_rank

__all__ = ["FactorizedLinear", "truncated_svd", "relative_error", "svd_layer", "pixel_coordinates",
           "check_indices", "random_indices", "gaussian_atoms", "identity_atoms",
           "tucker", "cp", "vbmf", "vbmf_rank", "vbmf_ranks", "decompose", "recompose", "unfold", "fold",
           "mode_product", "khatri_rao", "tucker_to_tensor", "cp_to_tensor"]
