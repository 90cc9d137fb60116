"""One file per paper, its experiments: ``Config`` (with ``quick()``), ``reproduce()`` returning a
:class:`~minicompress.report.Report` whose ``claims`` say which of the paper's claims held, the
table and the figures. The method itself is in :mod:`minicompress.papers`, in a file of the same
name.

Run one with ``minicompress reproduce NAME [--quick]`` or
``python -m minicompress.reproductions.<file> --quick``; all with ``minicompress reproduce all``.
"""
from __future__ import annotations

from typing import NamedTuple


class Entry(NamedTuple):
    """A reproduction as ``minicompress list`` shows it and ``minicompress reproduce`` runs it."""

    command: str   # minicompress reproduce <command>
    section: str   # the survey's section, or "Beyond the survey: ..."
    paper: str     # authors and year
    module: str    # file name in papers/ and reproductions/


REPRODUCTIONS = (
    Entry("skeletonization", "Pruning by sensitivity", "Mozer & Smolensky 1988", "mozer1988_skeletonization"),
    Entry("karnin", "Pruning by sensitivity", "Karnin 1990", "karnin1990_sensitivity"),
    Entry("obd", "Pruning by sensitivity", "LeCun, Denker & Solla 1989", "lecun1989_obd"),
    Entry("data-free", "Pruning by redundancy", "Srinivas & Babu 2015", "srinivas2015_data_free"),
    Entry("ssl", "Structured pruning", "Wen et al. 2016", "wen2016_ssl"),
    Entry("magnitude", "Pruning in libraries", "Zhu & Gupta 2017 (TF-MOT, PyTorch)", "zhu2017_magnitude"),
    Entry("gupta", "Quantization", "Gupta et al. 2015", "gupta2015_limited_precision"),
    Entry("bfloat16", "Quantization", "Kalamkar et al. 2019 (bfloat16)", "kalamkar2019_bfloat16"),
    Entry("denil", "Low-rank factorization", "Denil et al. 2013", "denil2013_predicting_parameters"),
    Entry("obs", "Beyond the survey: the sequel to OBD", "Hassibi & Stork 1993", "hassibi1993_obs"),
    Entry("deep-compression", "Beyond the survey: the three families together", "Han, Mao & Dally 2016",
          "han2016_deep_compression"),
    Entry("int8", "Beyond the survey: 8-bit inference", "Jacob et al. 2018", "jacob2018_integer_inference"),
    Entry("fp8", "Beyond the survey: 8-bit floats", "Micikevicius et al. 2022", "micikevicius2022_fp8"),
    Entry("tucker", "Beyond the survey: tensor decomposition", "Kim et al. 2016 (Tucker-2, VBMF) + Lebedev et al. 2015 (CP)",
          "kim2016_tucker"),
    Entry("nm", "Beyond the survey: N:M sparsity", "Mishra et al. 2021 (NVIDIA 2:4)", "mishra2021_nm_sparsity"),
    Entry("lottery", "Beyond the survey: lottery tickets", "Frankle & Carbin 2019", "frankle2019_lottery_ticket"),
    Entry("generalization", "Beyond the survey: does pruning improve generalization?", "Han et al. 2015 (the survey's claim)",
          "han2015_learning_connections"),
    Entry("spectrum", "Beyond the survey: the Hessian's spectrum", "Yao et al. 2020 (PyHessian)", "yao2020_hessian_spectrum"),
    Entry("hawq", "Beyond the survey: Hessian-aware mixed precision", "Dong et al. 2019, 2020 (HAWQ, HAWQ-V2)", "dong2019_hawq"),
)


def find(command: str) -> Entry:
    """The entry of ``minicompress reproduce <command>``."""
    for entry in REPRODUCTIONS:
        if entry.command == command:
            return entry
    raise ValueError(f"unknown reproduction {command!r}; expected one of "
                     + ", ".join(e.command for e in REPRODUCTIONS))
