"""Common-subexpression elimination: identical instructions in a computation are computed once."""
from __future__ import annotations

from xlite.ir.module import Instruction, Module
from xlite.passes.pass_pipeline import Pass
from xlite.passes.rewrite import rewrite_computation

# parameters are distinct inputs; two rng ops stand for two independent draws; two host calls, two calls
_NEVER_MERGED = frozenset({"parameter", "rng", "host_call"})
_COMMUTATIVE = frozenset({"add", "mul", "max", "min", "and", "or"})


def _frozen(value):
    if isinstance(value, (tuple, list)):
        return tuple(_frozen(v) for v in value)
    return value


def instruction_key(inst: Instruction) -> tuple:
    """Equal keys mean equal values: opcode, operands, attributes, shape, literal and callees."""
    operands = [id(o) for o in inst.operands]
    if inst.opcode in _COMMUTATIVE:
        operands.sort()
    literal = None
    if inst.literal is not None:
        literal = (inst.literal.dtype.str, inst.literal.shape, inst.literal.tobytes())
    attrs = tuple(sorted((k, _frozen(v)) for k, v in inst.attrs.items()))
    return (inst.opcode, tuple(operands), attrs, inst.shape, literal, tuple(id(c) for c in inst.called))


class CommonSubexpressionElimination(Pass):
    """Keeps the first of each set of identical instructions; later ones read it instead."""

    name = "cse"

    def run(self, module: Module) -> bool:
        changed = False
        for comp in module.all_computations():
            first: dict[tuple, Instruction] = {}

            def merge(inst: Instruction):
                if inst.opcode in _NEVER_MERGED:
                    return None
                canonical = first.setdefault(instruction_key(inst), inst)
                return None if canonical is inst else (canonical, ())

            changed |= rewrite_computation(comp, merge)
        return changed
