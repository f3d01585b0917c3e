"""Kernels that write where their inputs say, deterministically and in the interpreter's order.

scatter_add: one thread per column (a position of x outside `axis`) copies its
column of x and then adds, in order, every update whose index falls in range;
repeated indices accumulate in the order np.add.at adds them, and no two
threads ever write the same element. With few columns and many updates (say a
1-D x) that leaves the GPU idle, so there each column gets a block instead: its
threads copy the column, synchronize, and add the updates with atomicAdd. Float
sums then happen in an unspecified order (TF's GPU scatter_add is not
deterministic either); integer sums wrap and are exact.

select_and_scatter (max-pool's gradient) runs as a gather: each element of the
result visits the windows that contain it in row-major order, finds each
window's first maximal real element (NaN counts as the maximum, padding never
wins) and adds that window's source value when it is this element.

dynamic_update_slice written over its operand's own buffer (a loop-carried array) stores only its
window; elsewhere it is an elemental loop kernel.
"""
from __future__ import annotations

from math import prod

from xlite.codegen.cuda.c_types import ctype, literal, memory_type
from xlite.codegen.cuda.element_generator import Index, physical_order
from xlite.codegen.cuda.index_ops import clamped_starts
from xlite.codegen.cuda.kernels import BLOCK, KernelBuilder, kernel_rule, loop_grid
from xlite.codegen.cuda.reductions import combine, unflatten
from xlite.codegen.cuda.symbolic_sizes import capped


ATOMIC_DTYPES = ("f32", "f64", "s32", "u32", "s64")   # those xl_atomic_add (prelude.py) accumulates
ATOMIC_MAX_COLUMNS = 4096   # below this many columns the per-column threads cannot fill a GPU ...
ATOMIC_MIN_UPDATES = 64     # ... and each would add at least this many updates in sequence
ATOMIC_THREADS = 256


def _columns(inst):
    """(x, indices, updates, size along the axis, dims before it, dims after it) of a scatter_add."""
    x, idx, updates = inst.operands
    axis = inst.attrs["axis"]
    return x, idx, updates, x.shape.dims[axis], list(x.shape.dims[:axis]), list(x.shape.dims[axis + 1:])


def _column(kb: KernelBuilder, out, inst, col: str, copy_loop, update_loop, add) -> None:
    """Column `col` of a scatter_add: x's copied under copy_loop(a), then each in-range update under
    update_loop(j) added by add(target index, update value)."""
    x, idx, updates, size, outer, inner = _columns(inst)
    gen, it = kb.gen, kb.index_type
    coords = unflatten(gen, col, outer + inner)
    ovals, ivals = coords[:len(outer)], coords[len(outer):]
    a = gen.fresh("a")
    with gen.scope(copy_loop(a)):
        index = Index(x.shape.dims, values=ovals + [a] + ivals)
        out.store(gen, index, gen.element(x, index))
    if update_loop is None:
        return
    j = gen.fresh("j")
    with gen.scope(update_loop(j)):
        jvals = unflatten(gen, j, list(idx.shape.dims))
        position = gen.element(idx, Index(idx.shape.dims, values=jvals))
        with gen.scope(f"if ({position} >= 0 && (long long)({position}) < {size}LL)"):
            p = gen.let(it, f"({it})({position})", "p")
            target = Index(x.shape.dims, values=ovals + [p] + ivals)
            add(target, gen.element(updates, Index(updates.shape.dims, values=ovals + jvals + ivals)))


@kernel_rule("dynamic_update_slice")
def emit_dynamic_update_slice(kb: KernelBuilder, leaf, out, inst):
    """Written over its operand's own buffer (a loop-carried array): out[clamped start + j] = update[j],
    one thread per element of the update; the rest of the buffer is left as it is."""
    x, update, starts = inst.operands[0], inst.operands[1], inst.operands[2:]
    gen = kb.gen
    n = update.shape.num_elements
    var = gen.fresh("e")
    with gen.scope(kb.grid_stride(n, var)):
        offsets = clamped_starts(gen, starts, x.shape.dims, update.shape.dims)
        index = Index(update.shape.dims, linear=var, order=physical_order(update.shape), home=kb.w.placeholder())
        target = [v if s is None else f"({v} + {s})" for v, s in zip(index.values(gen), offsets)]
        out.store(gen, Index(x.shape.dims, values=target), gen.element(update, index))
    return kb.finish(loop_grid(n), BLOCK)


@kernel_rule("scatter_add")
def emit_scatter_add(kb: KernelBuilder, leaf, out, inst):
    x, idx, _, size, outer, inner = _columns(inst)
    gen, it = kb.gen, kb.index_type
    dt = inst.shape.dtype
    columns = prod(outer) * prod(inner)
    count = idx.shape.num_elements
    if dt.ir_name in ATOMIC_DTYPES and columns < ATOMIC_MAX_COLUMNS and count >= ATOMIC_MIN_UPDATES:
        return _emit_atomic_scatter_add(kb, out, inst, columns, count)

    def add(target, update):
        current = gen.let(ctype(dt), out.load(gen, target))
        out.store(gen, target, combine("sum", dt, current, update))
    col = gen.fresh("c")
    with gen.scope(kb.grid_stride(columns, col)):
        _column(kb, out, inst, col, lambda a: f"for ({it} {a} = 0; {a} < {gen.lit(size)}; ++{a})",
                (lambda j: f"for ({it} {j} = 0; {j} < {gen.lit(count)}; ++{j})") if count else None, add)
    return kb.finish(loop_grid(columns), BLOCK)


def _emit_atomic_scatter_add(kb: KernelBuilder, out, inst, columns: int, count: int):
    """A block per column: copy it, __syncthreads, then every thread atomically adds its share of the updates.

    The copy must precede every add into the column; one block owning the column orders them with a barrier,
    which spreading a column over several blocks could only do with a second launch."""
    size = _columns(inst)[3]
    gen, w, it = kb.gen, kb.w, kb.index_type
    dt = inst.shape.dtype

    def update_loop(j):
        w.line("__syncthreads();        // the column is copied before any update lands in it")
        return f"for ({it} {j} = threadIdx.x; {j} < {gen.lit(count)}; {j} += {ATOMIC_THREADS})"

    def add(target, update):
        address = f"({memory_type(dt)}*)&{out.name}[{target.linear_in(gen, out.shape)}]"
        w.line(f"xl_atomic_add({address}, ({ctype(dt)})({update}));")
    col = gen.fresh("c")
    with gen.scope(f"for ({it} {col} = blockIdx.x; {col} < {gen.lit(columns)}; {col} += gridDim.x)"):
        _column(kb, out, inst, col, lambda a: f"for ({it} {a} = threadIdx.x; {a} < {gen.lit(size)}; "
                                              f"{a} += {ATOMIC_THREADS})", update_loop, add)
    return kb.finish((capped(columns, 65535),), ATOMIC_THREADS)


@kernel_rule("select_and_scatter")
def emit_select_and_scatter(kb: KernelBuilder, leaf, out, inst):
    x, source = inst.operands
    gen, w = kb.gen, kb.w
    a = inst.attrs
    dt = inst.shape.dtype
    idx = kb.index_type
    n = out.shape.num_elements
    e = gen.fresh("e")
    with gen.scope(kb.grid_stride(n, e)):
        index = Index(out.shape.dims, linear=e, order=physical_order(out.shape), home=w.placeholder())
        pvals = index.values(gen)
        acc = gen.var(ctype(dt), literal(dt, 0))
        if source.shape.num_elements:
            import contextlib
            windows = contextlib.ExitStack()
            ovals = []
            with windows:
                for p, win, stride, (lo, _), osize in zip(pvals, a["window"], a["strides"], a["padding"],
                                                           source.shape.dims):
                    first = gen.let("long long", f"(long long)({p}) + {lo - win + 1}LL", "f")
                    start = gen.let(idx, f"({idx})({first} <= 0 ? 0LL : ({first} + {stride - 1}LL) / {stride}LL)")
                    stop = gen.let(idx, f"({idx})(((long long)({p}) + {lo}LL) / {stride}LL)")
                    o = gen.fresh("o")
                    windows.enter_context(gen.scope(
                        f"for ({idx} {o} = {start}; {o} <= {stop} && {o} < {gen.lit(osize)}; ++{o})"))
                    ovals.append(o)
                _select_in_window(kb, inst, ovals, pvals, acc)
        out.store(gen, index, acc)
    return kb.finish(loop_grid(n), BLOCK)


def _select_in_window(kb: KernelBuilder, inst, ovals: list, pvals: list, acc: str) -> None:
    """acc += source[o] when window o's first maximal real element is at pvals."""
    x, source = inst.operands
    gen, w = kb.gen, kb.w
    a = inst.attrs
    dt = x.shape.dtype
    idx = kb.index_type
    best = gen.var(ctype(dt), literal(dt, 0), "best")
    found = gen.var("bool", "false", "found")
    chosen = [gen.var(idx, "-1", "at") for _ in ovals]
    import contextlib
    with contextlib.ExitStack() as loops:
        qs, conds = [], []
        for o, win, stride, (lo, _), size in zip(ovals, a["window"], a["strides"], a["padding"], x.shape.dims):
            k = gen.fresh("k")
            loops.enter_context(gen.scope(f"for ({idx} {k} = 0; {k} < {win}; ++{k})"))
            q = gen.let(idx, f"{o} * {gen.lit(stride)} + {k} - {gen.lit(lo)}", "q")
            conds.append(f"{q} >= 0 && {q} < {gen.lit(size)}")
            qs.append(q)
        valid = " && ".join(f"({c})" for c in conds) or "true"
        with gen.scope(f"if ({valid})"):
            v = gen.element(x, Index(x.shape.dims, values=qs))
            if dt.is_floating:
                beats = f"(({v} > {best} || {v} != {v}) && {best} == {best})"
            else:
                beats = f"({v} > {best})"
            with gen.scope(f"if (!{found} || {beats})"):
                w.line(f"{best} = {v}; {found} = true;")
                for c, q in zip(chosen, qs):
                    w.line(f"{c} = {q};")
    same = " && ".join(f"{c} == {p}" for c, p in zip(chosen, pvals)) or "true"
    with gen.scope(f"if ({found} && {same})"):
        value = gen.element(source, Index(source.shape.dims, values=ovals))
        w.line(f"{acc} = {combine('sum', dt, acc, value)};")


__all__ = ["emit_scatter_add", "emit_select_and_scatter"]
