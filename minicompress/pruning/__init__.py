"""Pruning machinery shared by every pruning paper: masks, schedules, the loop, surgery.

>>> from minicompress import pruning
>>> pruning.global_prune(pruning.weights(model), 0.9)            # doctest: +SKIP
>>> small, index_map = pruning.shrink(model)                      # doctest: +SKIP
"""
from minicompress.pruning.loop import PruningRun, iterative_pruning, magnitude_scores
from minicompress.pruning.masks import (compute_mask, global_prune, is_pruned, ln_structured,
                                        masked_fraction, n_masked, prune, prune_count,
                                        random_structured, random_unstructured, remove,
                                        structured_prune, weights)
from minicompress.pruning.nm import (NMSparse, is_nm_sparse, nm_compress, nm_mask, nm_prune,
                                     nm_storage_bytes)
from minicompress.pruning.schedules import ConstantSparsity, PolynomialDecay, ScheduledPruner
from minicompress.pruning.surgery import remove_units, shrink

__all__ = [
    "compute_mask", "prune_count", "prune", "global_prune", "structured_prune", "ln_structured",
    "random_unstructured", "random_structured", "remove", "is_pruned", "weights", "n_masked",
    "masked_fraction", "ConstantSparsity", "PolynomialDecay", "ScheduledPruner",
    "iterative_pruning", "PruningRun", "magnitude_scores", "remove_units", "shrink",
    "nm_mask", "is_nm_sparse", "nm_prune", "nm_compress", "nm_storage_bytes", "NMSparse",
]
