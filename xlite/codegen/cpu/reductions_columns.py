"""Long float sums over major dims that keep the minor one (a bias gradient's sum over the batch), pairwise.

The input is read in memory order, as the plain accumulating kernel does, but
rows of the kept dims are summed COLUMN_BLOCK at a time into a partial row,
and partial rows join a binary counter of rows (pairwise.BlockCounter) in the
temp region: each output element then goes through about COLUMN_BLOCK +
log2(rows / COLUMN_BLOCK) roundings instead of one per row.
"""
from __future__ import annotations

from math import prod

from xlite.codegen.cpu.combine import combine, reduce_identity
from xlite.codegen.cpu.ir_array import Index, IrArray, physical_order
from xlite.codegen.cpu.llvm_types import i64
from xlite.codegen.cpu.pairwise import BlockCounter, block_chunks, smaller
from xlite.codegen.pairwise import SERIAL_BLOCK, block_split, is_pairwise
from xlite.ir import dtypes
from xlite.ir.shape import Shape

COLUMN_BLOCK = SERIAL_BLOCK     # rows summed into one partial row (serially per element) before it joins the counter


def _dims(inst) -> tuple[list, list, list]:
    """The input's dims in memory order: kept ones outside every reduced dim, the reduced ones, the kept rest."""
    x = inst.operands[0]
    axes = set(inst.attrs["dimensions"])
    order = list(physical_order(x.shape))
    first = next(k for k, d in enumerate(order) if d in axes)
    rest = order[first:]
    return order[:first], [d for d in rest if d in axes], [d for d in rest if d not in axes]


def wants_columns_pairwise(inst) -> bool:
    x = inst.operands[0]
    _, reduced, _ = _dims(inst)
    return is_pairwise(inst.attrs["kind"], inst.shape.dtype, prod(x.shape.dims[d] for d in reduced), COLUMN_BLOCK)


def _linear(b, ivs: list, sizes: list):
    linear = i64(0)
    for iv, size in zip(ivs, sizes):
        linear = b.add(b.mul(linear, i64(size)), iv)
    return linear


def emit_columns_pairwise(kernel, inst, out: IrArray) -> None:
    """out[kept] = the pairwise sum over the reduced dims of x (for each setting of the outer kept dims)."""
    x = inst.operands[0]
    fc, b, gen = kernel.fc, kernel.b, kernel.gen
    dt = inst.shape.dtype
    acc_dt = dtypes.float32 if dt.itemsize < 4 else dt      # half floats are summed in float (their register type)
    identity = reduce_identity("sum", acc_dt)
    outer, reduced, inner = _dims(inst)
    osizes, rsizes, isizes = ([x.shape.dims[d] for d in ds] for ds in (outer, reduced, inner))
    width = prod(isizes)
    t, chunk = block_split(rsizes, COLUMN_BLOCK)
    chunks, blocks = block_chunks(b, rsizes, t, chunk)
    counter = BlockCounter(fc, blocks)
    partial = kernel.temp(Shape(acc_dt, (width,)))
    stack = kernel.temp(Shape(acc_dt, (counter.levels * width,)))

    def at(array, linear):
        return array.address_linear(b, linear)

    def over_row(body) -> None:
        with fc.for_range(width, "s") as s:
            body(s)

    def held(level, s):
        return at(stack, b.add(b.mul(level, i64(width)), s))

    with gen.scope(), fc.loop_nest(osizes, "x") as outer_ivs:
        counter.reset()
        with fc.loop_nest(rsizes[:t], "xr") as red_outer, fc.for_range(chunks, "xblk") as blk:
            over_row(lambda s: b.store(identity, at(partial, s)))
            start = b.mul(blk, i64(chunk))
            end = smaller(b, b.add(start, i64(chunk)), i64(rsizes[t]))
            with fc.for_range(end, "xt", start=start) as it, fc.loop_nest(rsizes[t + 1:], "xri") as red_inner, \
                    fc.loop_nest(isizes, "xi") as inner_ivs:
                vals = [None] * x.shape.rank
                for d, iv in zip(outer + reduced + inner, outer_ivs + red_outer + [it] + red_inner + inner_ivs):
                    vals[d] = iv
                value = gen.element(x, Index(x.shape.dims, values=vals))
                p = at(partial, _linear(b, inner_ivs, isizes))
                b.store(combine(fc, "sum", acc_dt, b.load(p, typ=partial.elem), value), p)
            counter.push(
                lambda level: over_row(lambda s: b.store(
                    b.fadd(b.load(held(level, s), typ=partial.elem), b.load(at(partial, s), typ=partial.elem)),
                    at(partial, s))),
                lambda level: over_row(lambda s: b.store(b.load(at(partial, s), typ=partial.elem), held(level, s))))
        with fc.loop_nest(isizes, "xo") as inner_ivs:
            s = _linear(b, inner_ivs, isizes)
            if counter.runtime:             # a run-time count of blocks: its levels in a loop
                acc = fc.alloca(partial.elem)
                b.store(identity, acc)

                def add(level):
                    value = b.fadd(b.load(held(level, s), typ=partial.elem), b.load(acc))
                    b.store(b.select(counter.held(level), value, b.load(acc)), acc)
                counter.levels_loop(add)
                total = b.load(acc)
            else:
                total = identity
                for level in range(counter.levels):
                    value = b.fadd(b.load(held(i64(level), s), typ=partial.elem), total)
                    total = b.select(counter.held(level), value, total)
            vals = [None] * x.shape.rank
            for d, iv in zip(outer + inner, outer_ivs + inner_ivs):
                vals[d] = iv
            axes = set(inst.attrs["dimensions"])
            out.store(b, total, Index(out.shape.dims, values=[v for d, v in enumerate(vals) if d not in axes]))


__all__ = ["COLUMN_BLOCK", "wants_columns_pairwise", "emit_columns_pairwise"]
