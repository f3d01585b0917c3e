"""The compile caches' file format: a magic, the payload's length and sha256, then the payload.

Written atomically (a temporary file renamed into place), so a reader sees a
whole file or none; a file whose header or digest is wrong is damaged, and the
caller drops it and compiles afresh. A reader opens without following symlinks
and without blocking, and reads only a regular file of the size its header
gives: a FIFO, device or symlink in an entry's place is a miss, never a hang.

Each cache directory is bounded (XLITE_CACHE_MAX_BYTES, default 2 GiB): a hit
touches its file, and a write that takes the directory over the bound removes
the least recently used files first. A process scans a directory (a stat of every file) on its
first write there, then only once its count of the directory's bytes (the last scan's total plus
what it has written since) would pass the bound, or after RESCAN_EVERY writes, so that other
processes' writes count too: a scan on every write made a run of n compiles cost O(n^2) stats.
"""
from __future__ import annotations

import hashlib
import os
import stat
import struct
import tempfile
import time
from pathlib import Path

_HEADER = struct.Struct("<8sQ32s")
DEFAULT_MAX_BYTES = 2 << 30
_STALE_TEMP_SECONDS = 3600       # a temporary file this old is a crashed writer's, not a live one's
RESCAN_EVERY = 64                # writes to a directory between two scans of it, at most
_counted: dict[str, list[int]] = {}     # directory -> [its bytes as this process counts them, writes since the scan]


class DamagedFile(ValueError):
    """A cache file that does not hold what its header says."""


def max_bytes() -> int:
    """The bound on each cache directory: XLITE_CACHE_MAX_BYTES, or 2 GiB."""
    try:
        return max(0, int(os.environ.get("XLITE_CACHE_MAX_BYTES", DEFAULT_MAX_BYTES)))
    except ValueError:
        return DEFAULT_MAX_BYTES


def write_checked(path: Path, magic: bytes, payload: bytes) -> None:
    """Writes the file atomically, then evicts least recently used files while the directory is over
    max_bytes(); a cache directory that cannot be written (or a directory in the entry's place) just
    leaves the entry out, and no temporary file behind."""
    data = _HEADER.pack(magic, len(payload), hashlib.sha256(payload).digest()) + payload
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
        tmp = None
    except OSError:
        return
    finally:
        if tmp is not None:
            discard(Path(tmp))
    bound, key = max_bytes(), str(path.parent)
    counted = _counted.get(key)
    if counted is not None and counted[0] + len(data) <= bound and counted[1] < RESCAN_EVERY:
        counted[0] += len(data)
        counted[1] += 1
        return
    total = evict(path.parent, bound, keep=path)
    if total is None:
        _counted.pop(key, None)
    else:
        _counted[key] = [total, 0]


def evict(directory: Path, bound: int, keep: Path | None = None) -> int | None:
    """Removes the least recently used regular files of `directory`, never `keep`, until the rest fit in
    `bound` bytes; temporary files a crashed writer left go first. The bytes left (None when the
    directory cannot be read)."""
    files, total, now = [], 0, time.time()
    try:
        with os.scandir(directory) as it:
            for entry in it:
                try:
                    st = entry.stat(follow_symlinks=False)
                except OSError:
                    continue
                if not stat.S_ISREG(st.st_mode):
                    continue
                if entry.name.endswith(".tmp") and now - st.st_mtime > _STALE_TEMP_SECONDS:
                    discard(Path(entry.path))
                    continue
                files.append((entry.path == str(keep), st.st_mtime, entry.path, st.st_size))
                total += st.st_size
    except OSError:
        return None
    for kept, _, file_path, size in sorted(files):
        if total <= bound or kept:
            break
        if not file_path.endswith(".tmp"):       # another writer's file in flight
            discard(Path(file_path))
            total -= size
    return total


def read_checked(path: Path, magic: bytes) -> memoryview | None:
    """The payload, or None when there is no such file (or a symlink in its place); raises DamagedFile
    when it does not check out, or is not a regular file. A hit marks the file recently used."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        data = _read_regular(fd, path)
        found, length, digest = _HEADER.unpack_from(data)
        if len(data) != _HEADER.size + length:
            raise DamagedFile(f"{path}: {len(data)} bytes, the header says {_HEADER.size + length}")
        payload = memoryview(data)[_HEADER.size:]
        if found != magic or hashlib.sha256(payload).digest() != digest:
            raise DamagedFile(f"{path}: magic or digest does not match")
        try:
            os.utime(fd)
        except OSError:
            pass
        return payload
    except struct.error:
        raise DamagedFile(f"{path}: short header") from None
    except OSError as e:
        raise DamagedFile(f"{path}: {e}") from None
    finally:
        os.close(fd)


def _read_regular(fd: int, path: Path) -> bytes:
    """The whole file behind `fd`, checked to be a regular file no bigger than the cache's bound."""
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        raise DamagedFile(f"{path}: not a regular file")
    if st.st_size > max(max_bytes(), DEFAULT_MAX_BYTES):
        raise DamagedFile(f"{path}: {st.st_size} bytes, more than the cache holds")
    chunks, left = [], st.st_size
    while left > 0:
        chunk = os.read(fd, left)
        if not chunk:
            break
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def discard(path: Path) -> None:
    """Removes a damaged file (already gone is fine)."""
    try:
        path.unlink()
    except OSError:
        pass


__all__ = ["DamagedFile", "write_checked", "read_checked", "discard", "evict", "max_bytes", "DEFAULT_MAX_BYTES"]
