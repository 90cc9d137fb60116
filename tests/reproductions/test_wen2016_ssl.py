"""Wen et al. SSL, the reproduction: the quick run's claims and table."""
from minicompress.reproductions import wen2016_ssl as ssl


def test_quick_reproduction_shows_the_qualitative_claims(tmp_path):
    report = ssl.reproduce(quick=True, seed=0, out_dir=tmp_path, verbose=False)
    assert report.figures and report.figures[0].read_bytes()[:4] == b"\x89PNG"
    rows = {r["model"]: r for r in report.rows}
    dense, shrunk = rows["dense baseline"], rows["SSL λ=0.2"]
    assert dense["accuracy"] > 85  # percent; chance is 10
    assert shrunk["conv_macs_x"] >= 3 and shrunk["macs_x"] >= 2  # MACs, never wall-clock
    assert shrunk["accuracy"] >= dense["accuracy"] - 2
    assert shrunk["max_output_difference"] < 1e-4  # float32
