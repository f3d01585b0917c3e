"""Long float32 reductions on cuda (run by the CPU emulator) stay within a few ulps times log2(n) of float64
NumPy: the one-thread-per-output loops over major axes sum pairwise (reductions.py reduce_nest), and so does
the GEMM's k loop (gemm.py). A thread's share of a block-per-row reduction or row kernel is the same kind of
sum (strided_reduce) but long only for rows too big for the emulator (row_cases.py's 10000-wide rows run it)."""
import shutil

import pytest

from reduction_cases import MAJOR_AXES, check, gram_case

pytestmark = pytest.mark.skipif(shutil.which("g++") is None and shutil.which("clang++") is None,
                                reason="the cuda emulator needs a C++ compiler")

LONG_DOTS = [gram_case(4, 10_000)]                                  # the GEMM kernel's k loop (gemm.py)


@pytest.mark.slow
@pytest.mark.parametrize("case", MAJOR_AXES + LONG_DOTS, ids=lambda c: c.name)
def test_long_reduction_is_accurate(case, emulated):
    check(case, "cuda")
