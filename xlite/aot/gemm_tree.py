"""The emitted GEMM's pairwise k sums: block tiles of a micro-tile combined like a binary counter.

A block-serial GEMM adds each packed block's product into C, one block after
another: k / 256 roundings at an ever larger C (for k = 2^17 with one large
product and many small ones that was 160 ulps of sum |a b|). Here a micro-tile
sums one block of k in registers, a fresh chain a block, and block tiles
combine as in xlite/codegen/pairwise.py, so a product goes through about
256 + log2(k / 256) roundings, the first ones at the block's own magnitude.

Every micro-tile of a panel is at the same block t when it finishes one, so
the counter is t itself: level l of a micro-tile holds the sum of 2^l blocks
when bit l of t is set. Block t adds the levels of t's trailing ones and
stores the sum at the first clear bit; the last block adds every held level,
low to high, and hands the total to the caller (which adds it into C), so a
one-block product never touches the levels.
"""
from __future__ import annotations

from typing import Callable

from llvmlite import ir

from xlite.codegen.cpu.function import FunctionContext
from xlite.codegen.cpu.llvm_types import I1, I64, i64


def bit_length(fc: FunctionContext, x: ir.Value) -> ir.Value:
    """The i64 count of significant bits of x (0 for 0)."""
    ctlz = fc.cg.intrinsic("llvm.ctlz.i64", I64, [I64, I1])
    return fc.builder.sub(i64(64), fc.builder.call(ctlz, [x, ir.Constant(I1, 0)]))


class BlockTree:
    """The levels of every micro-tile of a panel: `tile_vectors` vectors (of type `vec`) a level, `depth`
    levels a micro-tile, micro-tiles one after another in `buffer`."""

    def __init__(self, fc: FunctionContext, vec: ir.VectorType, tile_vectors: int, buffer: ir.Value,
                 depth: ir.Value):
        self.fc, self.vec, self.tile_vectors = fc, vec, tile_vectors
        self.buffer, self.depth = buffer, depth

    def _vector(self, slot: ir.Value, level: ir.Value, v: int) -> ir.Value:
        """Vector v of `level` of micro-tile `slot`."""
        b = self.fc.builder
        index = b.add(b.mul(b.add(b.mul(slot, self.depth), level), i64(self.tile_vectors)), i64(v))
        return b.gep(self.buffer, [index], source_etype=self.vec)

    def push(self, accs: list, slot: ir.Value, block: ir.Value, last: ir.Value, total: Callable) -> None:
        """Block number `block` of micro-tile `slot`, in the vector allocas `accs`: merged with the levels it
        completes and kept, or (i1 `last`) merged with every held level, low to high, and passed to total(),
        which reads the sum from `accs`."""
        fc, b = self.fc, self.fc.builder
        trailing = b.lshr(b.xor(block, b.add(block, i64(1))), i64(1))        # the trailing ones of block
        held = b.select(last, block, trailing)
        with fc.for_range(bit_length(fc, held), "lvl") as level:
            with b.if_then(b.trunc(b.lshr(held, level), I1)):
                for v, acc in enumerate(accs):
                    part = b.load(self._vector(slot, level, v), typ=self.vec)
                    b.store(b.fadd(part, b.load(acc, typ=self.vec)), acc)
        with b.if_else(last) as (finish, keep):
            with finish:
                total()
            with keep:
                level = bit_length(fc, trailing)
                for v, acc in enumerate(accs):
                    b.store(b.load(acc, typ=self.vec), self._vector(slot, level, v))


__all__ = ["BlockTree", "bit_length"]
