"""Row kernels: a row fusion computed one row at a time on the CPU (the plan: xlite/codegen/rows.py).

For each row of [begin, end): each reduction is a loop over the row's elements
accumulating in a register (pairwise over blocks for long float sums, pairwise.py),
then pinned as the row's value; then a loop
storing the root's elements of the row. An expensive value that a later phase
needs again goes into a stack buffer of one row (L1-sized), stored by the
phase that first computes it and loaded by the later ones.
"""
from __future__ import annotations

from xlite.codegen.cpu.ir_array import Index, IrArray, physical_order
from xlite.codegen.cpu.kernels import Kernel, element_cost
from xlite.codegen.cpu.llvm_types import i64, memory_type, round_to_dtype
from xlite.codegen.cpu.pairwise import reduce_loops
from xlite.codegen.rows import plan_rows
from xlite.ir.module import Instruction
from xlite.ir.symbolic import SymbolicUnsupported, is_symbolic

KEEP_MIN_COST = 16           # element_cost from which recomputing costs more than a store and a load (exp: 20)
KEEP_MAX_BYTES = 32 << 10    # the row buffers stay within L1


class RowArray(IrArray):
    """One row of a full-shaped value, addressed by the reduced dims of an index."""

    def __init__(self, ptr, shape, reduced: list):
        super().__init__(ptr, shape)
        self.reduced = reduced

    def address(self, b, index: Index):
        values = index.values(b)
        linear = None
        for d in self.reduced:
            linear = values[d] if linear is None else b.add(b.mul(linear, i64(self.shape.dims[d])), values[d])
        return self.address_linear(b, linear)


def emit_rows(kernel: Kernel, root: Instruction, out: IrArray) -> None:
    fc, gen, b = kernel.fc, kernel.gen, kernel.b
    plan = plan_rows(root, gen.arrays)
    if is_symbolic(plan.n_cols):        # its row buffers live on the stack: their length must be a number
        raise SymbolicUnsupported(f"a row fusion with rows of run-time length {plan.n_cols}")
    full, rows = plan.full, plan.rows
    memo = dict.fromkeys(plan.reduces, 1)
    per_element = sum(element_cost(r.operands[0], gen.arrays, memo) for r in plan.reduces)
    kernel.split = (plan.n_rows, plan.n_rows * plan.n_cols * (per_element + element_cost(root, gen.arrays, memo)))
    keep = plan.kept_values(lambda i: element_cost(i, gen.arrays, dict(memo)) >= KEEP_MIN_COST, KEEP_MAX_BYTES)
    buffers = {i: RowArray(fc.alloca(memory_type(i.shape.dtype), plan.n_cols), i.shape, plan.reduced) for i in keep}

    def column(r, row_values, c) -> Index:
        vals = [None] * full.rank
        for d, v in zip(plan.kept, row_values):
            vals[d] = v
        for d, v in zip(plan.reduced, Index([full.dims[d] for d in plan.reduced], linear=c).values(b)):
            vals[d] = v
        linear = b.add(b.mul(r, i64(plan.n_cols)), c) if plan.contiguous else None
        return Index(full.dims, values=vals, linear=linear, order=physical_order(full))

    def row_elements(r, row_values, body) -> None:
        with gen.scope(), fc.for_range(plan.n_cols, "col") as c:
            body(column(r, row_values, c))

    with gen.scope(), fc.for_range(kernel.bounds[1], "row", start=kernel.bounds[0]) as r:
        row = Index(rows.dims, linear=r, order=physical_order(rows))
        row_values = row.values(b)
        for k, reduce in enumerate(plan.reduces):
            kind, dt = reduce.attrs["kind"], reduce.shape.dtype
            stored = [i for i in keep if plan.phase_of(i) == k]

            def accumulate(ivs, operand=reduce.operands[0], stored=stored):
                index = column(r, row_values, ivs[0])
                for inst in stored:
                    buffers[inst].store(b, gen.element(inst, index), index)
                return gen.element(operand, index)

            total = reduce_loops(gen, kind, dt, [plan.n_cols], "col", accumulate)
            gen.pin(reduce, round_to_dtype(b, total, dt))
            gen.arrays.update((inst, buffers[inst]) for inst in stored)
        if root.shape.dims == rows.dims:
            out.store(b, gen.element(root, row), row)
        else:
            row_elements(r, row_values, lambda index: out.store(b, gen.element(root, index), index))
    for inst in keep:
        gen.arrays.pop(inst)


__all__ = ["emit_rows", "RowArray"]
