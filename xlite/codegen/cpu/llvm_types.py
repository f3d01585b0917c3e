"""LLVM types and constants for xlite dtypes: pred is i1 in registers and i8 in memory; f16 is half in
memory and float in registers, rounded back to half after every operation (NumPy's float16 arithmetic)."""
from __future__ import annotations

import numpy as np
from llvmlite import ir

from xlite import errors
from xlite.ir.symbolic import is_runtime
from xlite.ir.dtypes import DType

I1 = ir.IntType(1)
I8 = ir.IntType(8)
I32 = ir.IntType(32)
I64 = ir.IntType(64)
F32 = ir.FloatType()
F64 = ir.DoubleType()
F16 = ir.HalfType()
VOID = ir.VoidType()
PTR = ir.PointerType()

_MEMORY = {
    "f16": F16, "f32": F32, "f64": F64, "s8": I8, "u8": I8, "s32": I32, "u32": I32, "s64": I64, "pred": I8,
}

SUPPORTED_DTYPES = tuple(_MEMORY)


def check_dtype(dtype: DType, what: str = "") -> None:
    if dtype.ir_name not in _MEMORY:
        raise errors.unimplemented(f"{what or 'value'} of dtype {dtype.name} is not supported by the cpu backend")


def memory_type(dtype: DType) -> ir.Type:
    check_dtype(dtype)
    return _MEMORY[dtype.ir_name]


def register_type(dtype: DType) -> ir.Type:
    if dtype.is_bool:
        return I1
    if dtype.ir_name == "f16":
        return F32
    return memory_type(dtype)


def round_to_dtype(builder: ir.IRBuilder, value, dtype: DType):
    """An f16 result computed in float, rounded to half precision (other dtypes unchanged)."""
    if dtype.ir_name == "f16" and value.type == F32:
        return builder.fpext(builder.fptrunc(value, F16), F32)
    return value


def is_unsigned(dtype: DType) -> bool:
    return dtype.kind == "uint"


def i64(value) -> ir.Constant:
    """An i64 constant; a symbolic size (xlite/ir/symbolic.py) prints as the run-time value of its slot."""
    return ir.Constant(I64, value if is_runtime(value) else int(value))


def constant(dtype: DType, value) -> ir.Constant:
    """A register constant of `dtype`; integers wrap to the type's width like NumPy's astype."""
    ty = register_type(dtype)
    if dtype.is_bool:
        return ir.Constant(I1, int(bool(value)))
    if dtype.is_floating:
        return ir.Constant(ty, float(np.asarray(value).astype(dtype.np)))
    bits = ty.width
    v = int(value) & ((1 << bits) - 1)
    if v >= 1 << (bits - 1):
        v -= 1 << bits
    return ir.Constant(ty, v)


def to_memory(builder: ir.IRBuilder, value, dtype: DType):
    if dtype.ir_name == "f16":
        return builder.fptrunc(value, F16)
    return builder.zext(value, I8) if dtype.is_bool else value


def from_memory(builder: ir.IRBuilder, value, dtype: DType):
    if dtype.ir_name == "f16":
        return builder.fpext(value, F32)
    return builder.icmp_unsigned("!=", value, ir.Constant(I8, 0)) if dtype.is_bool else value


def literal_bytes(array: np.ndarray) -> bytearray:
    """A literal's bytes in row-major order, pred as one byte 0/1."""
    array = np.ascontiguousarray(array)
    if array.dtype == np.bool_:
        array = array.astype(np.uint8)
    return bytearray(array.astype(array.dtype.newbyteorder("<")).tobytes())


__all__ = ["I1", "I8", "I32", "I64", "F16", "F32", "F64", "VOID", "PTR", "round_to_dtype", "memory_type", "register_type",
           "constant", "to_memory", "from_memory", "is_unsigned", "i64", "literal_bytes", "check_dtype"]
