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

8-bit inference (Jacob et al. 2018) and the 8-bit floats: ``affine.py`` (r = S(q − Z), per tensor
or per channel), ``observers.py`` (min–max, moving average, percentile, MSE), ``qat.py`` (fake
quantization with the straight-through estimator: prepare, calibrate), ``requantize.py`` (the
(M₀, n) fixed-point multiplier), ``integer_model.py`` (int8 × int8 → int32 layers, convert),
``float_codes.py`` (bit patterns of E4M3, E5M2, ...), ``mx.py`` (Microscaling block formats).
"""
from minicompress.quant.fixed_point import FixedPoint, from_codes, quantize_fixed, to_codes
from minicompress.quant.floats import BFLOAT16, FLOAT16, FloatFormat, quantize_float
from minicompress.quant.matmul import fixed_matmul
from minicompress.quant.optim import QuantizedOptimizer
from minicompress.quant.quantizer import Quantizer
from minicompress.quant.training import Quantize, quantize_model
from minicompress.quant.affine import choose_qparams, dequantize_affine, fake_quantize, quantize_affine
from minicompress.quant.floats import E2M1, E2M3, E3M2, E4M3, E5M2
from minicompress.quant.integer_model import IntegerModel, convert
from minicompress.quant.matmul import integer_matmul
from minicompress.quant.mx import MXFormat, mx_quantize
from minicompress.quant.observers import (MinMaxObserver, MovingAverageMinMaxObserver, MSEObserver,
                                          PercentileObserver)
from minicompress.quant.qat import FakeQuantize, QuantizedWeights, calibrate, prepare

__all__ = ["FixedPoint", "quantize_fixed", "fixed_matmul", "to_codes", "from_codes",
           "FloatFormat", "BFLOAT16", "FLOAT16", "quantize_float", "Quantizer", "Quantize",
           "QuantizedOptimizer", "quantize_model",
           "quantize_affine", "dequantize_affine", "fake_quantize", "choose_qparams",
           "E4M3", "E5M2", "E3M2", "E2M3", "E2M1", "MXFormat", "mx_quantize", "integer_matmul",
           "MinMaxObserver", "MovingAverageMinMaxObserver", "PercentileObserver", "MSEObserver",
           "FakeQuantize", "QuantizedWeights", "prepare", "calibrate", "convert", "IntegerModel"]
