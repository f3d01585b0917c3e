"""TF's table format (tensorflow/core/lib/io/table, LevelDB's SSTable): the checkpoint index file.

A table is a sequence of blocks and a footer:

    data block*   sorted (key, value) entries; each key stored as (shared prefix length with the
                  previous key, the rest); every `restart_interval`-th key in full, at a "restart
                  point" whose offset is listed at the block's end (uint32s, then their count)
    metaindex     an empty block
    index block   for each data block, a key >= its last key and < the next block's first key,
                  with the block's handle (varint64 offset, varint64 size) as the value
    footer        the metaindex and index handles, zero-padded to 40 bytes, then the 8-byte magic

Every block is followed by a 5-byte trailer: the compression type (0: none) and the masked
CRC32C of the block and that type byte. The reader checks every trailer, so a flipped byte
raises DataLossError instead of returning a wrong key or value.
"""
from __future__ import annotations

import struct

from xlite import errors
from xlite.io.format import crc32c
from xlite.io.format.protowire import read_varint, varint

MAGIC = 0xDB4775248B80FB57
FOOTER_SIZE = 48              # two BlockHandles of at most 20 bytes each, padded, then the magic
BLOCK_TRAILER_SIZE = 5
NO_COMPRESSION = 0


class BlockBuilder:
    """One block's entries, prefix-compressed, with restart points every `restart_interval` keys."""

    def __init__(self, restart_interval: int):
        self.restart_interval = restart_interval
        self.buffer = bytearray()
        self.restarts = [0]
        self.counter = 0
        self.last_key = b""

    def add(self, key: bytes, value: bytes) -> None:
        shared = 0
        if self.counter < self.restart_interval:
            limit = min(len(key), len(self.last_key))
            while shared < limit and key[shared] == self.last_key[shared]:
                shared += 1
        else:
            self.restarts.append(len(self.buffer))
            self.counter = 0
        self.buffer += varint(shared) + varint(len(key) - shared) + varint(len(value))
        self.buffer += key[shared:] + value
        self.last_key = key
        self.counter += 1

    def size_estimate(self) -> int:
        return len(self.buffer) + 4 * len(self.restarts) + 4

    def empty(self) -> bool:
        return not self.buffer

    def finish(self) -> bytes:
        return bytes(self.buffer) + struct.pack(f"<{len(self.restarts)}I", *self.restarts) + \
            struct.pack("<I", len(self.restarts))


def shortest_separator(start: bytes, limit: bytes) -> bytes:
    """A short key k with start <= k < limit (LevelDB's bytewise FindShortestSeparator)."""
    n = min(len(start), len(limit))
    i = 0
    while i < n and start[i] == limit[i]:
        i += 1
    if i < n and start[i] < 0xFF and start[i] + 1 < limit[i]:
        return start[:i] + bytes([start[i] + 1])
    return start


def short_successor(key: bytes) -> bytes:
    """A short key >= `key` (LevelDB's FindShortSuccessor): the first byte below 0xff, plus one."""
    for i, b in enumerate(key):
        if b != 0xFF:
            return key[:i] + bytes([b + 1])
    return key


def build_table(items, block_size: int = 262144, restart_interval: int = 16) -> bytes:
    """The bytes of a table holding `items` ((key, value) byte pairs in strictly increasing key order)."""
    out = bytearray()
    index = BlockBuilder(1)
    block = BlockBuilder(restart_interval)
    pending: tuple[int, int] | None = None     # the handle of a flushed block whose index key waits

    def write_block(contents: bytes) -> tuple[int, int]:
        handle = (len(out), len(contents))
        trailer_type = bytes([NO_COMPRESSION])
        out.extend(contents + trailer_type)
        out.extend(struct.pack("<I", crc32c.mask(crc32c.value(contents + trailer_type))))
        return handle

    def encode_handle(handle: tuple[int, int]) -> bytes:
        return varint(handle[0]) + varint(handle[1])

    last_key = None
    for key, value in items:
        key, value = bytes(key), bytes(value)
        if last_key is not None and key <= last_key:
            raise ValueError(f"table keys must be added in strictly increasing order: {key!r} after {last_key!r}")
        if pending is not None:
            index.add(shortest_separator(last_key, key), encode_handle(pending))
            pending = None
        block.add(key, value)
        last_key = key
        if block.size_estimate() >= block_size:
            pending = write_block(block.finish())
            block = BlockBuilder(restart_interval)
    if not block.empty():
        pending = write_block(block.finish())
    if pending is not None:
        index.add(short_successor(last_key), encode_handle(pending))
    metaindex = write_block(BlockBuilder(restart_interval).finish())
    index_handle = write_block(index.finish())
    footer = encode_handle(metaindex) + encode_handle(index_handle)
    out.extend(footer + bytes(FOOTER_SIZE - 8 - len(footer)) + struct.pack("<Q", MAGIC))
    return bytes(out)


def _corrupt(name: str, what: str) -> errors.DataLossError:
    return errors.DataLossError(None, None, f"{what} in {name}: the file is corrupted or truncated")


def _read_block(data: bytes, handle: tuple[int, int], name: str) -> bytes:
    offset, size = handle
    end = offset + size + BLOCK_TRAILER_SIZE
    if end > len(data) - FOOTER_SIZE:
        raise _corrupt(name, "truncated block read")
    contents = data[offset:offset + size + 1]
    (stored,) = struct.unpack_from("<I", data, offset + size + 1)
    if crc32c.mask(crc32c.value(contents)) != stored:
        raise _corrupt(name, "block checksum mismatch")
    if contents[-1] != NO_COMPRESSION:
        raise errors.UnimplementedError(None, None, f"{name}: table block compression type {contents[-1]} "
                                        "(xlite reads uncompressed tables, which TF's checkpoints are)")
    return contents[:-1]


def _block_entries(block: bytes, name: str):
    if len(block) < 4:
        raise _corrupt(name, "bad block contents")
    (num_restarts,) = struct.unpack_from("<I", block, len(block) - 4)
    limit = len(block) - 4 - 4 * num_restarts
    if limit < 0:
        raise _corrupt(name, "bad block contents")
    pos, key = 0, b""
    while pos < limit:
        shared, pos = read_varint(block, pos, limit)
        non_shared, pos = read_varint(block, pos, limit)
        value_len, pos = read_varint(block, pos, limit)
        if shared > len(key) or pos + non_shared + value_len > limit:
            raise _corrupt(name, "bad entry in block")
        key = key[:shared] + block[pos:pos + non_shared]
        pos += non_shared
        yield key, block[pos:pos + value_len]
        pos += value_len


def _handle(value: bytes, name: str) -> tuple[int, int]:
    offset, pos = read_varint(value, 0)
    size, _ = read_varint(value, pos)
    return offset, size


def read_table(data: bytes, name: str = "table") -> list[tuple[bytes, bytes]]:
    """Every (key, value) of a table's bytes, checksums checked; DataLossError on any damage."""
    if len(data) < FOOTER_SIZE:
        raise _corrupt(name, "file too short to be an sstable")
    footer = data[-FOOTER_SIZE:]
    (magic,) = struct.unpack_from("<Q", footer, FOOTER_SIZE - 8)
    if magic != MAGIC:
        raise _corrupt(name, "not an sstable (bad magic number)")
    try:
        _meta_offset, pos = read_varint(footer, 0)
        _meta_size, pos = read_varint(footer, pos)
        index_offset, pos = read_varint(footer, pos)
        index_size, pos = read_varint(footer, pos)
    except errors.DataLossError:
        raise _corrupt(name, "bad footer") from None
    index = _read_block(data, (index_offset, index_size), name)
    items = []
    for _, handle in _block_entries(index, name):
        items.extend(_block_entries(_read_block(data, _handle(handle, name), name), name))
    return items
