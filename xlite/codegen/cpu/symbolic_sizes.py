"""Symbolic sizes in generated code: a module whose shapes have run-time sizes (xlite/ir/symbolic.py)
reads each size polynomial it uses from a slot table the executable fills at every run.

The kernels and the entry are emitted as for static shapes; a SymInt where a constant would go prints
(under `slot_table`) as `%"xs.K"`, the value of slot K. When the module's text is made, each function
that uses slots gets them loaded at its start from the table the entry stored in `@xlite_sizes`, so
every loop bound, BLAS size and buffer offset is an ordinary register. The executable evaluates the
slot polynomials (EntryPlan.slots) for the run's sizes and passes the table after the stop word.
"""
from __future__ import annotations

import re

from llvmlite import ir

from xlite.codegen.cpu.llvm_types import PTR
from xlite.codegen.cpu.plan import TEMP_SYMBOL
from xlite.ir.symbolic import SlotTable, SymInt, slot_table

SIZES_GLOBAL = "xlite_sizes"

_SLOT = re.compile(r'%"xs\.(\d+)"')


def sizes_global(module: ir.Module) -> ir.GlobalVariable:
    """The pointer to this run's slot table (the entry stores it; every kernel reads it)."""
    gv = ir.GlobalVariable(module, PTR, SIZES_GLOBAL)
    gv.linkage = "internal"
    gv.initializer = ir.Constant(PTR, None)
    return gv


class SlottedModule(ir.Module):
    """An ir.Module whose text defines, in each function, the size slots that function reads."""

    slots: SlotTable

    def __str__(self) -> str:
        with slot_table(self.slots):
            text = super().__str__()
        return define_slots(text)


def use_slots(module: ir.Module, slots: SlotTable) -> None:
    module.__class__ = SlottedModule
    module.slots = slots


def define_slots(text: str) -> str:
    """`text` with `%"xs.K" = ...` loads at the start (the `allocas` block) of each function using slot K
    (in the entry, after it stored the table's pointer)."""
    lines = text.split("\n")
    out: list = []
    start = None                # where the current function's allocas block begins in `out`
    used: set = set()
    for line in lines:
        if line.startswith("define "):
            start, used = None, set()
        elif line == "allocas:" and start is None:
            out.append(line)
            start = len(out)
            continue
        elif line == "}" and start is not None:
            if used:
                loads = [f'  %"xsp" = load ptr, ptr @"{SIZES_GLOBAL}"']
                for k in sorted(used):
                    loads.append(f'  %"xs.{k}.p" = getelementptr inbounds i64, ptr %"xsp", i64 {k}')
                    loads.append(f'  %"xs.{k}" = load i64, ptr %"xs.{k}.p"')
                out[start:start] = loads
            start = None
        if start is not None:
            used.update(int(k) for k in _SLOT.findall(line))
        out.append(line)
        if start is not None and line.startswith("  store ptr") and line.endswith(f'@"{SIZES_GLOBAL}"'):
            start = len(out)        # the entry, which stores the table first: its loads come after
    return "\n".join(out)


def temp_offset() -> SymInt:
    return SymInt.symbol(TEMP_SYMBOL)


__all__ = ["SlottedModule", "use_slots", "define_slots", "sizes_global", "temp_offset", "SIZES_GLOBAL",
           "TEMP_SYMBOL"]
