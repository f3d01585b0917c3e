"""Pairwise float sums in LLVM IR (the plan: xlite/codegen/pairwise.py).

A block's elements are added into fresh accumulators: LANE_TERMS a lane when the
inner loop has VECTOR_MIN terms or more, in LaneSum's vectors (1024 terms in
4 x 16 float lanes), else SERIAL_BLOCK in one chain. Block sums join a binary
counter (BlockCounter), a stack of one value per level in PairwiseSum.

Every float addition's order is spelled out in the IR (no reassoc/contract
flags): LLVM may not reorder it at any optimization level, so -O0 and -O3 code
(tiers.py) give bit-identical sums.
"""
from __future__ import annotations

import contextlib
from math import prod
from typing import Callable

from llvmlite import ir

from xlite.codegen.cpu.combine import combine, reduce_identity
from xlite.codegen.cpu.llvm_types import F64, I1, I32, I64, i64, register_type
from xlite.codegen.pairwise import SERIAL_BLOCK, block_split, is_pairwise
from xlite.ir.dtypes import DType
from xlite.ir.symbolic import guess, is_symbolic

LANE_TERMS = 16        # terms a lane adds before its block joins the pairwise tree (a block: 1024 terms in 64 lanes)
VECTOR_MIN = 8         # inner loops from this long are summed in lanes (LaneSum) rather than in one serial chain
LANE_BYTES = 64        # one accumulator vector: an AVX-512 register (two AVX2 ones; the order is the same anywhere)
VECTORS = 4            # independent accumulator vectors, so that additions overlap their latency


def block_chunks(b: ir.IRBuilder, sizes: list, t: int, chunk: int) -> tuple:
    """(chunks of loop t, blocks in all): ceil(sizes[t] / chunk) and the block count, as numbers; for
    run-time sizes (xlite/ir/symbolic.py) the chunks as an LLVM value and the block count None."""
    if is_symbolic(sizes[t]) or any(is_symbolic(s) for s in sizes[:t]):
        return b.udiv(b.add(i64(sizes[t]), i64(chunk - 1)), i64(chunk)), None
    chunks = -(-sizes[t] // chunk)
    return chunks, prod(sizes[:t]) * chunks


def smaller(b: ir.IRBuilder, x, y):
    """min(x, y) of two signed i64."""
    return b.select(b.icmp_signed("<", x, y), x, y)


def larger(b: ir.IRBuilder, x, y):
    """max(x, y) of two signed i64."""
    return b.select(b.icmp_signed(">", x, y), x, y)


class BlockCounter:
    """The binary counter over `blocks` block sums: level k holds a sum of 2^k blocks if bit k of the count is
    set. What a level holds is the caller's (push's callbacks), so one counter serves a register (PairwiseSum)
    and a row of them (reductions_columns.py)."""

    def __init__(self, fc, blocks):
        self.fc = fc
        # A count known only at run time (a symbolic size) is below 2^47: no array has more elements than
        # a 47-bit address space has bytes. Its levels are then summed by a loop (`levels_loop`).
        self.runtime = not isinstance(blocks, int)
        self.levels = 47 if self.runtime else max(1, int(blocks).bit_length())
        self.count = fc.alloca(I64)
        fc.builder.store(i64(0), self.count)

    def reset(self) -> None:
        self.fc.builder.store(i64(0), self.count)

    def push(self, carry: Callable, keep: Callable) -> None:
        """One more block: carry(level) merges the held sum of `level` into the new one while bit `level` is set
        (sums of equal size), then keep(level) stores the merged sum at the first clear bit."""
        fc, b = self.fc, self.fc.builder
        count = b.load(self.count)
        b.store(b.add(count, i64(1)), self.count)
        bits, level = fc.alloca(I64), fc.alloca(I64)
        b.store(count, bits)
        b.store(i64(0), level)
        head, body, done = fc.block("carry.head"), fc.block("carry.body"), fc.block("carry.done")
        b.branch(head)
        b.position_at_end(head)
        b.cbranch(b.trunc(b.load(bits), I1), body, done)
        b.position_at_end(body)
        carry(b.load(level))
        b.store(b.lshr(b.load(bits), i64(1)), bits)
        b.store(b.add(b.load(level), i64(1)), level)
        b.branch(head)
        b.position_at_end(done)
        keep(b.load(level))

    def held(self, level):
        """An i1: whether `level` (a number or an i64 value) holds a sum at the end."""
        b = self.fc.builder
        return b.trunc(b.lshr(b.load(self.count), level if isinstance(level, ir.Value) else i64(level)), I1)

    def levels_loop(self, body: Callable) -> None:
        """body(level) (an i64 value) for each level up to the highest that holds a sum, lowest first: a
        run-time count's levels (`runtime`), which a loop visits rather than 47 unrolled steps."""
        fc, b = self.fc, self.fc.builder
        count = b.load(self.count)
        bits = b.sub(i64(64), b.call(fc.cg.intrinsic("llvm.ctlz.i64", I64, [I64, I1]), [count, ir.Constant(I1, 0)]))
        with fc.for_range(bits, "level") as level:
            body(level)


class PairwiseSum:
    """Block sums of one register, combined pairwise (a stack of one value per level)."""

    def __init__(self, fc, ty: ir.Type, blocks: int):
        self.fc = fc
        self.counter = BlockCounter(fc, blocks)
        self.levels = ir.ArrayType(ty, self.counter.levels)
        self.stack = fc.alloca(self.levels)
        self.ty = ty

    def _slot(self, level):
        return self.fc.builder.gep(self.stack, [i64(0), level], inbounds=True)

    def push(self, value) -> None:
        b = self.fc.builder
        new = self.fc.alloca(self.ty)
        b.store(value, new)
        self.counter.push(lambda level: b.store(b.fadd(b.load(self._slot(level), typ=self.ty), b.load(new)), new),
                          lambda level: b.store(b.load(new), self._slot(level)))

    def total(self, identity):
        b = self.fc.builder
        if self.counter.runtime:
            acc = self.fc.alloca(self.ty)
            b.store(identity, acc)

            def add(level):
                value = b.fadd(b.load(self._slot(level), typ=self.ty), b.load(acc))
                b.store(b.select(self.counter.held(level), value, b.load(acc)), acc)
            self.counter.levels_loop(add)
            return b.load(acc)
        acc = identity
        for level in range(self.counter.levels):
            value = b.fadd(b.load(self._slot(i64(level)), typ=self.ty), acc)
            acc = b.select(self.counter.held(level), value, acc)
        return acc


class LaneSum:
    """A float sum in up to VECTORS vectors of LANE_BYTES (narrower and fewer for rows known to be shorter:
    no more lanes than a row has elements). A row's elements add into the lanes `lanes` at a time, in an
    order fixed by the row's bounds (`add_row`; zeros fill lanes a group leaves: x + 0 = x, as the lanes
    start at +0.0 and so never hold -0.0); `total` adds the vectors and then their halves in a fixed order.
    A group's elements are staged in a buffer by a plain loop, which LLVM vectorizes without reordering
    anything."""

    def __init__(self, fc, ty: ir.Type, row_length):
        self.fc, self.ty = fc, ty
        self.width = LANE_BYTES // (8 if ty == F64 else 4)
        self.vectors = VECTORS
        if not is_symbolic(row_length):
            self.width = min(self.width, 1 << (max(1, row_length).bit_length() - 1))
            self.vectors = max(1, min(VECTORS, row_length // self.width))
        self.lanes = self.width * self.vectors
        self.vty = ir.VectorType(ty, self.width)
        self.zero = ir.Constant(self.vty, [ir.Constant(ty, 0.0)] * self.width)
        self.acc = [fc.alloca(self.vty) for _ in range(self.vectors)]
        self.staged = fc.alloca(ir.ArrayType(ty, self.lanes))
        self.staged.align = LANE_BYTES

    def _lane(self, k):
        return self.fc.builder.gep(self.staged, [i64(0), k], inbounds=True)

    def reset(self) -> None:
        for acc in self.acc:
            self.fc.builder.store(self.zero, acc)

    def add_row(self, gen, lo, hi, element: Callable) -> None:
        """Adds element(i) for i in [lo, hi) (numbers, sizes or i64 values): whole groups of `lanes` first,
        then what is left as one more group, which reads the row's last `lanes` elements (all of a shorter
        row) and zeroes those an earlier group added."""
        fc, b = self.fc, self.fc.builder
        length = hi - lo if not any(isinstance(v, ir.Value) or is_symbolic(v) for v in (lo, hi)) else None
        lo, hi = (v if isinstance(v, ir.Value) else i64(v) for v in (lo, hi))
        whole = b.udiv(b.sub(hi, lo), i64(self.lanes))
        with fc.for_range(whole, "lanes") as g:
            first = b.add(lo, b.mul(g, i64(self.lanes)))
            with gen.scope(), fc.for_range(self.lanes, "lane") as k:
                b.store(element(b.add(first, k)), self._lane(k))
                latch = b.block
            self._vectorized(latch)
            self._accumulate()
        if length is not None and length % self.lanes == 0:
            return
        first = b.add(lo, b.mul(whole, i64(self.lanes)))
        with fc.if_then(b.icmp_signed("<", first, hi)):
            if length is not None and length >= self.lanes:         # a group of constant length
                start, count = b.sub(hi, i64(self.lanes)), i64(self.lanes)
            else:
                start = larger(b, lo, b.sub(hi, i64(self.lanes)))
                count = smaller(b, b.sub(hi, start), i64(self.lanes))
                with fc.if_then(b.icmp_signed("<", count, i64(self.lanes))):      # a row shorter than the lanes
                    for u in range(self.vectors):
                        b.store(self.zero, b.bitcast(self._lane(i64(u * self.width)), self.vty.as_pointer()),
                                align=LANE_BYTES)
            seen = b.sub(first, start)
            with gen.scope(), fc.for_range(count, "lane") as k:
                fresh = b.icmp_signed(">=", k, seen)
                b.store(b.select(fresh, element(b.add(start, k)), ir.Constant(self.ty, 0.0)), self._lane(k))
                latch = b.block
            self._vectorized(latch)
            self._accumulate()

    def _vectorized(self, latch: ir.Block) -> None:
        """Asks LLVM to vectorize a staging loop `width` wide, `vectors` times interleaved: a group is then one
        pass of straight-line vector code and its staged lanes stay in registers (an element that costs
        much, such as an exp, made LLVM's vectorizer interleave too little of its own accord)."""
        m = self.fc.builder.module
        hints = [m.add_metadata([ir.MetaDataString(m, name), ir.Constant(I32, value)])
                 for name, value in (("llvm.loop.vectorize.width", self.width),
                                     ("llvm.loop.interleave.count", self.vectors))]
        # One node for every loop with these hints, so that kernels alike stay alike (llvm_parts.merge_identical).
        loop = m.add_metadata([ir.MetaDataString(m, "xlite.lanes")] + hints)
        if loop.operands[0] is not loop:
            loop.operands = (loop,) + tuple(loop.operands)      # a loop's ID refers to itself (LLVM LangRef)
        latch.terminator.set_metadata("llvm.loop", loop)

    def _accumulate(self) -> None:
        b = self.fc.builder
        for u, acc in enumerate(self.acc):
            part = b.load(self._lane(i64(u * self.width)), typ=self.vty, align=LANE_BYTES)
            b.store(b.fadd(b.load(acc, typ=self.vty), part), acc)

    def total(self):
        b = self.fc.builder
        parts = [b.load(acc, typ=self.vty) for acc in self.acc]
        while len(parts) > 1:
            parts = [b.fadd(*parts[k:k + 2]) if k + 1 < len(parts) else parts[k] for k in range(0, len(parts), 2)]
        v, half = parts[0], self.width // 2
        while half:
            mask = ir.Constant(ir.VectorType(ir.IntType(32), self.width),
                               [k + half if k < half else k for k in range(self.width)])
            v = b.fadd(v, b.shuffle_vector(v, ir.Constant(self.vty, ir.Undefined), mask))
            half //= 2
        return b.extract_element(v, i64(0))


def _lane_sum(gen, lanes: LaneSum, outer: list, ranges: list, name: str, element: Callable):
    """The sum of element(outer + ivs) over the loops [lo, hi) of `ranges`, the innermost in lanes."""
    fc = gen.fc
    lanes.reset()
    with contextlib.ExitStack() as stack:
        ivs = [stack.enter_context(fc.for_range(hi, f"{name}{k}", start=lo))
               for k, (lo, hi) in enumerate(ranges[:-1])]
        lanes.add_row(gen, *ranges[-1], lambda i: element(outer + ivs + [i]))
    return lanes.total()


def reduce_loops(gen, kind: str, dt: DType, sizes: list, name: str, element: Callable):
    """The `kind` reduction of element(ivs) over the loop nest `sizes` (outermost first), pairwise over blocks
    for long float sums, whose innermost loop goes into lanes (LaneSum) when it is long enough."""
    fc, b = gen.fc, gen.b
    identity = reduce_identity(kind, dt)
    acc = gen.accumulator(register_type(dt), identity)
    if 0 in sizes:
        return b.load(acc)
    in_lanes = kind == "sum" and dt.is_floating and sizes and guess(lambda: sizes[-1] >= VECTOR_MIN, True)
    lanes = LaneSum(fc, register_type(dt), sizes[-1]) if in_lanes else None
    block = lanes.lanes * LANE_TERMS if lanes is not None else SERIAL_BLOCK     # elements a block sums
    if not is_pairwise(kind, dt, prod(sizes), block):
        if lanes is not None:
            return _lane_sum(gen, lanes, [], [(0, s) for s in sizes], name, element)
        with gen.scope(), fc.loop_nest(sizes, name) as ivs:
            b.store(combine(fc, kind, dt, b.load(acc), element(ivs)), acc)
        return b.load(acc)
    t, chunk = block_split(sizes, block)
    chunks, blocks = block_chunks(b, sizes, t, chunk)
    tree = PairwiseSum(fc, register_type(dt), blocks)
    with gen.scope(), fc.loop_nest(sizes[:t], name) as outer, fc.for_range(chunks, name + "blk") as blk:
        start = b.mul(blk, i64(chunk))
        end = smaller(b, b.add(start, i64(chunk)), i64(sizes[t]))
        if lanes is not None:
            tree.push(_lane_sum(gen, lanes, outer, [(start, end)] + [(0, s) for s in sizes[t + 1:]], name, element))
        else:
            b.store(identity, acc)
            with fc.for_range(end, f"{name}{t}", start=start) as it, fc.loop_nest(sizes[t + 1:], name) as inner:
                b.store(combine(fc, kind, dt, b.load(acc), element(outer + [it] + inner)), acc)
            tree.push(b.load(acc))
    return tree.total(identity)


__all__ = ["LANE_TERMS", "VECTOR_MIN", "block_chunks", "smaller", "larger", "BlockCounter", "PairwiseSum", "LaneSum",
           "reduce_loops"]
