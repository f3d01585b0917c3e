"""dot and convolution as one tiled shared-memory GEMM kernel, with the output fusion's epilogue.

Both are contractions C[b, m, n] = sum_k A[b, m, k] * B[b, k, n] over flattened
index groups: for dot, b = batch dims, m = lhs free dims, n = rhs free dims,
k = contracting dims; for convolution (implicit GEMM), b = feature group,
m = (batch, output spatial...), n = output features of the group,
k = (input features of the group, window...), and A reads the input at
`o * stride + k * rhs_dilation - pad_low`, zero in the padding and between
lhs-dilated elements. Nothing is materialized: tile loads evaluate A and B
through the element generator.

Each 256-thread block computes a 64x64 tile of C with 4x4 outputs per thread,
staging 16-deep slices of A and B in shared memory; floats accumulate with
explicit fma in their own type (over K_BLOCK of k at a time when k is long,
the blocks then summed pairwise: xlite/codegen/pairwise.py), integers in
64-bit unsigned (wrapping like the interpreter's int64 matmul). The epilogue evaluates the kernel's root at
each output index with the contraction's value substituted, so a bias add and
activation cost no extra pass.

This backend uses its own GEMM, not cuBLAS: the kernel is checked to compile
on every CI machine (nvcc --ptx, no GPU needed), covers every dtype and the
fused epilogue in one launch, and is deterministic.
"""
from __future__ import annotations

from dataclasses import dataclass
from math import prod
from typing import Callable

from xlite.codegen.cuda.c_types import ctype, float_suffix, literal
from xlite.codegen.cuda.element_generator import Index, and_all, physical_order
from xlite.codegen.cuda.kernels import KernelBuilder, kernel_rule
from xlite.codegen.cuda.reductions import unflatten
from xlite.codegen.conv_window import conv_window
from xlite.codegen.cuda.symbolic_sizes import capped
from xlite.codegen.pairwise import RUNTIME_LEVELS, is_pairwise
from xlite.ir.symbolic import ceildiv, is_runtime

BM = BN = 64
BK = 16
K_BLOCK = 64               # a float accumulator's depth before it joins its pairwise sum (long k, see below)
THREADS = 256
MAX_GRID_YZ = 65535


@dataclass
class Contraction:
    batch: list          # sizes of the flattened groups
    m: list
    n: list
    k: list
    a_element: Callable  # (gen, bvals, mvals, kvals) -> C expression of A's element
    b_element: Callable  # (gen, bvals, kvals, nvals) -> C expression of B's element
    out_values: Callable  # (gen, bvals, mvals, nvals) -> output index values
    a_k_minor: bool      # A's contiguous memory dimension is a k dimension
    b_n_minor: bool      # B's contiguous memory dimension is an n dimension


def _minor(shape) -> int | None:
    order = physical_order(shape)
    return order[-1] if order else None


def _reader(operand, dims_of_groups: tuple):
    """fn(gen, *value groups) -> operand's element with each group's values at that group's dims."""
    def element(gen, *groups):
        vals = [None] * operand.shape.rank
        for dims, values in zip(dims_of_groups, groups):
            for d, v in zip(dims, values):
                vals[d] = v
        return gen.element(operand, Index(operand.shape.dims, values=vals))
    return element


def dot_contraction(inst) -> Contraction:
    lhs, rhs = inst.operands
    a = inst.attrs
    lb, rb = list(a["lhs_batch_dims"]), list(a["rhs_batch_dims"])
    lc, rc = list(a["lhs_contracting_dims"]), list(a["rhs_contracting_dims"])
    lf = [d for d in range(lhs.shape.rank) if d not in lb + lc]
    rf = [d for d in range(rhs.shape.rank) if d not in rb + rc]
    a_element = _reader(lhs, (lb, lf, lc))     # (gen, batch, m, k values)
    b_element = _reader(rhs, (rb, rc, rf))     # (gen, batch, k, n values)
    return Contraction([lhs.shape.dims[d] for d in lb], [lhs.shape.dims[d] for d in lf],
                       [rhs.shape.dims[d] for d in rf], [lhs.shape.dims[d] for d in lc],
                       a_element, b_element, lambda gen, b, m, n: list(b) + list(m) + list(n),
                       _minor(lhs.shape) in lc, _minor(rhs.shape) in rf)


def conv_contraction(inst) -> Contraction:
    lhs, rhs = inst.operands
    (lspec, rspec, ospec, nsp, strides, padding, lhs_dil, rhs_dil, groups, cin_g, cout_g,
     window) = conv_window(inst)
    out_spatial = [inst.shape.dims[ospec[2 + i]] for i in range(nsp)]
    zero = literal(inst.shape.dtype, 0)

    def group_base(gen, bvals, size):
        return f"{bvals[0]} * {gen.lit(size)}" if groups > 1 else None

    def a_element(gen, bvals, mvals, kvals):
        vals, conds = [None] * lhs.shape.rank, []
        vals[lspec[0]] = mvals[0]
        base = group_base(gen, bvals, cin_g)
        vals[lspec[1]] = f"({base} + {kvals[0]})" if base else kvals[0]
        for i in range(nsp):
            o, k = mvals[1 + i], kvals[1 + i]
            p = f"{o} * {gen.lit(strides[i])}" if strides[i] != 1 else o
            p += f" + {k} * {gen.lit(rhs_dil[i])}" if rhs_dil[i] != 1 else f" + {k}"
            if padding[i][0]:
                p += f" - {gen.lit(padding[i][0])}"
            p = gen.let(gen.idx, p, "p")
            conds.append(f"{p} >= 0")
            if lhs_dil[i] != 1:
                conds.append(f"{p} % {gen.lit(lhs_dil[i])} == 0")
                p = gen.let(gen.idx, f"{p} / {gen.lit(lhs_dil[i])}", "p")
            conds.append(f"{p} < {gen.lit(lhs.shape.dims[lspec[2 + i]])}")
            vals[lspec[2 + i]] = p
        return gen.guarded_element(lhs, vals, and_all(conds), zero)

    def b_element(gen, bvals, kvals, nvals):
        vals = [None] * rhs.shape.rank
        base = group_base(gen, bvals, cout_g)
        vals[rspec[0]] = f"({base} + {nvals[0]})" if base else nvals[0]
        vals[rspec[1]] = kvals[0]
        for i in range(nsp):
            vals[rspec[2 + i]] = kvals[1 + i]
        return gen.element(rhs, Index(rhs.shape.dims, values=vals))

    def out_values(gen, bvals, mvals, nvals):
        vals = [None] * inst.shape.rank
        vals[ospec[0]] = mvals[0]
        base = group_base(gen, bvals, cout_g)
        vals[ospec[1]] = f"({base} + {nvals[0]})" if base else nvals[0]
        for i in range(nsp):
            vals[ospec[2 + i]] = mvals[1 + i]
        return vals

    return Contraction([groups] if groups > 1 else [], [lhs.shape.dims[lspec[0]]] + out_spatial, [cout_g],
                       [cin_g] + window, a_element, b_element, out_values,
                       _minor(lhs.shape) == lspec[1], _minor(rhs.shape) == rspec[0])


def _acc_type(dt) -> str:
    return ctype(dt) if dt.is_floating else "unsigned long long"


def _to_acc(dt, value: str) -> str:
    return value if dt.is_floating else f"(unsigned long long)(long long)({value})"


def _fma(dt, a: str, b: str, c: str) -> str:
    return f"fma{float_suffix(dt)}({a}, {b}, {c})" if dt.is_floating else f"{c} + {a} * {b}"


@kernel_rule("dot", "convolution")
def emit_contraction(kb: KernelBuilder, leaf, out, inst):
    c = dot_contraction(inst) if inst.opcode == "dot" else conv_contraction(inst)
    gen, w = kb.gen, kb.w
    dt = inst.shape.dtype
    acc_t = _acc_type(dt)
    idx = kb.index_type
    M, N, K, NB = prod(c.m), prod(c.n), prod(c.k), prod(c.batch)
    m_tiles, n_tiles = ceildiv(M, BM), ceildiv(N, BN)
    header = (f"  __shared__ {acc_t} xl_a[{BK}][{BM + 1}];\n  __shared__ {acc_t} xl_b[{BK}][{BN + 1}];\n"
              "  const int tx = threadIdx.x % 16, ty = threadIdx.x / 16;\n")
    bz, mt = gen.fresh("bz"), gen.fresh("mt")
    with gen.scope(f"for ({idx} {bz} = blockIdx.z; {bz} < {gen.lit(NB)}; {bz} += gridDim.z)"):
        bvals = unflatten(gen, bz, c.batch)
        with gen.scope(f"for ({idx} {mt} = blockIdx.y; {mt} < {gen.lit(m_tiles)}; {mt} += gridDim.y)"):
            w.line(f"const {idx} m0 = {mt} * {BM}, n0 = ({idx})blockIdx.x * {BN};")
            w.line(f"{acc_t} acc[4][4];")
            w.line("#pragma unroll")
            with gen.scope("for (int i = 0; i < 4; ++i)"):
                w.line("#pragma unroll")
                w.line(f"for (int j = 0; j < 4; ++j) acc[i][j] = {literal(dt, 0) if dt.is_floating else '0ull'};")
            pairwise = is_pairwise("sum", dt, K, K_BLOCK)
            if pairwise:
                levels = RUNTIME_LEVELS if is_runtime(K) else ceildiv(K, K_BLOCK).bit_length()
                w.line(f"xl_pairwise<{acc_t}, {levels}> xl_tree[4][4] = {{}};")
            with gen.scope(f"for ({idx} k0 = 0; k0 < {gen.lit(K)}; k0 += {BK})"):
                _load_tile(kb, c, "xl_a", BM, c.a_k_minor, "m0", M, K, bvals, is_a=True, dt=dt)
                _load_tile(kb, c, "xl_b", BN, not c.b_n_minor, "n0", N, K, bvals, is_a=False, dt=dt)
                w.line("__syncthreads();")
                w.line("#pragma unroll")
                with gen.scope(f"for (int kk = 0; kk < {BK}; ++kk)"):
                    w.line(f"{acc_t} ra[4], rb[4];")
                    w.line("#pragma unroll")
                    w.line("for (int i = 0; i < 4; ++i) "
                           "{ ra[i] = xl_a[kk][ty + 16 * i]; rb[i] = xl_b[kk][tx + 16 * i]; }")
                    w.line("#pragma unroll")
                    with gen.scope("for (int i = 0; i < 4; ++i)"):
                        w.line("#pragma unroll")
                        w.line(f"for (int j = 0; j < 4; ++j) acc[i][j] = {_fma(dt, 'ra[i]', 'rb[j]', 'acc[i][j]')};")
                w.line("__syncthreads();")
                if pairwise:
                    with gen.scope(f"if ((k0 + {BK}) % {K_BLOCK} == 0 || k0 + {BK} >= {gen.lit(K)})"):
                        w.line("#pragma unroll")
                        with gen.scope("for (int i = 0; i < 4; ++i)"):
                            w.line("#pragma unroll")
                            w.line(f"for (int j = 0; j < 4; ++j) {{ xl_tree[i][j].push(acc[i][j]); "
                                   f"acc[i][j] = {literal(dt, 0)}; }}")
            if pairwise:
                w.line("#pragma unroll")
                with gen.scope("for (int i = 0; i < 4; ++i)"):
                    w.line("#pragma unroll")
                    w.line(f"for (int j = 0; j < 4; ++j) acc[i][j] = xl_tree[i][j].total({literal(dt, 0)});")
            w.line("#pragma unroll")
            with gen.scope("for (int i = 0; i < 4; ++i)"):
                w.line("#pragma unroll")
                with gen.scope("for (int j = 0; j < 4; ++j)"):
                    w.line(f"const {idx} m = m0 + ty + 16 * i, n = n0 + tx + 16 * j;")
                    with gen.scope(f"if (m < {gen.lit(M)} && n < {gen.lit(N)})"):
                        mvals = unflatten(gen, "m", c.m)
                        nvals = unflatten(gen, "n", c.n)
                        index = Index(out.shape.dims, values=c.out_values(gen, bvals, mvals, nvals))
                        value = gen.let(ctype(dt), f"({ctype(dt)})acc[i][j]")
                        gen.remember(inst, index, value)
                        out.store(gen, index, gen.element(leaf, index))
    grid = (n_tiles, capped(m_tiles, MAX_GRID_YZ), capped(NB, MAX_GRID_YZ))
    return kb.finish(grid, THREADS, header)


def _load_tile(kb, c: Contraction, smem: str, width: int, k_fastest: bool, base: str, size: int, K: int,
               bvals, is_a: bool, dt) -> None:
    """smem[kk][j] = operand element at (base + j, k0 + kk), zero outside; `k_fastest` makes neighbouring
    threads read neighbouring k (A row-major, B column-major) so global reads coalesce."""
    gen, w = kb.gen, kb.w
    idx = kb.index_type
    total = width * BK
    w.line("#pragma unroll")
    with gen.scope(f"for (int t = threadIdx.x; t < {total}; t += {THREADS})"):
        if k_fastest:
            w.line(f"const int kk = t % {BK}, jj = t / {BK};")
        else:
            w.line(f"const int jj = t % {width}, kk = t / {width};")
        w.line(f"const {idx} j = {base} + jj, k = k0 + kk;")
        value = gen.var(_acc_type(dt), literal(dt, 0) if dt.is_floating else "0ull", "t")
        with gen.scope(f"if (j < {gen.lit(size)} && k < {gen.lit(K)})"):
            jvals = unflatten(gen, "j", c.m if is_a else c.n)
            kvals = unflatten(gen, "k", c.k)
            element = (c.a_element(gen, bvals, jvals, kvals) if is_a else c.b_element(gen, bvals, kvals, jvals))
            w.line(f"{value} = {_to_acc(dt, element)};")
        w.line(f"{smem}[kk][jj] = {value};")


__all__ = ["emit_contraction", "dot_contraction", "conv_contraction", "Contraction"]
