"""Leaves and index-transforming ops evaluated inline: constants, iota, rng, and the ops that map an
output index to an operand's index (broadcast, reshape, bitcast, transpose, slice, reverse, pad,
concatenate, gather, dynamic_slice, dynamic_update_slice)."""
from __future__ import annotations

import numpy as np

from xlite import errors
from xlite.codegen.cuda.c_types import ctype, literal
from xlite.codegen.cuda.element_generator import (ElementGenerator, Index, and_all, element_rule,
                                                  physical_order, scalar_index)
from xlite.ir.module import Instruction


def splat_value(inst: Instruction):
    """The one value of a scalar or splat constant (every element equal), else None."""
    lit = inst.literal
    if lit is None or lit.size == 0:
        return None
    flat = lit.reshape(-1)
    if lit.ndim == 0 or (lit.size <= 1 << 16 and
                         np.all(flat.view(np.uint8).reshape(flat.size, -1) == flat[:1].view(np.uint8))):
        return flat[0]
    return None


@element_rule("constant")
def _constant(gen: ElementGenerator, inst: Instruction, index: Index) -> str:
    value = splat_value(inst)
    if value is None:
        raise errors.unimplemented(f"constant {inst.name} is not in a buffer of this cuda kernel")
    return gen.let(ctype(inst.shape.dtype), literal(inst.shape.dtype, value), "c")


@element_rule("iota")
def _iota(gen: ElementGenerator, inst: Instruction, index: Index) -> str:
    v = index.values(gen)[inst.attrs["dimension"]]
    dt = inst.shape.dtype
    return gen.let(ctype(dt), f"({v}) != 0" if dt.is_bool else f"({ctype(dt)})({v})")


@element_rule("rng")
def _rng(gen: ElementGenerator, inst: Instruction, index: Index) -> str:
    """Element i (row-major) of Philox-4x32-10 under the op's key at counter (i, run counter)."""
    counter = gen.element(inst.operands[0], scalar_index())
    linear = index.row_major_linear(gen)
    k0, k1 = (int(k) & 0xFFFFFFFF for k in inst.attrs["key"])
    w0, w1 = gen.fresh("w"), gen.fresh("w")
    gen.w.line(f"unsigned {w0}, {w1};")
    gen.w.line(f"xl_philox((unsigned long long)({linear}), (unsigned long long)({counter}), {k0}u, {k1}u, "
               f"&{w0}, &{w1});")
    dist = inst.attrs["distribution"]
    value = {"uniform": f"xl_uniform({w0})", "normal": f"xl_normal({w0}, {w1})",
             "truncated_normal": f"xl_truncated_normal({w0})"}[dist]
    return gen.let(ctype(inst.shape.dtype), f"({ctype(inst.shape.dtype)}){value}")


@element_rule("broadcast_in_dim")
def _broadcast(gen: ElementGenerator, inst: Instruction, index: Index) -> str:
    x = inst.operands[0]
    if x.shape.rank == 0:
        return gen.element(x, scalar_index())
    vals = index.values(gen)
    sub = ["0" if x.shape.dims[i] == 1 and inst.shape.dims[d] != 1 else vals[d]
           for i, d in enumerate(inst.attrs["dimensions"])]
    return gen.element(x, Index(x.shape.dims, values=sub))


def _squeeze_map(src_dims, dst_dims):
    """For reshapes that only add or drop size-1 dims: dst dim -> src dim of each non-1 dim."""
    s = [i for i, d in enumerate(src_dims) if d != 1]
    t = [i for i, d in enumerate(dst_dims) if d != 1]
    if [src_dims[i] for i in s] != [dst_dims[i] for i in t]:
        return None
    return dict(zip(t, s))


@element_rule("reshape")
def _reshape(gen: ElementGenerator, inst: Instruction, index: Index) -> str:
    x = inst.operands[0]
    src, dst = x.shape.dims, inst.shape.dims
    mapping = _squeeze_map(src, dst)
    if mapping is not None and (index.linear is None or index.order != tuple(range(len(dst)))):
        vals = index.values(gen)
        sub = ["0"] * len(src)
        for t, s in mapping.items():
            sub[s] = vals[t]
        return gen.element(x, Index(src, values=sub))
    linear = index.row_major_linear(gen)
    return gen.element(x, Index(src, linear=linear, order=range(len(src)), home=gen.w.placeholder()))


@element_rule("bitcast")
def _bitcast(gen: ElementGenerator, inst: Instruction, index: Index) -> str:
    x = inst.operands[0]
    if x.shape.dtype != inst.shape.dtype:
        raise errors.unimplemented("bitcast between element types is not supported by the cuda backend")
    linear = index.linear_in(gen, inst.shape)
    return gen.element(x, Index(x.shape.dims, linear=linear, order=physical_order(x.shape),
                                home=gen.w.placeholder()))


@element_rule("transpose")
def _transpose(gen: ElementGenerator, inst: Instruction, index: Index) -> str:
    x = inst.operands[0]
    perm = inst.attrs["dimensions"]
    if index.linear is not None and index._values is None:
        return gen.element(x, Index(x.shape.dims, linear=index.linear, order=[perm[d] for d in index.order],
                                    home=gen.w.placeholder()))
    vals = index.values(gen)
    sub = [None] * x.shape.rank
    for i, p in enumerate(perm):
        sub[p] = vals[i]
    return gen.element(x, Index(x.shape.dims, values=sub))


@element_rule("slice")
def _slice(gen: ElementGenerator, inst: Instruction, index: Index) -> str:
    x = inst.operands[0]
    a = inst.attrs
    sub = []
    for v, lo, st in zip(index.values(gen), a["start_indices"], a["strides"]):
        e = v if st == 1 else f"{v} * {gen.lit(st)}"
        sub.append(f"({e} + {gen.lit(lo)})" if lo else e)
    return gen.element(x, Index(x.shape.dims, values=sub))


@element_rule("reverse")
def _reverse(gen: ElementGenerator, inst: Instruction, index: Index) -> str:
    x = inst.operands[0]
    rev = set(inst.attrs["dimensions"])
    sub = [f"({gen.lit(x.shape.dims[d] - 1)} - {v})" if d in rev else v for d, v in enumerate(index.values(gen))]
    return gen.element(x, Index(x.shape.dims, values=sub))


@element_rule("pad")
def _pad(gen: ElementGenerator, inst: Instruction, index: Index) -> str:
    x, pad_value = inst.operands
    a = inst.attrs
    fill = gen.element(pad_value, scalar_index())
    if 0 in x.shape.dims:
        return fill
    sub, conds = [], []
    for v, size, lo, mid in zip(index.values(gen), x.shape.dims, a["low"], a["interior"]):
        p = f"({v} - {gen.lit(lo)})" if lo else v
        if mid:
            step = gen.lit(mid + 1)
            conds.append(f"{p} % {step} == 0")
            p = f"({p} / {step})"
        if lo > 0 or mid:
            conds.append(f"{p} >= 0")
        conds.append(f"{p} < {gen.lit(size)}")
        sub.append(gen.let(gen.idx, p, "p"))
    return gen.guarded_element(x, sub, and_all(conds), fill)


@element_rule("concatenate")
def _concatenate(gen: ElementGenerator, inst: Instruction, index: Index) -> str:
    """An if-chain over the operands along the concatenated dimension; each branch is its own scope."""
    axis = inst.attrs["dimension"]
    vals = index.values(gen)
    pieces, offset = [], 0
    for operand in inst.operands:
        size = operand.shape.dims[axis]
        if size:
            pieces.append((operand, offset))
        offset += size

    def piece_value(operand, start):
        sub = list(vals)
        sub[axis] = f"({vals[axis]} - {gen.lit(start)})" if start else vals[axis]
        return gen.element(operand, Index(operand.shape.dims, values=sub))

    if len(pieces) == 1:
        return piece_value(*pieces[0])
    result = gen.fresh("cat")
    gen.w.line(f"{ctype(inst.shape.dtype)} {result};")
    for k, (operand, start) in enumerate(pieces):
        end = start + operand.shape.dims[axis]
        if k == 0:
            header = f"if ({vals[axis]} < {gen.lit(end)})"
        elif k < len(pieces) - 1:
            header = f"else if ({vals[axis]} < {gen.lit(end)})"
        else:
            header = "else"
        with gen.scope(header):
            gen.w.line(f"{result} = {piece_value(operand, start)};")
    return result


@element_rule("gather")
def _gather(gen: ElementGenerator, inst: Instruction, index: Index) -> str:
    """x[..., clamp(idx[j]), ...] along `axis`: out-of-range indices clamp, like the interpreter."""
    x, idx = inst.operands
    axis = inst.attrs["axis"]
    size = x.shape.dims[axis]
    if size == 0:
        return gen.let(ctype(inst.shape.dtype), literal(inst.shape.dtype, 0))
    vals = index.values(gen)
    k = idx.shape.rank
    position = gen.element(idx, Index(idx.shape.dims, values=vals[axis:axis + k]))
    clamped = gen.let(gen.idx, f"({gen.idx})(({position}) < 0 ? 0LL : ((long long)({position}) > {size - 1}LL ? "
                               f"{size - 1}LL : (long long)({position})))", "p")
    sub = list(vals[:axis]) + [clamped] + list(vals[axis + k:])
    return gen.element(x, Index(x.shape.dims, values=sub))


def clamped_starts(gen: ElementGenerator, starts, dims, sizes) -> list:
    """Each run-time start in the index type, clamped to [0, dim - size] so the window never leaves the
    operand; None where that range is just 0."""
    result = []
    for start, dim, size in zip(starts, dims, sizes):
        if dim - size <= 0:
            result.append(None)
            continue
        s, top = f"(long long)({gen.element(start, scalar_index())})", f"{dim - size}LL"
        result.append(gen.let(gen.idx, f"({gen.idx})({s} < 0LL ? 0LL : ({s} > {top} ? {top} : {s}))", "s"))
    return result


@element_rule("dynamic_slice")
def _dynamic_slice(gen: ElementGenerator, inst: Instruction, index: Index) -> str:
    x, starts = inst.operands[0], inst.operands[1:]
    offsets = clamped_starts(gen, starts, x.shape.dims, inst.attrs["dynamic_slice_sizes"])
    sub = [v if s is None else f"({v} + {s})" for v, s in zip(index.values(gen), offsets)]
    return gen.element(x, Index(x.shape.dims, values=sub))


@element_rule("dynamic_update_slice")
def _dynamic_update_slice(gen: ElementGenerator, inst: Instruction, index: Index) -> str:
    """update[i - start] inside the (clamped) window, the operand's own element elsewhere."""
    x, update, starts = inst.operands[0], inst.operands[1], inst.operands[2:]
    kept = gen.element(x, index)
    if 0 in update.shape.dims:
        return kept
    offsets = clamped_starts(gen, starts, x.shape.dims, update.shape.dims)
    sub, conds = [], []
    for v, s, size in zip(index.values(gen), offsets, update.shape.dims):
        if s is None:          # the window spans the whole dim
            sub.append(v)
            continue
        p = gen.let(gen.idx, f"{v} - {s}", "p")
        conds += [f"{p} >= 0", f"{p} < {gen.lit(size)}"]
        sub.append(p)
    return gen.guarded_element(update, sub, and_all(conds), kept)


__all__ = ["splat_value"]
