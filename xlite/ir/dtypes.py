"""Element types shared by every layer; each knows its TF name, its IR name and its NumPy dtype."""
from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from xlite import errors   # TF's error classes: a leaf module that imports nothing


@dataclass(frozen=True, eq=False)
class DType:
    name: str          # TensorFlow's spelling: "float32"
    ir_name: str       # HLO's spelling: "f32"
    np_name: str | None
    kind: str          # "float", "int", "uint", "bool"
    itemsize: int

    @property
    def as_numpy_dtype(self) -> type:
        if self.np_name is None:
            raise errors.unimplemented(f"{self.name} has no NumPy dtype in xlite")
        return np.dtype(self.np_name).type

    @functools.cached_property
    def np(self) -> np.dtype:
        return np.dtype(self.np_name)

    @property
    def is_floating(self) -> bool:
        return self.kind == "float"

    @property
    def is_integer(self) -> bool:
        return self.kind in ("int", "uint")

    @property
    def is_bool(self) -> bool:
        return self.kind == "bool"

    @property
    def base_dtype(self) -> "DType":
        return self

    @property
    def min(self):
        return np.finfo(self.np).min if self.is_floating else np.iinfo(self.np).min

    @property
    def max(self):
        return np.finfo(self.np).max if self.is_floating else np.iinfo(self.np).max

    def __repr__(self) -> str:
        return f"tf.{self.name}"

    def __reduce__(self):
        return (as_dtype, (self.name,))


float16 = DType("float16", "f16", "float16", "float", 2)
bfloat16 = DType("bfloat16", "bf16", None, "float", 2)
float32 = DType("float32", "f32", "float32", "float", 4)
float64 = DType("float64", "f64", "float64", "float", 8)
int8 = DType("int8", "s8", "int8", "int", 1)
int32 = DType("int32", "s32", "int32", "int", 4)
int64 = DType("int64", "s64", "int64", "int", 8)
uint8 = DType("uint8", "u8", "uint8", "uint", 1)
uint32 = DType("uint32", "u32", "uint32", "uint", 4)
bool_ = DType("bool", "pred", "bool", "bool", 1)

# tf.string: object arrays of bytes that only host steps touch (no executable takes one); not in ALL_DTYPES
string = DType("string", "string", "object", "string", 8)

ALL_DTYPES = (float16, bfloat16, float32, float64, int8, int32, int64, uint8, uint32, bool_)
_BY_NAME = {}
for _d in ALL_DTYPES:
    _BY_NAME[_d.name] = _d
    _BY_NAME[_d.ir_name] = _d
_BY_NAME["double"] = float64
_BY_NUMPY = {np.dtype(d.np_name): d for d in ALL_DTYPES if d.np_name is not None}
_BY_NAME["half"] = float16


def as_dtype(value) -> DType:
    """Accepts a DType, a TF or IR name, a NumPy dtype or a Python type, like tf.as_dtype."""
    if isinstance(value, DType):
        return value
    if value in ("string", str, bytes):
        return string
    if isinstance(value, str) and value in _BY_NAME:
        return _BY_NAME[value]
    if value is float:
        return float32
    if value is int:
        return int32
    if value is bool:
        return bool_
    found = _BY_NUMPY.get(value) if isinstance(value, np.dtype) else None
    if found is not None:
        return found
    try:
        np_dtype = np.dtype(value)
    except (TypeError, ValueError, SyntaxError):     # NumPy's parse of a string like "032" raises these
        raise TypeError(f"Cannot convert {value!r} to a dtype") from None
    for d in ALL_DTYPES:
        if d.np_name == np_dtype.name:
            return d
    raise TypeError(f"Cannot convert {value!r} to a dtype: {np_dtype} is not supported")
