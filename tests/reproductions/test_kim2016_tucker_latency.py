"""The measured-speedup part of the Tucker reproduction: its claim on hand-made rows (zero,
negative and NaN times; the runs: tests/reproductions/test_kim2016_tucker.py)."""
from minicompress.reproductions import kim2016_tucker_latency as latency

from .test_kim2016_tucker import NAN, rows


def test_measured_speedup_claim():
    assert latency.claim_tucker_measured_speedup(rows(ms=(10, 9.9))).holds
    assert not latency.claim_tucker_measured_speedup(rows(ms=(10, 10))).holds
    assert not latency.claim_tucker_measured_speedup(rows(ms=(10, 0.0))).holds  # inf: not finite
    assert not latency.claim_tucker_measured_speedup(rows(ms=(0.0, 0.0))).holds
    assert not latency.claim_tucker_measured_speedup(rows(ms=(NAN, 1))).holds
    assert not latency.claim_tucker_measured_speedup(rows(ms=(-1.0, 1.0))).holds
    assert not latency.claim_tucker_measured_speedup(rows(ms=(-10.0, -5.0))).holds  # ratio 2, not a time


def test_the_speedup_is_read_at_the_vbmf_ranks():
    r = rows(ms=(10, 5))
    swept = dict(method="tucker2", scale=0.5, conv2_ms=20.0, network_ms=30.0)  # slower, and first
    assert latency.claim_tucker_measured_speedup([r[0], swept, *r[1:]]).holds
    assert not latency.claim_tucker_measured_speedup([r[0], swept]).holds
