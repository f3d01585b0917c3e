"""Where every array value of the entry computation lives: a slice of one arena, or a caller's buffer.

The data that codegen reads (`module.properties["buffer_assignment"]`):
- parameters live in the caller's buffers (kind "parameter");
- constants live in the executable's read-only data (kind "constant");
- a value the root tuple returns that is aliased to a parameter (a Variable's
  update) lives in that parameter's buffer (kind "parameter", same number);
  where writing it there early would clobber a later read of the old value (or
  the value is a parameter or constant itself), `place_aliased_outputs` first
  inserts a `copy` scheduled after every reader, and the copy gets the buffer;
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


def place_aliased_outputs(module: Module) -> dict:
    """Instruction -> parameter number for each aliased output, inserting copies where in-place is unsafe."""
    entry = module.entry
    aliases = module.properties.get("output_aliases", {})
    if not aliases or entry.root.opcode != "tuple":
        return {}
    position = {inst: i for i, inst in enumerate(entry.instructions)}
    users = entry.users()
    params = {p.attrs["number"]: p for p in entry.parameters}
    placed: dict = {}
    for out_index, number in sorted(aliases.items()):
        value = entry.root.operands[out_index]
        param = params[number]
        last_read = max((position[u] for u in users[param] if u is not entry.root), default=-1)
        unsafe = (value.opcode in ("parameter", "constant") or value in placed
                  or position[value] < last_read)
        if unsafe:
            copy = Instruction("copy", [value], value.shape, metadata=value.metadata)
            entry.instructions.insert(len(entry.instructions) - 1, copy)
            entry.root.operands[out_index] = copy
            position = {inst: i for i, inst in enumerate(entry.instructions)}
            value = copy
        placed[value] = number
    return placed


class NaiveBufferAssignment(Pass):
    """Gives every array value its own arena slice, with no reuse; the baseline the liveness-based pass beats."""

    name = "naive-buffer-assignment"

    def run(self, module: Module) -> bool:
        entry = module.entry
        assignment = BufferAssignment()
        aliased = place_aliased_outputs(module)
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
