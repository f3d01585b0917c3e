"""The elemental emitter: `element(inst, index)` computes one element of any elemental instruction.

It recurses through a (fused) computation's instructions, so a whole loop
fusion computes each output element from its inputs' elements in registers:
elementwise ops use the `@cpu_rule`s of elemental.py, index-transforming ops
(broadcast, reshape, transpose, slice, pad, concatenate, reverse, bitcast,
gather) only rewrite the index, and reductions (reduce, argmax, reduce_window,
small dot, convolution) emit an inner loop that accumulates in registers.
Instructions whose values are in memory (kernel inputs, materialized values)
are loads from their `IrArray`.

Values computed at one index are memoized, scoped to the control flow that
computed them (a loop body or a branch), so shared subexpressions are
computed once per element.
"""
from __future__ import annotations

import contextlib

import numpy as np
from llvmlite import ir

from xlite import errors
from xlite.codegen.cpu.elemental import emit_elementwise, has_elemental_rule
from xlite.codegen.cpu.ir_array import Index, IrArray, physical_order
from xlite.codegen.cpu.llvm_types import I64, constant, i64, is_unsigned, register_type, round_to_dtype
from xlite.ir.module import Instruction
from xlite.ir.opcodes import RuleTable

_ELEMENT_RULES = RuleTable()
# element_rule registers `fn(gen, inst, index) -> value` for an elemental non-elementwise opcode.
element_rule = _ELEMENT_RULES.register


def is_elemental(opcode: str) -> bool:
    return has_elemental_rule(opcode) or opcode in _ELEMENT_RULES


class ElementGenerator:
    """Element values of instructions in one function; `arrays` holds those already in memory."""

    def __init__(self, fc, arrays: dict[Instruction, IrArray] | None = None):
        self.fc = fc
        self.arrays: dict[Instruction, IrArray] = dict(arrays or {})
        self._memo: list[dict] = [{}]

    @property
    def b(self) -> ir.IRBuilder:
        return self.fc.builder

    @contextlib.contextmanager
    def scope(self):
        """Values computed inside (a loop body, a branch) are forgotten on exit."""
        self._memo.append({})
        try:
            yield
        finally:
            self._memo.pop()

    def element(self, inst: Instruction, index: Index):
        key, pinned = (inst, index), (inst, None)
        for scope in reversed(self._memo):
            if key in scope:
                return scope[key]
            if pinned in scope:
                return scope[pinned]
        value = self._compute(inst, index)
        self._memo[-1][key] = value
        return value

    def pin(self, inst: Instruction, value) -> None:
        """inst is `value` wherever this scope asks for it (a row kernel's reduction of the current row)."""
        self._memo[-1][(inst, None)] = value

    def _compute(self, inst: Instruction, index: Index):
        array = self.arrays.get(inst)
        if array is not None:
            return array.load(self.b, index)
        op = inst.opcode
        if has_elemental_rule(op):
            values = []
            for operand in inst.operands:
                sub = index if operand.shape.rank == inst.shape.rank else Index((), values=[])
                values.append(self.element(operand, sub))
            return emit_elementwise(self.fc, inst, values)
        rule = _ELEMENT_RULES.get(op)
        if rule is None:
            raise errors.unimplemented(f"opcode {op!r} cannot be computed elementally by the cpu backend")
        return round_to_dtype(self.b, rule(self, inst, index), inst.shape.dtype)

    # helpers for rules -------------------------------------------------------------------
    def accumulator(self, ty: ir.Type, initial):
        slot = self.fc.alloca(ty)
        self.b.store(initial, slot)
        return slot

    def guarded_element(self, inst: Instruction, values: list, valid, fill):
        """inst's element at `values` where `valid`, else `fill`; the index is clamped so no load is ever
        out of bounds, and an empty `inst` is never read at all."""
        if 0 in inst.shape.dims:
            return fill
        b = self.b
        clamped = []
        for v, size in zip(values, inst.shape.dims):
            if isinstance(v, ir.Constant):
                clamped.append(v)
                continue
            v = b.select(b.icmp_signed("<", v, i64(0)), i64(0), v)
            clamped.append(b.select(b.icmp_signed(">", v, i64(size - 1)), i64(size - 1), v))
        value = self.element(inst, Index(inst.shape.dims, values=clamped))
        if valid is None:
            return value
        return b.select(valid, value, fill)


def and_all(b: ir.IRBuilder, conds: list):
    result = None
    for c in conds:
        result = c if result is None else b.and_(result, c)
    return result


def index_to_i64(b: ir.IRBuilder, value, dtype):
    width = value.type.width
    if width == 64:
        return value
    return b.zext(value, I64) if is_unsigned(dtype) or dtype.is_bool else b.sext(value, I64)


# leaves -----------------------------------------------------------------------------------
@element_rule("constant")
def _constant(gen: ElementGenerator, inst: Instruction, index: Index):
    lit = inst.literal
    if lit.size and (lit.ndim == 0 or _is_splat(lit)):
        return constant(inst.shape.dtype, lit.reshape(-1)[0])
    physical = np.transpose(lit, physical_order(inst.shape)) if lit.ndim else lit
    gv = gen.fc.cg.constant_data(physical)
    return IrArray(gv, inst.shape).load(gen.b, index)


def _is_splat(lit: np.ndarray) -> bool:
    if lit.size > 1 << 16:
        return False
    flat = lit.reshape(-1)
    return bool(np.all(flat.view(np.uint8).reshape(flat.size, -1) == flat[:1].view(np.uint8)))


@element_rule("iota")
def _iota(gen: ElementGenerator, inst: Instruction, index: Index):
    v = index.values(gen.b)[inst.attrs["dimension"]]
    dt = inst.shape.dtype
    ty = register_type(dt)
    if dt.is_floating:
        return gen.b.sitofp(v, ty)
    if dt.is_bool:
        return gen.b.icmp_unsigned("!=", v, i64(0))
    return v if ty.width == 64 else gen.b.trunc(v, ty)


@element_rule("parameter")
def _parameter(gen, inst, index):
    raise errors.unimplemented(f"parameter {inst.name} has no buffer in this kernel")


__all__ = ["ElementGenerator", "element_rule", "is_elemental", "and_all", "index_to_i64"]
