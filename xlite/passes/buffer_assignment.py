"""Where every array value of the entry computation lives: a slice of one arena, or a caller's buffer.

The data that codegen reads (`module.properties["buffer_assignment"]`):
- parameters live in the caller's buffers (kind "parameter");
- constants live in the executable's read-only data (kind "constant");
- a value the root tuple returns that is aliased to a parameter (a Variable's
  update) lives in that parameter's buffer (kind "parameter", same number);
- everything else is a slice [offset, offset + size) of one arena (kind "arena"),
  64-byte aligned; tuple-shaped values (tuple, while state) have no buffer of
  their own: their elements do.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from xlite.ir.module import Instruction, Module
from xlite.passes.pass_pipeline import Pass

ALIGNMENT = 64


@dataclass(frozen=True)
class BufferSlice:
    kind: str            # "arena" | "parameter" | "constant"
    offset: int = 0      # arena byte offset, or the parameter number
    size: int = 0        # bytes


@dataclass
class BufferAssignment:
    slices: dict = field(default_factory=dict)     # Instruction -> BufferSlice
    arena_bytes: int = 0
    peak_bytes: int = 0

    def slice_of(self, inst: Instruction) -> BufferSlice:
        return self.slices[inst]


def aligned(n: int) -> int:
    return (n + ALIGNMENT - 1) // ALIGNMENT * ALIGNMENT


class NaiveBufferAssignment(Pass):
    """Gives every array value its own arena slice, with no reuse; the baseline the liveness-based pass beats."""

    name = "naive-buffer-assignment"

    def run(self, module: Module) -> bool:
        aliases = module.properties.get("output_aliases", {})
        entry = module.entry
        assignment = BufferAssignment()
        root_elements = entry.root.operands if entry.root.opcode == "tuple" else [entry.root]
        aliased = {}
        for out_index, param_number in aliases.items():
            aliased[root_elements[out_index]] = param_number
        offset = 0
        for inst in entry.instructions:
            if inst.shape.is_tuple:
                continue
            if inst.opcode == "parameter":
                assignment.slices[inst] = BufferSlice("parameter", inst.attrs["number"], inst.shape.byte_size)
            elif inst.opcode == "constant":
                assignment.slices[inst] = BufferSlice("constant", 0, inst.shape.byte_size)
            elif inst in aliased:
                assignment.slices[inst] = BufferSlice("parameter", aliased[inst], inst.shape.byte_size)
            else:
                assignment.slices[inst] = BufferSlice("arena", offset, inst.shape.byte_size)
                offset += aligned(inst.shape.byte_size)
        assignment.arena_bytes = offset
        assignment.peak_bytes = offset
        module.properties["buffer_assignment"] = assignment
        return True
