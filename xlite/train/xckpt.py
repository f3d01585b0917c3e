"""xlite's first checkpoint format (`PREFIX.xckpt`), still read so that old checkpoints restore.

The magic line `XLITE-CHECKPOINT 1\n`, an 8-byte little-endian length, that many bytes of JSON
(each tensor's name, dtype, shape, offset and byte size into the data), the raw little-endian
C-order data, and a 32-byte SHA-256 of everything before it. Saver now writes TF's V2 format
(xlite/io/format/bundle.py); `write_checkpoint` stays for tests and tools that make old files.
"""
from __future__ import annotations

import hashlib
import json
import struct

import numpy as np

from xlite import errors
from xlite.io.format.atomic import write_atomic

MAGIC = b"XLITE-CHECKPOINT 1\n"
SUFFIX = ".xckpt"


def write_checkpoint(path: str, tensors: dict[str, np.ndarray]) -> None:
    index, chunks, offset = [], [], 0
    for name, value in tensors.items():
        data = np.ascontiguousarray(value).astype(value.dtype.newbyteorder("<")).tobytes()
        index.append({"name": name, "dtype": value.dtype.name, "shape": list(value.shape),
                      "offset": offset, "nbytes": len(data)})
        chunks.append(data)
        offset += len(data)
    header = json.dumps(index).encode()
    body = MAGIC + struct.pack("<Q", len(header)) + header + b"".join(chunks)
    write_atomic(path, body + hashlib.sha256(body).digest())


def read_checkpoint(path: str) -> dict[str, np.ndarray]:
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except FileNotFoundError:
        raise errors.NotFoundError(None, None, f"Unsuccessful TensorSliceReader constructor: Failed to find "
                                   f"any matching files for {path}") from None
    except OSError as e:
        raise errors.from_os_error(e, path) from None
    if not raw.startswith(MAGIC) or len(raw) < len(MAGIC) + 8 + 32:
        raise errors.DataLossError(None, None, f"{path} is not an xlite checkpoint (or is truncated)")
    body, digest = raw[:-32], raw[-32:]
    if hashlib.sha256(body).digest() != digest:
        raise errors.DataLossError(None, None, f"checkpoint {path} is corrupt or truncated (checksum mismatch)")
    (length,) = struct.unpack("<Q", body[len(MAGIC):len(MAGIC) + 8])
    start = len(MAGIC) + 8
    index = json.loads(body[start:start + length])
    data = body[start + length:]
    result = {}
    for entry in index:
        dtype = np.dtype(entry["dtype"]).newbyteorder("<")
        chunk = data[entry["offset"]:entry["offset"] + entry["nbytes"]]
        result[entry["name"]] = np.frombuffer(chunk, dtype=dtype).astype(dtype.newbyteorder("=")).reshape(entry["shape"])
    return result
