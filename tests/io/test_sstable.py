"""TF's table format: entries round trip across blocks and restart points; damage raises DataLossError."""
import struct

import pytest

import xlite as tf
from xlite.io.format import sstable


def _items(n):
    return [(f"key/{i:05d}".encode(), f"value {i}".encode() * (i % 5)) for i in range(n)]


@pytest.mark.parametrize("n,block_size", [(0, 4096), (1, 4096), (40, 4096), (3000, 1024)])
def test_round_trip(n, block_size):
    items = _items(n)
    data = sstable.build_table(items, block_size=block_size)
    assert sstable.read_table(data) == items
    assert struct.unpack("<Q", data[-8:])[0] == 0xDB4775248B80FB57


def test_many_blocks_and_separators():
    data = sstable.build_table(_items(3000), block_size=1024)
    footer = data[-sstable.FOOTER_SIZE:]
    assert len(data) > 50 * 1024                                   # many data blocks, one index entry each
    assert footer[-8:] == struct.pack("<Q", sstable.MAGIC)
    assert sstable.shortest_separator(b"abcx", b"abzz") == b"abd"
    assert sstable.shortest_separator(b"abc", b"abcd") == b"abc"   # a prefix stays as it is
    assert sstable.short_successor(b"global_step") == b"h"
    assert sstable.short_successor(b"\xff\xff") == b"\xff\xff"


def test_prefix_compression_and_restarts():
    block = sstable.BlockBuilder(restart_interval=2)
    for key in (b"dense/bias", b"dense/kernel", b"dense/kernel2"):
        block.add(key, b"v")
    raw = block.finish()
    assert raw[:3] == bytes([0, 10, 1])                  # first key whole
    assert raw[14:17] == bytes([6, 6, 1])                # "dense/" shared, "kernel" new
    assert struct.unpack("<I", raw[-4:])[0] == 2         # restart points at 0 and at the third key


def test_keys_out_of_order_are_refused():
    with pytest.raises(ValueError, match="increasing"):
        sstable.build_table([(b"b", b""), (b"a", b"")])


def test_damage_is_data_loss():
    data = sstable.build_table(_items(100), block_size=512)
    for damaged in (data[:-1], data[:30], b"", data[:100] + bytes([data[100] ^ 4]) + data[101:]):
        with pytest.raises(tf.errors.DataLossError):
            sstable.read_table(damaged)
