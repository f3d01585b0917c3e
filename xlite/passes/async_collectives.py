"""Each all_reduce of the entry becomes an all_reduce_start and an all_reduce_done (XLA's async collectives).

    %r = f32[10] all_reduce(%g), kind=mean   ->   %r.start = f32[10] all_reduce_start(%g), kind=mean
                                                  %r = f32[10] all_reduce_done(%r.start)

Between the two the reduction is in flight (MPI_Iallreduce on the cpu), so the scheduler (scheduling.py)
starts each as soon as its operand is ready and waits for it only where its first user needs it: the first
gradient buckets (all_reduce_combiner.py) are reduced while the backward pass computes the later ones.
Only the entry's: a loop body or branch keeps the blocking all_reduce.
"""
from __future__ import annotations

from xlite.ir.module import Instruction, Module
from xlite.passes.pass_pipeline import Pass
from xlite.passes.rewrite import unique_name


class AsyncCollectives(Pass):
    name = "async-collectives"

    def run(self, module: Module) -> bool:
        comp = module.entry
        if not any(i.opcode == "all_reduce" for i in comp.instructions):
            return False
        names = {i.name for i in comp.instructions}
        order = []
        for inst in comp.instructions:
            if inst.opcode == "all_reduce":
                start = Instruction("all_reduce_start", list(inst.operands), inst.shape, dict(inst.attrs),
                                    metadata=inst.metadata)
                start.name = unique_name(f"{inst.name}.start", names)
                names.add(start.name)
                order.append(start)
                inst.opcode, inst.operands, inst.attrs = "all_reduce_done", [start], {}
            order.append(inst)
        comp.instructions = order
        return True


__all__ = ["AsyncCollectives"]
