"""``minicompress bench quant``: the rounding kernels against what bounds them from below.

Two ratios, each measured call by call in alternation (so a busy machine slows both sides alike)
and summarized by the median over many calls and ``rounds`` rounds:

1. Stochastic rounding of 10⁶ float32 values to ⟨8, 8⟩, as speed relative to filling an array of
   the same size with float32 uniform random numbers (the random numbers are the floor: every
   entry needs one). Target ≥ 0.6. Shown with the scratch ``buffers`` a Quantizer keeps, and
   without (fresh temporaries, as a one-off call makes).
2. The exact fixed-point matrix product (128×784 by 784×300, 16-bit operands, one rounding of
   each result) as time relative to the float32 product of the same shape. Target ≤ 3. Shown
   with and without scratch ``buffers``, and the float64 product it is built on.

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
from minicompress.quant.matmul import fixed_matmul


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
    }
    results = [alternating_ms(rounding, calls) for _ in range(rounds)]
    results += [alternating_ms(products, 5 * calls) for _ in range(rounds)]
    ms = {name: np.median([r[name] for r in results if name in r], axis=0)
          for name in [*rounding, *products]}

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
                 "<= 3 (time)" if name == "fixed_matmul" else "", False)
             for name in ("fixed_matmul", "fixed_matmul, fresh temporaries", "float64")]
    print_table(rows, f"quantization kernels: median ms over {rounds} rounds of alternating calls "
                      f"(ratio by the wall clock, cpu_ratio by the process's CPU clock)", stream)
    return rows
