"""CRC32C against known vectors and a plain bytewise reference, including the vectorized large path."""
import numpy as np
import pytest

from xlite.io.format import crc32c


def _reference(data: bytes) -> int:
    crc = 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def test_known_vectors():
    assert crc32c.value(b"123456789") == 0xE3069283
    assert crc32c.value(b"") == 0
    assert crc32c.value(bytes(32)) == 0x8A9136AA              # RFC 3720 B.4: 32 zero bytes
    assert crc32c.value(b"\xff" * 32) == 0x62A8AB43            # 32 bytes of 0xff
    assert crc32c.value(bytes(range(32))) == 0x46DD794E        # 0x00..0x1f


def test_mask_is_tfs_and_inverts():
    crc = crc32c.value(b"foo")
    assert crc32c.mask(crc) == ((((crc >> 15) | (crc << 17)) & 0xFFFFFFFF) + 0xA282EAD8) & 0xFFFFFFFF
    assert crc32c.mask(crc) != crc and crc32c.unmask(crc32c.mask(crc)) == crc
    assert crc32c.mask(crc32c.value(bytes(8))) == 0x07980329     # what TF stores for 8 zero bytes


@pytest.mark.parametrize("n", [1, 7, 4095, 4096, 4097, 10_001, 70_003, 1 << 18])
def test_large_path_equals_the_bytewise_reference(n):
    data = np.random.default_rng(n).integers(0, 256, n, dtype=np.uint8).tobytes()
    want = _reference(data) if n <= 10_001 else crc32c._raw_small(data, 0xFFFFFFFF) ^ 0xFFFFFFFF
    assert crc32c.value(data) == want
    assert crc32c.extend(crc32c.value(data[: n // 3]), data[n // 3:]) == want
