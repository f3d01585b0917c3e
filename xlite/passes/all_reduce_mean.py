"""An all_reduce mean (floating point only) becomes an all_reduce sum and a divide by the world's size.

    %r = f32[4] all_reduce(%g), kind=mean   ->   %s = f32[4] all_reduce(%g), kind=sum
                                                 %r = f32[4] div(%s, broadcast(f32[] constant(2)))

The same values (the mean is that sum divided in the operand's dtype), but the divide is an elementwise op
that fusion folds into the gradient's users (the optimizer's update) instead of a pass of its own over the
reduced buffer. Every process compiles for the same world (the cache key names its size).
"""
from __future__ import annotations

import numpy as np

from xlite.ir.module import Instruction, Module
from xlite.ir.shape import Shape
from xlite.passes.pass_pipeline import Pass
from xlite.passes.rewrite import Rewrite, rewrite_computation
from xlite.semantics.world import world


class AllReduceMeanToSum(Pass):
    name = "all-reduce-mean-to-sum"

    def run(self, module: Module) -> bool:
        size = world().size
        if size == 1:           # every all_reduce is the identity (the backends copy)
            return False
        changed = False
        for comp in module.all_computations():
            changed |= rewrite_computation(comp, lambda inst: _as_sum(inst, size))
        return changed


def _as_sum(inst: Instruction, size: int) -> Rewrite:
    if inst.opcode != "all_reduce" or inst.attrs["kind"] != "mean":
        return None
    total = Instruction("all_reduce", list(inst.operands), inst.shape, dict(inst.attrs, kind="sum"),
                        metadata=inst.metadata)
    total.name = f"{inst.name}.sum"
    divisor = Instruction("constant", (), Shape(inst.shape.dtype, ()), metadata=inst.metadata,
                          literal=np.array(size, dtype=inst.shape.dtype.np))
    divisor.name = f"{inst.name}.size"
    fresh = [total, divisor]
    if inst.shape.rank:
        divisor = Instruction("broadcast_in_dim", (divisor,), inst.shape, {"dimensions": ()}, metadata=inst.metadata)
        divisor.name = f"{inst.name}.sizes"
        fresh.append(divisor)
    mean = Instruction("div", [total, divisor], inst.shape, {}, metadata=inst.metadata)
    return mean, fresh + [mean]


__all__ = ["AllReduceMeanToSum"]
