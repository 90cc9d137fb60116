"""minicompress: the classic neural-network compression methods, from scratch in NumPy.

The engine lives in :mod:`minicompress.nn`, training in :mod:`minicompress.train`. Nothing is
computed or downloaded at import time.
"""
__version__ = "0.1.0"
