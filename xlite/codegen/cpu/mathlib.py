"""Transcendental functions for the elemental emitter, behind one replaceable hook.

`emit_math(fc, name, *args)` is the only way generated code computes exp, expm1,
log, log1p, tanh, logistic, sin, cos and pow. The defaults call LLVM intrinsics
or libm (one scalar call per element, which stops loops from vectorizing);
logistic is built on exp. A module with vectorizable polynomial approximations
replaces any of them with

    @math_impl("exp")
    def exp(fc, x): ...          # fc: FunctionContext (fc.builder, fc.cg), x: f32/f64 value

or, for emitters that take an IRBuilder, `use_builder_functions({"exp": emit_exp, ...})`,
and is imported from xlite/codegen/cpu/__init__.py so it registers before
anything compiles. Registrations are part of the cache key (see cache.py),
through the source hash of xlite/codegen/cpu.
"""
from __future__ import annotations

from typing import Callable

from llvmlite import ir

from xlite import errors
from xlite.codegen.cpu.llvm_types import F32, F64

MATH_FUNCTIONS = ("exp", "expm1", "log", "log1p", "tanh", "logistic", "sin", "cos", "pow")

_IMPLS: dict[str, Callable] = {}


def math_impl(name: str):
    """Registers (or replaces) the emitter of one math function."""
    if name not in MATH_FUNCTIONS:
        raise ValueError(f"unknown math function {name!r}; expected one of {MATH_FUNCTIONS}")

    def register(fn):
        _IMPLS[name] = fn
        return fn
    return register


def emit_math(fc, name: str, *args):
    return _IMPLS[name](fc, *args)


def use_builder_functions(functions: dict) -> None:
    """Registers emitters of the form `emit(builder, *args) -> value` by math function name."""
    for name, emit in functions.items():
        math_impl(name)(lambda fc, *args, _emit=emit: _emit(fc.builder, *args))


def _suffix(ty: ir.Type) -> str:
    if ty == F32:
        return "f32"
    if ty == F64:
        return "f64"
    raise errors.unimplemented(f"math on {ty} is not supported by the cpu backend")


def _intrinsic(name: str):
    def emit(fc, *args):
        ty = args[0].type
        fn = fc.cg.intrinsic(f"llvm.{name}.{_suffix(ty)}", ty, [ty] * len(args))
        return fc.builder.call(fn, list(args))
    return emit


def _libm(name: str):
    """A call of libm's function. `nobuiltin`: LLVM's optimizer may not rewrite it (pow(x, 2) as x * x,
    pow(x, 0.5) as sqrt: other roundings), so code at every optimization level gives the same results."""
    def emit(fc, *args):
        ty = args[0].type
        symbol = name + "f" if ty == F32 else name
        _suffix(ty)
        fn = fc.cg.declare(symbol, ty, [ty] * len(args), attrs=("nounwind", "nobuiltin"))
        return fc.builder.call(fn, list(args))
    return emit


@math_impl("logistic")
def _logistic(fc, x):
    """1/(1+e^-x) for x >= 0 and e^x/(1+e^x) below, with e = exp(-|x|): no overflow either side."""
    b = fc.builder
    one = ir.Constant(x.type, 1.0)
    fabs = fc.cg.intrinsic(f"llvm.fabs.{_suffix(x.type)}", x.type, [x.type])
    e = emit_math(fc, "exp", b.fneg(b.call(fabs, [x])))
    denom = b.fadd(one, e)
    return b.select(b.fcmp_unordered("uge", x, ir.Constant(x.type, 0.0)), b.fdiv(one, denom), b.fdiv(e, denom))


for _name in ("exp", "log", "tanh", "sin", "cos"):
    math_impl(_name)(_intrinsic(_name))
for _name in ("log1p", "expm1", "pow"):
    math_impl(_name)(_libm(_name))
