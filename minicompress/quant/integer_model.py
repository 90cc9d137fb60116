"""Integer-only inference (Jacob et al. 2018, §2): int8 codes in, int32 accumulators, int8 codes
out; and its float64 simulation, equal to it bit for bit.

A quantized Linear (Conv2d: the same on im2col columns) with input codes q₁ (scale S₁, zero point
Z₁), weight codes q₂ (S₂[o], Z₂[o], per output channel or one for all), int32 bias codes
q_b = round(b / (S₁S₂)) (S_bias = S₁S₂, Z_bias = 0) and output (S₃, Z₃) computes (Eq. 7–9)

    A[n, o] = Σ_k q₁q₂ − Z₂[o] Σ_k q₁[n, k] + (q_b[o] − Z₁ Σ_k q₂[o, k] + K Z₁ Z₂[o])
            = Σ_k (q₁[n, k] − Z₁)(q₂[o, k] − Z₂[o]) + q_b[o]
    q₃[n, o] = clamp(Z₃ + round(M[o]·A[n, o]), lo, hi),      M[o] = S₁S₂[o]/S₃

with the core Σ q₁q₂ an int8 × int8 product accumulated in int32, the bracket folded into one
int32 vector at conversion (the paper's O(N²) terms), M applied by
:func:`~minicompress.quant.requantize.requantize` (M₀, n), and lo = max(q_min, Z₃) when a ReLU
is fused (Jacob et al. fuse activations as a clamp). MaxPool2d and Flatten act on codes
directly (max commutes with an increasing map); zero padding pads with Z₁, the code of 0.

Overflow. Each layer bounds every int32 intermediate at conversion from its codes (K·2¹⁴ for the
core, the zero-point terms, the folded bias) and refuses a layer whose bound reaches 2³¹.

The float simulation (:meth:`IntegerModel.simulate`) evaluates the second line in float64 on
the codes, A = (t₁ − Z₁)(t₂ − Z₂)ᵀ + q_b (exact: integers below 2⁵³), then
:func:`~minicompress.quant.requantize.requantize_float`; M₀ keeps min(31, 52 − log₂ bound(A))
bits (the bound including a left shift when M ≥ 1) so that this is exact too. Both are exact computations of the same formula, so they agree
bit for bit; a test and the reproduction check it on real data.
"""
from __future__ import annotations

import math

import numpy as np

from minicompress import nn
from minicompress.nn.im2col import conv_output_size, im2col
from minicompress.quant.affine import code_range, dequantize_affine, quantize_affine
from minicompress.quant.matmul import integer_matmul
from minicompress.quant.qat import FakeQuantize, QuantizedWeights
from minicompress.quant.requantize import INT32_MAX, quantize_multiplier, requantize, requantize_float


class IntegerGemm:
    """A Linear or Conv2d on integer codes (module docstring). ``weight`` (o, K) codes."""

    def __init__(self, weight, w_scale, w_zero, bias, x_qparams, y_qparams, *, relu: bool,
                 bits: int = 8, name: str = ""):
        self.name = name
        self.weight = np.asarray(weight).astype(np.int8 if bits <= 8 else np.int16)  # (o, K)
        o, k = self.weight.shape
        (s1, z1), (s3, z3) = x_qparams, y_qparams
        s2 = np.broadcast_to(np.asarray(w_scale, np.float64), (o,))
        self.w_zero = np.broadcast_to(np.asarray(w_zero, np.int64), (o,)).astype(np.int32)
        self.x_zero, self.y_zero, self.x_scale, self.y_scale = int(z1), int(z3), float(s1), float(s3)
        bias_scale = s1 * s2  # S_bias = S₁S₂, Z_bias = 0
        b = np.zeros(o) if bias is None else np.asarray(bias, np.float64)
        q_b = np.rint(b / bias_scale)
        self.low, self.high = code_range(bits, True)
        x_span = max(z1 - self.low, self.high - z1)  # max |q₁ − Z₁|
        w_int = self.weight.astype(np.int64)
        rows = np.abs(w_int - self.w_zero[:, None]).sum(axis=1)  # Σ_k |q₂ − Z₂|
        self.bias = q_b  # int32 bias codes, checked below
        self.acc_bound = float((rows * x_span + np.abs(q_b)).max())
        folded = q_b - z1 * w_int.sum(axis=1) + k * z1 * self.w_zero
        terms = (np.abs(w_int).sum(axis=1).max() * 128, np.abs(self.w_zero).max() * k * 128,
                 np.abs(folded).max(), self.acc_bound)
        if terms[0] + terms[1] + terms[2] >= INT32_MAX or terms[3] >= INT32_MAX:
            raise OverflowError(f"IntegerGemm {name}: int32 accumulation could overflow (core "
                                f"≤ {terms[0]:.3g}, zero-point term ≤ {terms[1]:.3g}, folded bias "
                                f"≤ {terms[2]:.3g}; 2^31 = {2.0 ** 31:.3g})")
        self.bias = q_b.astype(np.int32)
        self.folded = folded.astype(np.int32)
        m = s1 * s2 / s3
        left = max(0, max(-quantize_multiplier(float(v))[1] for v in m))  # M ≥ 1: a left shift
        if self.acc_bound * 2 ** left >= INT32_MAX:
            raise OverflowError(f"IntegerGemm {name}: the accumulator shifted left by {left} (M = "
                                f"{m.max():.3g} ≥ 1) could overflow int32")
        bits_m0 = min(31, 52 - math.ceil(math.log2(self.acc_bound * 2 ** left + 1)))
        pairs = [quantize_multiplier(float(v), bits_m0) for v in m]
        self.m0 = np.array([p[0] for p in pairs], np.int64)
        self.shift = np.array([p[1] for p in pairs], np.int64)
        self.clamp_low = max(self.low, self.y_zero) if relu else self.low
        self.relu = relu

    def gemm(self, cols: np.ndarray) -> np.ndarray:
        """q₃ (n, o) from input codes cols (n, K), int8 → int32 → int8."""
        core = integer_matmul(cols, self.weight.T)  # (n, o) int32: Σ_k q₁q₂
        acc = core + self.folded
        if np.any(self.w_zero):
            acc = acc - self.w_zero * cols.sum(axis=1, dtype=np.int32)[:, None]
        return requantize(acc, self.m0, self.shift, self.y_zero, self.clamp_low, self.high).astype(np.int8)

    def gemm_float(self, cols: np.ndarray) -> np.ndarray:
        """The same in float64 on codes held as floats: A = (t₁ − Z₁)(t₂ − Z₂)ᵀ + q_b."""
        w = self.weight.astype(np.float64) - self.w_zero[:, None]
        acc = (cols - self.x_zero) @ w.T + self.bias
        return requantize_float(acc, self.m0, self.shift, self.y_zero, self.clamp_low, self.high)

    def macs(self) -> int:
        return self.weight.size


class IntegerLinear(IntegerGemm):
    def forward(self, q):
        return self.gemm(q)

    def simulate(self, t):
        return self.gemm_float(t)


class IntegerConv2d(IntegerGemm):
    def __init__(self, conv: nn.Conv2d, *args, **kwargs):
        self.kernel, self.stride, self.padding = conv.kernel_size, conv.stride, conv.padding
        super().__init__(*args, **kwargs)

    def _columns(self, q, dtype):
        """(n·oh·ow, c·kh·kw) windows of q, padded with the code of 0."""
        (ph, pw), (n, c, h, w) = self.padding, q.shape
        padded = np.pad(q, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=self.x_zero)
        cols = im2col(padded.astype(dtype, copy=False), self.kernel, self.stride, (0, 0))
        self.out_hw = (conv_output_size(h, self.kernel[0], self.stride[0], ph),
                       conv_output_size(w, self.kernel[1], self.stride[1], pw))
        return cols.T  # (oh·ow·n, K)

    def _image(self, y, n):
        oh, ow = self.out_hw
        return np.ascontiguousarray(y.reshape(oh, ow, n, -1).transpose(2, 3, 0, 1))

    def forward(self, q):
        return self._image(self.gemm(self._columns(q, np.int8)), len(q))

    def simulate(self, t):
        return self._image(self.gemm_float(self._columns(t, np.float64)), len(t))


class IntegerMaxPool2d:
    """Max over windows of codes (max commutes with q ↦ S(q − Z), S > 0)."""

    def __init__(self, pool: nn.MaxPool2d):
        self.pool = pool

    def forward(self, q):
        (kh, kw), (sh, sw) = self.pool.kernel_size, self.pool.stride
        n, c, h, w = q.shape
        oh, ow = (h - kh) // sh + 1, (w - kw) // sw + 1
        windows = np.lib.stride_tricks.sliding_window_view(q, (kh, kw), axis=(2, 3))
        return windows[:, :, :sh * oh:sh, :sw * ow:sw].max(axis=(4, 5))

    simulate = forward


class IntegerFlatten:
    def forward(self, q):
        return q.reshape(len(q), -1)

    simulate = forward


class IntegerModel:
    """The converted network: :meth:`quantize_input` (the one float operation, at the border),
    :meth:`forward` on int8 codes, :meth:`simulate` on float64 codes, :meth:`dequantize_output`."""

    def __init__(self, layers, input_qparams, output_qparams):
        self.layers, self.input_qparams, self.output_qparams = layers, input_qparams, output_qparams

    def quantize_input(self, x) -> np.ndarray:
        return quantize_affine(x, *self.input_qparams, bits=8)

    def forward(self, q: np.ndarray) -> np.ndarray:
        if q.dtype != np.int8:
            raise TypeError(f"IntegerModel.forward: expected int8 codes, got {q.dtype}")
        for layer in self.layers:
            q = layer.forward(q)
        return q

    def simulate(self, t: np.ndarray) -> np.ndarray:
        t = np.asarray(t, np.float64)
        for layer in self.layers:
            t = layer.simulate(t)
        return t

    def dequantize_output(self, q) -> np.ndarray:
        return dequantize_affine(np.asarray(q).astype(np.int64), *self.output_qparams)

    def predict(self, x, batch_size: int = 1000) -> np.ndarray:
        """Predicted classes: argmax of the output codes (an increasing map of the logits)."""
        return np.concatenate([self.forward(self.quantize_input(x[i:i + batch_size])).argmax(axis=1)
                               for i in range(0, len(x), batch_size)])

    def nbytes(self, weight_bits: int = 8) -> int:
        """Storage: weights at ``weight_bits`` each, int32 biases, float32 scales and int32
        multipliers per channel."""
        total = 0
        for layer in self.layers:
            if isinstance(layer, IntegerGemm):
                o = layer.weight.shape[0]
                total += math.ceil(layer.weight.size * weight_bits / 8) + 4 * o + 4 * o + 4 * o
        return total


def convert(prepared: nn.Sequential) -> IntegerModel:
    """The :class:`IntegerModel` of a model made by :func:`~minicompress.quant.qat.prepare`
    (calibrated or trained), with its frozen ranges and its current weights."""
    layers = list(prepared.layers)
    if not layers or not isinstance(layers[0], FakeQuantize):
        raise ValueError("convert: expected a model made by quant.prepare (a FakeQuantize first)")
    current = layers[0].qparams()
    out, i = [], 1
    while i < len(layers):
        layer = layers[i]
        if isinstance(layer, QuantizedWeights):
            relu = i + 1 < len(layers) and isinstance(layers[i + 1], nn.ReLU)
            fq = layers[i + 1 + relu]
            codes, scale, zero = layer.weight_qparams()
            inner = layer.layer
            bias = None if inner.bias is None else inner.bias.value()
            args = (codes.reshape(len(codes), -1), scale, zero, bias, current, fq.qparams())
            if layer.observer.bits > 8:
                raise ValueError(f"convert: {layer.describe()} has {layer.observer.bits}-bit weights; "
                                 f"the integer kernels take at most 8")
            kwargs = dict(relu=relu, name=layer.describe())
            out.append(IntegerConv2d(inner, *args, **kwargs) if isinstance(inner, nn.Conv2d)
                       else IntegerLinear(*args, **kwargs))
            current, i = fq.qparams(), i + 2 + relu
        elif isinstance(layer, nn.MaxPool2d):
            out.append(IntegerMaxPool2d(layer))
            i += 1
        elif isinstance(layer, nn.Flatten):
            out.append(IntegerFlatten())
            i += 1
        else:
            raise ValueError(f"convert: unexpected {type(layer).__name__} at position {i}")
    return IntegerModel(out, layers[0].qparams(), current)
