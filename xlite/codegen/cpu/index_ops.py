"""Index-transforming ops evaluated inline: each maps an output index to its operand's index."""
from __future__ import annotations

from xlite import errors
from xlite.codegen.cpu.element_generator import ElementGenerator, and_all, element_rule, index_to_i64
from xlite.codegen.cpu.ir_array import Index, physical_order
from xlite.codegen.cpu.llvm_types import constant, i64
from xlite.ir.module import Instruction


def _is_row_major(shape) -> bool:
    return physical_order(shape) == tuple(range(shape.rank))


@element_rule("broadcast_in_dim")
def _broadcast(gen: ElementGenerator, inst: Instruction, index: Index):
    x = inst.operands[0]
    if x.shape.rank == 0:
        return gen.element(x, Index((), values=[]))
    vals = index.values(gen.b)
    sub = [i64(0) if x.shape.dims[i] == 1 and inst.shape.dims[d] != 1 else vals[d]
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
def _reshape(gen: ElementGenerator, inst: Instruction, index: Index):
    x = inst.operands[0]
    src, dst = x.shape.dims, inst.shape.dims
    mapping = _squeeze_map(src, dst)
    if mapping is not None and (index.linear is None or index.order != tuple(range(len(dst)))):
        vals = index.values(gen.b)
        sub = [i64(0)] * len(src)
        for t, s in mapping.items():
            sub[s] = vals[t]
        return gen.element(x, Index(src, values=sub))
    linear = index.row_major_linear(gen.b)
    return gen.element(x, Index(src, linear=linear, order=range(len(src))))


@element_rule("bitcast")
def _bitcast(gen: ElementGenerator, inst: Instruction, index: Index):
    x = inst.operands[0]
    if x.shape.dtype != inst.shape.dtype:
        raise errors.unimplemented("bitcast between element types is not supported by the cpu backend")
    linear = index.linear_in(gen.b, inst.shape)
    return gen.element(x, Index(x.shape.dims, linear=linear, order=physical_order(x.shape)))


@element_rule("transpose")
def _transpose(gen: ElementGenerator, inst: Instruction, index: Index):
    x = inst.operands[0]
    perm = inst.attrs["dimensions"]
    if index.linear is not None and index._values is None:
        return gen.element(x, Index(x.shape.dims, linear=index.linear, order=[perm[d] for d in index.order]))
    vals = index.values(gen.b)
    sub = [None] * x.shape.rank
    for i, p in enumerate(perm):
        sub[p] = vals[i]
    return gen.element(x, Index(x.shape.dims, values=sub))


@element_rule("slice")
def _slice(gen: ElementGenerator, inst: Instruction, index: Index):
    x = inst.operands[0]
    b = gen.b
    a = inst.attrs
    sub = []
    for v, lo, st in zip(index.values(b), a["start_indices"], a["strides"]):
        if st != 1:
            v = b.mul(v, i64(st), flags=["nuw", "nsw"])
        sub.append(b.add(v, i64(lo), flags=["nuw", "nsw"]) if lo else v)
    return gen.element(x, Index(x.shape.dims, values=sub))


@element_rule("reverse")
def _reverse(gen: ElementGenerator, inst: Instruction, index: Index):
    x = inst.operands[0]
    b = gen.b
    rev = set(inst.attrs["dimensions"])
    sub = [b.sub(i64(x.shape.dims[d] - 1), v) if d in rev else v for d, v in enumerate(index.values(b))]
    return gen.element(x, Index(x.shape.dims, values=sub))


@element_rule("pad")
def _pad(gen: ElementGenerator, inst: Instruction, index: Index):
    x, pad_value = inst.operands
    b = gen.b
    a = inst.attrs
    fill = gen.element(pad_value, Index((), values=[]))
    if 0 in x.shape.dims:
        return fill
    sub, conds = [], []
    for v, size, lo, mid in zip(index.values(b), x.shape.dims, a["low"], a["interior"]):
        p = b.sub(v, i64(lo)) if lo else v
        if mid:
            step = i64(mid + 1)
            conds.append(b.icmp_unsigned("==", b.srem(p, step), i64(0)))
            p = b.sdiv(p, step)
        if lo > 0 or mid:
            conds.append(b.icmp_signed(">=", p, i64(0)))
        conds.append(b.icmp_signed("<", p, i64(size)))
        sub.append(p)
    return gen.guarded_element(x, sub, and_all(b, conds), fill)


@element_rule("concatenate")
def _concatenate(gen: ElementGenerator, inst: Instruction, index: Index):
    """An if-chain over the operands along the concatenated dimension; each branch is its own scope."""
    fc, b = gen.fc, gen.b
    axis = inst.attrs["dimension"]
    vals = index.values(b)
    pieces, offset = [], 0
    for operand in inst.operands:
        size = operand.shape.dims[axis]
        if size:
            pieces.append((operand, offset))
        offset += size

    def piece_value(operand, start):
        sub = list(vals)
        sub[axis] = b.sub(vals[axis], i64(start)) if start else vals[axis]
        with gen.scope():
            return gen.element(operand, Index(operand.shape.dims, values=sub))

    if len(pieces) == 1:
        return piece_value(*pieces[0])
    done = fc.block("concat.done")
    incoming = []
    for k, (operand, start) in enumerate(pieces):
        if k == len(pieces) - 1:
            incoming.append((piece_value(operand, start), b.block))
            b.branch(done)
            break
        end = start + operand.shape.dims[axis]
        here, rest = fc.block("concat.piece"), fc.block("concat.next")
        b.cbranch(b.icmp_signed("<", vals[axis], i64(end)), here, rest)
        b.position_at_end(here)
        incoming.append((piece_value(operand, start), b.block))
        b.branch(done)
        b.position_at_end(rest)
    b.position_at_end(done)
    phi = b.phi(incoming[0][0].type)
    for value, block in incoming:
        phi.add_incoming(value, block)
    return phi


@element_rule("gather")
def _gather(gen: ElementGenerator, inst: Instruction, index: Index):
    """x[..., clamp(idx[j]), ...] along `axis`: out-of-range indices clamp, like the interpreter."""
    x, idx = inst.operands
    b = gen.b
    axis = inst.attrs["axis"]
    size = x.shape.dims[axis]
    if size == 0:
        return constant(inst.shape.dtype, 0)
    vals = index.values(b)
    k = idx.shape.rank
    position = gen.element(idx, Index(idx.shape.dims, values=vals[axis:axis + k]))
    position = index_to_i64(b, position, idx.shape.dtype)
    sub = list(vals[:axis]) + [position] + list(vals[axis + k:])
    return gen.guarded_element(x, sub, None, None)


def clamped_starts(gen: ElementGenerator, starts, dims, sizes) -> list:
    """Each run-time start as i64, clamped to [0, dim - size] so the window never leaves the operand;
    None where that range is just 0."""
    b = gen.b
    result = []
    for start, dim, size in zip(starts, dims, sizes):
        if dim - size <= 0:
            result.append(None)
            continue
        s = index_to_i64(b, gen.element(start, Index((), values=[])), start.shape.dtype)
        s = b.select(b.icmp_signed("<", s, i64(0)), i64(0), s)
        result.append(b.select(b.icmp_signed(">", s, i64(dim - size)), i64(dim - size), s))
    return result


@element_rule("dynamic_slice")
def _dynamic_slice(gen: ElementGenerator, inst: Instruction, index: Index):
    x, starts = inst.operands[0], inst.operands[1:]
    b = gen.b
    offsets = clamped_starts(gen, starts, x.shape.dims, inst.attrs["dynamic_slice_sizes"])
    sub = [v if s is None else b.add(v, s, flags=["nuw", "nsw"]) for v, s in zip(index.values(b), offsets)]
    return gen.element(x, Index(x.shape.dims, values=sub))


@element_rule("dynamic_update_slice")
def _dynamic_update_slice(gen: ElementGenerator, inst: Instruction, index: Index):
    """update[i - start] inside the (clamped) window, the operand's own element elsewhere."""
    x, update, starts = inst.operands[0], inst.operands[1], inst.operands[2:]
    b = gen.b
    kept = gen.element(x, index)
    if 0 in update.shape.dims:
        return kept
    offsets = clamped_starts(gen, starts, x.shape.dims, update.shape.dims)
    sub, conds = [], []
    for v, s, size in zip(index.values(b), offsets, update.shape.dims):
        if s is None:          # the window spans the whole dim
            sub.append(v)
            continue
        p = b.sub(v, s)
        conds += [b.icmp_signed(">=", p, i64(0)), b.icmp_signed("<", p, i64(size))]
        sub.append(p)
    return gen.guarded_element(update, sub, and_all(b, conds), kept)


__all__: list[str] = []    # rules only: they register with @element_rule
