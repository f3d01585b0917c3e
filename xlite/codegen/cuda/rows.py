"""Row kernels: a row fusion computed with one block per row (the plan: xlite/codegen/rows.py).

The block's threads share each pass over the row: thread t takes elements t,
t + blockDim, ... For each reduction every thread accumulates its elements
(a long float sum pairwise over blocks of them, strided_reduce),
`block_reduce` combines the partial results and hands the row's value to every
thread, which pins it for the rest of the row; then the threads store the
root's elements of the row (or thread 0 its one element). The whole row is
one kernel launch, so a softmax reads its input from memory once.

When every thread holds at most KEEP_MAX_PER_THREAD elements of a row, an
expensive value a later pass needs again (a softmax's exp) stays in that
thread's registers: the passes are unrolled over the thread's elements, the
first one stores the value in a small local array, the later ones read it.
"""
from __future__ import annotations

from xlite.codegen.cuda.c_types import ctype
from xlite.codegen.cuda.element_generator import Index, physical_order
from xlite.codegen.cuda.kernels import KernelBuilder, KernelSource
from xlite.codegen.cuda.reductions import block_reduce, combine, identity_literal, strided_reduce, unflatten
from xlite.codegen.cuda.symbolic_sizes import capped
from xlite.codegen.rows import plan_rows
from xlite.ir.module import Instruction
from xlite.ir.opcodes import op_info

KEEP_MAX_PER_THREAD = 8


def _threads(n_cols: int) -> int:
    return 256 if n_cols >= 1024 else 128 if n_cols >= 256 else 64 if n_cols >= 64 else 32


class KeptRow:
    """A value kept in registers for the row: element k of each thread's share, k the unrolled pass's step."""

    def __init__(self, name: str, shape):
        self.name = name
        self.shape = shape
        self.step = None

    def load(self, gen, index: Index) -> str:
        return f"{self.name}[{self.step}]"


def emit_row_kernel(kb: KernelBuilder, root: Instruction, out) -> KernelSource:
    gen, w = kb.gen, kb.w
    plan = plan_rows(root, gen.buffers)
    full, rows = plan.full, plan.rows
    n_rows, n_cols = plan.n_rows, plan.n_cols
    threads = _threads(n_cols)
    per_thread = -(-n_cols // threads)
    keep = []
    if per_thread <= KEEP_MAX_PER_THREAD:
        keep = plan.kept_values(lambda i: op_info(i.opcode).expensive, max_bytes=1 << 62)
    kept = {i: KeptRow(gen.fresh("xl_row"), i.shape) for i in keep}
    idx = kb.index_type
    row = gen.fresh("row")

    def row_elements(body) -> None:
        """body(index) for each of this thread's elements of the row (unrolled when values are kept)."""
        if keep:
            step = gen.fresh("k")
            w.line("#pragma unroll")
            loop = gen.scope(f"for (int {step} = 0; {step} < {per_thread}; ++{step})")
            col_expr = f"({idx})threadIdx.x + ({idx}){step} * {threads}"
        else:
            step = None
            col = gen.fresh("c")
            loop = gen.scope(f"for ({idx} {col} = threadIdx.x; {col} < {gen.lit(n_cols)}; {col} += {threads})")
        with loop:
            for value in kept.values():
                value.step = step
            if step is not None:
                col = gen.let(idx, col_expr, "c")
                guard = gen.scope(f"if ({col} < {gen.lit(n_cols)})")
            else:
                guard = gen.memo_scope()
            with guard:
                body(column(col))

    def column(col: str) -> Index:
        vals = dict(zip(plan.kept, row_values))
        vals.update(zip(plan.reduced, unflatten(gen, col, [full.dims[d] for d in plan.reduced])))
        linear = f"{row} * {gen.lit(n_cols)} + {col}" if plan.contiguous else None
        return Index(full.dims, values=[vals[d] for d in range(full.rank)], linear=linear, order=physical_order(full))

    with gen.scope(f"for ({idx} {row} = blockIdx.x; {row} < {gen.lit(n_rows)}; {row} += gridDim.x)"):
        for value in kept.values():
            w.line(f"{ctype(value.shape.dtype)} {value.name}[{per_thread}];")
        row_index = Index(rows.dims, linear=row, order=physical_order(rows), home=w.placeholder())
        row_values = row_index.values(gen)
        for k, reduce in enumerate(plan.reduces):
            kind, dt = reduce.attrs["kind"], reduce.shape.dtype
            acc = gen.var(ctype(dt), identity_literal(kind, dt))
            stored = [i for i in keep if plan.phase_of(i) == k]

            def accumulate(index, operand=reduce.operands[0], acc=acc, kind=kind, dt=dt, stored=stored):
                value = gen.element(operand, index)
                for inst in stored:
                    w.line(f"{kept[inst].name}[{kept[inst].step}] = {gen.element(inst, index)};")
                w.line(f"{acc} = {combine(kind, dt, acc, value)};")

            if keep:
                row_elements(accumulate)
            else:                       # long rows: each thread's share is summed pairwise when it is long
                strided_reduce(gen, kind, dt, acc, "threadIdx.x", n_cols, threads,
                               lambda col, operand=reduce.operands[0]: gen.element(operand, column(col)))
            block_reduce(kb, kind, dt, acc, broadcast=True)
            gen.pin(reduce, gen.let(ctype(dt), acc))
            gen.buffers.update((inst, kept[inst]) for inst in stored)
        if root.shape.dims == rows.dims:
            with gen.scope("if (threadIdx.x == 0)"):
                out.store(gen, row_index, gen.element(root, row_index))
        else:
            row_elements(lambda index: out.store(gen, index, gen.element(root, index)))
    for inst in keep:
        gen.buffers.pop(inst)
    return kb.finish((capped(n_rows, 1 << 20),), threads)


def build_row_kernel(root: Instruction, inputs: dict, outputs: list, constant_loc) -> KernelSource:
    """The kernel of a row fusion whose fused root is `root` (arguments as kernels.build_kernel's)."""
    kb = KernelBuilder(root, inputs, outputs, constant_loc)
    return emit_row_kernel(kb, kb.leaves[0], kb.outs[0])


__all__ = ["build_row_kernel", "emit_row_kernel"]
