"""Instructions, computations and modules: plain Python objects that every pass and backend reads."""
from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from xlite.ir.opcodes import op_info


@dataclass(frozen=True)
class Metadata:
    """Where an instruction came from: the TF op name and the user's source line."""
    op_name: str = ""
    op_type: str = ""
    source_file: str = ""
    source_line: int = 0

    def where(self) -> str:
        return f"{self.source_file}:{self.source_line}" if self.source_file else "<unknown>"


_ids = itertools.count(1)


class Instruction:
    """One IR instruction. Attributes are immutable values; `literal` holds a constant's array."""

    __slots__ = ("id", "opcode", "operands", "shape", "attrs", "name", "metadata", "literal",
                 "called", "__weakref__")

    def __init__(self, opcode: str, operands, shape, attrs=None, name: str | None = None,
                 metadata: Metadata | None = None, literal: np.ndarray | None = None,
                 called: tuple = ()):
        op_info(opcode)
        self.id = next(_ids)
        self.opcode = opcode
        self.operands = list(operands)
        self.shape = shape
        self.attrs = dict(attrs or {})
        self.name = name or f"{opcode}.{self.id}"
        self.metadata = metadata or Metadata()
        if literal is not None:
            literal = np.asarray(literal)
            if literal.flags.writeable:
                literal = literal.copy()
                literal.flags.writeable = False
        self.literal = literal
        self.called = tuple(called)   # sub-computations: while (cond, body), conditional, fusion

    @property
    def dtype(self):
        return self.shape.dtype

    def __repr__(self) -> str:
        return f"<{self.opcode} %{self.name} {self.shape}>"


class Computation:
    """Parameters, instructions in a valid (operands-first) order, and a root."""

    def __init__(self, name: str, instructions: list[Instruction] | None = None,
                 root: Instruction | None = None):
        self.name = name
        self.instructions: list[Instruction] = list(instructions or [])
        self.root = root if root is not None else (self.instructions[-1] if self.instructions else None)

    @property
    def parameters(self) -> list[Instruction]:
        params = [i for i in self.instructions if i.opcode == "parameter"]
        return sorted(params, key=lambda p: p.attrs["number"])

    def users(self) -> dict[Instruction, list[Instruction]]:
        result: dict[Instruction, list[Instruction]] = {i: [] for i in self.instructions}
        for inst in self.instructions:
            for operand in inst.operands:
                result.setdefault(operand, []).append(inst)
        return result

    def add(self, inst: Instruction) -> Instruction:
        self.instructions.append(inst)
        return inst

    def __str__(self) -> str:
        from xlite.ir.printer import print_computation
        return print_computation(self)


class Module:
    """An entry computation plus the sub-computations that while, conditional and fusion call."""

    def __init__(self, name: str, entry: Computation | None = None):
        self.name = name
        self.entry = entry
        self.computations: list[Computation] = []
        # Facts the frontend records about the run signature, which passes and codegen honour:
        # root output index -> the parameter number of the Variable it updates in place, and how many
        # root outputs are fetches (the rest are updates; None when the Module is not a Session run).
        self.output_aliases: dict[int, int] = {}
        self.fetch_count: int | None = None
        # Set by layout assignment: every array shape carries a layout from then on (the verifier checks).
        self.layouts_assigned = False

    def add_computation(self, comp: Computation) -> Computation:
        self.computations.append(comp)
        return comp

    def all_computations(self) -> list[Computation]:
        """Every computation after the ones it calls, the entry last (the order the printer and parser use)."""
        ordered: list[Computation] = []
        seen: set[int] = set()
        registered = {id(c) for c in self.computations}
        for start in self.computations:       # depth first, with a stack: call chains may be thousands deep
            if id(start) in seen:
                continue
            seen.add(id(start))
            stack = [(start, iter([callee for inst in start.instructions for callee in inst.called]))]
            while stack:
                comp, callees = stack[-1]
                callee = next((c for c in callees if id(c) in registered and id(c) not in seen), None)
                if callee is None:
                    stack.pop()
                    if comp is not self.entry:
                        ordered.append(comp)
                    continue
                seen.add(id(callee))
                stack.append((callee, iter([c for inst in callee.instructions for c in inst.called])))
        return ordered + ([self.entry] if self.entry is not None else [])

    def __str__(self) -> str:
        from xlite.ir.printer import print_module
        return print_module(self)
