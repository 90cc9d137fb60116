"""The measured latency of the SSL reproduction: the row's speed ratios by hand, the speed claims
directly on hand-made rows (each threshold, NaN, broken measurements), which model is timed how,
and the timings' shape on a tiny net (computed, never asserted to be fast). The claims through
claims_of: tests/reproductions/test_wen2016_ssl.py."""
from types import SimpleNamespace

import numpy as np
import pytest

from minicompress.models import CONV1, CONV2, FC1, lenet5
from minicompress.reproductions import wen2016_ssl_latency as part

from .test_wen2016_ssl import NAN, rows


def test_speed_is_dense_time_over_the_models():
    times = {"dense": {"network": 8.0, CONV1: 2.0, CONV2: 3.0, FC1: 1.0},
             "shrunk": {"network": 2.0, CONV1: 1.0, CONV2: 0.5, FC1: 1.0}}
    assert part.speed(times, "shrunk") == dict(ms=2.0, speedup=4.0, conv1_x=2.0, conv2_x=6.0, fc1_x=1.0)
    assert part.speed(times, "dense")["speedup"] == 1.0


def claims(**change):
    table = {r["model"]: r for r in rows(**change)}
    ssl, csr = table["SSL λ=1"], table["  unstructured CSR, same nnz as λ=1"]
    return {c.key.split(".", 2)[2]: c for c in part.speed_claims(ssl, csr, "λ=1")}


def test_speed_claims():
    assert list(claims()) == ["twice_unstructured_speedup", "network_speedup_2x", "csr_not_faster"]
    assert all(c.holds for c in claims(fast=2.0, slow=1.0).values())  # exactly at every threshold
    assert [c.headline for c in claims().values()] == [True, False, False]
    assert not claims(fast=2.5, slow=1.3)["twice_unstructured_speedup"].holds
    assert not claims(fast=1.99)["network_speedup_2x"].holds
    assert not claims(slow=1.01)["csr_not_faster"].holds
    for bad in (NAN, 0.0, -1.0):
        assert not any(c.holds for c in claims(fast=bad, slow=bad).values())
        assert not claims(slow=bad)["twice_unstructured_speedup"].holds


def test_timings_time_the_three_models_the_unstructured_one_as_csr(monkeypatch):
    dense, shrunk, unstructured = lenet5(0), lenet5(1), lenet5(2)
    timed = []
    monkeypatch.setattr(part, "to_csr", lambda m: ("csr", m))
    monkeypatch.setattr(part, "latencies", lambda models, x, layers, **kw: timed.append((models, layers, kw)))
    cfg = SimpleNamespace(latency_repeats=3, latency_rounds=2)
    part.timings(dense, shrunk, unstructured, np.zeros((2, 1, 28, 28), np.float32), cfg)
    ((models, layers, kw),) = timed
    assert models == {"dense": dense, "shrunk": shrunk, "csr": ("csr", unstructured)}
    assert layers == (CONV1, CONV2, FC1) and kw == dict(repeats=3, rounds=2)


def test_timings_cover_every_model_and_timed_layer():
    model = lenet5(0)
    cfg = SimpleNamespace(latency_repeats=1, latency_rounds=1)
    x = np.random.default_rng(0).random((4, 1, 28, 28)).astype(np.float32)
    times = part.timings(model, model, model, x, cfg)
    assert set(times) == {"dense", "shrunk", "csr"}
    for t in times.values():
        assert set(t) == {"network", CONV1, CONV2, FC1} and all(v > 0 for v in t.values())
    assert part.speed(times, "dense") == pytest.approx(dict(ms=times["dense"]["network"], speedup=1.0,
                                                            conv1_x=1.0, conv2_x=1.0, fc1_x=1.0))
