"""Kernels that write where their inputs say: scatter_add, select_and_scatter (max-pool's gradient) and
dynamic_update_slice.

The first two fill the output (x, or zeros; nothing for a scatter_add written over x's own
buffer) and then visit their updates in order,
adding each one where it goes, so repeated targets accumulate in the order
the interpreter adds them. A dynamic_update_slice written over its operand's own
buffer (a loop-carried array: buffer assignment or the walk placed it there)
stores only its window; elsewhere it is one elemental loop over the output.
"""
from __future__ import annotations

import contextlib
from math import prod

from llvmlite import ir

from xlite.codegen.cpu.element_generator import and_all, index_to_i64
from xlite.codegen.cpu.index_ops import clamped_starts
from xlite.codegen.cpu.ir_array import Index
from xlite.codegen.cpu.kernels import Kernel, element_cost, kernel_rule
from xlite.codegen.cpu.llvm_types import I64, constant, i64, is_unsigned, register_type
from xlite.codegen.cpu.reductions import reduce_identity


def _add(b: ir.IRBuilder, dt, x, y):
    return b.fadd(x, y) if dt.is_floating else b.add(x, y)


@kernel_rule("scatter_add")
def emit_scatter_add(kernel: Kernel, inst, out) -> None:
    """out = x; out[..., idx[j], ...] += updates[..., j, ...] for every in-range idx[j]."""
    x, idx, updates = inst.operands
    fc, b, gen = kernel.fc, kernel.b, kernel.gen
    axis = inst.attrs["axis"]
    dt = inst.shape.dtype
    source = gen.arrays.get(x)
    if source is None or source.ptr is not out.ptr:      # else in place: out already holds x
        kernel.emit_loop([x], [out])
    size = x.shape.dims[axis]
    if 0 in updates.shape.dims or size == 0:
        return
    k = idx.shape.rank
    with gen.scope(), fc.loop_nest(updates.shape.dims, "u") as ivs:
        position = gen.element(idx, Index(idx.shape.dims, values=ivs[axis:axis + k]))
        position = index_to_i64(b, position, idx.shape.dtype)
        in_range = b.icmp_unsigned("<", position, i64(size))
        with b.if_then(in_range):
            target = Index(out.shape.dims, values=list(ivs[:axis]) + [position] + list(ivs[axis + k:]))
            value = gen.element(updates, Index(updates.shape.dims, values=ivs))
            out.store(b, _add(b, dt, out.load(b, target), value), target)


@kernel_rule("dynamic_update_slice")
def emit_dynamic_update_slice(kernel: Kernel, inst, out) -> None:
    """In place over its operand: out[clamped start + j] = update[j] for the update's elements only."""
    x, update, starts = inst.operands[0], inst.operands[1], inst.operands[2:]
    fc, b, gen = kernel.fc, kernel.b, kernel.gen
    source = gen.arrays.get(x)
    if source is None or source.ptr is not out.ptr:
        bounds = None
        if kernel.whole:
            extent = kernel._loop_dims([inst], out.shape)[0]
            kernel.split, bounds = (extent, prod(out.shape.dims) * element_cost(inst, gen.arrays, {})), kernel.bounds
        kernel.emit_loop([inst], [out], bounds)
        return
    if 0 in update.shape.dims:
        return
    with gen.scope():
        offsets = clamped_starts(gen, starts, x.shape.dims, update.shape.dims)
        with fc.loop_nest(update.shape.dims, "u") as ivs:
            target = [v if s is None else b.add(v, s, flags=["nuw", "nsw"]) for v, s in zip(ivs, offsets)]
            value = gen.element(update, Index(update.shape.dims, values=ivs))
            out.store(b, value, Index(out.shape.dims, values=target))


def _split_rows(kernel: Kernel, inst) -> bool:
    """Whether the outermost dim (a pool's batch) may be shared out over threads: its windows are single
    rows that never overlap, so each thread zeroes and scatters into its own rows."""
    x, source = inst.operands
    a = inst.attrs
    return (kernel.whole and x.shape.rank >= 1 and a["window"][0] == 1 and a["strides"][0] == 1
            and tuple(a["padding"][0]) == (0, 0) and x.shape.dims[0] == source.shape.dims[0] > 1)


@contextlib.contextmanager
def _rows_loop(kernel: Kernel, dims, name: str, split: bool):
    """A loop nest over dims whose outermost loop runs the kernel's [begin, end) when split."""
    if not split:
        with kernel.fc.loop_nest(dims, name) as ivs:
            yield ivs
        return
    with kernel.fc.for_range(kernel.bounds[1], name + "0", start=kernel.bounds[0]) as first, \
            kernel.fc.loop_nest(dims[1:], name) as rest:
        yield [first] + rest


@kernel_rule("select_and_scatter")
def emit_select_and_scatter(kernel: Kernel, inst, out) -> None:
    """Each window's first maximal element (row-major, never padding; NaN counts as the maximum)
    receives the window's source value."""
    x, source = inst.operands
    fc, b, gen = kernel.fc, kernel.b, kernel.gen
    a = inst.attrs
    dt = inst.shape.dtype
    ty = register_type(dt)
    split = _split_rows(kernel, inst)
    if split:
        # about 12 cycles per window element visited (W5's pool gradients under XLITE_PROFILE)
        kernel.split = (source.shape.dims[0], 12 * prod(source.shape.dims) * prod(a["window"]))
    zero_out = constant(dt, 0)
    with gen.scope(), _rows_loop(kernel, out.shape.dims, "z", split) as ivs:
        out.store(b, zero_out, Index(out.shape.dims, values=ivs))
    if 0 in source.shape.dims:
        return
    identity = reduce_identity("max", dt)
    rank = x.shape.rank
    best = fc.alloca(ty)
    best_pos = [fc.alloca(I64) for _ in range(rank)]
    found = fc.alloca(ir.IntType(1))
    with gen.scope(), _rows_loop(kernel, source.shape.dims, "s", split) as svs:
        b.store(ir.Constant(ir.IntType(1), 0), found)
        b.store(identity, best)
        with gen.scope(), fc.loop_nest(a["window"], "w") as wvs:
            pos, conds = [], []
            for v, w, stride, (lo, _), size in zip(svs, wvs, a["strides"], a["padding"], x.shape.dims):
                p = b.sub(b.add(b.mul(v, i64(stride)), w), i64(lo))
                conds.append(b.icmp_signed(">=", p, i64(0)))
                conds.append(b.icmp_signed("<", p, i64(size)))
                pos.append(p)
            valid = and_all(b, conds)
            value = gen.guarded_element(x, pos, valid, identity)
            current = b.load(best, typ=ty)
            if dt.is_floating:
                beats = b.or_(b.fcmp_ordered(">", value, current), b.fcmp_unordered("uno", value, value))
                beats = b.and_(beats, b.not_(b.fcmp_unordered("uno", current, current)))
            else:
                cmp = b.icmp_unsigned if is_unsigned(dt) else b.icmp_signed
                beats = cmp(">", value, current)
            was_found = b.load(found, typ=ir.IntType(1))
            take = b.or_(b.not_(was_found), beats)
            if valid is not None:
                take = b.and_(take, valid)
            b.store(b.select(take, value, current), best)
            for slot, p in zip(best_pos, pos):
                b.store(b.select(take, p, b.load(slot, typ=I64)), slot)
            b.store(b.or_(was_found, take), found)
        chosen = [b.load(slot, typ=I64) for slot in best_pos]
        with b.if_then(b.load(found, typ=ir.IntType(1))):
            target = Index(out.shape.dims, values=chosen)
            value = gen.element(source, Index(source.shape.dims, values=svs))
            out.store(b, _add(b, dt, out.load(b, target), value), target)


__all__ = ["emit_scatter_add", "emit_select_and_scatter"]
