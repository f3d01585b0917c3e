"""The compile caches' file format: a magic, the payload's length and sha256, then the payload.

Written atomically (a temporary file renamed into place), so a reader sees a
whole file or none; a file whose header or digest is wrong is damaged, and the
caller drops it and compiles afresh.
"""
from __future__ import annotations

import hashlib
import os
import struct
import tempfile
from pathlib import Path

_HEADER = struct.Struct("<8sQ32s")


class DamagedFile(ValueError):
    """A cache file that does not hold what its header says."""


def write_checked(path: Path, magic: bytes, payload: bytes) -> None:
    """Writes the file atomically; a cache directory that cannot be written just stays empty."""
    data = _HEADER.pack(magic, len(payload), hashlib.sha256(payload).digest()) + payload
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except OSError:
        pass


def read_checked(path: Path, magic: bytes) -> memoryview | None:
    """The payload, or None when there is no such file; raises DamagedFile when it does not check out."""
    try:
        data = path.read_bytes()
    except OSError:
        return None
    try:
        found, length, digest = _HEADER.unpack_from(data)
    except struct.error:
        raise DamagedFile(f"{path}: short header") from None
    payload = memoryview(data)[_HEADER.size:]
    if found != magic or length != len(payload) or hashlib.sha256(payload).digest() != digest:
        raise DamagedFile(f"{path}: magic, length or digest does not match")
    return payload


def discard(path: Path) -> None:
    """Removes a damaged file (already gone is fine)."""
    try:
        path.unlink()
    except OSError:
        pass


__all__ = ["DamagedFile", "write_checked", "read_checked", "discard"]
