"""The block plan both backends' pairwise float sums follow (cpu/pairwise.py, cuda/pairwise.py).

A long float reduction accumulated in one register rounds every element into
an ever larger sum: its error grows with n (a [5000, 5000] mean of ones came
out 0.99). Like NumPy's and Eigen's, xlite's sums add a block of elements into
a fresh register, then combine block sums like a binary counter: two sums of
2^k blocks merge into one of 2^(k+1), so an element goes through about
block + log2(n / block) roundings.
"""
from __future__ import annotations

from xlite.ir.dtypes import DType
from xlite.ir.symbolic import guess

SERIAL_BLOCK = 32      # terms of a block added in one serial chain


RUNTIME_LEVELS = 47        # pairwise levels for a block count known only at run time (a 47-bit address space)


def is_pairwise(kind: str, dt: DType, n: int, block: int = SERIAL_BLOCK) -> bool:
    """Float sums longer than one block are summed pairwise; other kinds lose nothing to order."""
    return kind == "sum" and dt.is_floating and guess(lambda: n > block, True)   # (symbolic n: any length)


def block_split(sizes: list, block: int) -> tuple[int, int]:
    """(t, chunk) for a loop nest over `sizes` (outermost first): a block is `chunk` steps of loop t times all
    the loops inside it, at most `block` elements; the loops outside t and t's chunks count blocks."""
    inner = 1
    for t in range(len(sizes) - 1, -1, -1):
        if guess(lambda: inner * sizes[t] > block, True):
            return t, max(1, block // inner)
        inner *= sizes[t]
    return 0, sizes[0]


__all__ = ["SERIAL_BLOCK", "RUNTIME_LEVELS", "is_pairwise", "block_split"]
