"""dot through BLAS gemm, called from generated code.

The BLAS is the OpenBLAS that NumPy wheels bundle (ILP64, already loaded with
NumPy), else the one scipy exposes through scipy.linalg.cython_blas (LP64);
XLITE_BLAS=scipy picks the latter. The generated code calls `xlite_sgemm` /
`xlite_dgemm`, Fortran-ABI gemm with every scalar passed by pointer, whose
addresses are registered with `llvmlite.binding.add_symbol` in every process
before any object is loaded, so cached object code never holds an address
(the provider and its integer width are part of the cache key). gemm is
column-major: a row-major array of [R, C] is the column-major matrix C x R.
"""
from __future__ import annotations

from math import prod

from llvmlite import ir

from xlite.ir.symbolic import is_symbolic
from xlite.codegen.cpu.blas_provider import (SYMBOLS, THREADS_SYMBOL, BlasProvider,  # noqa: F401
                                             blas_provider, symbol_addresses)
from xlite.codegen.cpu.function import parallel_for
from xlite.codegen.cpu.ir_array import physical_order
from xlite.codegen.cpu.kernels import Kernel, kernel_rule
from xlite.codegen.cpu.llvm_types import F32, F64, I8, I32, I64, PTR, VOID, i64

# gemms with at least this many multiply-adds are split over the generated code's own threads.
PARALLEL_GEMM_WORK = 1 << 23
# Below this many multiply-adds the emitted loop beats the call (and its packing) into BLAS.
MIN_BLAS_WORK = 8 * 8 * 8


_registered = False


def register_blas_symbols() -> None:
    """Makes the xlite_* BLAS symbols resolvable by the JIT linker in this process."""
    global _registered
    if _registered:
        return
    import llvmlite.binding as llvm
    for name, address in symbol_addresses().items():
        llvm.add_symbol(name, address)
    _registered = True


def _dims(inst):
    a = inst.attrs
    lhs, rhs = inst.operands
    lb, rb = list(a["lhs_batch_dims"]), list(a["rhs_batch_dims"])
    lc, rc = list(a["lhs_contracting_dims"]), list(a["rhs_contracting_dims"])
    lf = [d for d in range(lhs.shape.rank) if d not in lb + lc]
    rf = [d for d in range(rhs.shape.rank) if d not in rb + rc]
    return lb, rb, lc, rc, lf, rf


def _sizes(inst):
    lhs, rhs = inst.operands
    lb, rb, lc, rc, lf, rf = _dims(inst)
    batch = prod(lhs.shape.dims[d] for d in lb)
    m = prod(lhs.shape.dims[d] for d in lf)
    n = prod(rhs.shape.dims[d] for d in rf)
    k = prod(lhs.shape.dims[d] for d in lc)
    return batch, m, n, k


def uses_blas(inst) -> bool:
    dt = inst.shape.dtype
    if dt.ir_name not in SYMBOLS:
        return False
    batch, m, n, k = _sizes(inst)
    if any(is_symbolic(s) for s in (m, n, k)):     # run-time sizes (each >= 1): gemm serves them all
        return all(is_symbolic(s) or s >= 1 for s in (m, n, k))
    return min(m, n, k) >= 1 and m * n * k >= MIN_BLAS_WORK


@kernel_rule("dot", wants=uses_blas)
def emit_blas_dot(kernel: Kernel, inst, out) -> None:
    """out[b] = lhs[b] @ rhs[b] for every batch b, one gemm call each, transposes as gemm flags."""
    fc, b = kernel.fc, kernel.b
    lhs, rhs = inst.operands
    lb, rb, lc, rc, lf, rf = _dims(inst)
    batch, m, n, k = _sizes(inst)
    nb = len(lb)
    lhs_orders = [tuple(lb + lf + lc), tuple(lb + lc + lf)]
    rhs_orders = [tuple(rb + rc + rf), tuple(rb + rf + rc)]
    out_dims = list(range(inst.shape.rank))
    out_normal = tuple(out_dims)
    out_swapped = tuple(out_dims[:nb] + out_dims[nb + len(lf):] + out_dims[nb:nb + len(lf)])
    out_order = physical_order(out.shape)
    if out_order not in (out_normal, out_swapped):
        kernel.via_temp(inst, out, emit_blas_dot)
        return
    a = kernel.array(lhs, lhs_orders)
    r = kernel.array(rhs, rhs_orders)
    lhs_t = physical_order(a.shape) == lhs_orders[1]      # lhs stored [K, M]
    rhs_t = physical_order(r.shape) == rhs_orders[1]      # rhs stored [N, K]
    if out_order == out_normal:
        # C^T (N x M) = rhs^T (N x K) @ lhs^T (K x M) in column-major terms
        x, x_trans, x_ld = r, rhs_t, (k if rhs_t else n)
        y, y_trans, y_ld = a, lhs_t, (m if lhs_t else k)
        mm, nn, ldc = n, m, n
    else:
        # C (M x N), stored as row-major [N, M] = column-major M x N
        x, x_trans, x_ld = a, not lhs_t, (k if not lhs_t else m)
        y, y_trans, y_ld = r, not rhs_t, (n if not rhs_t else k)
        mm, nn, ldc = m, n, m
    size_x, size_y, size_c = x.num_elements // batch, y.num_elements // batch, m * n
    with kernel.gen.scope(), fc.for_range(batch, "batch") as bi:
        call_gemm(fc, inst.shape.dtype, x_trans, y_trans, mm, nn, k,
                  x.address_linear(b, b.mul(bi, i64(size_x))), x_ld,
                  y.address_linear(b, b.mul(bi, i64(size_y))), y_ld,
                  out.address_linear(b, b.mul(bi, i64(size_c))), ldc)


def call_gemm(fc, dtype, x_trans: bool, y_trans: bool, m: int, n: int, k: int, x, ldx: int, y, ldy: int,
              c, ldc: int, beta: float = 0.0) -> None:
    """Column-major C (m x n, ldc) = op(X) (m x k) @ op(Y) (k x n) + beta C, through BLAS gemm.

    BLAS always runs on the calling thread only (its own threads spin while waiting for each other,
    which on a busy machine costs 10-50x the gemm); a big gemm is instead split by columns of C over
    threads that generated code starts (parallel_for), each making one single-threaded call."""
    trans = [ir.Constant(I8, ord("T") if t else ord("N")) for t in (x_trans, y_trans)]
    single = trans + [i64(m), i64(n), i64(k), x, i64(ldx), y, i64(ldy), c, i64(ldc)]
    work = m * n * k
    if is_symbolic(work) and fc.cg.threads > 1:        # run-time sizes: split or not at run time
        b = fc.builder
        with b.if_else(b.icmp_signed(">=", i64(work), i64(PARALLEL_GEMM_WORK))) as (split, whole):
            with split:
                _gemm_split(fc, dtype, trans, y_trans, m, n, k, x, ldx, y, ldy, c, ldc, beta,
                            fc.cg.threads if is_symbolic(n) else min(fc.cg.threads, n))
            with whole:
                _gemm_single(fc, dtype, single, beta)
        return
    parts = min(fc.cg.threads, n) if not is_symbolic(work) and work >= PARALLEL_GEMM_WORK else 1
    if parts <= 1:
        _gemm_single(fc, dtype, single, beta)
        return
    _gemm_split(fc, dtype, trans, y_trans, m, n, k, x, ldx, y, ldy, c, ldc, beta, parts)


def _gemm_split(fc, dtype, trans: list, y_trans: bool, m, n, k, x, ldx, y, ldy, c, ldc, beta: float,
                parts: int) -> None:
    """call_gemm's gemm split by columns of C over `parts` threads (parallel_for)."""
    worker = fc.cg.new_function("gemm_part", 0, arg_types=[PTR, PTR, PTR, I64, I64], inline=False)
    wb = worker.builder
    px, py, pc, j0, j1 = worker.args
    elem = F32 if dtype.ir_name == "f32" else F64
    y_t = wb.gep(py, [j0 if y_trans else wb.mul(j0, i64(ldy))], source_etype=elem)
    c_t = wb.gep(pc, [wb.mul(j0, i64(ldc))], source_etype=elem)
    _gemm_single(worker, dtype, trans + [i64(m), wb.sub(j1, j0), i64(k), px, i64(ldx), y_t, i64(ldy), c_t,
                                         i64(ldc)], beta)
    worker.finish()
    parallel_for(fc, worker.fn, [x, y, c], n, parts, pieces_per_thread=1)    # each piece repacks op(X)


def _gemm_single(fc, dtype, values: list, beta: float) -> None:
    """One gemm call on this thread only: values = [transx, transy (i8), m, n, k, X, ldx, Y, ldy, C, ldc]
    with the sizes as i64 and the matrices as pointers."""
    b = fc.builder
    elem = F32 if dtype.ir_name == "f32" else F64
    index = I64 if blas_provider().int_bits == 64 else I32
    gemm = fc.cg.declare(SYMBOLS[dtype.ir_name], VOID, [PTR] * 13)

    def slot(ty, value):
        p = fc.alloca(ty)
        b.store(value if value.type == ty else b.trunc(value, ty), p)
        return p

    transx, transy, m, n, k, x, ldx, y, ldy, c, ldc = values
    args = [slot(I8, transx), slot(I8, transy), slot(index, m), slot(index, n), slot(index, k),
            slot(elem, ir.Constant(elem, 1.0)), x, slot(index, ldx), y, slot(index, ldy),
            slot(elem, ir.Constant(elem, beta)), c, slot(index, ldc)]
    threads = fc.cg.declare(THREADS_SYMBOL, I32, [I32])
    old = b.call(threads, [ir.Constant(I32, 1)])
    b.call(gemm, args)
    b.call(threads, [old])


__all__ = ["register_blas_symbols", "blas_provider", "uses_blas", "call_gemm", "SYMBOLS"]
