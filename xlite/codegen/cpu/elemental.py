"""LLVM IR for one output element of every elementwise opcode, with the interpreter's exact semantics.

A rule `@cpu_rule(opcode) def f(fc, inst, *xs)` gets the FunctionContext
(`fc.builder`, `fc.cg`), the instruction and its operands' element values
(pred as i1) and returns the result element. Integer division never traps
(x/0 = -1, x%0 = x, INT_MIN/-1 = INT_MIN); float max/min propagate NaN;
float->int converts saturate and send NaN to 0.
"""
from __future__ import annotations


from llvmlite import ir

from xlite.codegen.cpu.llvm_types import F32, F64, constant, is_unsigned, register_type, round_to_dtype
from xlite.codegen.cpu.mathlib import emit_math
from xlite.ir.dtypes import DType
from xlite.ir.opcodes import RuleTable

_RULES = RuleTable()
cpu_rule = _RULES.register


def has_elemental_rule(opcode: str) -> bool:
    return opcode in _RULES


def emit_elementwise(fc, inst, values: list):
    return round_to_dtype(fc.builder, _RULES[inst.opcode](fc, inst, *values), inst.shape.dtype)


def _dtype(inst, i: int = 0) -> DType:
    return inst.operands[i].shape.dtype


def _float_intrinsic(fc, name: str, x):
    ty = x.type
    suffix = "f32" if ty == F32 else "f64"
    return fc.builder.call(fc.cg.intrinsic(f"llvm.{name}.{suffix}", ty, [ty]), [x])


def is_nan(b: ir.IRBuilder, x):
    return b.fcmp_unordered("uno", x, x)


# unary --------------------------------------------------------------------------------
@cpu_rule("neg")
def _neg(fc, inst, x):
    b = fc.builder
    return b.fneg(x) if _dtype(inst).is_floating else b.sub(ir.Constant(x.type, 0), x)


@cpu_rule("abs")
def _abs(fc, inst, x):
    dt = _dtype(inst)
    if dt.is_floating:
        return _float_intrinsic(fc, "fabs", x)
    if is_unsigned(dt):
        return x
    b = fc.builder
    return b.select(b.icmp_signed("<", x, ir.Constant(x.type, 0)), b.sub(ir.Constant(x.type, 0), x), x)


@cpu_rule("sign")
def _sign(fc, inst, x):
    b = fc.builder
    dt = _dtype(inst)
    one, zero = constant(dt, 1), constant(dt, 0)
    if dt.is_floating:
        neg_one = constant(dt, -1)
        r = b.select(b.fcmp_ordered("==", x, zero), zero, x)        # -0 -> +0, NaN stays
        r = b.select(b.fcmp_ordered("<", x, zero), neg_one, r)
        return b.select(b.fcmp_ordered(">", x, zero), one, r)
    if is_unsigned(dt):
        return b.zext(b.icmp_unsigned("!=", x, zero), x.type)
    pos = b.zext(b.icmp_signed(">", x, zero), x.type)
    neg = b.zext(b.icmp_signed("<", x, zero), x.type)
    return b.sub(pos, neg)


for _op, _intr in (("floor", "floor"), ("ceil", "ceil"), ("round", "roundeven"), ("sqrt", "sqrt")):
    cpu_rule(_op)(lambda fc, inst, x, _i=_intr: _float_intrinsic(fc, _i, x))

for _op in ("exp", "log", "log1p", "tanh", "sin", "cos"):
    cpu_rule(_op)(lambda fc, inst, x, _m=_op: emit_math(fc, _m, x))


@cpu_rule("rsqrt")
def _rsqrt(fc, inst, x):
    return fc.builder.fdiv(ir.Constant(x.type, 1.0), _float_intrinsic(fc, "sqrt", x))


@cpu_rule("logistic")
def _logistic(fc, inst, x):
    return emit_math(fc, "logistic", x)


@cpu_rule("not")
def _not(fc, inst, x):
    return fc.builder.not_(x)


@cpu_rule("is_finite")
def _is_finite(fc, inst, x):
    return fc.builder.fcmp_ordered("<", _float_intrinsic(fc, "fabs", x), ir.Constant(x.type, float("inf")))


@cpu_rule("copy")
def _copy(fc, inst, x):
    return x


# binary --------------------------------------------------------------------------------
@cpu_rule("add")
def _add(fc, inst, x, y):
    return fc.builder.fadd(x, y) if _dtype(inst).is_floating else fc.builder.add(x, y)


@cpu_rule("sub")
def _sub(fc, inst, x, y):
    return fc.builder.fsub(x, y) if _dtype(inst).is_floating else fc.builder.sub(x, y)


@cpu_rule("mul")
def _mul(fc, inst, x, y):
    dt = _dtype(inst)
    if dt.is_bool:
        return fc.builder.and_(x, y)
    return fc.builder.fmul(x, y) if dt.is_floating else fc.builder.mul(x, y)


@cpu_rule("div")
def _div(fc, inst, x, y):
    b = fc.builder
    dt = _dtype(inst)
    if dt.is_floating:
        return b.fdiv(x, y)
    zero, one = ir.Constant(x.type, 0), ir.Constant(x.type, 1)
    by_zero = b.icmp_unsigned("==", y, zero)
    if is_unsigned(dt):
        q = b.udiv(x, b.select(by_zero, one, y))
    else:
        overflow = b.and_(b.icmp_signed("==", y, ir.Constant(x.type, -1)),
                          b.icmp_signed("==", x, constant(dt, dt.min)))
        q = b.sdiv(x, b.select(b.or_(by_zero, overflow), one, y))
    return b.select(by_zero, ir.Constant(x.type, -1), q)


@cpu_rule("rem")
def _rem(fc, inst, x, y):
    b = fc.builder
    dt = _dtype(inst)
    if dt.is_floating:
        return b.frem(x, y)
    zero, one = ir.Constant(x.type, 0), ir.Constant(x.type, 1)
    by_zero = b.icmp_unsigned("==", y, zero)
    if is_unsigned(dt):
        r = b.urem(x, b.select(by_zero, one, y))
    else:
        unsafe = b.or_(by_zero, b.icmp_signed("==", y, ir.Constant(x.type, -1)))
        r = b.srem(x, b.select(unsafe, one, y))
    return b.select(by_zero, x, r)


@cpu_rule("pow")
def _pow(fc, inst, x, y):
    dt = _dtype(inst)
    if dt.is_floating:
        return emit_math(fc, "pow", x, y)
    return _int_pow(fc.builder, dt, x, y)


def _int_pow(b: ir.IRBuilder, dt: DType, x, y):
    """Square-and-multiply over every exponent bit (branch-free); negative exponents as the interpreter."""
    ty = x.type
    zero, one = ir.Constant(ty, 0), ir.Constant(ty, 1)
    bits = ty.width if is_unsigned(dt) else ty.width - 1
    exp = y if is_unsigned(dt) else b.select(b.icmp_signed("<", y, zero), zero, y)
    result, base = one, x
    for k in range(bits):
        bit = b.icmp_unsigned("!=", b.and_(exp, ir.Constant(ty, 1 << k)), zero)
        result = b.select(bit, b.mul(result, base), result)
        if k + 1 < bits:
            base = b.mul(base, base)
    if is_unsigned(dt):
        return result
    minus_one = ir.Constant(ty, -1)
    odd = b.icmp_unsigned("!=", b.and_(y, one), zero)
    neg_value = b.select(b.icmp_signed("==", x, one), one,
                         b.select(b.icmp_signed("==", x, minus_one), b.select(odd, minus_one, one), zero))
    return b.select(b.icmp_signed("<", y, zero), neg_value, result)


def emit_max(b: ir.IRBuilder, dt: DType, x, y):
    if dt.is_floating:
        r = b.select(b.fcmp_ordered(">", x, y), x, y)
        return b.select(is_nan(b, x), x, r)
    if dt.is_bool:
        return b.or_(x, y)
    cmp = b.icmp_unsigned if is_unsigned(dt) else b.icmp_signed
    return b.select(cmp(">", x, y), x, y)


def emit_min(b: ir.IRBuilder, dt: DType, x, y):
    if dt.is_floating:
        r = b.select(b.fcmp_ordered("<", x, y), x, y)
        return b.select(is_nan(b, x), x, r)
    if dt.is_bool:
        return b.and_(x, y)
    cmp = b.icmp_unsigned if is_unsigned(dt) else b.icmp_signed
    return b.select(cmp("<", x, y), x, y)


@cpu_rule("max")
def _max(fc, inst, x, y):
    return emit_max(fc.builder, _dtype(inst), x, y)


@cpu_rule("min")
def _min(fc, inst, x, y):
    return emit_min(fc.builder, _dtype(inst), x, y)


@cpu_rule("and")
def _and(fc, inst, x, y):
    return fc.builder.and_(x, y)


@cpu_rule("or")
def _or(fc, inst, x, y):
    return fc.builder.or_(x, y)


_CMP = {"EQ": "==", "NE": "!=", "LT": "<", "LE": "<=", "GT": ">", "GE": ">="}


@cpu_rule("compare")
def _compare(fc, inst, x, y):
    b = fc.builder
    dt = _dtype(inst)
    op = _CMP[inst.attrs["direction"]]
    if dt.is_floating:
        return b.fcmp_unordered(op, x, y) if op == "!=" else b.fcmp_ordered(op, x, y)
    if dt.is_bool or is_unsigned(dt):
        return b.icmp_unsigned(op, x, y)
    return b.icmp_signed(op, x, y)


# ternary -------------------------------------------------------------------------------
@cpu_rule("select")
def _select(fc, inst, pred, a, c):
    return fc.builder.select(pred, a, c)


@cpu_rule("clamp")
def _clamp(fc, inst, lo, x, hi):
    dt = _dtype(inst, 1)
    return emit_min(fc.builder, dt, emit_max(fc.builder, dt, x, lo), hi)


# convert ----------------------------------------------------------------------------------
@cpu_rule("convert")
def _convert(fc, inst, x):
    return convert_value(fc, x, _dtype(inst), inst.shape.dtype)


def _to_float_round_to_odd(fc, x):
    """double -> float rounding to odd, so a second rounding to half equals rounding double -> half
    directly (there is no double -> half conversion without a compiler runtime call)."""
    b = fc.builder
    t = b.fptrunc(x, F32)
    back = b.fpext(t, F64)
    bits = b.bitcast(t, ir.IntType(32))
    fabs = fc.cg.intrinsic("llvm.fabs.f64", F64, [F64])
    rounded_up = b.fcmp_ordered(">", b.call(fabs, [back]), b.call(fabs, [x]))
    bits = b.select(rounded_up, b.sub(bits, ir.Constant(ir.IntType(32), 1)), bits)
    odd = b.bitcast(b.or_(bits, ir.Constant(ir.IntType(32), 1)), F32)
    return b.select(b.fcmp_unordered("!=", back, x), b.select(is_nan(b, x), t, odd), t)


def convert_value(fc, x, src: DType, dst: DType):
    b = fc.builder
    if src == dst:
        return x
    dst_ty = register_type(dst)
    if dst.is_bool:
        if src.is_floating:
            return b.fcmp_unordered("!=", x, ir.Constant(x.type, 0.0))
        return b.icmp_unsigned("!=", x, ir.Constant(x.type, 0))
    if src.is_floating and dst.is_floating:
        if x.type == dst_ty:
            return round_to_dtype(b, x, dst)
        if dst.ir_name == "f16" and x.type == F64:
            return round_to_dtype(b, _to_float_round_to_odd(fc, x), dst)
        value = b.fpext(x, dst_ty) if dst_ty == F64 else b.fptrunc(x, dst_ty)
        return round_to_dtype(b, value, dst)
    if src.is_floating:
        kind = "fptoui" if is_unsigned(dst) else "fptosi"
        name = f"llvm.{kind}.sat.i{dst_ty.width}.{'f32' if x.type == F32 else 'f64'}"
        return b.call(fc.cg.intrinsic(name, dst_ty, [x.type]), [x])
    unsigned_src = src.is_bool or is_unsigned(src)
    if dst.is_floating:
        return round_to_dtype(b, b.uitofp(x, dst_ty) if unsigned_src else b.sitofp(x, dst_ty), dst)
    width, dst_width = x.type.width, dst_ty.width
    if width == dst_width:
        return x
    if width > dst_width:
        return b.trunc(x, dst_ty)
    return b.zext(x, dst_ty) if unsigned_src else b.sext(x, dst_ty)


__all__ = ["cpu_rule", "has_elemental_rule", "emit_elementwise", "emit_max", "emit_min", "convert_value",
           "is_nan"]
