"""`rng` elements in generated code: Philox-4x32-10 and the distributions of xlite/semantics/philox.py.

Element i (row-major) uses counter (i lo, i hi, run lo, run hi) under the op's
key; uniform is bit-exact with the reference, normal and truncated normal use
the same float32 formulas (their log/cos/sqrt come from the math hook).
"""
from __future__ import annotations

from llvmlite import ir

from xlite import errors
from xlite.codegen.cpu.element_generator import ElementGenerator, element_rule
from xlite.codegen.cpu.elemental import convert_value
from xlite.codegen.cpu.ir_array import Index
from xlite.codegen.cpu.llvm_types import F32, I32, I64
from xlite.codegen.cpu.mathlib import emit_math
from xlite.ir import dtypes
from xlite.semantics import philox

_ERFINV_SMALL = (3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087, -0.00125372503,
                 -0.00417768164, 0.246640727, 1.50140941)
_ERFINV_LARGE = (0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773, -0.0076224613,
                 0.00943887047, 1.00167406, 2.83297682)


def _u32(v: int) -> ir.Constant:
    return ir.Constant(I32, v & 0xFFFFFFFF)


def _mulhilo(b: ir.IRBuilder, m: int, x):
    product = b.mul(ir.Constant(I64, m), b.zext(x, I64))
    return b.trunc(b.lshr(product, ir.Constant(I64, 32)), I32), b.trunc(product, I32)


def philox_words(b: ir.IRBuilder, linear, run_counter, key) -> tuple:
    """The four 32-bit outputs of Philox-4x32-10 for element `linear` (i64) and `run_counter` (i64)."""
    c0 = b.trunc(linear, I32)
    c1 = b.trunc(b.lshr(linear, ir.Constant(I64, 32)), I32)
    c2 = b.trunc(run_counter, I32)
    c3 = b.trunc(b.lshr(run_counter, ir.Constant(I64, 32)), I32)
    k0, k1 = int(key[0]) & 0xFFFFFFFF, int(key[1]) & 0xFFFFFFFF
    for r in range(philox.ROUNDS):
        hi0, lo0 = _mulhilo(b, philox.PHILOX_M0, c0)
        hi1, lo1 = _mulhilo(b, philox.PHILOX_M1, c2)
        c0, c1, c2, c3 = b.xor(b.xor(hi1, c1), _u32(k0)), lo1, b.xor(b.xor(hi0, c3), _u32(k1)), lo0
        k0 = (k0 + philox.PHILOX_W0) & 0xFFFFFFFF
        k1 = (k1 + philox.PHILOX_W1) & 0xFFFFFFFF
    return c0, c1, c2, c3


def _f32(v: float) -> ir.Constant:
    return ir.Constant(F32, v)


def uniform_from_word(b: ir.IRBuilder, word):
    return b.fmul(b.uitofp(b.lshr(word, _u32(9)), F32), _f32(2.0 ** -23))


def _sqrt(fc, x):
    return fc.builder.call(fc.cg.intrinsic("llvm.sqrt.f32", F32, [F32]), [x])


def erfinv_f32(fc, x):
    """Giles' single-precision erfinv, operation for operation as xlite.semantics.philox.erfinv_f32."""
    b = fc.builder
    one = _f32(1.0)
    w = b.fneg(emit_math(fc, "log", b.fmul(b.fsub(one, x), b.fadd(one, x))))
    small = b.fcmp_ordered("<", w, _f32(5.0))
    ws = b.fsub(w, _f32(2.5))
    p = _f32(2.81022636e-08)
    for c in _ERFINV_SMALL:
        p = b.fadd(_f32(c), b.fmul(p, ws))
    w5 = b.select(b.fcmp_ordered(">", w, _f32(5.0)), w, _f32(5.0))
    wl = b.fsub(_sqrt(fc, w5), _f32(3.0))
    q = _f32(-0.000200214257)
    for c in _ERFINV_LARGE:
        q = b.fadd(_f32(c), b.fmul(q, wl))
    return b.fmul(b.select(small, p, q), x)


@element_rule("rng")
def _rng(gen: ElementGenerator, inst, index: Index):
    fc, b = gen.fc, gen.b
    run_counter = gen.element(inst.operands[0], Index((), values=[]))
    linear = index.row_major_linear(b)
    w0, w1, _, _ = philox_words(b, linear, run_counter, inst.attrs["key"])
    dist = inst.attrs["distribution"]
    if dist == "uniform":
        value = uniform_from_word(b, w0)
    elif dist == "normal":
        u1 = b.fadd(uniform_from_word(b, w0), _f32(2.0 ** -23))
        u2 = uniform_from_word(b, w1)
        radius = _sqrt(fc, b.fmul(_f32(-2.0), emit_math(fc, "log", u1)))
        value = b.fmul(radius, emit_math(fc, "cos", b.fmul(_f32(6.283185307179586), u2)))
    elif dist == "truncated_normal":
        u = uniform_from_word(b, w0)
        t = b.fmul(b.fsub(b.fmul(_f32(2.0), u), _f32(1.0)), _f32(0.9544997361036416))
        value = b.fmul(_f32(1.4142135623730951), erfinv_f32(fc, t))
    else:
        raise errors.unimplemented(f"rng distribution {dist!r} is not supported by the cpu backend")
    return convert_value(fc, value, dtypes.float32, inst.shape.dtype)


__all__ = ["philox_words", "uniform_from_word", "erfinv_f32"]
