"""Host-side encoding of summary values into TensorBoard's protocol buffers, as TF's kernels do.

The protos come from the tensorboard package (the `tensorboard` extra); everything else
here is NumPy: TF's histogram buckets, TF's float-to-uint8 image scaling, a PNG encoder.
"""
from __future__ import annotations

import functools
import struct
import sys
import types
import zlib

import numpy as np

_MISSING = ("xlite's summaries and FileWriter serialize with TensorBoard's protocol buffers; "
            "install them with: pip install 'xlite[tensorboard]' (or pip install tensorboard)")


@functools.lru_cache(maxsize=None)
def protos() -> types.SimpleNamespace:
    """summary_pb2, event_pb2, graph_pb2, ... from the tensorboard package, or a clear ImportError."""
    try:
        from tensorboard.compat.proto import (attr_value_pb2, event_pb2, graph_pb2, summary_pb2,
                                              tensor_pb2, tensor_shape_pb2, types_pb2)
    except ImportError:
        raise ImportError(_MISSING) from None
    return types.SimpleNamespace(attr_value_pb2=attr_value_pb2, event_pb2=event_pb2, graph_pb2=graph_pb2,
                                 summary_pb2=summary_pb2, tensor_pb2=tensor_pb2,
                                 tensor_shape_pb2=tensor_shape_pb2, types_pb2=types_pb2)


# histograms -----------------------------------------------------------------------------------
@functools.lru_cache(maxsize=None)
def default_bucket_limits() -> np.ndarray:
    """TF's default histogram buckets: ±1e-12 growing by 10% up to 1e20, ±DBL_MAX at the ends, and 0."""
    positive, v = [], 1.0e-12
    while v < 1.0e20:
        positive.append(v)
        v *= 1.1
    positive.append(sys.float_info.max)
    return np.array([-x for x in reversed(positive)] + [0.0] + positive)


def histogram_fields(values) -> dict:
    """The fields of TF's HistogramProto for `values` (as doubles), runs of empty buckets merged."""
    v = np.asarray(values, dtype=np.float64).ravel()
    limits = default_bucket_limits()
    counts = np.zeros(len(limits))
    if v.size:
        index = np.minimum(np.searchsorted(limits, v, side="right"), len(limits) - 1)
        counts = np.bincount(index, minlength=len(limits)).astype(np.float64)
    # Keep every non-empty bucket, and the last bucket of each run of empty ones (TF's EncodeToProto).
    keep = (counts > 0) | np.append(counts[1:] > 0, True)
    return {"min": float(v.min()) if v.size else sys.float_info.max,
            "max": float(v.max()) if v.size else -sys.float_info.max,
            "num": float(v.size), "sum": float(v.sum()), "sum_squares": float(np.dot(v, v)),
            "bucket_limit": limits[keep].tolist(), "bucket": counts[keep].tolist()}


# images ---------------------------------------------------------------------------------------
BAD_COLOR = (255, 0, 0, 255)


def image_to_uint8(image: np.ndarray) -> np.ndarray:
    """One [H, W, C] image as uint8 the way TF's ImageSummary scales floats: non-negative images
    by 255 / max, others by 127 / max|x| around 128; pixels with a non-finite channel get red."""
    if image.dtype == np.uint8:
        return image
    compute = np.float64 if image.dtype == np.float64 else np.float32
    x = image.astype(compute)
    finite = np.isfinite(x).all(axis=-1)
    # TF finds the range and the scale in float32 whatever the image's type, then scales in it.
    lo = np.float32(x[finite].min()) if finite.any() else np.float32(np.inf)
    hi = np.float32(x[finite].max()) if finite.any() else np.float32(-np.inf)
    if lo < 0:
        top = max(abs(lo), abs(hi))
        scale, offset = (np.float32(0) if top < 1e-6 else np.float32(127) / top), 128.0
    else:
        scale, offset = (np.float32(0) if hi < 1e-6 else np.float32(255) / hi), 0.0
    with np.errstate(invalid="ignore"):
        scaled = x * compute(scale) + compute(offset)
    out = np.where(finite[..., None], scaled, 0).astype(np.uint8)
    out[~finite] = np.array(BAD_COLOR[:image.shape[-1]], dtype=np.uint8)
    return out


def encode_png(image: np.ndarray) -> bytes:
    """An 8-bit PNG of one [H, W, C] uint8 image, C in 1 (gray), 2 (gray+alpha), 3 (RGB), 4 (RGBA)."""
    height, width, channels = image.shape
    color_type = {1: 0, 2: 4, 3: 2, 4: 6}[channels]
    rows = np.zeros((height, 1 + width * channels), dtype=np.uint8)   # filter byte 0 on every row
    rows[:, 1:] = image.reshape(height, width * channels)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, color_type, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows.tobytes(), 6)) + chunk(b"IEND", b""))


# tensors --------------------------------------------------------------------------------------
_DT_NAMES = {"float32": "DT_FLOAT", "float64": "DT_DOUBLE", "float16": "DT_HALF", "bfloat16": "DT_BFLOAT16",
             "int8": "DT_INT8", "int32": "DT_INT32", "int64": "DT_INT64", "uint8": "DT_UINT8",
             "uint32": "DT_UINT32", "bool": "DT_BOOL", "string": "DT_STRING"}


def data_type(dtype_name: str) -> int:
    """TF's DataType enum value for an xlite/NumPy dtype name."""
    return protos().types_pb2.DataType.Value(_DT_NAMES[dtype_name])


def shape_proto(dims):
    """A TensorShapeProto; `dims` None is an unknown rank, a None dim is -1 (io.protos.shape_proto)."""
    from xlite.io.protos import shape_proto as io_shape_proto   # lazy: keeps this module free of the frontend
    return io_shape_proto(dims)


def tensor_proto(value: np.ndarray):
    """A TensorProto of a NumPy array; arrays of str/bytes become DT_STRING."""
    pb = protos()
    value = np.asarray(value)
    proto = pb.tensor_pb2.TensorProto()
    proto.tensor_shape.CopyFrom(shape_proto(value.shape))
    if value.dtype.kind in "OUS":
        proto.dtype = pb.types_pb2.DT_STRING
        proto.string_val.extend(v.encode("utf-8") if isinstance(v, str) else bytes(v) for v in value.ravel())
    else:
        proto.dtype = data_type(value.dtype.name)
        proto.tensor_content = np.ascontiguousarray(value).astype(value.dtype.newbyteorder("<")).tobytes()
    return proto
