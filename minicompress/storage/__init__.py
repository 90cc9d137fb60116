"""Compressed model files that are really small: sparse indices, shared weights, Huffman codes.

>>> from minicompress.storage import save_compressed, load_compressed
>>> nbytes = save_compressed(model, "lenet.mcz")        # doctest: +SKIP
>>> same = load_compressed("lenet.mcz")                  # doctest: +SKIP

Files: ``bits.py`` (packing codes into bytes), ``huffman.py`` (canonical Huffman codes),
``sparse.py`` (Deep Compression's relative index with fillers), ``encodings.py`` (a tensor as
dense, sparse or shared streams), ``model_file.py`` (the ``.mcz`` format: header, streams,
checksum), ``bench.py`` (``minicompress bench storage``).
"""
from minicompress.storage.huffman import (canonical_code, code_lengths, entropy, expected_length,
                                          huffman_decode, huffman_encode)
from minicompress.storage.model_file import inspect_compressed, load_compressed, save_compressed
from minicompress.storage.sparse import positions_from_index, relative_index

__all__ = ["save_compressed", "load_compressed", "inspect_compressed", "huffman_encode",
           "huffman_decode", "code_lengths", "canonical_code", "expected_length", "entropy",
           "relative_index", "positions_from_index"]
