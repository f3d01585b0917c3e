"""Kernels: one LLVM function per scheduled instruction or fusion, computing its value into its buffers.

`build_kernel` makes `void kN(ptr buf0, ..., ptr temp, i64 begin, i64 end)`, one
`noalias` pointer per distinct buffer (an input computed over in place is one
argument, read and written at the same index). Its body evaluates the root of the (fused) computation:
ops that must be materialized first (a BLAS dot, scatter_add, ...) run
through their `@kernel_rule`, writing into the output buffer when only
same-index elementwise ops stand between them and the root (an output
fusion's epilogue then updates it in place) or into the temp region
otherwise; everything else is one loop nest over the output whose body is
the elemental emitter. The innermost loop is contiguous in the output's
layout, and a chain of same-shaped elementwise ops runs as one flat loop. A
kernel that is one loop nest runs [begin, end) of its outermost loop, so the
caller may share it out over threads.
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass
from math import prod
from typing import Callable

from llvmlite import ir

from xlite.codegen.cpu.buffers import TEMP, Loc
from xlite.codegen.cpu.element_generator import ElementGenerator, is_elemental
from xlite.codegen.cpu.elemental import has_elemental_rule
from xlite.codegen.cpu.function import ALIGNMENT, CodegenModule
from xlite.codegen.cpu.ir_array import Index, IrArray, physical_order
from xlite.codegen.cpu.llvm_types import I64, PTR, check_dtype
from xlite.codegen.walk import operands_first
from xlite.ir.module import Instruction
from xlite.ir.opcodes import op_info
from xlite.ir.shape import Layout, Shape
from xlite.ir.symbolic import align_up, nominal


@dataclass
class _KernelRule:
    emit: Callable          # emit(kernel, inst, out: IrArray)
    wants: Callable         # wants(inst) -> bool: materialize (True) or evaluate elementally (False)


_KERNEL_RULES: dict[str, _KernelRule] = {}


def kernel_rule(*opcodes: str, wants: Callable = lambda inst: True):
    def register(fn):
        for opcode in opcodes:
            _KERNEL_RULES[opcode] = _KernelRule(fn, wants)
        return fn
    return register


def has_kernel_rule(opcode: str) -> bool:
    return opcode in _KERNEL_RULES


def materializes(inst: Instruction) -> bool:
    rule = _KERNEL_RULES.get(inst.opcode)
    return rule is not None and (rule.wants(inst) or not is_elemental(inst.opcode))


def _same_layout(a: Shape, b: Shape) -> bool:
    return a.dims == b.dims and a.dtype == b.dtype and physical_order(a) == physical_order(b)


class Kernel:
    """The body of one kernel function: an element generator plus a bump-allocated temp region."""

    def __init__(self, fc, arrays: dict, temp_ptr, outputs_alias_inputs: bool, bounds=None):
        self.fc = fc
        self.gen = ElementGenerator(fc, arrays)
        self.temp_ptr = temp_ptr
        self.temp_bytes = 0
        self.outputs_alias_inputs = outputs_alias_inputs
        self.bounds = bounds          # (begin, end) of the outermost loop, when the kernel is one loop
        self.split = None             # (extent of that loop, estimated cost) when it is
        self.whole = False            # a kernel rule emits the whole kernel: it may split its outermost loop

    @property
    def b(self) -> ir.IRBuilder:
        return self.fc.builder

    def temp(self, shape: Shape) -> IrArray:
        offset = self.temp_bytes
        self.temp_bytes += align_up(shape.byte_size, ALIGNMENT)
        return IrArray(self.fc.byte_offset(self.temp_ptr, offset), shape)

    def via_temp(self, inst: Instruction, out: IrArray, emit: Callable) -> None:
        """`emit(kernel, inst, buffer)` into a row-major temp, then copied into `out` (a layout emit cannot write)."""
        target = self.temp(inst.shape.with_layout(None))
        emit(self, inst, target)
        self.gen.arrays[inst] = target
        self.emit_loop([inst], [out])
        del self.gen.arrays[inst]

    def array(self, inst: Instruction, orders=None) -> IrArray:
        """inst's value in memory, in one of the physical `orders` (major to minor) if given."""
        existing = self.gen.arrays.get(inst)
        if existing is not None and (orders is None or physical_order(existing.shape) in orders):
            return existing
        shape = inst.shape if orders is None else inst.shape.with_layout(
            Layout(tuple(reversed(orders[0]))))
        target = self.temp(shape)
        self.emit_loop([inst], [target])
        return target

    # emission -----------------------------------------------------------------------------
    def emit(self, root: Instruction, outs: list[IrArray]) -> None:
        leaves = list(root.operands) if root.opcode == "tuple" else [root]
        if self.bounds is not None and self._is_one_loop(leaves, outs):
            extent = self._loop_dims(leaves, outs[0].shape)[0]
            cost = prod(outs[0].shape.dims) * sum(element_cost(leaf, self.gen.arrays, {}) for leaf in leaves)
            self.split = (extent, cost)
            self.emit_loop(leaves, outs, self.bounds)
            return
        self._materialize_inside(leaves, outs)
        self.whole = len(leaves) == 1 and self.temp_bytes == 0 and self.bounds is not None
        elemental, elemental_outs = [], []
        for leaf, out in zip(leaves, outs):
            if leaf in self.gen.arrays and self.gen.arrays[leaf] is out:
                continue
            if materializes(leaf) and leaf not in self.gen.arrays:
                _KERNEL_RULES[leaf.opcode].emit(self, leaf, out)
            else:
                elemental.append(leaf)
                elemental_outs.append(out)
        if elemental:
            groups: dict = {}
            for leaf, out in zip(elemental, elemental_outs):
                groups.setdefault((out.shape.dims, physical_order(out.shape)), []).append((leaf, out))
            for group in groups.values():
                self.emit_loop([g[0] for g in group], [g[1] for g in group])

    def _is_one_loop(self, leaves: list, outs: list) -> bool:
        """Whether the whole kernel is one loop nest over outputs of one shape (so it can be split)."""
        shape = outs[0].shape
        if prod(shape.dims) == 0 or not shape.dims:
            return False
        if any(not _same_layout(o.shape.with_dtype(shape.dtype), shape) for o in outs):
            return False
        return not any(materializes(inst) for inst in operands_first(leaves, self.gen.arrays))

    def _materialize_inside(self, leaves: list, outs: list) -> None:
        """Materializes every non-elemental instruction below the roots, operands first."""
        for inst in operands_first(leaves, self.gen.arrays):
            if inst in leaves or not materializes(inst):
                continue
            target = self._shared_output(inst, leaves, outs) or self.temp(inst.shape)
            _KERNEL_RULES[inst.opcode].emit(self, inst, target)
            self.gen.arrays[inst] = target

    def _shared_output(self, inst: Instruction, leaves: list, outs: list) -> IrArray | None:
        """The output buffer inst can be computed into: the root reads it only at its own index."""
        if self.outputs_alias_inputs:
            return None
        for leaf, out in zip(leaves, outs):
            if not _same_layout(inst.shape, out.shape) or out in self.gen.arrays.values():
                continue
            if _reads_only_at_same_index(leaf, inst, self.gen.arrays) and all(
                    not _reaches(other, inst, self.gen.arrays) for other in leaves if other is not leaf):
                return out
        return None

    def _loop_dims(self, values: list, shape: Shape) -> list:
        """The loop extents: one flat loop when nothing needs per-dim indices, else the physical dims."""
        if shape.rank == 0 or all(_flat_ok(v, shape, self.gen.arrays, {}) for v in values):
            return [prod(shape.dims)]
        return [shape.dims[d] for d in physical_order(shape)]

    def emit_loop(self, values: list[Instruction], outs: list[IrArray], bounds=None) -> None:
        """out[i] = element(value, i) for every i, outermost dimension first, innermost contiguous;
        `bounds` (begin, end) restricts the outermost loop (a share of a parallel kernel)."""
        shape = outs[0].shape
        if prod(shape.dims) == 0:
            return
        order = physical_order(shape)
        fc, gen = self.fc, self.gen
        dims = self._loop_dims(values, shape)
        with contextlib.ExitStack() as stack:
            stack.enter_context(gen.scope())
            if bounds is not None:
                first = stack.enter_context(fc.for_range(bounds[1], "o0", start=bounds[0]))
            else:
                first = stack.enter_context(fc.for_range(dims[0], "o0"))
            ivs = [first] + stack.enter_context(fc.loop_nest(dims[1:], "o"))
            if shape.rank == 0:
                index = Index((), values=[])
            elif len(dims) == 1 and shape.rank != 1:
                index = Index(shape.dims, linear=ivs[0], order=order)
            else:
                vals = [None] * shape.rank
                for d, iv in zip(order, ivs):
                    vals[d] = iv
                index = Index(shape.dims, values=vals)
            for v, out in zip(values, outs):
                out.store(self.b, gen.element(v, index), index)


def element_cost(inst: Instruction, arrays: dict, memo: dict) -> int:
    """A rough count of operations per element of inst (loads 1, transcendental ~20), for deciding
    whether a loop is worth spreading over threads."""
    if inst in memo:
        return memo[inst]
    if inst in arrays or inst.opcode in ("constant", "parameter"):
        cost = 1
    else:
        cost = op_info(inst.opcode).cost + sum(element_cost(o, arrays, memo) for o in inst.operands)
        if inst.opcode in ("reduce", "argmax", "argmin", "dot", "reduce_window", "convolution"):
            cost *= max(1, nominal(prod(inst.operands[0].shape.dims)) // max(1, nominal(prod(inst.shape.dims))))
    memo[inst] = cost
    return cost


def _reaches(start: Instruction, target: Instruction, arrays: dict) -> bool:
    stack, seen = [start], set()
    while stack:
        inst = stack.pop()
        if inst is target:
            return True
        if inst in seen or inst in arrays:
            continue
        seen.add(inst)
        stack.extend(inst.operands)
    return False


def _reads_only_at_same_index(root: Instruction, target: Instruction, arrays: dict) -> bool:
    """Every path from root to target goes through elementwise ops of the same shape."""
    if root is target:
        return True
    if root in arrays:
        return False
    if has_elemental_rule(root.opcode) and all(o.shape.rank == root.shape.rank for o in root.operands):
        return all(_reads_only_at_same_index(o, target, arrays) or not _reaches(o, target, arrays)
                   for o in root.operands) and _reaches(root, target, arrays)
    return False


_FLAT_INDEX_FREE = {"rng"}


def _flat_ok(inst: Instruction, shape: Shape, arrays: dict, memo: dict) -> bool:
    """Whether inst can be computed at a linear position in shape's layout without per-dim indices."""
    if inst in memo:
        return memo[inst]
    if inst in arrays or inst.opcode == "constant":
        ok = inst.shape.rank == 0 or _same_layout(inst.shape.with_dtype(shape.dtype), shape)
        if inst.opcode == "constant" and inst.literal.size and (inst.literal == inst.literal.flat[0]).all():
            ok = True
    elif has_elemental_rule(inst.opcode):
        ok = all(_flat_ok(o, shape, arrays, memo) for o in inst.operands)
    elif inst.opcode == "broadcast_in_dim":
        ok = inst.operands[0].shape.rank == 0 and _flat_ok(inst.operands[0], inst.operands[0].shape, arrays, memo)
    elif inst.opcode == "rng":
        ok = physical_order(shape) == tuple(range(shape.rank))
    else:
        ok = False
    memo[inst] = ok
    return ok


# building kernel functions ----------------------------------------------------------------------
@dataclass
class BuiltKernel:
    fn: ir.Function           # void fn(ptr buffers..., ptr temp, i64 begin, i64 end)
    locs: list                # the buffer Locs of its pointer arguments, TEMP last
    temp_bytes: int
    split: tuple | None       # (extent, cost): [begin, end) may be any share of [0, extent)


def build_kernel(cg: CodegenModule, name: str, root: Instruction, inputs: dict, outputs: list,
                 rows: bool = False) -> BuiltKernel:
    """A kernel computing `root` (leaves of a tuple root in order) into `outputs` [(Loc, Shape)];
    `rows`: root is a row fusion's, computed row by row.

    `inputs` maps the instructions whose values are already in buffers to their Locs. A kernel that
    is one loop nest runs only [begin, end) of its outermost loop, so callers may split it over
    threads; any other kernel ignores begin and end.
    """
    for inst in list(inputs) + [root]:
        for leaf_shape in ([inst.shape] if not inst.shape.is_tuple else inst.shape.elements):
            if not leaf_shape.is_tuple:
                check_dtype(leaf_shape.dtype, f"{inst.opcode} {inst.name}")
    locs: list[Loc] = []
    for loc in list(inputs.values()) + [loc for loc, _ in outputs]:
        if loc not in locs:
            locs.append(loc)
    fc = cg.new_function(name, 0, arg_types=[PTR] * (len(locs) + 1) + [I64, I64], inline=False)
    for arg, loc in zip(fc.args, locs + [TEMP]):
        arg.add_attribute("noalias")
        if loc.aligned or loc is TEMP:
            arg.attributes.align = ALIGNMENT
    ptr = {loc: arg for loc, arg in zip(locs, fc.args)}
    arrays = {inst: IrArray(ptr[loc], inst.shape) for inst, loc in inputs.items()}
    outs = [IrArray(ptr[loc], shape) for loc, shape in outputs]
    input_locs = set(inputs.values())
    kernel = Kernel(fc, arrays, fc.args[len(locs)], any(loc in input_locs for loc, _ in outputs),
                    bounds=(fc.args[-2], fc.args[-1]))
    if rows:
        from xlite.codegen.cpu.rows import emit_rows     # rows.py builds on this module
        emit_rows(kernel, root, outs[0])
    else:
        kernel.emit(root, outs)
    fc.finish()
    return BuiltKernel(fc.fn, locs + [TEMP], kernel.temp_bytes, kernel.split)


__all__ = ["Kernel", "kernel_rule", "build_kernel", "has_kernel_rule", "materializes"]
