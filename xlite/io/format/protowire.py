"""The few protobuf messages of TF's checkpoint index, encoded and decoded by hand.

TF's tensor bundle stores a `BundleHeaderProto` and one `BundleEntryProto` per tensor
(tensorflow/core/protobuf/tensor_bundle.proto); the tensorboard package does not ship them,
and checkpoints must work without protobuf installed, so this module speaks the protobuf wire
format for exactly these messages and their parts (TensorShapeProto, TensorSliceProto,
VersionDef). Fields are written in field-number order and defaults are left out, as protobuf's
own serializer does, so xlite's index files are byte-identical to TF's.
"""
from __future__ import annotations

import dataclasses
import struct

from xlite import errors

_VARINT, _FIXED64, _BYTES, _FIXED32 = 0, 1, 2, 5


def varint(n: int) -> bytes:
    """A protobuf varint; negative numbers as their 64-bit two's complement (ten bytes)."""
    n &= (1 << 64) - 1
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def read_varint(data, pos: int, limit: int | None = None) -> tuple[int, int]:
    """(value, next position); DataLossError when the bytes end inside it."""
    limit = len(data) if limit is None else limit
    result = shift = 0
    while True:
        if pos >= limit or shift > 63:
            raise errors.DataLossError(None, None, "corrupted varint in checkpoint index")
        b = data[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if b < 0x80:
            return result, pos
        shift += 7


def _signed64(n: int) -> int:
    return n - (1 << 64) if n >= 1 << 63 else n


def _tag(field: int, wire: int) -> bytes:
    return varint(field << 3 | wire)


def _len_field(field: int, payload: bytes) -> bytes:
    return _tag(field, _BYTES) + varint(len(payload)) + payload


def fields(data: bytes) -> dict[int, list]:
    """A message's fields: number -> values (ints for varints and fixed, bytes for length-delimited)."""
    out: dict[int, list] = {}
    pos = 0
    while pos < len(data):
        key, pos = read_varint(data, pos)
        number, wire = key >> 3, key & 7
        if wire == _VARINT:
            value, pos = read_varint(data, pos)
        elif wire == _FIXED32:
            if pos + 4 > len(data):
                raise errors.DataLossError(None, None, "truncated fixed32 in checkpoint index")
            (value,) = struct.unpack_from("<I", data, pos)
            pos += 4
        elif wire == _FIXED64:
            if pos + 8 > len(data):
                raise errors.DataLossError(None, None, "truncated fixed64 in checkpoint index")
            (value,) = struct.unpack_from("<Q", data, pos)
            pos += 8
        elif wire == _BYTES:
            length, pos = read_varint(data, pos)
            if pos + length > len(data):
                raise errors.DataLossError(None, None, "truncated field in checkpoint index")
            value, pos = bytes(data[pos:pos + length]), pos + length
        else:
            raise errors.DataLossError(None, None, f"unsupported wire type {wire} in checkpoint index")
        out.setdefault(number, []).append(value)
    return out


def _last(f: dict[int, list], number: int, default=0):
    return f[number][-1] if number in f else default


# TensorShapeProto ------------------------------------------------------------------------------
def encode_shape(dims: tuple[int, ...] | None) -> bytes:
    """TensorShapeProto: dim = 2 (size = 1), unknown_rank = 3; None is an unknown rank, -1 an unknown dim."""
    if dims is None:
        return _tag(3, _VARINT) + varint(1)
    return b"".join(_len_field(2, (_tag(1, _VARINT) + varint(d)) if d else b"") for d in dims)


def decode_shape(data: bytes) -> tuple[int, ...] | None:
    f = fields(data)
    if _last(f, 3):
        return None
    return tuple(_signed64(_last(fields(d), 1)) for d in f.get(2, []))


# VersionDef, BundleHeaderProto ---------------------------------------------------------------------
@dataclasses.dataclass
class BundleHeader:
    """BundleHeaderProto: num_shards = 1, endianness = 2 (0 little, 1 big), version = 3 (VersionDef)."""
    num_shards: int = 1
    endianness: int = 0
    producer: int = 1          # VersionDef.producer = 1 (TF's kTensorBundleVersion)
    min_consumer: int = 0      # VersionDef.min_consumer = 2
    bad_consumers: tuple[int, ...] = ()   # VersionDef.bad_consumers = 3

    def encode(self) -> bytes:
        version = b""
        if self.producer:
            version += _tag(1, _VARINT) + varint(self.producer)
        if self.min_consumer:
            version += _tag(2, _VARINT) + varint(self.min_consumer)
        version += b"".join(_tag(3, _VARINT) + varint(b) for b in self.bad_consumers)
        out = b""
        if self.num_shards:
            out += _tag(1, _VARINT) + varint(self.num_shards)
        if self.endianness:
            out += _tag(2, _VARINT) + varint(self.endianness)
        return out + _len_field(3, version)

    @classmethod
    def decode(cls, data: bytes) -> "BundleHeader":
        f = fields(data)
        v = fields(_last(f, 3, b""))
        return cls(num_shards=_last(f, 1), endianness=_last(f, 2), producer=_last(v, 1),
                   min_consumer=_last(v, 2), bad_consumers=tuple(v.get(3, [])))


# BundleEntryProto ----------------------------------------------------------------------------------
@dataclasses.dataclass
class BundleEntry:
    """BundleEntryProto: dtype = 1, shape = 2, shard_id = 3, offset = 4, size = 5, crc32c = 6 (fixed32,
    masked), slices = 7 (TensorSliceProto, for a partitioned variable's pieces: read, not written)."""
    dtype: int
    shape: tuple[int, ...]
    shard_id: int = 0
    offset: int = 0
    size: int = 0
    crc32c: int = 0
    slices: tuple[bytes, ...] = ()

    def encode(self) -> bytes:
        out = _tag(1, _VARINT) + varint(self.dtype) if self.dtype else b""
        out += _len_field(2, encode_shape(self.shape))
        for number, value in ((3, self.shard_id), (4, self.offset), (5, self.size)):
            if value:
                out += _tag(number, _VARINT) + varint(value)
        if self.crc32c:
            out += _tag(6, _FIXED32) + struct.pack("<I", self.crc32c)
        return out + b"".join(_len_field(7, s) for s in self.slices)

    @classmethod
    def decode(cls, data: bytes) -> "BundleEntry":
        f = fields(data)
        shape = decode_shape(_last(f, 2, b"")) or ()
        return cls(dtype=_last(f, 1), shape=shape, shard_id=_last(f, 3), offset=_last(f, 4), size=_last(f, 5),
                   crc32c=_last(f, 6), slices=tuple(f.get(7, [])))
