"""What the pass pipeline hands the code generators: the optimized Module and the pass results.

A CompiledModule is the typed replacement for results that passes used to leave in a string-keyed
dict on the Module. Its fields are what codegen needs and nothing it must rediscover:

- `module`: the optimized Module. Fusion kinds are the `kind` attribute of its `fusion`
  instructions (IR, printed and parsed with it); layouts are on its shapes.
- `buffer_assignment`: where each entry value lives (xlite/ir/buffers.py).
- `schedule`: the order the entry runs its instructions in, which scheduling chose; it is the
  entry computation's instruction order, exposed here so callers need not know that.
- `output_aliases`: root outputs written into a Variable's buffer (a frontend fact on the Module).

Being a distinct type also answers "is this Module optimized already?" by type, where callers used
to probe the dict for a buffer assignment.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from xlite.ir.buffers import BufferAssignment
from xlite.ir.module import Instruction, Module

# How a code generator writes its own dump stages (LLVM IR, assembly, CUDA C, PTX) without knowing
# where dumps go: (stage name, text, file extension). The compile driver passes one when dumping is on.
TextDump = Callable[[str, str, str], None]


@dataclass(frozen=True)
class CompiledModule:
    module: Module
    buffer_assignment: BufferAssignment

    @property
    def schedule(self) -> tuple[Instruction, ...]:
        return tuple(self.module.entry.instructions)

    @property
    def output_aliases(self) -> dict[int, int]:
        return self.module.output_aliases

    @property
    def layouts_assigned(self) -> bool:
        return self.module.layouts_assigned


__all__ = ["CompiledModule", "TextDump"]
