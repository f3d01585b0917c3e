"""TF's V2 checkpoint format (the tensor bundle): `PREFIX.index` and `PREFIX.data-00000-of-00001`.

The data file holds each tensor's bytes back to back (little-endian, C order; a string tensor
as its varint64 lengths, the masked CRC32C of those lengths as uint32s, then the bytes). The index is a table
(sstable.py) whose key "" holds a BundleHeaderProto and whose other keys, the tensor names in
sorted order, hold BundleEntryProtos: dtype, shape, shard, offset, size and the masked CRC32C
of the tensor's bytes. The reader checks sizes and CRCs, so a truncated or altered file raises
DataLossError rather than restoring wrong values. Both files are written atomically; the data
file first, so an index never names data that is not there.
"""
from __future__ import annotations

import os
import struct

import numpy as np

from xlite import errors
from xlite.io.format import crc32c, sstable
from xlite.io.format.atomic import atomic_writer, write_atomic
from xlite.io.format.protowire import BundleEntry, BundleHeader, read_varint, varint

# TF's DataType enum values (tensorflow/core/framework/types.proto) for the dtypes NumPy holds.
DT_BY_NUMPY = {"float32": 1, "float64": 2, "int32": 3, "uint8": 4, "int16": 5, "int8": 6, "object": 7,
               "complex64": 8, "int64": 9, "bool": 10, "uint16": 17, "complex128": 18, "float16": 19,
               "uint32": 22, "uint64": 23}
NUMPY_BY_DT = {v: k for k, v in DT_BY_NUMPY.items()}
DT_STRING = 7
DT_NAMES = {14: "bfloat16", 20: "resource", 21: "variant", 11: "qint8", 12: "quint8", 13: "qint32"}


def index_path(prefix: str) -> str:
    return prefix + ".index"


def data_path(prefix: str, shard: int = 0, num_shards: int = 1) -> str:
    return f"{prefix}.data-{shard:05d}-of-{num_shards:05d}"


def _dt(value: np.ndarray) -> int:
    kind = "object" if value.dtype.kind in "OUS" else value.dtype.name
    if kind not in DT_BY_NUMPY:
        raise errors.UnimplementedError(None, None, f"cannot save a tensor of dtype {value.dtype} in a checkpoint")
    return DT_BY_NUMPY[kind]


def _string_bytes(value: np.ndarray) -> list[bytes]:
    return [v.encode("utf-8") if isinstance(v, str) else bytes(v) for v in value.ravel()]


def _tensor_bytes(value: np.ndarray) -> tuple[list, int]:
    """The pieces TF writes for one tensor (no copy of a numeric tensor's data) and the CRC32C TF records.

    A string tensor is written as varint64 lengths, the masked CRC32C of the lengths, then the bytes;
    TF checksums each length as a little-endian uint32 there (not as the varint it writes), and the
    entry's CRC covers those uint32s, the length checksum and the bytes."""
    if value.dtype.kind in "OUS":
        items = _string_bytes(value)
        lengths_crc = crc32c.value(struct.pack(f"<{len(items)}I", *(len(b) for b in items)))
        checksum = struct.pack("<I", crc32c.mask(lengths_crc))
        crc = crc32c.extend(lengths_crc, checksum)
        for item in items:
            crc = crc32c.extend(crc, item)
        return [b"".join(varint(len(b)) for b in items), checksum] + items, crc
    data = np.ascontiguousarray(value, dtype=value.dtype.newbyteorder("<")).reshape(-1).view(np.uint8)
    return [data], crc32c.value(data)


def write_bundle(prefix: str, tensors: dict[str, np.ndarray]) -> None:
    """Writes `tensors` (name -> array) as a V2 checkpoint under `prefix`, as TF's BundleWriter does."""
    entries, offset = [], 0
    with atomic_writer(data_path(prefix)) as f:
        for name in sorted(tensors):
            if not name:
                raise ValueError("a checkpoint tensor needs a non-empty name")
            value = np.asarray(tensors[name])
            chunks, crc = _tensor_bytes(value)
            size = 0
            for chunk in chunks:
                f.write(chunk)
                size += len(chunk)
            entries.append((name.encode("utf-8"), BundleEntry(dtype=_dt(value), shape=tuple(value.shape),
                                                              offset=offset, size=size, crc32c=crc32c.mask(crc))))
            offset += size
    items = [(b"", BundleHeader().encode())] + [(key, entry.encode()) for key, entry in entries]
    write_atomic(index_path(prefix), sstable.build_table(items))


def _read_file(path: str) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read()
    except FileNotFoundError:
        raise errors.NotFoundError(None, None, f"Unsuccessful TensorSliceReader constructor: Failed to find any "
                                   f"matching files for {path}") from None
    except OSError as e:
        raise errors.from_os_error(e, path) from None


class BundleReader:
    """The index of a V2 checkpoint, read and checked at once; tensors read (and checked) on demand."""

    def __init__(self, prefix: str):
        self.prefix = prefix
        path = index_path(prefix)
        items = sstable.read_table(_read_file(path), path)
        if not items or items[0][0] != b"":
            raise errors.DataLossError(None, None, f"{path}: checkpoint index has no header entry")
        self.header = BundleHeader.decode(items[0][1])
        if self.header.endianness != 0:
            raise errors.UnimplementedError(None, None, f"{path}: big-endian checkpoints are not supported")
        if self.header.min_consumer > 1 or 1 in self.header.bad_consumers:
            raise errors.InvalidArgumentError(None, None, f"{path}: checkpoint needs a newer reader (version "
                                              f"{self.header.producer}, min consumer {self.header.min_consumer})")
        self.entries: dict[str, BundleEntry] = {}
        for key, value in items[1:]:
            self.entries[key.decode("utf-8", errors="replace")] = BundleEntry.decode(value)
        self._data: dict[int, bytes] = {}

    def __contains__(self, name: str) -> bool:
        return name in self.entries

    def dtype_name(self, name: str) -> str:
        dt = self.entries[name].dtype
        return "string" if dt == DT_STRING else NUMPY_BY_DT.get(dt) or DT_NAMES.get(dt, f"DataType {dt}")

    def shape(self, name: str) -> tuple[int, ...]:
        return self.entries[name].shape

    def _shard(self, shard: int) -> bytes:
        if shard not in self._data:
            self._data[shard] = _read_file(data_path(self.prefix, shard, self.header.num_shards))
        return self._data[shard]

    def get_tensor(self, name: str) -> np.ndarray:
        if name not in self.entries:
            raise errors.NotFoundError(None, None, f"Key {name} not found in checkpoint")
        entry = self.entries[name]
        if entry.slices:
            raise errors.UnimplementedError(None, None, f"{name} is saved in slices (a partitioned variable), "
                                            "which xlite does not read")
        if entry.dtype not in NUMPY_BY_DT:
            raise errors.UnimplementedError(None, None, f"checkpoint tensor {name} has dtype "
                                            f"{self.dtype_name(name)}, which xlite does not read")
        data = self._shard(entry.shard_id)
        if entry.offset + entry.size > len(data):
            raise errors.DataLossError(None, None, f"Read fewer bytes than requested for {name} in "
                                       f"{data_path(self.prefix, entry.shard_id, self.header.num_shards)}: "
                                       "the data file is truncated")
        raw = memoryview(data)[entry.offset:entry.offset + entry.size]
        if entry.dtype == DT_STRING:
            value = self._strings(name, raw, entry.shape)
            crc = _tensor_bytes(value)[1]
        else:
            value, crc = None, crc32c.value(raw)
        if crc32c.mask(crc) != entry.crc32c:
            raise errors.DataLossError(None, None, f"Checksum does not match: stored {entry.crc32c:08x} vs. "
                                       f"calculated on the restored bytes {crc32c.mask(crc):08x} "
                                       f"for {name} in {self.prefix}")
        if value is not None:
            return value
        dtype = np.dtype(NUMPY_BY_DT[entry.dtype]).newbyteorder("<")
        count = int(np.prod(entry.shape, dtype=np.int64))
        if count * dtype.itemsize != entry.size:
            raise errors.DataLossError(None, None, f"checkpoint entry {name}: {entry.size} bytes for shape "
                                       f"{list(entry.shape)} of {dtype.name}")
        return np.frombuffer(raw, dtype=dtype).astype(dtype.newbyteorder("="), copy=True).reshape(entry.shape)

    def _strings(self, name: str, raw: memoryview, shape) -> np.ndarray:
        count = int(np.prod(shape, dtype=np.int64))
        lengths, pos = [], 0
        for _ in range(count):
            n, pos = read_varint(raw, pos)
            lengths.append(n)
        lengths_crc = crc32c.value(struct.pack(f"<{count}I", *(n & 0xFFFFFFFF for n in lengths)))
        if pos + 4 > len(raw) or crc32c.mask(lengths_crc) != struct.unpack_from("<I", raw, pos)[0]:
            raise errors.DataLossError(None, None, f"string lengths of {name} fail their checksum")
        pos += 4
        if pos + sum(lengths) != len(raw):
            raise errors.DataLossError(None, None, f"string tensor {name}: its lengths do not add up to its size")
        out = np.empty(count, dtype=object)
        for i, n in enumerate(lengths):
            out[i] = bytes(raw[pos:pos + n])
            pos += n
        return out.reshape(shape)


def bundle_exists(prefix: str) -> bool:
    return os.path.exists(index_path(prefix))
