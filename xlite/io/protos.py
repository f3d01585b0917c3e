"""TF's graph protos (GraphDef, MetaGraphDef, SaverDef, TensorProto ...) from the tensorboard package,
and conversions between their values and xlite's (dtypes, shapes, NumPy arrays).

The tensorboard package ships these messages under its own proto package name; the wire format is
TF's, so files written with them are TF's files. Checkpoints need none of this (io/format).
"""
from __future__ import annotations

import functools
import types

import numpy as np

from xlite import errors
from xlite.frontend.tensor_shape import TensorShape
from xlite.ir import dtypes

_MISSING = ("xlite reads and writes GraphDefs and MetaGraphDefs with TensorBoard's protocol buffers; "
            "install them with: pip install 'xlite[tensorboard]' (or pip install tensorboard)")

# xlite dtype name <-> TF's DataType enum (tensorflow/core/framework/types.proto)
_DT = {"float32": 1, "float64": 2, "int32": 3, "uint8": 4, "int16": 5, "int8": 6, "string": 7, "int64": 9,
       "bool": 10, "bfloat16": 14, "uint16": 17, "float16": 19, "uint32": 22, "uint64": 23}
_BY_DT = {v: k for k, v in _DT.items()}
_REF = 100    # a reference type is its DataType + 100 (a VariableV2's output)


@functools.lru_cache(maxsize=None)
def pb() -> types.SimpleNamespace:
    """graph_pb2, meta_graph_pb2, saver_pb2, ... from the tensorboard package, or a clear ImportError."""
    try:
        from tensorboard.compat.proto import (attr_value_pb2, graph_pb2, meta_graph_pb2, node_def_pb2,
                                              saver_pb2, tensor_pb2, tensor_shape_pb2, types_pb2,
                                              variable_pb2, versions_pb2)
    except ImportError:
        raise ImportError(_MISSING) from None
    return types.SimpleNamespace(attr_value_pb2=attr_value_pb2, graph_pb2=graph_pb2, meta_graph_pb2=meta_graph_pb2,
                                 node_def_pb2=node_def_pb2, saver_pb2=saver_pb2, tensor_pb2=tensor_pb2,
                                 tensor_shape_pb2=tensor_shape_pb2, types_pb2=types_pb2, variable_pb2=variable_pb2,
                                 versions_pb2=versions_pb2)


def data_type(dtype) -> int:
    """TF's DataType value of an xlite DType (or dtype name)."""
    name = dtype if isinstance(dtype, str) else dtype.name
    if name not in _DT:
        raise errors.UnimplementedError(None, None, f"dtype {name} has no TensorFlow DataType in xlite")
    return _DT[name]


def as_xlite_dtype(enum: int):
    """The xlite DType of a TF DataType value (reference types as their base type)."""
    base = enum - _REF if enum > _REF else enum
    name = _BY_DT.get(base)
    if name is None or name in ("string", "uint16", "uint64", "int16"):
        raise errors.UnimplementedError(None, None, f"TensorFlow DataType {base} ({name or 'unknown'}) is not "
                                        "supported by xlite")
    return dtypes.as_dtype(name)


def shape_proto(shape) -> object:
    """A TensorShapeProto of a TensorShape or a dims list (None: unknown rank; None dim: -1)."""
    dims = shape.dims if isinstance(shape, TensorShape) else (None if shape is None else list(shape))
    proto = pb().tensor_shape_pb2.TensorShapeProto()
    if dims is None:
        proto.unknown_rank = True
    else:
        for d in dims:
            proto.dim.add().size = -1 if d is None else int(d)
    return proto


def as_shape(proto) -> TensorShape:
    if proto.unknown_rank:
        return TensorShape(None)
    return TensorShape([None if d.size < 0 else d.size for d in proto.dim])


def tensor_proto(value: np.ndarray) -> object:
    """A TensorProto holding `value` (tensor_content for numbers, string_val for strings)."""
    value = np.asarray(value)
    proto = pb().tensor_pb2.TensorProto()
    proto.tensor_shape.CopyFrom(shape_proto(value.shape))
    if value.dtype.kind in "OUS":
        proto.dtype = _DT["string"]
        proto.string_val.extend(v.encode("utf-8") if isinstance(v, str) else bytes(v) for v in value.ravel())
        return proto
    proto.dtype = data_type(value.dtype.name)
    proto.tensor_content = np.ascontiguousarray(value, dtype=value.dtype.newbyteorder("<")).tobytes()
    return proto


_VAL_FIELDS = {1: "float_val", 2: "double_val", 3: "int_val", 4: "int_val", 5: "int_val", 6: "int_val",
               9: "int64_val", 10: "bool_val", 17: "int_val", 19: "half_val", 22: "uint32_val", 23: "uint64_val"}


def as_ndarray(proto) -> np.ndarray:
    """The NumPy value of a TensorProto: tensor_content, or the typed repeated field (its last value
    repeated to fill the shape, as TF does)."""
    shape = [d.size for d in proto.tensor_shape.dim]
    if proto.dtype == _DT["string"]:
        return np.array(list(proto.string_val), dtype=object).reshape(shape)
    dtype = np.dtype(as_xlite_dtype(proto.dtype).np)
    count = int(np.prod(shape, dtype=np.int64))
    if proto.tensor_content:
        return np.frombuffer(proto.tensor_content, dtype=dtype.newbyteorder("<")).astype(dtype).reshape(shape)
    field = _VAL_FIELDS.get(proto.dtype)
    values = list(getattr(proto, field)) if field else []
    if proto.dtype == 19:      # half_val holds the float16 bit patterns
        values = np.array(values, dtype=np.uint16).view(np.float16)
    flat = np.zeros(count, dtype=dtype)
    if len(values):
        n = min(len(values), count)
        flat[:n] = np.asarray(values[:n]).astype(dtype)
        flat[n:] = flat[n - 1] if n else 0
    return flat.reshape(shape)
