"""convolution as im2col + BLAS gemm, per chunk of images and feature group.

For a chunk of images (sized so its patches stay in L2), the patches of one group
form a row-major matrix P[(n, out spatial), (window, c)] in a per-thread buffer
of the temp region, the kernel is read as W[(window, c), o] straight from
memory when its layout is (window..., in, out) (TF's HWIO) and copied into that
layout otherwise, and gemm writes out[(n, out spatial), o] in place when the
output's layout is (batch, spatial..., feature) (NHWC), or into a temp that a
loop then copies with the output's layout. Positions in the padding or between
lhs-dilated elements read as 0. Small or zero-sized convolutions stay on the
elemental loop (reductions.py). Big convolutions share their chunks out over threads;
each gemm then runs single-threaded (see blas.py).
"""
from __future__ import annotations

from math import prod

from xlite.codegen.cpu.blas import SYMBOLS, call_gemm
from xlite.codegen.cpu.element_generator import ElementGenerator, and_all
from xlite.codegen.cpu.function import parallel_for
from xlite.codegen.cpu.ir_array import Index, IrArray, physical_order
from xlite.codegen.cpu.kernels import Kernel, kernel_rule
from xlite.codegen.cpu.llvm_types import I64, PTR, constant, i64, memory_type
from xlite.ir.shape import Layout, Shape

# Below this many multiply-adds the direct loop is as good as building patches for gemm.
MIN_GEMM_WORK = 32 * 32 * 32
# A chunk of images gets patches of at most this many bytes (so they are still in cache when the gemm
# reads them) and, within that, at least MIN_ROWS rows (so the gemm is not too thin).
CHUNK_BYTES = 4 << 20
MIN_ROWS = 256
# Convolutions with at least this many multiply-adds share their chunks out over threads.
PARALLEL_CONV_WORK = 1 << 23


def input_position(b, out_pos, k, stride: int, rhs_dil: int, lhs_dil: int, pad_lo: int, size: int):
    """The lhs index a window position reads along one spatial dim, and the conditions that it exists."""
    p = b.mul(out_pos, i64(stride)) if stride != 1 else out_pos
    kk = b.mul(k, i64(rhs_dil)) if rhs_dil != 1 else k
    p = b.add(p, kk)
    if pad_lo:
        p = b.sub(p, i64(pad_lo))
    conds = [b.icmp_signed(">=", p, i64(0))]
    if lhs_dil != 1:
        conds.append(b.icmp_unsigned("==", b.srem(p, i64(lhs_dil)), i64(0)))
        p = b.sdiv(p, i64(lhs_dil))
    conds.append(b.icmp_signed("<", p, i64(size)))
    return p, conds


def _geometry(inst):
    lhs, rhs = inst.operands
    a = inst.attrs
    lspec, rspec, ospec = a["lhs_spec"], a["rhs_spec"], a["out_spec"]
    nsp = lhs.shape.rank - 2
    groups = a.get("feature_group_count", 1)
    batch = lhs.shape.dims[lspec[0]]
    out_sp = [inst.shape.dims[ospec[2 + i]] for i in range(nsp)]
    window = [rhs.shape.dims[rspec[2 + i]] for i in range(nsp)]
    cin_g = rhs.shape.dims[rspec[1]]
    out_feat = rhs.shape.dims[rspec[0]]
    return lspec, rspec, ospec, nsp, groups, batch, out_sp, window, cin_g, out_feat


def uses_gemm(inst) -> bool:
    if inst.shape.dtype.ir_name not in SYMBOLS:
        return False
    *_, groups, batch, out_sp, window, cin_g, out_feat = _geometry(inst)
    rows, depth = batch * prod(out_sp), prod(window) * cin_g
    return min(rows, depth, out_feat) >= 1 and rows * depth * out_feat // groups >= MIN_GEMM_WORK


@kernel_rule("convolution", wants=uses_gemm)
def emit_conv_gemm(kernel: Kernel, inst, out: IrArray) -> None:
    """Chunks of images, each: patches into a per-thread buffer that stays in cache, then one gemm per
    feature group; the chunks are shared out over threads."""
    fc, b = kernel.fc, kernel.b
    lhs, rhs = inst.operands
    lspec, rspec, ospec, nsp, groups, batch, out_sp, window, cin_g, out_feat = _geometry(inst)
    dt = inst.shape.dtype
    x = kernel.array(lhs)
    w = kernel.array(rhs, [tuple(rspec[2:]) + (rspec[1], rspec[0])])
    out_order = (ospec[0],) + tuple(ospec[2:]) + (ospec[1],)
    target = out
    if physical_order(out.shape) != out_order:
        target = kernel.temp(inst.shape.with_layout(Layout(tuple(reversed(out_order)))))
    rows, depth = prod(out_sp), prod(window) * cin_g
    chunk = _chunk(batch, rows, depth * dt.itemsize)
    chunks = batch // chunk
    work = batch * rows * depth * out_feat // groups
    threads = min(fc.cg.threads, chunks) if work >= PARALLEL_CONV_WORK else 1
    patch_shape = Shape(dt, (chunk, *out_sp, *window, cin_g))
    patches = kernel.temp(Shape(dt, (threads * prod(patch_shape.dims),)))
    worker = _conv_worker(fc.cg, inst, x.shape, w.shape, target.shape, patch_shape, chunk)
    parallel_for(fc, worker, [x.ptr, w.ptr, target.ptr, patches.ptr], chunks, threads)
    if target is not out:
        kernel.gen.arrays[inst] = target
        kernel.emit_loop([inst], [out])
        del kernel.gen.arrays[inst]


def _chunk(batch: int, rows: int, row_bytes: int) -> int:
    """Images per chunk (a divisor of the batch): enough for a gemm of MIN_ROWS rows, within CHUNK_BYTES."""
    fits = [c for c in range(1, batch + 1) if batch % c == 0 and c * rows * row_bytes <= CHUNK_BYTES] or [1]
    tall = [c for c in fits if c * rows >= MIN_ROWS]
    return min(tall) if tall else max(fits)


def _conv_worker(cg, inst, x_shape, w_shape, target_shape, patch_shape, chunk: int):
    """`void conv_part(ptr x, ptr w, ptr out, ptr patches, i64 first_chunk, i64 end_chunk, i64 slot)`:
    thread `slot` builds its patches in the slot-th patch buffer."""
    lhs = inst.operands[0]
    a = inst.attrs
    lspec, rspec, ospec, nsp, groups, batch, out_sp, window, cin_g, out_feat = _geometry(inst)
    og = out_feat // groups
    rows, depth = chunk * prod(out_sp), prod(window) * cin_g
    lhs_dil = a.get("lhs_dilation", (1,) * nsp)
    rhs_dil = a.get("rhs_dilation", (1,) * nsp)
    dt = inst.shape.dtype
    fc = cg.new_function("conv_part", 0, arg_types=[PTR] * 4 + [I64, I64, I64], inline=False)
    b = fc.builder
    px, pw, pout, pbase, begin, end, slot = fc.args
    gen = ElementGenerator(fc, {lhs: IrArray(px, x_shape)})
    w = IrArray(pw, w_shape)
    target = IrArray(pout, target_shape)
    mine = b.gep(pbase, [b.mul(slot, i64(prod(patch_shape.dims)))], source_etype=memory_type(dt))
    patches = IrArray(mine, patch_shape)
    zero = constant(dt, 0)
    with fc.for_range(end, "chunk", start=begin) as u:
        first_image = b.mul(u, i64(chunk))
        for g in range(groups):
            with gen.scope(), fc.loop_nest([chunk] + out_sp + window + [cin_g], "p") as ivs:
                n, sp, ks, c = ivs[0], ivs[1:1 + nsp], ivs[1 + nsp:1 + 2 * nsp], ivs[-1]
                vals, conds = [None] * lhs.shape.rank, []
                vals[lspec[0]] = b.add(first_image, n)
                vals[lspec[1]] = b.add(c, i64(g * cin_g)) if g else c
                for i in range(nsp):
                    p, cs = input_position(b, sp[i], ks[i], a["window_strides"][i], rhs_dil[i], lhs_dil[i],
                                           a["padding"][i][0], lhs.shape.dims[lspec[2 + i]])
                    vals[lspec[2 + i]] = p
                    conds += cs
                value = gen.guarded_element(lhs, vals, and_all(b, conds), zero)
                patches.store(b, value, Index(patch_shape.dims, values=ivs))
            # column-major: out^T (og x rows, ldc = out_feat) = W^T (og x depth) @ P^T (depth x rows)
            first_row = b.mul(first_image, i64(prod(out_sp) * out_feat))
            call_gemm(fc, dt, False, False, og, rows, depth,
                      w.address_linear(b, i64(g * og)), out_feat,
                      patches.ptr, depth,
                      target.address_linear(b, b.add(first_row, i64(g * og))), out_feat)
    fc.finish()
    return fc.fn


__all__ = ["emit_conv_gemm", "uses_gemm", "input_position"]
