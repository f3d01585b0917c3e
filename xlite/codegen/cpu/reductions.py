"""Reductions as elemental rules: each output element loops over its inputs with the accumulator in
registers (an alloca that mem2reg promotes; long float sums pairwise, pairwise.py): reduce, argmax/argmin,
reduce_window, dot, convolution."""
from __future__ import annotations

from xlite.codegen.cpu.combine import combine, reduce_identity
from xlite.codegen.cpu.element_generator import ElementGenerator, and_all, element_rule
from xlite.codegen.cpu.elemental import is_nan
from xlite.codegen.cpu.ir_array import Index, physical_order
from xlite.codegen.cpu.kernels import kernel_rule
from xlite.codegen.cpu.llvm_types import I64, constant, i64, is_unsigned, register_type
from xlite.codegen.cpu.pairwise import reduce_loops
from xlite.codegen.cpu.reductions_columns import emit_columns_pairwise, wants_columns_pairwise
from xlite.codegen.conv_window import conv_window
from xlite.ir.dtypes import DType


@element_rule("reduce")
def _reduce(gen: ElementGenerator, inst, index: Index):
    x = inst.operands[0]
    axes = set(inst.attrs["dimensions"])
    out_vals = iter(index.values(gen.b))
    kept = {d: next(out_vals) for d in range(x.shape.rank) if d not in axes}
    order = [d for d in physical_order(x.shape) if d in axes]

    def element(ivs):
        vals = dict(kept)
        vals.update(zip(order, ivs))
        return gen.element(x, Index(x.shape.dims, values=[vals[d] for d in range(x.shape.rank)]))

    return reduce_loops(gen, inst.attrs["kind"], inst.shape.dtype, [x.shape.dims[d] for d in order], "r", element)


def _minor_dim_kept(inst) -> bool:
    """Reductions that keep the input's contiguous dim run best accumulating into the output in the
    input's order (a vectorizable update of a row of accumulators) rather than one element at a time."""
    x = inst.operands[0]
    return x.shape.rank > 1 and physical_order(x.shape)[-1] not in inst.attrs["dimensions"] \
        and 0 not in x.shape.dims


@kernel_rule("reduce", wants=_minor_dim_kept)
def emit_reduce_accumulating(kernel, inst, out) -> None:
    """out = identity; then for every input element in memory order, out[kept] = out[kept] (+) x (long float
    sums: pairwise over blocks of rows, reductions_columns.py)."""
    if wants_columns_pairwise(inst):
        emit_columns_pairwise(kernel, inst, out)
        return
    x = inst.operands[0]
    fc, b, gen = kernel.fc, kernel.b, kernel.gen
    kind, dt = inst.attrs["kind"], inst.shape.dtype
    axes = set(inst.attrs["dimensions"])
    identity = reduce_identity(kind, dt)
    with gen.scope(), fc.loop_nest([out.shape.dims[d] for d in physical_order(out.shape)], "z") as ivs:
        vals = [None] * out.shape.rank
        for d, iv in zip(physical_order(out.shape), ivs):
            vals[d] = iv
        out.store(b, identity, Index(out.shape.dims, values=vals))
    order = physical_order(x.shape)
    with gen.scope(), fc.loop_nest([x.shape.dims[d] for d in order], "x") as ivs:
        vals = [None] * x.shape.rank
        for d, iv in zip(order, ivs):
            vals[d] = iv
        target = Index(out.shape.dims, values=[v for d, v in enumerate(vals) if d not in axes])
        value = gen.element(x, Index(x.shape.dims, values=vals))
        out.store(b, combine(fc, kind, dt, out.load(b, target), value), target)


@element_rule("argmax", "argmin")
def _argminmax(gen: ElementGenerator, inst, index: Index):
    """First position of the max (min); a NaN wins over everything and the first NaN is kept (NumPy)."""
    x = inst.operands[0]
    fc, b = gen.fc, gen.b
    axis = inst.attrs["dimension"]
    dt = x.shape.dtype
    out_vals = list(index.values(b))

    def at(position):
        vals = out_vals[:axis] + [position] + out_vals[axis:]
        return gen.element(x, Index(x.shape.dims, values=vals))

    with gen.scope():
        best = gen.accumulator(register_type(dt), at(i64(0)))
    best_index = gen.accumulator(I64, i64(0))
    with gen.scope(), fc.for_range(x.shape.dims[axis], "a", start=1) as i:
        v, current = at(i), b.load(best)
        if dt.is_floating:
            beats = b.fcmp_ordered(">" if inst.opcode == "argmax" else "<", v, current)
            beats = b.and_(b.or_(beats, is_nan(b, v)), b.not_(is_nan(b, current)))
        else:
            cmp = b.icmp_unsigned if is_unsigned(dt) or dt.is_bool else b.icmp_signed
            beats = cmp(">" if inst.opcode == "argmax" else "<", v, current)
        b.store(b.select(beats, v, current), best)
        b.store(b.select(beats, i, b.load(best_index)), best_index)
    result = b.load(best_index)
    ty = register_type(inst.shape.dtype)
    return result if ty.width == 64 else b.trunc(result, ty)


@element_rule("reduce_window")
def _reduce_window(gen: ElementGenerator, inst, index: Index):
    """Pooling: the window's elements that fall in the padding count as the identity."""
    x = inst.operands[0]
    fc, b = gen.fc, gen.b
    a = inst.attrs
    kind, dt = a["kind"], inst.shape.dtype
    identity = reduce_identity(kind, dt)
    out_vals = index.values(b)
    acc = gen.accumulator(register_type(dt), identity)
    with gen.scope(), fc.loop_nest(a["window"], "w") as ivs:
        pos, conds = [], []
        for v, w, stride, (lo, _), size in zip(out_vals, ivs, a["strides"], a["padding"], x.shape.dims):
            p = b.add(b.mul(v, i64(stride)), w) if stride != 1 else b.add(v, w)
            p = b.sub(p, i64(lo)) if lo else p
            if lo > 0:
                conds.append(b.icmp_signed(">=", p, i64(0)))
            conds.append(b.icmp_signed("<", p, i64(size)))
            pos.append(p)
        value = gen.guarded_element(x, pos, and_all(b, conds), identity)
        b.store(combine(fc, kind, dt, b.load(acc), value), acc)
    return b.load(acc)


def _product(b, dt: DType, lhs, rhs):
    """lhs * rhs, rounded before it is added (no FMA contraction at any optimization level)."""
    return b.fmul(lhs, rhs) if dt.is_floating else b.mul(lhs, rhs)


@element_rule("dot")
def _dot(gen: ElementGenerator, inst, index: Index):
    """Sum over the contracting dims of lhs * rhs (a long float sum pairwise, in lanes: pairwise.py);
    integers wrap like the interpreter's int64 matmul."""
    lhs, rhs = inst.operands
    fc, b = gen.fc, gen.b
    a = inst.attrs
    lb, rb = list(a["lhs_batch_dims"]), list(a["rhs_batch_dims"])
    lc, rc = list(a["lhs_contracting_dims"]), list(a["rhs_contracting_dims"])
    lf = [d for d in range(lhs.shape.rank) if d not in lb + lc]
    rf = [d for d in range(rhs.shape.rank) if d not in rb + rc]
    dt = inst.shape.dtype
    vals = iter(index.values(b))
    lvals, rvals = [None] * lhs.shape.rank, [None] * rhs.shape.rank
    for l, r in zip(lb, rb):
        lvals[l] = rvals[r] = next(vals)
    for d in lf:
        lvals[d] = next(vals)
    for d in rf:
        rvals[d] = next(vals)
    if 0 in lhs.shape.dims or 0 in rhs.shape.dims:
        return constant(dt, 0)

    def product(ivs):
        for l, r, iv in zip(lc, rc, ivs):
            lvals[l] = rvals[r] = iv
        lv = gen.element(lhs, Index(lhs.shape.dims, values=list(lvals)))
        rv = gen.element(rhs, Index(rhs.shape.dims, values=list(rvals)))
        return _product(b, dt, lv, rv)

    return reduce_loops(gen, "sum", dt, [lhs.shape.dims[d] for d in lc], "k", product)


@element_rule("convolution")
def _convolution(gen: ElementGenerator, inst, index: Index):
    """Direct convolution: sum over the group's input features and the kernel window; positions in the
    padding or between dilated input elements contribute nothing."""
    lhs, rhs = inst.operands
    fc, b = gen.fc, gen.b
    lspec, rspec, ospec, nsp, strides, padding, lhs_dil, rhs_dil, groups, cin_g, cout_g, window = \
        conv_window(inst)
    dt = inst.shape.dtype
    zero = constant(dt, 0)
    out_vals = index.values(b)
    n, o = out_vals[ospec[0]], out_vals[ospec[1]]
    acc = gen.accumulator(register_type(dt), zero)
    if 0 in rhs.shape.dims or 0 in lhs.shape.dims:
        return b.load(acc)
    feature_base = b.mul(b.udiv(o, i64(cout_g)), i64(cin_g)) if groups > 1 else None
    with gen.scope(), fc.loop_nest([cin_g] + window, "c") as ivs:
        c, ks = ivs[0], ivs[1:]
        lvals, rvals, conds = [None] * lhs.shape.rank, [None] * rhs.shape.rank, []
        lvals[lspec[0]] = n
        lvals[lspec[1]] = b.add(feature_base, c) if feature_base is not None else c
        rvals[rspec[0]], rvals[rspec[1]] = o, c
        for i in range(nsp):
            p = b.mul(out_vals[ospec[2 + i]], i64(strides[i])) if strides[i] != 1 else out_vals[ospec[2 + i]]
            k = b.mul(ks[i], i64(rhs_dil[i])) if rhs_dil[i] != 1 else ks[i]
            p = b.sub(b.add(p, k), i64(padding[i][0])) if padding[i][0] else b.add(p, k)
            conds.append(b.icmp_signed(">=", p, i64(0)))
            if lhs_dil[i] != 1:
                conds.append(b.icmp_unsigned("==", b.srem(p, i64(lhs_dil[i])), i64(0)))
                p = b.sdiv(p, i64(lhs_dil[i]))
            conds.append(b.icmp_signed("<", p, i64(lhs.shape.dims[lspec[2 + i]])))
            lvals[lspec[2 + i]] = p
            rvals[rspec[2 + i]] = ks[i]
        lv = gen.guarded_element(lhs, lvals, and_all(b, conds), zero)
        rv = gen.element(rhs, Index(rhs.shape.dims, values=rvals))
        b.store(combine(fc, "sum", dt, b.load(acc), _product(b, dt, lv, rv)), acc)
    return b.load(acc)


__all__ = ["reduce_identity", "combine"]
