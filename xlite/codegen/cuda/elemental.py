"""CUDA C for one output element of every elementwise opcode, with the interpreter's exact semantics.

A rule `@cuda_rule(opcode) def f(inst, *xs) -> str` gets the instruction and
its operands' element values (C expressions of their register types: pred is
`bool`) and returns the result element as a C expression, which the element
generator stores in a `const` of the result's register type. The helpers
(xl_sdiv, xl_fmax, xl_f2i, ...) live in prelude.py. Libm calls are CUDA's
full-precision ones (expf, not __expf), and modules compile without fast math.
"""
from __future__ import annotations


from xlite.codegen.cuda.c_types import ctype, float_suffix, is_unsigned, literal, unsigned_type
from xlite.ir.dtypes import DType
from xlite.ir.opcodes import RuleTable

_RULES = RuleTable()
cuda_rule = _RULES.register


def has_elemental_rule(opcode: str) -> bool:
    return opcode in _RULES


def emit_elementwise(inst, values: list) -> str:
    return _RULES[inst.opcode](inst, *values)


def _dtype(inst, i: int = 0) -> DType:
    return inst.operands[i].shape.dtype


def _wrap(dt: DType, expr: str) -> str:
    """An integer expression computed in dt's unsigned type, back in dt (defined wrap-around)."""
    return f"({ctype(dt)})({unsigned_type(dt)})({expr})"


def _u(dt: DType, x: str) -> str:
    return f"({unsigned_type(dt)}){x}"


# unary --------------------------------------------------------------------------------
@cuda_rule("neg")
def _neg(inst, x):
    dt = _dtype(inst)
    return f"-({x})" if dt.is_floating else _wrap(dt, f"0 - {_u(dt, x)}")


@cuda_rule("abs")
def _abs(inst, x):
    dt = _dtype(inst)
    if dt.is_floating:
        return f"fabs{float_suffix(dt)}({x})"
    if is_unsigned(dt):
        return x
    return f"({x} < 0 ? {_wrap(dt, f'0 - {_u(dt, x)}')} : {x})"


@cuda_rule("sign")
def _sign(inst, x):
    dt = _dtype(inst)
    if dt.is_floating:
        return f"xl_fsign<{ctype(dt)}>({x})"
    if is_unsigned(dt):
        return f"({ctype(dt)})({x} != 0)"
    return f"({ctype(dt)})(({x} > 0) - ({x} < 0))"


def _libm(name: str):
    return lambda inst, x: f"{name}{float_suffix(_dtype(inst))}({x})"


for _op, _fn in (("exp", "exp"), ("log", "log"), ("log1p", "log1p"), ("tanh", "tanh"), ("sin", "sin"),
                 ("cos", "cos"), ("sqrt", "sqrt"), ("floor", "floor"), ("ceil", "ceil"), ("round", "rint")):
    cuda_rule(_op)(_libm(_fn))


@cuda_rule("rsqrt")
def _rsqrt(inst, x):
    """1 / sqrt(x), correctly rounded twice like the interpreter (rsqrtf is approximate)."""
    dt = _dtype(inst)
    return f"{literal(dt, 1.0)} / sqrt{float_suffix(dt)}({x})"


@cuda_rule("logistic")
def _logistic(inst, x):
    return f"xl_logistic({x})"


@cuda_rule("not")
def _not(inst, x):
    dt = _dtype(inst)
    return f"!{x}" if dt.is_bool else f"({ctype(dt)})~{x}"


@cuda_rule("is_finite")
def _is_finite(inst, x):
    dt = _dtype(inst)
    return f"(fabs{float_suffix(dt)}({x}) < {literal(dt, float('inf'))})"


@cuda_rule("copy")
def _copy(inst, x):
    return x


# binary --------------------------------------------------------------------------------
def _arith(op: str):
    def rule(inst, x, y):
        dt = _dtype(inst)
        if dt.is_floating:
            return f"{x} {op} {y}"
        return _wrap(dt, f"{_u(dt, x)} {op} {_u(dt, y)}")
    return rule


cuda_rule("add")(_arith("+"))
cuda_rule("sub")(_arith("-"))


@cuda_rule("mul")
def _mul(inst, x, y):
    if _dtype(inst).is_bool:
        return f"({x} && {y})"
    return _arith("*")(inst, x, y)


@cuda_rule("div")
def _div(inst, x, y):
    dt = _dtype(inst)
    if dt.is_floating:
        return f"{x} / {y}"
    if is_unsigned(dt):
        return f"xl_udiv<{ctype(dt)}>({x}, {y})"
    return f"xl_sdiv<{ctype(dt)}, {unsigned_type(dt)}>({x}, {y})"


@cuda_rule("rem")
def _rem(inst, x, y):
    dt = _dtype(inst)
    if dt.is_floating:
        return f"fmod{float_suffix(dt)}({x}, {y})"
    return f"xl_{'u' if is_unsigned(dt) else 's'}rem<{ctype(dt)}>({x}, {y})"


@cuda_rule("pow")
def _pow(inst, x, y):
    dt = _dtype(inst)
    if dt.is_floating:
        return f"pow{float_suffix(dt)}({x}, {y})"
    if is_unsigned(dt):
        return f"xl_upow<{ctype(dt)}>({x}, {y})"
    return f"xl_spow<{ctype(dt)}, {unsigned_type(dt)}>({x}, {y})"


def max_expr(dt: DType, x: str, y: str) -> str:
    if dt.is_floating:
        return f"xl_fmax<{ctype(dt)}>({x}, {y})"
    if dt.is_bool:
        return f"({x} || {y})"
    return f"xl_imax<{ctype(dt)}>({x}, {y})"


def min_expr(dt: DType, x: str, y: str) -> str:
    if dt.is_floating:
        return f"xl_fmin<{ctype(dt)}>({x}, {y})"
    if dt.is_bool:
        return f"({x} && {y})"
    return f"xl_imin<{ctype(dt)}>({x}, {y})"


@cuda_rule("max")
def _max(inst, x, y):
    return max_expr(_dtype(inst), x, y)


@cuda_rule("min")
def _min(inst, x, y):
    return min_expr(_dtype(inst), x, y)


@cuda_rule("and")
def _and(inst, x, y):
    dt = _dtype(inst)
    return f"({x} && {y})" if dt.is_bool else f"({ctype(dt)})({x} & {y})"


@cuda_rule("or")
def _or(inst, x, y):
    dt = _dtype(inst)
    return f"({x} || {y})" if dt.is_bool else f"({ctype(dt)})({x} | {y})"


_CMP = {"EQ": "==", "NE": "!=", "LT": "<", "LE": "<=", "GT": ">", "GE": ">="}


@cuda_rule("compare")
def _compare(inst, x, y):
    """C's comparisons already have IEEE semantics: only != is true for NaN."""
    return f"({x} {_CMP[inst.attrs['direction']]} {y})"


# ternary -------------------------------------------------------------------------------
@cuda_rule("select")
def _select(inst, pred, a, c):
    return f"({pred} ? {a} : {c})"


@cuda_rule("clamp")
def _clamp(inst, lo, x, hi):
    dt = _dtype(inst, 1)
    return min_expr(dt, max_expr(dt, x, lo), hi)


# convert ----------------------------------------------------------------------------------
@cuda_rule("convert")
def _convert(inst, x):
    return convert_expr(x, _dtype(inst), inst.shape.dtype)


def convert_expr(x: str, src: DType, dst: DType) -> str:
    if src == dst:
        return x
    if dst.is_bool:
        return f"({x} != 0)"
    if src.is_floating and not dst.is_floating:
        info_min, info_max = dst.min, dst.max
        return (f"xl_f2i<{ctype(dst)}>((double){x}, {float(info_min)!r}, {float(info_max)!r}, "
                f"{literal(dst, info_min)}, {literal(dst, info_max)})")
    return f"({ctype(dst)}){x}"


__all__ = ["cuda_rule", "has_elemental_rule", "emit_elementwise", "max_expr", "min_expr", "convert_expr"]
