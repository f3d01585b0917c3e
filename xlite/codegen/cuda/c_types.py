"""xlite dtypes as CUDA C types and literals: pred is `bool` in registers and one byte (0/1) in memory.

Integer arithmetic that may overflow goes through the same-width unsigned type
(`unsigned_type`), so wrap-around is defined C++ and matches NumPy's.
"""
from __future__ import annotations

import struct

import numpy as np

from xlite import errors
from xlite.ir.dtypes import DType
from xlite.ir.symbolic import is_runtime

# ir name: (register type, memory type, same-width unsigned type)
_TYPES = {
    "f32": ("float", "float", None),
    "f64": ("double", "double", None),
    "s8": ("xl_s8", "xl_s8", "xl_u8"),
    "u8": ("xl_u8", "xl_u8", "xl_u8"),
    "s32": ("int", "int", "unsigned"),
    "u32": ("unsigned", "unsigned", "unsigned"),
    "s64": ("long long", "long long", "unsigned long long"),
    "pred": ("bool", "xl_u8", None),
}

SUPPORTED_DTYPES = tuple(_TYPES)


def check_dtype(dtype: DType, what: str = "") -> None:
    if dtype.ir_name not in _TYPES:
        raise errors.unimplemented(f"{what or 'value'} of dtype {dtype.name} is not supported by the cuda backend")


def ctype(dtype: DType) -> str:
    """The register type of one element."""
    check_dtype(dtype)
    return _TYPES[dtype.ir_name][0]


def memory_type(dtype: DType) -> str:
    check_dtype(dtype)
    return _TYPES[dtype.ir_name][1]


def unsigned_type(dtype: DType) -> str:
    check_dtype(dtype)
    return _TYPES[dtype.ir_name][2] or ctype(dtype)


def is_unsigned(dtype: DType) -> bool:
    return dtype.kind == "uint"


def is_signed_int(dtype: DType) -> bool:
    return dtype.kind == "int"


def float_suffix(dtype: DType) -> str:
    """The libm suffix: expf for float32, exp for float64."""
    return "f" if dtype.ir_name == "f32" else ""


def literal(dtype: DType, value) -> str:
    """A C expression of `dtype` with exactly `value` (integers wrap to the type's width like astype)."""
    check_dtype(dtype)
    name = dtype.ir_name
    if name == "pred":
        return "true" if bool(value) else "false"
    if name == "f32":
        v = np.float32(value)
        if np.isfinite(v):
            return f"{float(v)!r}f"
        bits = struct.unpack("<I", struct.pack("<f", v))[0]
        return f"__int_as_float(0x{bits:08x})"
    if name == "f64":
        v = float(np.float64(value))
        if np.isfinite(v):
            return repr(v)
        bits = struct.unpack("<Q", struct.pack("<d", v))[0]
        return f"__longlong_as_double(0x{bits:016x}LL)"
    v = int(value)
    bits = dtype.itemsize * 8
    v &= (1 << bits) - 1
    if dtype.kind == "int" and v >= 1 << (bits - 1):
        v -= 1 << bits
    if name == "s64":
        return "(-9223372036854775807LL - 1)" if v == -(1 << 63) else f"{v}LL"
    if name == "s32":
        return "(-2147483647 - 1)" if v == -(1 << 31) else str(v)
    if name == "u32":
        return f"{v}u"
    return f"(({ctype(dtype)}){v})"


def index_literal(value, index_type: str) -> str:
    if is_runtime(value):       # a symbolic size: its slot (codegen/cuda/symbolic_sizes.py), 64-bit
        return f"(({index_type}){value})"
    return f"{int(value)}LL" if index_type == "long long" and abs(int(value)) >= 1 << 31 else str(int(value))


def literal_bytes(array: np.ndarray) -> bytes:
    """A literal's bytes in row-major order, pred as one byte 0/1."""
    array = np.ascontiguousarray(array)
    if array.dtype == np.bool_:
        array = array.astype(np.uint8)
    return array.astype(array.dtype.newbyteorder("<")).tobytes()


__all__ = ["ctype", "memory_type", "unsigned_type", "literal", "index_literal", "check_dtype",
           "is_unsigned", "is_signed_int", "float_suffix", "literal_bytes", "SUPPORTED_DTYPES"]
