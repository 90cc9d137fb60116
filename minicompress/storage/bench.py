"""``minicompress bench storage``: compressing a pruned LeNet-300-100 and loading the file.

"Compress" is Deep Compression's last two stages on a model already pruned to the paper's kept
fractions (8%, 9%, 26%): k-means of each layer's kept weights at 6 bits (linear init), then the
relative index, Huffman coding and the atomic write of the file. "Load" reads, checks and decodes
the file into a runnable model. Targets: under 5 s and under 1 s on 2 cores. Each is shown as
its ratio to the target and beside ``nn.save`` / ``nn.load`` (an .npz of the same pruned model)
measured in alternation in the same run. The weights are a fresh initialization, not trained
ones (k-means may take a different number of rounds on trained weights).
"""
from __future__ import annotations

import copy
import tempfile
import time
from pathlib import Path

import numpy as np

from minicompress import nn
from minicompress.bench import print_table


def storage(rounds: int = 3, stream=None) -> list[dict]:
    """Time compress/load and the .npz save/load; print and return the rows (median seconds
    by the wall clock and the process's CPU clock, ratio to the target, the npz time)."""
    from minicompress.models import lenet_300_100
    from minicompress.papers.han2016_deep_compression import prune_to, share_weights
    from minicompress.storage import load_compressed, save_compressed
    pruned = lenet_300_100(rng=0)
    prune_to(pruned, [0.08, 0.09, 0.26])
    with tempfile.TemporaryDirectory() as folder:
        mcz, npz = Path(folder) / "lenet.mcz", Path(folder) / "lenet.npz"
        steps = {
            "compress": lambda: save_compressed(share_weights(copy.deepcopy(pruned), [6, 6, 6]), mcz),
            "nn.save": lambda: nn.save(pruned, npz),
            "load": lambda: load_compressed(mcz),
            "nn.load": lambda: nn.load(npz),
        }
        times = {name: [] for name in steps}
        for _ in range(rounds):
            for name, step in steps.items():
                wall, cpu = time.perf_counter(), time.process_time()
                step()
                times[name].append((time.perf_counter() - wall, time.process_time() - cpu))
        size = mcz.stat().st_size, npz.stat().st_size
    median = {name: np.median(np.array(t), axis=0) for name, t in times.items()}
    rows = []
    for name, baseline, target in (("compress", "nn.save", 5.0), ("load", "nn.load", 1.0)):
        (wall, cpu), (base, _) = median[name], median[baseline]
        rows.append(dict(what=f"{name} pruned LeNet-300-100 ({size[0]:,} bytes)", seconds=float(wall),
                         cpu_seconds=float(cpu), target=f"< {target:g} s", ratio=float(wall / target),
                         cpu_ratio=float(cpu / target), baseline=f"{baseline} ({size[1]:,} bytes)",
                         baseline_seconds=float(base)))
    print_table(rows, f"storage: median of {rounds} rounds (ratio = time / target; below 1 meets it)", stream)
    return rows

