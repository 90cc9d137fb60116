"""Quantization: simulated fixed-point and low-precision float arithmetic, and quantized training.

>>> from minicompress.quant import FixedPoint, quantize_fixed, BFLOAT16, quantize_float
>>> fmt = FixedPoint(16, 14)          # Gupta et al.'s <2, 14>: range [-2, 2), step 2^-14
>>> quantize_fixed(np.float32(0.1), fmt, "stochastic", rng=0)   # doctest: +SKIP

Files: ``rounding.py`` (the rounding modes, on scaled values and on bit patterns),
``fixed_point.py`` (⟨IL, FL⟩ formats, integer codes), ``matmul.py`` (the exact fixed-point matrix
product), ``floats.py`` (bfloat16, float16, any e/m format by bit manipulation), ``quantizer.py``
(format + rounding + rng, with counts), ``training.py`` (Quantize modules, quantize_model),
``optim.py`` (QuantizedOptimizer), ``sharing.py`` (k-means weight sharing, SharedWeights),
``bench.py`` (``minicompress bench quant``).
"""
from minicompress.quant.fixed_point import FixedPoint, from_codes, quantize_fixed, to_codes
from minicompress.quant.floats import BFLOAT16, FLOAT16, FloatFormat, quantize_float
from minicompress.quant.matmul import fixed_matmul
from minicompress.quant.optim import QuantizedOptimizer
from minicompress.quant.quantizer import Quantizer
from minicompress.quant.training import Quantize, quantize_model

__all__ = ["FixedPoint", "quantize_fixed", "fixed_matmul", "to_codes", "from_codes",
           "FloatFormat", "BFLOAT16", "FLOAT16", "quantize_float", "Quantizer", "Quantize",
           "QuantizedOptimizer", "quantize_model"]
