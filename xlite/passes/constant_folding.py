"""Constant folding: instructions computed from constants become constants, with the interpreter's rules.

Broadcasts stay lazy where a literal would be large or pointless: a broadcast of a
scalar is never folded (it is the canonical splat, which backends keep in a register),
and a broadcast or iota with more than FOLD_LIMIT elements is kept as it is, since
folding `zeros([4096, 4096])` would put a 64 MiB literal into the program. Elementwise
ops on matching broadcasts of constants fold into a broadcast of the folded operand;
other consumers of lazy values fold only while their results stay small. Folding never
makes a constant with more than max(FOLD_LIMIT, the largest constant it reads) elements.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from xlite.ir.module import Computation, Instruction, Module
from xlite.ir.opcodes import is_elementwise, op_info
from xlite.ir.shape import Shape
from xlite.ir.symbolic import has_symbolic
from xlite.passes.pass_pipeline import Pass
from xlite.passes.rewrite import Rewrite, rewrite_computation
from xlite.semantics.eval_rules import evaluate_instruction

FOLD_LIMIT = 1024   # elements a folded result may have (or as many as the largest constant it reads)
_NEVER_FOLDED = frozenset({"parameter", "constant", "rng", "tuple", "get_tuple_element"})
_LAZY = frozenset({"broadcast_in_dim", "iota"})


class _Known:
    """A compile-time value: a constant's literal, or a lazy broadcast/iota evaluated on demand.

    `weight` is the number of literal elements behind it: what folding it costs in memory."""

    __slots__ = ("_value", "_compute", "weight")

    def __init__(self, weight: int, value: np.ndarray | None = None, compute: Callable | None = None):
        self._value, self._compute, self.weight = value, compute, weight

    @property
    def value(self) -> np.ndarray:
        if self._value is None:
            self._value = self._compute()
        return self._value


def _foldable_shape(shape) -> bool:
    """An array of known size (a symbolic size, xlite/ir/symbolic.py, is no literal's)."""
    return not shape.is_tuple and shape.is_static and shape.dtype.np_name is not None \
        and not has_symbolic(shape.dims)


def _constant(value: np.ndarray, like: Instruction, shape: Shape | None = None) -> Instruction:
    shape = shape or like.shape
    literal = np.asarray(value, dtype=shape.dtype.np).reshape(shape.dims)
    return Instruction("constant", (), shape, literal=literal, metadata=like.metadata)


class ConstantFolding(Pass):
    """Folds in one sweep per computation, operands before users, so whole constant subgraphs fold at once."""

    name = "constant-folding"

    def run(self, module: Module) -> bool:
        changed = False
        for comp in module.all_computations():
            changed |= self.fold_computation(comp)
        return changed

    def fold_computation(self, comp: Computation) -> bool:
        known: dict[Instruction, _Known] = {}

        def fold(inst: Instruction) -> Rewrite:
            if inst.opcode == "constant":
                known[inst] = _Known(inst.literal.size, value=inst.literal)
                return None
            if inst.opcode in _NEVER_FOLDED or inst.called or op_info(inst.opcode).run_time_only \
                    or not _foldable_shape(inst.shape):
                return None
            if not all(o in known for o in inst.operands):
                return None
            args = [known[o] for o in inst.operands]
            weight = max([a.weight for a in args], default=1)
            if is_elementwise(inst.opcode):
                folded = _fold_under_broadcast(inst, known)
                if folded is not None:
                    return folded
            scalar_broadcast = inst.opcode == "broadcast_in_dim" and inst.operands[0].shape.rank == 0
            if not scalar_broadcast and inst.shape.num_elements <= max(FOLD_LIMIT, weight):
                new = _constant(evaluate_instruction(inst, [a.value for a in args]), inst)
                known[new] = _Known(new.literal.size, value=new.literal)
                return new, (new,)
            if inst.opcode in _LAZY:
                known[inst] = _Known(weight, compute=lambda: np.asarray(
                    evaluate_instruction(inst, [a.value for a in args])))
            return None

        return rewrite_computation(comp, fold)


def _fold_under_broadcast(inst: Instruction, known: dict) -> Rewrite:
    """op(broadcast(c1), broadcast(c2)) -> broadcast(op(c1, c2)) when the broadcasts match."""
    first = inst.operands[0]
    for o in inst.operands:
        if (o.opcode != "broadcast_in_dim" or o.operands[0].opcode != "constant"
                or o.attrs["dimensions"] != first.attrs["dimensions"]
                or o.operands[0].shape.dims != first.operands[0].shape.dims):
            return None
    small = Shape(inst.shape.dtype, first.operands[0].shape.dims)
    with_small = Instruction(inst.opcode, [o.operands[0] for o in inst.operands], small, inst.attrs)
    value = evaluate_instruction(with_small, [o.operands[0].literal for o in inst.operands])
    c = _constant(value, inst, small)
    known[c] = _Known(c.literal.size, value=c.literal)
    b = Instruction("broadcast_in_dim", (c,), inst.shape, {"dimensions": first.attrs["dimensions"]},
                    metadata=inst.metadata)
    known[b] = _Known(c.literal.size, compute=lambda: np.asarray(evaluate_instruction(b, [c.literal])))
    return b, (c, b)
