"""Where a value lives at run time, as the entry function sees it."""
from __future__ import annotations

from dataclasses import dataclass

from xlite.codegen.cpu.function import ALIGNMENT


@dataclass(frozen=True)
class Loc:
    """A buffer: a parameter's array, a result array the caller allocates, an arena slice, or constant data.

    Two different Locs never overlap (arena slices are either identical or disjoint), so
    kernels may mark every distinct buffer argument `noalias`.
    """
    kind: str          # "param" | "result" | "arena" | "const"
    index: int = 0     # parameter number, result index, arena byte offset
    name: str = ""     # the constant's global

    @property
    def aligned(self) -> bool:
        """Whether the buffer is known to be 64-byte aligned: arena slices and constants are; parameters
        and results are NumPy arrays, only naturally aligned (results must own their data, so the
        Session can hand them out without a copy, and NumPy aligns its own allocations to 16 bytes)."""
        if self.kind == "arena":
            return self.index % ALIGNMENT == 0
        return self.kind == "const"


TEMP = Loc("temp")   # the per-kernel scratch region, reused by every kernel
