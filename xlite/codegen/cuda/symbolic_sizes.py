"""Symbolic sizes in CUDA C: a program whose shapes have run-time sizes (xlite/ir/symbolic.py) reads
each size polynomial it uses from a device-side table the executable fills once per set of sizes.

While a `CudaSlotTable` is active, a SymInt (or Derived) printed into a kernel is `xs[K]`, slot K of
the table that every kernel of a symbolic program takes as its last argument (`Loc("sizes")`); index
arithmetic is then 64-bit. Launch grids, copy sizes, arena offsets and result sizes are SymInts or
Derived sizes in the Program, evaluated on the host at launch time for the run's sizes.
"""
from __future__ import annotations

from dataclasses import dataclass

from xlite.ir.symbolic import Derived, SlotTable, _SLOTS, evaluate, is_runtime

SIZES_PARAM = "xs"


@dataclass(frozen=True)
class SizesTable:
    """The kernel argument that is the run's device-side slot table (a Loc of its own kind)."""
    kind: str = "sizes"
    index: int = 0


SIZES_LOC = SizesTable()


class CudaSlotTable(SlotTable):
    """Slot K prints as `xs[K]` (a `const long long*` kernel argument)."""

    def name(self, x) -> str:
        return f"{SIZES_PARAM}[{self.slot(x)}]"


def active_slots() -> CudaSlotTable | None:
    """The CUDA slot table codegen is printing sizes into, if a symbolic program is being emitted."""
    table = _SLOTS.get()
    return table if isinstance(table, CudaSlotTable) else None


def capped(x, cap: int):
    """min(x, cap) for a launch extent; a run-time x gives a run-time extent evaluated at launch."""
    return Derived("min", x, cap) if is_runtime(x) else min(x, cap)


def at_least_one(x, env: dict) -> int:
    """A launch extent for the run's sizes (never 0 blocks)."""
    return max(1, evaluate(x, env))


__all__ = ["CudaSlotTable", "active_slots", "at_least_one", "capped", "SIZES_PARAM", "SIZES_LOC", "SizesTable"]
