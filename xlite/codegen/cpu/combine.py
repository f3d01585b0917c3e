"""The reduction kinds in LLVM IR: each kind's identity and its combining step, shared by every reduction loop.

Float steps carry no fast-math flags: LLVM keeps their order at every optimization level, so -O0 and -O3 code
agree bit for bit (a long sum's vector lanes are explicit: pairwise.LaneSum)."""
from __future__ import annotations

import numpy as np
from llvmlite import ir

from xlite.codegen.cpu.elemental import emit_max, emit_min
from xlite.codegen.cpu.llvm_types import constant
from xlite.ir.dtypes import DType


def reduce_identity(kind: str, dt: DType) -> ir.Constant:
    if kind == "sum":
        return constant(dt, 0)
    if kind == "prod":
        return constant(dt, 1)
    if kind == "and":
        return constant(dt, True)
    if kind == "or":
        return constant(dt, False)
    if dt.is_floating:
        return constant(dt, -np.inf if kind == "max" else np.inf)
    return constant(dt, dt.min if kind == "max" else dt.max)


def combine(fc, kind: str, dt: DType, acc, x):
    """acc (+) x for a reduction kind; float max/min propagate NaN through llvm.maximum/minimum."""
    b = fc.builder
    if kind == "sum":
        return b.fadd(acc, x) if dt.is_floating else b.add(acc, x)
    if kind == "prod":
        return b.fmul(acc, x) if dt.is_floating else b.mul(acc, x)
    if kind == "and":
        return b.and_(acc, x)
    if kind == "or":
        return b.or_(acc, x)
    if dt.is_floating:
        name = "maximum" if kind == "max" else "minimum"
        fn = fc.cg.intrinsic(f"llvm.{name}.{'f32' if acc.type == ir.FloatType() else 'f64'}",
                             acc.type, [acc.type, acc.type])
        return b.call(fn, [acc, x])
    return (emit_max if kind == "max" else emit_min)(b, dt, acc, x)


__all__ = ["reduce_identity", "combine"]
