"""The plan both backends' row kernels follow for a row fusion (passes/row_fusion.py).

A row kernel computes, for each row, every reduction in order (a phase each:
a pass over the row's elements), then the root's elements of the row (one
more phase) or the root's single element when it is row-shaped. A value that
several phases evaluate per element is computed again in each, unless the
backend keeps it for the row (`RowPlan.kept_values`): an expensive one, such
as a softmax's exp, is then computed once per element with one rounding.
"""
from __future__ import annotations

from dataclasses import dataclass
from math import prod
from typing import Callable

from xlite.codegen.walk import operands_first
from xlite.ir.module import Instruction
from xlite.ir.shape import Shape, physical_order


def below(start: Instruction, stops) -> set:
    """The instructions evaluated per element of `start`, down to (not into) those in `stops`."""
    return set(operands_first([start], stops))


@dataclass
class RowPlan:
    reduces: list            # the reductions, operands first
    full: Shape              # the reduced operand's shape
    rows: Shape              # one element per row
    reduced: list            # the reduced dims of full, in its physical order
    kept: list               # the others, in logical order
    phases: list             # per reduction, then the root if full-shaped: the values it evaluates per element

    @property
    def n_rows(self) -> int:
        return prod(self.rows.dims)

    @property
    def n_cols(self) -> int:
        return prod(self.full.dims[d] for d in self.reduced)

    @property
    def contiguous(self) -> bool:
        """A row's elements are one run in full's layout (its kept dims go in the rows' order)."""
        order = [self.kept.index(d) for d in physical_order(self.full) if d in self.kept]
        return order == list(physical_order(self.rows))

    def kept_values(self, expensive: Callable[[Instruction], bool], max_bytes: int) -> list:
        """Full-shaped values that a later phase needs again and that `expensive` says are worth a row
        buffer, in the order phases first compute them; none when their rows exceed max_bytes."""
        chosen = []
        for k, phase in enumerate(self.phases):
            later = set().union(*self.phases[k + 1:]) if k + 1 < len(self.phases) else set()
            earlier = set().union(*self.phases[:k]) if k else set()
            for inst in sorted(phase & later - earlier, key=lambda i: i.name):
                if inst.shape.dims == self.full.dims and expensive(inst):
                    chosen.append(inst)
        stops = set(self.reduces)
        under = set().union(*(below(i, stops) - {i} for i in chosen)) if chosen else set()
        chosen = [i for i in chosen if i not in under]
        if sum(self.n_cols * i.shape.dtype.itemsize for i in chosen) > max_bytes:
            return []
        return chosen

    def phase_of(self, inst: Instruction) -> int:
        return next(k for k, phase in enumerate(self.phases) if inst in phase)


def plan_rows(root: Instruction, in_memory) -> RowPlan:
    """The RowPlan of a row fusion's root; `in_memory` holds the kernel's inputs."""
    order = operands_first([root], in_memory)
    reduces = [i for i in order if i.opcode == "reduce"]
    first = reduces[0]
    full, rows = first.operands[0].shape, first.shape
    reduced = [d for d in physical_order(full) if d in first.attrs["dimensions"]]
    kept = [d for d in range(full.rank) if d not in reduced]
    stops = set(in_memory) | set(reduces)
    phases = [below(r.operands[0], stops) for r in reduces]
    if root.shape.dims == full.dims:
        phases.append(below(root, stops))
    return RowPlan(reduces, full, rows, reduced, kept, phases)


__all__ = ["RowPlan", "plan_rows", "below"]
