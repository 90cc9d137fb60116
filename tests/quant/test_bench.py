"""``minicompress bench quant`` runs and reports both ratios (timings are printed, never asserted)."""
import io

from minicompress.quant.bench import quant


def test_bench_prints_the_two_target_ratios():
    out = io.StringIO()
    rows = quant(rounds=1, stream=out, calls=1)
    targets = [r for r in rows if r["target"]]
    assert [r["what"] for r in targets] == ["stochastic rounding, 1e6 float32 -> <8,8>",
                                           "fixed_matmul 128x784 @ 784x300"]
    assert all(r["ratio"] > 0 and r["cpu_ratio"] > 0 for r in rows)
    assert "cpu_ratio" in out.getvalue()
