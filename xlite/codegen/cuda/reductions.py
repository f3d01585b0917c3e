"""Reductions: sequential element rules (reduce, argmax/argmin, reduce_window), and for a reduction over
the operand's minor dimension (or of few outputs) a kernel with one block per output element, or several.

Element rules loop over an output element's inputs in one thread, with the
accumulator in a register: that is the kernel for reductions over major
dimensions (neighbouring threads read neighbouring elements) and for windows.
The row kernel spreads one output's inputs over a block's threads, each
evaluating the fused producer once per element it reads, then combines the
partial results with warp shuffles and shared memory (block_reduce). A float
sum too long for one register a thread is summed pairwise (reduce_nest,
strided_reduce; xlite/codegen/pairwise.py). Long rows
of few outputs are split over several blocks whose partials the last block to
finish combines, in a fixed order. Float max/min propagate NaN; argmax/argmin
keep the first extremum, NaN counting as the largest/smallest.
"""
from __future__ import annotations

import contextlib
from math import prod

from xlite.codegen.cuda.c_types import ctype, literal, unsigned_type
from xlite.codegen.cuda.element_generator import ElementGenerator, Index, and_all, element_rule, physical_order
from xlite.codegen.cuda.elemental import max_expr, min_expr
from xlite.codegen.cuda.kernels import PLACEHOLDER, KernelBuilder, kernel_rule
from xlite.codegen.cuda.symbolic_sizes import capped
from xlite.codegen.pairwise import RUNTIME_LEVELS, SERIAL_BLOCK, block_split, is_pairwise
from xlite.ir.dtypes import DType
from xlite.ir.symbolic import ceildiv, guess, is_runtime

ROW_MIN_ELEMENTS = 32      # shorter rows are reduced by one thread each


def identity_literal(kind: str, dt: DType) -> str:
    """The value an empty reduction gives (the interpreter's reduce_identity)."""
    if kind in ("sum", "or"):
        return literal(dt, 0)
    if kind in ("prod", "and"):
        return literal(dt, 1)
    if dt.is_bool:
        return literal(dt, kind == "min")
    if dt.is_floating:
        return literal(dt, float("-inf") if kind == "max" else float("inf"))
    return literal(dt, dt.min if kind == "max" else dt.max)


def combine(kind: str, dt: DType, acc: str, x: str) -> str:
    """acc (+) x for a reduction kind, as a C expression of dt's register type."""
    if kind in ("sum", "prod"):
        op = "+" if kind == "sum" else "*"
        if dt.is_floating:
            return f"{acc} {op} {x}"
        u = unsigned_type(dt)
        return f"({ctype(dt)})({u})(({u}){acc} {op} ({u}){x})"
    if kind == "and":
        return f"({acc} && {x})"
    if kind == "or":
        return f"({acc} || {x})"
    return (max_expr if kind == "max" else min_expr)(dt, acc, x)


def unflatten(gen: ElementGenerator, expr: str, sizes: list) -> list[str]:
    """Row-major coordinates of the flat position `expr` over `sizes` (declared as consts)."""
    if not sizes:
        return []
    return Index(tuple(sizes), linear=expr, order=range(len(sizes)), home=gen.w.placeholder()).values(gen)


def _loop_nest(gen: ElementGenerator, sizes: list, prefix: str):
    """Opens nested for-loops over `sizes` (caller closes them with the returned ExitStack)."""
    stack = contextlib.ExitStack()
    ivs = []
    for size in sizes:
        v = gen.fresh(prefix)
        stack.enter_context(gen.scope(f"for ({gen.idx} {v} = 0; {v} < {gen.lit(size)}; ++{v})"))
        ivs.append(v)
    return stack, ivs


def _pairwise_tree(gen: ElementGenerator, dt: DType, blocks) -> str:
    """A prelude xl_pairwise counter deep enough for `blocks` block sums (a run-time count: any count)."""
    levels = RUNTIME_LEVELS if is_runtime(blocks) else max(1, blocks.bit_length())
    return gen.var(f"xl_pairwise<{ctype(dt)}, {levels}>", "{}", "xl_tree")


def reduce_nest(gen: ElementGenerator, kind: str, dt: DType, sizes: list, prefix: str, element) -> str:
    """A register holding the `kind` reduction of element(ivs) over nested loops of `sizes`; a long float sum
    adds blocks of SERIAL_BLOCK terms and combines them pairwise (xlite/codegen/pairwise.py)."""
    acc = gen.var(ctype(dt), identity_literal(kind, dt))
    if 0 in sizes:
        return acc
    if not is_pairwise(kind, dt, prod(sizes)):
        stack, ivs = _loop_nest(gen, sizes, prefix)
        with stack:
            gen.w.line(f"{acc} = {combine(kind, dt, acc, element(ivs))};")
        return acc
    t, chunk = block_split(sizes, SERIAL_BLOCK)
    outer_count, blocks = prod(sizes[:t]), ceildiv(sizes[t], chunk)
    tree = _pairwise_tree(gen, dt, blocks if is_runtime(outer_count) or is_runtime(blocks) else outer_count * blocks)
    stack, outer = _loop_nest(gen, sizes[:t], prefix)
    with stack:
        start, it, size = gen.fresh("blk"), gen.fresh(prefix), gen.lit(sizes[t])
        with gen.scope(f"for ({gen.idx} {start} = 0; {start} < {size}; {start} += {gen.lit(chunk)})"):
            part = gen.var(ctype(dt), identity_literal(kind, dt))
            end = f"({size} - {start} > {gen.lit(chunk)} ? {start} + {gen.lit(chunk)} : {size})"
            with gen.scope(f"for ({gen.idx} {it} = {start}; {it} < {end}; ++{it})"):
                inner_stack, inner = _loop_nest(gen, sizes[t + 1:], prefix)
                with inner_stack:
                    gen.w.line(f"{part} = {combine(kind, dt, part, element(outer + [it] + inner))};")
            gen.w.line(f"{tree}.push({part});")
    gen.w.line(f"{acc} = {tree}.total({acc});")
    return acc


def strided_reduce(gen: ElementGenerator, kind: str, dt: DType, acc: str, first: str, count: int, stride: int,
                   element) -> None:
    """acc = acc (+) element(r) for r = first, first + stride, ... below count (one thread's share of a row); a
    float sum of more than SERIAL_BLOCK terms a thread is pairwise over blocks of them."""
    per_thread = ceildiv(count, stride)
    r = gen.fresh("r")
    if not is_pairwise(kind, dt, count if is_runtime(per_thread) else per_thread):     # run-time: pairwise
        with gen.scope(f"for ({gen.idx} {r} = {first}; {r} < {gen.lit(count)}; {r} += {stride})"):
            gen.w.line(f"{acc} = {combine(kind, dt, acc, element(r))};")
        return
    tree = _pairwise_tree(gen, dt, ceildiv(per_thread, SERIAL_BLOCK))
    start, span = gen.fresh("blk"), stride * SERIAL_BLOCK
    total = f"((long long){count})" if is_runtime(count) else f"{count}ll"
    with gen.scope(f"for (long long {start} = {first}; {start} < {total}; {start} += {span}ll)"):
        part = gen.var(ctype(dt), identity_literal(kind, dt))
        end = f"({total} - {start} > {span}ll ? {start} + {span}ll : {total})"
        with gen.scope(f"for ({gen.idx} {r} = ({gen.idx}){start}; {r} < {end}; {r} += {stride})"):
            gen.w.line(f"{part} = {combine(kind, dt, part, element(r))};")
        gen.w.line(f"{tree}.push({part});")
    gen.w.line(f"{acc} = {tree}.total({acc});")


@element_rule("reduce")
def _reduce(gen: ElementGenerator, inst, index: Index) -> str:
    x = inst.operands[0]
    axes = set(inst.attrs["dimensions"])
    out_vals = iter(index.values(gen))
    vals = {d: next(out_vals) for d in range(x.shape.rank) if d not in axes}
    order = [d for d in physical_order(x.shape) if d in axes]

    def element(ivs):
        vals.update(zip(order, ivs))
        return gen.element(x, Index(x.shape.dims, values=[vals[d] for d in range(x.shape.rank)]))

    acc = reduce_nest(gen, inst.attrs["kind"], inst.shape.dtype, [x.shape.dims[d] for d in order], "r", element)
    return gen.let(ctype(inst.shape.dtype), acc)


def beats(opcode: str, dt: DType, v: str, vi: str, best: str, best_i: str) -> str:
    """Whether (v, vi) wins over (best, best_i): a larger (smaller) value, NaN above (below) all, ties to
    the smaller index; best_i < 0 means nothing yet."""
    cmp = ">" if opcode == "argmax" else "<"
    if dt.is_floating:
        better = (f"(({v} != {v}) ? ({best} == {best} || {vi} < {best_i}) : "
                  f"({best} == {best} && ({v} {cmp} {best} || ({v} == {best} && {vi} < {best_i}))))")
    else:
        better = f"({v} {cmp} {best} || ({v} == {best} && {vi} < {best_i}))"
    return f"({best_i} < 0 || {better})"


@element_rule("argmax", "argmin")
def _argminmax(gen: ElementGenerator, inst, index: Index) -> str:
    x = inst.operands[0]
    axis = inst.attrs["dimension"]
    dt = x.shape.dtype
    out_vals = list(index.values(gen))
    best = gen.var(ctype(dt), literal(dt, 0))
    best_i = gen.var("long long", "-1")
    v_i = gen.fresh("r")
    with gen.scope(f"for ({gen.idx} {v_i} = 0; {v_i} < {gen.lit(x.shape.dims[axis])}; ++{v_i})"):
        v = gen.element(x, Index(x.shape.dims, values=out_vals[:axis] + [v_i] + out_vals[axis:]))
        with gen.scope(f"if ({beats(inst.opcode, dt, v, v_i, best, best_i)})"):
            gen.w.line(f"{best} = {v}; {best_i} = {v_i};")
    return gen.let(ctype(inst.shape.dtype), f"({ctype(inst.shape.dtype)}){best_i}")


@element_rule("reduce_window")
def _reduce_window(gen: ElementGenerator, inst, index: Index) -> str:
    """Pooling: the window's elements that fall in the padding count as the identity."""
    x = inst.operands[0]
    a = inst.attrs
    kind, dt = a["kind"], inst.shape.dtype
    identity = identity_literal(kind, dt)
    out_vals = index.values(gen)
    acc = gen.var(ctype(dt), identity)
    stack, ivs = _loop_nest(gen, list(a["window"]), "w")
    with stack:
        pos, conds = [], []
        for v, w, stride, (lo, _), size in zip(out_vals, ivs, a["strides"], a["padding"], x.shape.dims):
            p = f"{v} * {gen.lit(stride)} + {w}" if stride != 1 else f"{v} + {w}"
            p = gen.let(gen.idx, f"{p} - {gen.lit(lo)}" if lo else p, "p")
            if lo > 0:
                conds.append(f"{p} >= 0")
            conds.append(f"{p} < {gen.lit(size)}")
            pos.append(p)
        value = gen.guarded_element(x, pos, and_all(conds), identity)
        gen.w.line(f"{acc} = {combine(kind, dt, acc, value)};")
    return gen.let(ctype(dt), acc)


def _warp_reduce(gen: ElementGenerator, kind: str, dt: DType, acc: str, acc_i: str | None) -> None:
    """Lane 0 of each warp ends with its warp's combination (a fixed shuffle tree, so the same every run)."""
    w = gen.w
    with gen.scope("for (int off = 16; off > 0; off >>= 1)"):
        if acc_i is not None:
            w.line(f"const {ctype(dt)} ov = xl_shfl_down({acc}, off);")
            w.line(f"const long long oi = xl_shfl_down({acc_i}, off);")
            with gen.scope(f"if (oi >= 0 && {beats(kind, dt, 'ov', 'oi', acc, acc_i)})"):
                w.line(f"{acc} = ov; {acc_i} = oi;")
        else:                           # every lane shuffles: never inside a short-circuit && or ||
            w.line(f"const {ctype(dt)} other = xl_shfl_down({acc}, off);")
            w.line(f"{acc} = {combine(kind, dt, acc, 'other')};")


def block_reduce(kb: KernelBuilder, kind: str, dt: DType, acc: str, acc_i: str | None = None,
                 init: str | None = None, broadcast: bool = False, warps: int | str | None = None) -> None:
    """Combines `acc` (argmax/argmin: with index `acc_i`, -1 = none) over the block in a fixed order into thread 0,
    or with `broadcast` every thread. Call from all threads of the block (blockDim.x % 32 == 0), never divergently."""
    gen, w = kb.gen, kb.w
    is_arg = kind in ("argmax", "argmin")
    if is_arg and acc_i is None:
        raise ValueError(f"block_reduce({kind}) needs the index register acc_i")
    acc_t = ctype(dt)
    if init is None:
        init = literal(dt, 0) if is_arg else identity_literal(kind, dt)
    warps = "((int)blockDim.x >> 5)" if warps is None else warps
    arg_i = acc_i if is_arg else None
    with gen.scope():
        part = gen.fresh("xl_part")
        w.line(f"__shared__ {acc_t} {part}[32];")
        if is_arg:
            w.line(f"__shared__ long long {part}_i[32];")
        w.line("const int xl_lane = threadIdx.x & 31, xl_warp = threadIdx.x >> 5;")
        _warp_reduce(gen, kind, dt, acc, arg_i)
        with gen.scope("if (xl_lane == 0)"):
            w.line(f"{part}[xl_warp] = {acc};" + (f" {part}_i[xl_warp] = {acc_i};" if is_arg else ""))
        w.line("__syncthreads();")
        with gen.scope("if (xl_warp == 0)"):
            w.line(f"{acc} = xl_lane < {warps} ? {part}[xl_lane] : {init};")
            if is_arg:
                w.line(f"{acc_i} = xl_lane < {warps} ? {part}_i[xl_lane] : -1;")
            _warp_reduce(gen, kind, dt, acc, arg_i)
            if broadcast:               # slot 0 was read by lane 0 before its warp's shuffles: free again
                with gen.scope("if (xl_lane == 0)"):
                    w.line(f"{part}[0] = {acc};" + (f" {part}_i[0] = {acc_i};" if is_arg else ""))
        w.line("__syncthreads();")
        if broadcast:
            w.line(f"{acc} = {part}[0];" + (f" {acc_i} = {part}_i[0];" if is_arg else ""))
            w.line("__syncthreads();")


# one block per output element (several for long rows of few outputs) ------------------------------
FEW_OUTPUTS = 32           # this few outputs are reduced by blocks even when the minor dimension is kept
SPLIT_MIN_ELEMENTS = 4096  # each block of a split row reads at least this many elements
TARGET_BLOCKS = 256        # a split aims for about this many blocks (two per SM of an H100)


def _row_shape(inst, n_out: int):
    """(reduced dims in the operand's physical order, their element count), or None when the rows are short
    (one thread per output reads them faster) or the minor dimension is kept and there are many outputs."""
    x = inst.operands[0]
    axes = inst.attrs["dimensions"] if inst.opcode == "reduce" else (inst.attrs["dimension"],)
    order = physical_order(x.shape)
    if not order:
        return None
    reduced = [d for d in order if d in axes]
    count = prod(x.shape.dims[d] for d in reduced)
    if guess(lambda: count < ROW_MIN_ELEMENTS, False):      # (a run-time count: rows of any length)
        return None
    if order[-1] not in axes and (guess(lambda: n_out > FEW_OUTPUTS, True)
                                  or guess(lambda: count < SPLIT_MIN_ELEMENTS, False)):
        return None
    return reduced, count


def _split(count: int, n_out: int) -> int:
    """Blocks per output: enough to fill the GPU when few outputs have long rows, each with real work."""
    if is_runtime(count) or is_runtime(n_out) or 2 * n_out > TARGET_BLOCKS:
        return 1            # a run-time size: one block per output (the partials' globals need a static size)
    return max(1, min(-(-TARGET_BLOCKS // n_out), count // SPLIT_MIN_ELEMENTS))


def _threads(count: int, outputs: int) -> int:
    if is_runtime(count) or is_runtime(outputs):
        return 256
    if count >= 8192 and outputs <= 64:
        return 1024
    return 256 if count >= 1024 else 128 if count >= 256 else 64


@kernel_rule("reduce", "argmax", "argmin")
def emit_row_reduction(kb: KernelBuilder, leaf, out, inst):
    """Each block reduces (a part of) one output's row through block_reduce.

    A row split over S blocks finishes in the same launch ("last block finishes"): each block writes its partial
    to a __device__ array, fences and counts itself in with an atomicAdd on the row's counter; the block that
    arrives last combines the S partials in index order (by the same fixed tree) and resets the counter. One
    launch needs no second kernel, host step or arena slice, and the result does not depend on which block
    is last, so it is the same every run. The globals belong to the loaded module, whose launches the
    executable serializes.
    """
    n_out = out.shape.num_elements
    shape = _row_shape(inst, n_out)
    if shape is None:
        return None
    reduced, count = shape
    x = inst.operands[0]
    gen, w = kb.gen, kb.w
    is_arg = inst.opcode != "reduce"
    dt = x.shape.dtype
    acc_t = ctype(dt)
    kind = inst.opcode if is_arg else inst.attrs["kind"]
    split = _split(count, n_out)
    threads = _threads(-(-count // split), n_out * split)
    warps = threads // 32
    idx = kb.index_type
    init = literal(dt, 0) if is_arg else identity_literal(kind, dt)
    o = gen.fresh("o")
    with gen.scope(f"for ({idx} {o} = blockIdx.x; {o} < {gen.lit(n_out)}; {o} += gridDim.x)"):   # split: once
        out_index = Index(out.shape.dims, linear=o, order=physical_order(out.shape), home=w.placeholder())
        kept = iter(out_index.values(gen))
        vals = {d: None if d in reduced else next(kept) for d in range(x.shape.rank)}
        acc = gen.var(acc_t, init)
        acc_i = gen.var("long long", "-1") if is_arg else None
        first = "threadIdx.x" if split == 1 else f"({idx})blockIdx.y * {threads} + threadIdx.x"

        def element(r):
            for d, v in zip(reduced, unflatten(gen, r, [x.shape.dims[d] for d in reduced])):
                vals[d] = v
            return gen.element(x, Index(x.shape.dims, values=[vals[d] for d in range(x.shape.rank)]))

        if is_arg:
            r = gen.fresh("r")
            with gen.scope(f"for ({idx} {r} = {first}; {r} < {gen.lit(count)}; {r} += {threads * split})"):
                value = element(r)
                with gen.scope(f"if ({beats(kind, dt, value, r, acc, acc_i)})"):
                    w.line(f"{acc} = {value}; {acc_i} = {r};")
        else:
            strided_reduce(gen, kind, dt, acc, first, count, threads * split, element)
        block_reduce(kb, kind, dt, acc, acc_i, init, warps=warps)
        prologue, last = "", None
        if split > 1:
            prologue, last = _publish_partial(kb, dt, acc, acc_i, o, split, n_out)
        with gen.scope(f"if ({last})") if last else contextlib.nullcontext():
            if last:                    # block-uniform: every thread of the row's last block is here
                _combine_partials(kb, kind, dt, acc, acc_i, init, o, split, warps, threads)
            with gen.scope("if (threadIdx.x == 0)"):
                result = f"({ctype(inst.shape.dtype)}){acc_i}" if is_arg else acc
                gen.remember(inst, out_index, gen.let(ctype(inst.shape.dtype), result))
                out.store(gen, out_index, gen.element(leaf, out_index))
                if last:
                    w.line(f"{PLACEHOLDER}_count[{o}] = 0u;   // ready for the next launch")
    grid = (capped(n_out, 65535 * 16),) if split == 1 else (n_out, split)
    return kb.finish(grid, threads, prologue=prologue)


def _publish_partial(kb: KernelBuilder, dt, acc, acc_i, o, split, n_out) -> tuple[str, str]:
    """Thread 0 stores the block's partial and counts the block in; returns the kernel's __device__ globals and
    the shared flag that says this block arrived last."""
    gen, w = kb.gen, kb.w
    acc_t = ctype(dt)
    part, counter = f"{PLACEHOLDER}_part", f"{PLACEHOLDER}_count"
    prologue = f"__device__ {acc_t} {part}[{n_out * split}];\n"
    if acc_i is not None:
        prologue += f"__device__ long long {part}_i[{n_out * split}];\n"
    prologue += f"__device__ unsigned int {counter}[{n_out}];\n"
    last = gen.fresh("xl_last")
    w.line(f"__shared__ bool {last};")
    with gen.scope("if (threadIdx.x == 0)"):
        slot = f"{o} * {split} + blockIdx.y"
        w.line(f"{part}[{slot}] = {acc};" + (f" {part}_i[{slot}] = {acc_i};" if acc_i is not None else ""))
        w.line("__threadfence();        // the partial is visible before the count says so")
        w.line(f"{last} = atomicAdd(&{counter}[{o}], 1u) == {split - 1}u;")
    w.line("__syncthreads();")
    return prologue, last


def _combine_partials(kb: KernelBuilder, kind, dt, acc, acc_i, init, o, split, warps, threads) -> None:
    """The row's S partials, read in index order (volatile: written by other blocks), into thread 0's acc."""
    gen, w = kb.gen, kb.w
    acc_t = ctype(dt)
    part = f"{PLACEHOLDER}_part"
    w.line("__threadfence();")
    w.line(f"{acc} = {init};" + (f" {acc_i} = -1;" if acc_i is not None else ""))
    k = gen.fresh("k")
    with gen.scope(f"for (int {k} = threadIdx.x; {k} < {split}; {k} += {threads})"):
        w.line(f"const {acc_t} pv = ((volatile {acc_t}*){part})[{o} * {split} + {k}];")
        if acc_i is not None:
            w.line(f"const long long pi = ((volatile long long*){part}_i)[{o} * {split} + {k}];")
            with gen.scope(f"if (pi >= 0 && {beats(kind, dt, 'pv', 'pi', acc, acc_i)})"):
                w.line(f"{acc} = pv; {acc_i} = pi;")
        else:
            w.line(f"{acc} = {combine(kind, dt, acc, 'pv')};")
    block_reduce(kb, kind, dt, acc, acc_i, init, warps=warps)


__all__ = ["combine", "identity_literal", "beats", "unflatten", "block_reduce", "emit_row_reduction", "reduce_nest",
           "strided_reduce"]
