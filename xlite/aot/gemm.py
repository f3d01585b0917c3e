"""An emitted GEMM for ahead-of-time objects: the BLAS symbols the CPU backend calls, defined in the module.

The CPU backend calls `xlite_sgemm` / `xlite_dgemm` (Fortran-ABI gemm, every
scalar by pointer, column-major) and `xlite_blas_threads_local`; the JIT
resolves them to the OpenBLAS of the process. An AOT object must not need a
BLAS, so `define_blas_symbols` gives those declarations bodies in the same
LLVM module (internal linkage, so two models link into one program):

    C (m x n) = alpha op(A) (m x k) op(B) (k x n) + beta C

A block of op(A) (up to MC rows x KC = 256 depth, alpha folded in, zero rows
padding it to a multiple of MR) is packed on the stack so that rows are
contiguous; a micro-kernel keeps an MR x NR tile of C in vector registers
(MR = 2 vectors, NR = 4 columns, one fused multiply-add per vector and column
per depth step), reading op(B) one scalar per column and depth step through
strides, so no transpose case needs its own loop. The block products of a
micro-tile are summed pairwise over k (gemm_tree.py), not added into C one
after another, so a long k costs log2(k / KC) roundings, not k / KC: C is
computed a panel at a time (rows x columns whose levels fit LEVEL_BYTES, all
columns when they fit) through every block of k, and the panel's sum is added
into beta C once. Edge tiles go through a small stack tile. Everything lives
on the stack: calls on different threads share nothing.
"""
from __future__ import annotations

from llvmlite import ir

from xlite.aot.gemm_tree import BlockTree, bit_length
from xlite.codegen.cpu.function import ALIGNMENT, CodegenModule, FunctionContext
from xlite.codegen.cpu.llvm_types import F32, F64, I8, I32, I64, PTR, i64

GEMM_SYMBOLS = {"xlite_sgemm": F32, "xlite_dgemm": F64}
THREADS_SYMBOL = "xlite_blas_threads_local"
NR = 4                           # columns of C per micro-tile
VECTORS = 2                      # vectors of rows per micro-tile
VECTOR_BYTES = 32                # 256-bit vectors (legalized to two 128-bit ones on plain x86-64)
PANEL_MICRO_ROWS = 2             # the most micro-tiles of rows a packed block of op(A) holds
PACK_BYTES = 32 * 1024           # the packed block of op(A), on the stack: 256 deep
LEVEL_BYTES = 96 * 1024          # the pairwise levels of a panel's micro-tiles (gemm_tree.py), on the stack
GEMM_STACK_BYTES = PACK_BYTES + LEVEL_BYTES + 4096    # what a gemm call needs on the stack, spills included


def define_blas_symbols(cg: CodegenModule, int_bits: int) -> list[str]:
    """Gives every BLAS declaration of `cg` a body; `int_bits` is the width of the Fortran INTEGERs the
    backend passed (its BLAS provider's). Returns the symbols defined."""
    defined = []
    for name, elem in GEMM_SYMBOLS.items():
        fn = _declared(cg, name)
        if fn is not None:
            _define_gemm(cg, fn, elem, ir.IntType(int_bits))
            defined.append(name)
    fn = _declared(cg, THREADS_SYMBOL)
    if fn is not None:
        fn.linkage = "internal"
        fc = FunctionContext(cg, fn)
        fc.finish(ir.Constant(I32, 1))
        defined.append(THREADS_SYMBOL)
    return defined


def _declared(cg: CodegenModule, name: str):
    try:
        fn = cg.module.get_global(name)
    except KeyError:
        return None
    return fn if isinstance(fn, ir.Function) and fn.is_declaration else None


def _min(b, x, y):
    return b.select(b.icmp_signed("<", x, y), x, y)


def _max(b, x, y):
    return b.select(b.icmp_signed(">", x, y), x, y)


def _define_gemm(cg: CodegenModule, fn: ir.Function, elem: ir.Type, index: ir.IntType) -> None:
    fn.linkage = "internal"
    fn.attributes.add("nounwind")
    fc = FunctionContext(cg, fn)
    b = fc.builder
    (p_ta, p_tb, p_m, p_n, p_k, p_alpha, a, p_lda, bm, p_ldb, p_beta, c, p_ldc) = fn.args
    for arg in (a, bm, c):
        arg.add_attribute("noalias")

    def load_int(p):
        v = b.load(p, typ=index)
        return b.sext(v, I64) if index.width < 64 else v

    def is_trans(p):
        ch = b.or_(b.load(p, typ=I8), ir.Constant(I8, 0x20))          # lower case
        return b.or_(b.icmp_unsigned("==", ch, ir.Constant(I8, ord("t"))),
                     b.icmp_unsigned("==", ch, ir.Constant(I8, ord("c"))))

    m, n, k = load_int(p_m), load_int(p_n), load_int(p_k)
    lda, ldb, ldc = load_int(p_lda), load_int(p_ldb), load_int(p_ldc)
    alpha, beta = b.load(p_alpha, typ=elem), b.load(p_beta, typ=elem)
    ta, tb = is_trans(p_ta), is_trans(p_tb)
    one, zero = ir.Constant(elem, 1.0), ir.Constant(elem, 0.0)
    # op(A)[i, p] = A[i * a_i + p * a_p]; op(B)[p, j] = B[p * b_p + j * b_j]
    a_i, a_p = b.select(ta, lda, i64(1)), b.select(ta, i64(1), lda)
    b_p, b_j = b.select(tb, ldb, i64(1)), b.select(tb, i64(1), ldb)

    def at(base, offset):
        return b.gep(base, [offset], source_etype=elem)

    def vat(base, offset):                 # the same address, as an untyped pointer for vector stores
        return b.bitcast(at(base, offset), PTR)

    done = fc.block("gemm.done")
    work = fc.block("gemm.work")
    empty = b.or_(b.icmp_signed("<=", m, i64(0)), b.icmp_signed("<=", n, i64(0)))
    b.cbranch(empty, done, work)
    b.position_at_end(work)

    # C = beta C (beta == 0: C is not read, as BLAS specifies)
    beta_zero = b.fcmp_ordered("==", beta, zero)
    with b.if_then(b.fcmp_unordered("!=", beta, one)):
        with fc.for_range(n, "bj") as j, fc.for_range(m, "bi") as i:
            p = at(c, b.add(i, b.mul(j, ldc)))
            scaled = b.fmul(b.load(p, typ=elem), beta)
            b.store(b.select(beta_zero, zero, scaled), p)
    product = fc.block("gemm.product")
    b.cbranch(b.or_(b.icmp_signed("<=", k, i64(0)), b.fcmp_ordered("==", alpha, zero)), done, product)
    b.position_at_end(product)

    width = 4 if elem == F32 else 8
    vl = VECTOR_BYTES // width
    mr = VECTORS * vl
    mc = PANEL_MICRO_ROWS * mr
    kc = PACK_BYTES // (mc * width)
    tile_vectors = NR * VECTORS
    vec = ir.VectorType(elem, vl)
    fma = cg.intrinsic(f"llvm.fmuladd.v{vl}{'f32' if elem == F32 else 'f64'}", vec, [vec, vec, vec])
    pack = fc.alloca(elem, mc * kc)
    pack.align = ALIGNMENT
    levels = fc.alloca(vec, LEVEL_BYTES // VECTOR_BYTES)
    levels.align = ALIGNMENT
    tile = fc.alloca(vec, tile_vectors)
    tile.align = ALIGNMENT
    accs = [[fc.alloca(vec) for _ in range(VECTORS)] for _ in range(NR)]
    vzero = ir.Constant(vec, [0.0] * vl)

    def add_tile(corner, rows, cols):
        """C[corner + i + q ldc] += the micro-tile in `accs` (rows x cols of it; edges through `tile`)."""
        full = b.and_(b.icmp_signed("==", rows, i64(mr)), b.icmp_signed("==", cols, i64(NR)))
        with b.if_else(full) as (whole, edge):
            with whole:
                for q in range(NR):
                    for v in range(VECTORS):
                        p = vat(c, b.add(corner, b.add(b.mul(i64(q), ldc), i64(v * vl))))
                        old = b.load(p, typ=vec, align=width)
                        b.store(b.fadd(old, b.load(accs[q][v], typ=vec)), p, align=width)
            with edge:
                for q in range(NR):
                    for v in range(VECTORS):
                        slot = b.gep(tile, [i64(q * VECTORS + v)], source_etype=vec)
                        b.store(b.load(accs[q][v], typ=vec), slot)
                with fc.for_range(cols, "eq") as q, fc.for_range(rows, "ei") as i:
                    p = at(c, b.add(corner, b.add(b.mul(q, ldc), i)))
                    t = b.load(at(tile, b.add(b.mul(q, i64(mr)), i)), typ=elem)
                    b.store(b.fadd(b.load(p, typ=elem), t), p)

    # blocks of k summed pairwise (gemm_tree.py) over a panel of C: up to mc rows and as many columns as its
    # micro-tiles' levels fit in the level buffer, so a short k (few levels) keeps wide panels
    k_blocks = b.sdiv(b.add(k, i64(kc - 1)), i64(kc))
    depth = bit_length(fc, k_blocks)
    tree = BlockTree(fc, vec, tile_vectors, levels, depth)
    slots = b.sdiv(i64(LEVEL_BYTES // VECTOR_BYTES), b.mul(depth, i64(tile_vectors)))
    # as many rows as leave every column in one panel (a second panel packs op(A) again), at least one
    # micro-tile and at most what the pack holds or m needs
    wide = b.sdiv(slots, b.sdiv(b.add(n, i64(NR - 1)), i64(NR)))
    row_tiles = _min(b, _min(b, i64(PANEL_MICRO_ROWS), b.sdiv(b.add(m, i64(mr - 1)), i64(mr))), wide)
    row_tiles = _max(b, row_tiles, i64(1))
    mcp = b.mul(row_tiles, i64(mr))                     # rows of a panel
    nc = b.mul(b.sdiv(slots, row_tiles), i64(NR))       # columns of a panel
    m_blocks = b.sdiv(b.add(m, b.sub(mcp, i64(1))), mcp)
    n_panels = b.sdiv(b.add(n, b.sub(nc, i64(1))), nc)
    last_block = b.sub(k_blocks, i64(1))
    with fc.for_range(m_blocks, "ic") as icb, fc.for_range(n_panels, "jn") as jnb:
        ic = b.mul(icb, mcp)
        mb = _min(b, mcp, b.sub(m, ic))
        mbp = b.mul(b.sdiv(b.add(mb, i64(mr - 1)), i64(mr)), i64(mr))
        j0 = b.mul(jnb, nc)
        n_tiles = b.sdiv(b.add(_min(b, nc, b.sub(n, j0)), i64(NR - 1)), i64(NR))
        with fc.for_range(k_blocks, "pc") as pcb:
            pc = b.mul(pcb, i64(kc))
            kb = _min(b, i64(kc), b.sub(k, pc))
            # pack[p * mcp + i] = alpha op(A)[ic + i, pc + p], zero rows up to mbp
            with fc.for_range(kb, "pp") as p:
                src = at(a, b.mul(b.add(pc, p), a_p))
                row = b.mul(p, mcp)
                with fc.for_range(mb, "pi") as i:
                    value = b.load(at(src, b.mul(b.add(ic, i), a_i)), typ=elem)
                    b.store(b.fmul(value, alpha), at(pack, b.add(row, i)))
                with fc.for_range(mbp, "pz", start=mb) as i:
                    b.store(zero, at(pack, b.add(row, i)))
            with fc.for_range(n_tiles, "jc") as jt:
                jc = b.add(j0, b.mul(jt, i64(NR)))
                nb = _min(b, i64(NR), b.sub(n, jc))
                last = b.sub(n, i64(1))
                columns = [at(bm, b.add(b.mul(pc, b_p), b.mul(_min(b, b.add(jc, i64(q)), last), b_j)))
                           for q in range(NR)]
                with fc.for_range(b.sdiv(mbp, i64(mr)), "ir") as it:
                    ir_ = b.mul(it, i64(mr))
                    for column in accs:
                        for acc in column:
                            b.store(vzero, acc)
                    with fc.for_range(kb, "kp") as p:
                        base = b.add(b.mul(p, mcp), ir_)
                        avs = [b.load(at(pack, b.add(base, i64(v * vl))), typ=vec, align=vl * width)
                               for v in range(VECTORS)]
                        step = b.mul(p, b_p)
                        for q in range(NR):
                            scalar = b.load(at(columns[q], step), typ=elem)
                            splat = b.insert_element(ir.Constant(vec, ir.Undefined), scalar, ir.Constant(I32, 0))
                            splat = b.shuffle_vector(splat, ir.Constant(vec, ir.Undefined),
                                                     ir.Constant(ir.VectorType(I32, vl), [0] * vl))
                            for v in range(VECTORS):
                                acc = accs[q][v]
                                b.store(b.call(fma, [avs[v], splat, b.load(acc, typ=vec)]), acc)
                    rows = _min(b, i64(mr), b.sub(mb, ir_))
                    corner = b.add(b.add(ic, ir_), b.mul(jc, ldc))
                    tree.push([acc for column in accs for acc in column], b.add(b.mul(jt, row_tiles), it), pcb,
                              b.icmp_signed("==", pcb, last_block), lambda: add_tile(corner, rows, nb))
    b.branch(done)
    b.position_at_end(done)
    fc.finish()


__all__ = ["define_blas_symbols", "GEMM_SYMBOLS", "THREADS_SYMBOL", "GEMM_STACK_BYTES"]
