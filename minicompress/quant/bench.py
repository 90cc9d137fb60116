"""``minicompress bench quant``: the rounding kernels against what bounds them from below.

Two ratios, each measured call by call in alternation (so a busy machine slows both sides alike)
and summarized by the median over many calls and ``rounds`` rounds:

1. Stochastic rounding of 10⁶ float32 values to ⟨8, 8⟩, as speed relative to filling an array of
   the same size with float32 uniform random numbers (the random numbers are the floor: every
   entry needs one). Target ≥ 0.6. Shown with the scratch ``buffers`` a Quantizer keeps, and
   without (fresh temporaries, as a one-off call makes).
2. The exact fixed-point matrix product (128×784 by 784×300, 16-bit operands, one rounding of
   each result) as time relative to the float32 product of the same shape. Target ≤ 2. Shown
   with and without scratch ``buffers``, and the float64 product it falls back to when the sums
   could pass 2²⁴ (``fixed_matmul, float64 accumulator``: the same operands at 2⁴× the codes).
   On these operands the Cauchy–Schwarz bound keeps every sum below 2²⁴, so the float32 product
   itself is the exact accumulator (``minicompress.quant.matmul``).
3. For information, the int8 Linear kernel of integer-only inference on LeNet-300-100's first
   layer (a batch of 128 int8 inputs, 784 → 300): the whole kernel (int8 × int8 → int32, the
   zero-point terms, requantization to int8), its int8 product alone (exact on float32 BLAS),
   NumPy's int32 matmul (a plain loop: NumPy has no integer BLAS), against the float32 layer.
   The same multiply-accumulates; the int8 kernel is not faster in NumPy, because its product
   runs on the float BLAS anyway (after a conversion) and requantization adds several passes
   over int64 arrays that an int8 CPU kernel fuses into the GEMM's epilogue.

Also, for information: nearest rounding, and bfloat16 round-to-nearest-even by bit manipulation.
Two traps these numbers expose: on a shared machine only the CPU-clock ratio is stable, and
megabyte temporaries allocated afresh on every call can cost page faults worth several times
the arithmetic (measured here in isolation: fixed_matmul 1.5 ms with buffers, 7.4 ms without).
"""
from __future__ import annotations

import time

import numpy as np

from minicompress.bench import print_table
from minicompress.quant.fixed_point import FixedPoint, quantize_fixed
from minicompress.quant.floats import BFLOAT16, quantize_float
from minicompress.quant.matmul import accumulator, fixed_matmul, integer_matmul, sum_bound


def alternating_ms(fns: dict, calls: int, warmup: int = 3) -> dict:
    """Median milliseconds of each function, by the wall clock and by the process's CPU clock
    ({name: (wall, cpu)}), calling them in turn ``calls`` times. On a busy machine the wall
    clock also counts the time other processes held the core; the CPU clock does not."""
    for fn in fns.values():
        for _ in range(warmup):
            fn()
    times = {name: [] for name in fns}
    for _ in range(calls):
        for name, fn in fns.items():
            wall, cpu = time.perf_counter(), time.process_time()
            fn()
            times[name].append((time.perf_counter() - wall, time.process_time() - cpu))
    return {name: tuple(1e3 * np.median(np.array(t), axis=0)) for name, t in times.items()}


def quant(rounds: int = 3, stream=None, calls: int = 30) -> list[dict]:
    """Time the rounding kernels and the fixed-point product; print and return the rows.

    Each row: what, ms and cpu_ms (medians), baseline, baseline_ms, ratio and cpu_ratio, target.
    For rounding the ratios are speeds (baseline time / our time, higher is better); for the
    product, times (ours / baseline, lower is better). The CPU-clock ratio is the one to trust
    on a shared machine (for multi-threaded BLAS it sums the threads' time).
    """
    rng = np.random.default_rng(0)
    fmt = FixedPoint(16, 8)
    x = rng.standard_normal(1_000_000).astype(np.float32)
    filled = np.empty_like(x)
    buffers = {}
    a = quantize_fixed(rng.standard_normal((128, 784)).astype(np.float32), fmt, "nearest")
    b = quantize_fixed(0.1 * rng.standard_normal((784, 300)).astype(np.float32), fmt, "nearest")
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    wide = FixedPoint(16, 4)  # codes ~300× those of a: sums up to ~2^26.5, past float32's 2^24
    a_wide = quantize_fixed(rng.standard_normal((128, 784)) * 300, wide, "nearest").astype(np.float32)
    b_wide = quantize_fixed(rng.standard_normal((784, 300)) * 1.6, wide, "nearest").astype(np.float32)
    unit = wide.resolution ** 2
    assert accumulator(sum_bound(a_wide, b_wide, np.abs(a_wide).max(), np.abs(b_wide).max(), unit)) == "float64"
    layer, q_x, x32 = int8_first_layer(rng)
    rounding = {
        "fill": lambda: rng.random(x.shape, dtype=np.float32, out=filled),
        "stochastic": lambda: quantize_fixed(x, fmt, "stochastic", rng, buffers=buffers),
        "stochastic, fresh temporaries": lambda: quantize_fixed(x, fmt, "stochastic", rng),
        "nearest": lambda: quantize_fixed(x, fmt, "nearest"),
        "bfloat16 nearest_even": lambda: quantize_float(x, BFLOAT16, "nearest_even", buffers=buffers),
        "copy": lambda: x.copy(),
    }
    products = {
        "float32": lambda: a @ b,
        "fixed_matmul": lambda: fixed_matmul(a, b, fmt, "nearest", buffers=buffers),
        "fixed_matmul, fresh temporaries": lambda: fixed_matmul(a, b, fmt, "nearest"),
        "float64": lambda: a64 @ b64,
        "fixed_matmul, float64 accumulator": lambda: fixed_matmul(a_wide, b_wide, wide, "nearest", buffers=buffers),
    }
    w32 = layer.weight.astype(np.float32)
    kernels = {
        "float32 Linear": lambda: x32 @ w32.T,
        "int8 Linear (int32 accumulation, requantized)": lambda: layer.forward(q_x),
        "int8 product only (exact on float32 BLAS)": lambda: integer_matmul(q_x, layer.weight.T),
        "int8 product, NumPy int32 matmul": lambda: integer_matmul(q_x, layer.weight.T, method="int32"),
    }
    results = [alternating_ms(rounding, calls) for _ in range(rounds)]
    results += [alternating_ms(products, 5 * calls) for _ in range(rounds)]
    results += [alternating_ms(kernels, calls) for _ in range(rounds)]
    ms = {name: np.median([r[name] for r in results if name in r], axis=0)
          for name in [*rounding, *products, *kernels]}

    def row(what, name, baseline, base, target, speed):
        (wall, cpu), (base_wall, base_cpu) = ms[name], ms[base]
        ratio = (lambda ours, theirs: theirs / ours) if speed else (lambda ours, theirs: ours / theirs)
        return dict(what=what, ms=float(wall), cpu_ms=float(cpu), baseline=baseline,
                    baseline_ms=float(base_wall), ratio=float(ratio(wall, base_wall)),
                    cpu_ratio=float(ratio(cpu, base_cpu)), target=target)

    rows = [row(f"{name} rounding, 1e6 float32 -> <8,8>", name, "float32 uniform fill", "fill",
                ">= 0.6 (speed)" if name == "stochastic" else "", True)
            for name in ("stochastic", "stochastic, fresh temporaries", "nearest")]
    rows.append(row("bfloat16 nearest_even, 1e6 float32", "bfloat16 nearest_even", "copy", "copy", "", True))
    rows += [row(f"{name} 128x784 @ 784x300", name, "float32 matmul", "float32",
                 "<= 2 (time)" if name == "fixed_matmul" else "", False)
             for name in ("fixed_matmul", "fixed_matmul, fresh temporaries", "float64",
                          "fixed_matmul, float64 accumulator")]
    rows += [row(f"{name}, LeNet-300-100 fc1, batch 128", name, "float32 Linear", "float32 Linear", "", False)
             for name in list(kernels)[1:]]
    print_table(rows, f"quantization kernels: median ms over {rounds} rounds of alternating calls "
                      f"(ratio by the wall clock, cpu_ratio by the process's CPU clock)", stream)
    return rows


def int8_first_layer(rng):
    """LeNet-300-100's first layer as an int8 kernel (random weights, per-channel scales), with a
    batch of 128 int8 input codes and the same inputs in float32."""
    from minicompress.quant.integer_model import IntegerLinear
    w = rng.integers(-127, 128, (300, 784))
    layer = IntegerLinear(w, np.full(300, 0.002), 0, rng.normal(0, 0.1, 300), (1 / 255, -128),
                          (0.05, -128), relu=True)
    q_x = rng.integers(-128, 128, (128, 784)).astype(np.int8)
    return layer, q_x, ((q_x.astype(np.float32) + 128) / 255)
