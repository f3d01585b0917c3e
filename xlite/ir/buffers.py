"""The buffer assignment as data: where each array value of the entry computation lives.

Buffer assignment (xlite/passes/buffer_assignment.py) computes it; the code generators read it. It
lives in the IR layer so that codegen can take it without importing the passes (imports flow one
way: codegen depends on the IR, never on the passes that produced what it reads). The meaning of
each field is documented with the pass that fills it.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from xlite.ir.module import Instruction
from xlite.ir.symbolic import align_up

ALIGNMENT = 64


@dataclass(frozen=True)
class BufferSlice:
    kind: str            # "arena" | "parameter" | "constant" | "output"
    offset: int = 0      # arena byte offset, the parameter number, or the output index
    size: int = 0        # bytes


@dataclass
class BufferAssignment:
    slices: dict = field(default_factory=dict)     # Instruction -> BufferSlice
    arena_bytes: int = 0
    peak_bytes: int = 0
    live_ranges: dict = field(default_factory=dict)    # Instruction -> (first, last) schedule positions
    shares: dict = field(default_factory=dict)         # Instruction -> the instruction whose buffer it reuses

    def slice_of(self, inst: Instruction) -> BufferSlice:
        return self.slices[inst]


def aligned(n):
    """n bytes rounded up to ALIGNMENT (a symbolic size to a bound that is aligned for every run)."""
    return align_up(n, ALIGNMENT)


__all__ = ["ALIGNMENT", "BufferSlice", "BufferAssignment", "aligned"]
