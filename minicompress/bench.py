"""Benchmarks that print ratios measured side by side in one run (never timed assertions).

``minicompress bench curvature``: the time of ``diag_lecun``, ``diag_ggn`` and one ``hvp`` (each
including its forward pass) relative to one gradient pass (forward, loss, backward) on the same
networks and batches, measured interleaved in one process.

``minicompress bench curvature`` then counts the Hessian-vector products power iteration and
Lanczos need for LeNet-5's top Hessian eigenvalue on 1,000 synthetic digits
(:func:`top_eigenvalue`; minutes, so not part of ``bench all``).

``minicompress bench engine``: one training step (forward, loss, backward, SGD with momentum)
of the MLP 784-300-100-10 (batch 128) and of LeNet-5 (batch 64), float32, median over repeated
steps after a warm-up. Where PyTorch happens to be installed (it is never a dependency), the
same networks are timed in a *separate process* with the same number of threads, alternating
with our runs: NumPy's OpenBLAS threads and PyTorch's OpenMP threads slow each other down
erratically when they share a process on a small machine.

``minicompress bench obs``: layer-wise Optimal Brain Surgeon (OBC) on a layer of LeNet-300-100's
size (300 rows × 784 inputs) at 90% sparsity: seconds of the vectorized kernel, and per row
against the readable loop (one ``delete`` per weight).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import numpy as np

from minicompress import nn

SPECS = {  # name: (batch size, input shape)
    "MLP 784-300-100-10": (128, (784,)),
    "LeNet-5 (20-50-500)": (64, (1, 28, 28)),
}


def build(name: str, rng=0) -> nn.Module:
    """The benchmark networks (:mod:`minicompress.models`), with PyTorch's default initialization."""
    from minicompress.models import lenet5, lenet_300_100  # models imports nothing from here
    return lenet_300_100(rng) if name.startswith("MLP") else lenet5(rng)


def median_ms(fn, steps: int, warmup: int = 5) -> float:
    """Median wall time of ``fn()`` in milliseconds over ``steps`` calls, after ``warmup``."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return 1e3 * float(np.median(times))


def training_step(name: str):
    """A closure running one float32 training step of network ``name`` on random data."""
    batch, shape = SPECS[name]
    rng = np.random.default_rng(1)
    model, loss = build(name), nn.SoftmaxCrossEntropy()
    optimizer = nn.SGD(model.parameters(), lr=0.01, momentum=0.9)
    x = rng.standard_normal((batch, *shape)).astype(np.float32)
    y = rng.integers(0, 10, batch)

    def step():
        model.zero_grad()
        loss(model(x), y)
        model.grad_params(loss.backward())
        optimizer.step()
    return step


TORCH_SCRIPT = r"""
import json, sys, time, torch
torch.set_num_threads(int(sys.argv[1])); steps = int(sys.argv[2])
def build(name):
    t = torch.nn
    if name.startswith("MLP"):
        return t.Sequential(t.Linear(784, 300), t.ReLU(), t.Linear(300, 100), t.ReLU(), t.Linear(100, 10))
    return t.Sequential(t.Conv2d(1, 20, 5), t.ReLU(), t.MaxPool2d(2), t.Conv2d(20, 50, 5), t.ReLU(),
                        t.MaxPool2d(2), t.Flatten(), t.Linear(800, 500), t.ReLU(), t.Linear(500, 10))
out = {}
for name, (batch, shape) in json.loads(sys.argv[3]).items():
    model, lossf = build(name), torch.nn.CrossEntropyLoss()
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    x, y = torch.randn(batch, *shape), torch.randint(0, 10, (batch,))
    def step():
        opt.zero_grad(); lossf(model(x), y).backward(); opt.step()
    for _ in range(5): step()
    times = []
    for _ in range(steps):
        t0 = time.perf_counter(); step(); times.append(time.perf_counter() - t0)
    times.sort(); out[name] = 1e3 * times[len(times) // 2]
print(json.dumps(out))
"""


def torch_ms(steps: int, threads: int) -> dict | None:
    """Median step times of the same networks in PyTorch, in a child process; None if absent."""
    cmd = [sys.executable, "-c", TORCH_SCRIPT, str(threads), str(steps), json.dumps(SPECS)]
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0:
        return None
    return json.loads(result.stdout.strip().splitlines()[-1])


def engine(rounds: int = 3, steps: int = 50, torch: bool = True, stream=None) -> list[dict]:
    """Time our training steps (and PyTorch's, alternating, in a child process); print a table.

    Returns one row per network: ours_ms and torch_ms (medians over ``rounds`` rounds of
    ``steps`` steps each) and their ratio.
    """
    threads = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    ours = {name: [] for name in SPECS}
    theirs = {name: [] for name in SPECS}
    for _ in range(rounds):
        for name in SPECS:
            ours[name].append(median_ms(training_step(name), steps))
        other = torch_ms(steps, threads) if torch else None
        torch = other is not None
        for name in SPECS:
            if other:
                theirs[name].append(other[name])
    rows = []
    for name in SPECS:
        mine = float(np.median(ours[name]))
        ref = float(np.median(theirs[name])) if theirs[name] else float("nan")
        rows.append(dict(network=name, batch=SPECS[name][0], ours_ms=mine, torch_ms=ref,
                         ratio=mine / ref))
    print_table(rows, f"training step, float32, {threads} threads, median of {rounds} rounds "
                      f"x {steps} steps" + ("" if torch else " (no PyTorch comparison: not installed or skipped)"), stream)
    return rows


def curvature(rounds: int = 3, steps: int = 20, stream=None) -> list[dict]:
    """Time second-order passes against a gradient pass on the benchmark networks."""
    from minicompress.nn import curvature as cv
    rows = []
    for name, (batch, shape) in SPECS.items():
        rng = np.random.default_rng(1)
        model, loss = build(name), nn.SoftmaxCrossEntropy()
        x = rng.standard_normal((batch, *shape)).astype(np.float32)
        y = rng.integers(0, 10, batch)
        v = [rng.standard_normal(p.shape).astype(np.float32) for p in model.parameters()]

        def gradient():
            model.zero_grad()
            loss(model(x), y)
            model.grad_params(loss.backward())

        passes = {"gradient": gradient,
                  "diag_lecun": lambda: cv.diag_lecun(model, loss, x, y),
                  "diag_lecun (f'' kept)": lambda: cv.diag_lecun(model, loss, x, y, False),
                  "diag_ggn": lambda: cv.diag_ggn(model, loss, x, y),
                  "hvp": lambda: cv.hvp(model, loss, x, y, v)}
        times = {key: [] for key in passes}
        for _ in range(rounds):  # interleaved, so drifts in machine speed hit all alike
            for key, fn in passes.items():
                times[key].append(median_ms(fn, steps, warmup=2))
        base = float(np.median(times["gradient"]))
        for key in passes:
            ms = float(np.median(times[key]))
            rows.append(dict(network=name, batch=batch, what=key, ms=ms, ratio=ms / base))
    print_table(rows, f"second-order passes vs one gradient pass, float32, median of {rounds} "
                      f"rounds x {steps} calls", stream)
    return rows


def top_eigenvalue(n_images: int = 1000, tol: float = 1e-3, max_iter: int = 300,
                   stream=None) -> list[dict]:
    """Hessian-vector products that power iteration and Lanczos need for LeNet-5's top Hessian
    eigenvalue (PyTorch-default initialization, float32, cross-entropy "mean") on
    ``n_images`` synthetic digits, and their wall time against one gradient pass.

    Columns: ``hvps_stop`` the products until each method's own stopping rule holds at ``tol``
    (residual ‖Hv − θv‖ ≤ tol·max|θ|); ``hvps_1e-3`` until the estimate first lies within ``tol``
    (relative) of the reference λ (Lanczos run to a residual of 1e-5·λ); ``hvps_change`` until
    the estimate changes by less than ``tol`` relative between products (PyHessian's rule);
    ``seconds`` of the stopping run and ``ratio`` to one gradient pass (forward, loss,
    backward) on the same images.
    """
    from minicompress.datasets import load
    from minicompress.models import lenet5
    from minicompress.nn import curvature as cv
    x, y = load("synth_digits", "train", n=n_images)
    model, loss = lenet5(0), nn.SoftmaxCrossEntropy()

    def gradient():
        model.zero_grad()
        loss(model(x), y)
        model.grad_params(loss.backward())
    base = median_ms(gradient, 3, warmup=1) / 1e3
    ref, _, ref_info = cv.top_eigenvalues(model, loss, x, y, tol=1e-5, max_iter=100, rng=0,
                                          method="lanczos", return_info=True)
    rows = []
    for method in ("power", "lanczos"):
        start = time.perf_counter()
        values, _, info = cv.top_eigenvalues(model, loss, x, y, tol=tol, max_iter=max_iter,
                                             rng=1, method=method, return_info=True)
        seconds = time.perf_counter() - start
        h = np.array(info["history"])
        close = np.flatnonzero(np.abs(h - ref[0]) <= tol * abs(ref[0]))
        change = np.flatnonzero(np.abs(np.diff(h)) <= tol * np.abs(h[1:]))
        rows.append({"method": method, "lambda_max": float(values[0]), "hvps_stop": info["hvps"],
                     "hvps_1e-3": int(close[0]) + 1 if close.size else f"> {len(h)}",
                     "hvps_change": int(change[0]) + 2 if change.size else f"> {len(h)}",
                     "seconds": seconds, "ratio": seconds / base})
    print_table(rows, f"LeNet-5 top Hessian eigenvalue, {n_images} synthetic digits, float32, "
                      f"tol {tol:g}; reference λ = {ref[0]:.6g} ({ref_info['hvps']} Lanczos "
                      f"steps); one gradient pass {1e3 * base:.0f} ms", stream)
    return rows


def obs(rows: int = 300, inputs: int = 784, n: int = 1000, sparsity: float = 0.9,
        loop_rows: int = 2, stream=None) -> list[dict]:
    """Time ``prune_layerwise`` on a (rows × inputs) layer with n sample inputs, and the readable
    loop (:func:`~minicompress.papers.hassibi1993_obs.prune_loop`) on ``loop_rows`` of its rows;
    float64, damping 1% of the mean diagonal. Prints and returns the table."""
    from minicompress.papers import hassibi1993_obs as obs_paper
    rng = np.random.default_rng(0)
    X = rng.random((n, inputs)) ** 3  # non-negative, unequal columns, like pixels
    W = rng.standard_normal((rows, inputs)) * 0.05
    H = 2 * X.T @ X
    damping = 0.01 * float(np.mean(np.diagonal(H)))
    start, cpu = time.perf_counter(), time.process_time()
    obs_paper.prune_layerwise(W, X, sparsity, damping=damping)
    kernel, kernel_cpu = time.perf_counter() - start, time.process_time() - cpu
    h_inv, count = obs_paper.inverse(H, damping), round(sparsity * inputs)
    start, cpu = time.perf_counter(), time.process_time()
    for r in range(loop_rows):
        obs_paper.prune_loop(W[r], h_inv, count)
    loop, loop_cpu = (time.perf_counter() - start) / loop_rows, (time.process_time() - cpu) / loop_rows
    threads = os.environ.get("OPENBLAS_NUM_THREADS", "default")
    table = [dict(what=f"prune_layerwise {rows} x {inputs}, {sparsity:.0%}", seconds=kernel,
                  cpu_seconds=kernel_cpu, ms_per_row=1e3 * kernel / rows, target="<= 10 s on 2 cores"),
             dict(what="prune_loop (one delete per weight)", seconds=loop * rows, cpu_seconds=loop_cpu * rows,
                  ms_per_row=1e3 * loop, target=f"ratio loop/kernel {loop * rows / kernel:.1f}")]
    print_table(table, f"layer-wise OBS, float64, OPENBLAS_NUM_THREADS={threads} (loop: {loop_rows} "
                       f"rows timed, scaled to {rows})", stream)
    return table


def print_table(rows: list[dict], title: str, stream=None) -> None:
    """A plain-text table: one column per key of the rows (on stdout by default)."""
    stream = stream or sys.stdout
    keys = list(rows[0])
    cells = [[k for k in keys]] + [[_fmt(r[k]) for k in keys] for r in rows]
    widths = [max(len(c[i]) for c in cells) for i in range(len(keys))]
    print(title, file=stream)
    for line in cells:
        print("  ".join(c.rjust(w) for c, w in zip(line, widths)), file=stream)


def _fmt(value) -> str:
    return f"{value:.3g}" if isinstance(value, float) else str(value)
