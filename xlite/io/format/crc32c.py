"""CRC32C (Castagnoli), as TF's checkpoints and tables checksum their bytes, with TF's masking.

TF stores `mask(crc)` rather than the CRC itself (so that a CRC of data that holds CRCs stays
well spread). Speed matters: a 100 MB checkpoint is checksummed on every save and restore, and
a byte-at-a-time Python loop would take minutes. CRC is linear over GF(2), so the data is cut
into equal chunks whose CRCs NumPy computes in lockstep (one vector step per byte position,
four bytes per step), and the chunk CRCs are then folded pairwise: crc(A + B) is crc(A) shifted
over len(B) zero bytes, xor crc(B), where the shift is a 32x32 bit matrix applied through four
256-entry tables. Small inputs take the plain table loop.
"""
from __future__ import annotations

import functools

import numpy as np

_POLY = 0x82F63B78          # Castagnoli, bit-reflected
_MASK_DELTA = 0xA282EAD8
_SMALL = 4096               # below this many bytes the plain loop is faster than NumPy's set-up


def _byte_table() -> list[int]:
    table = []
    for b in range(256):
        c = b
        for _ in range(8):
            c = (c >> 1) ^ (_POLY if c & 1 else 0)
        table.append(c)
    return table


_TABLE = _byte_table()
_NP_TABLES = np.zeros((4, 256), dtype=np.uint32)   # slicing-by-4: T[k][b] = b's CRC pushed k more bytes
_NP_TABLES[0] = _TABLE
for _k in range(1, 4):
    _NP_TABLES[_k] = (_NP_TABLES[_k - 1] >> 8) ^ _NP_TABLES[0][_NP_TABLES[_k - 1] & 0xFF]


def _raw_small(data, reg: int) -> int:
    table = _TABLE
    for b in data:
        reg = table[(reg ^ b) & 0xFF] ^ (reg >> 8)
    return reg


# GF(2) 32x32 matrices as the 32 images of the basis bits: the register after zero bytes --------------
def _apply(matrix: tuple[int, ...], v: int) -> int:
    out, i = 0, 0
    while v:
        if v & 1:
            out ^= matrix[i]
        v >>= 1
        i += 1
    return out


def _compose(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[int, ...]:
    """The matrix of a(b(v))."""
    return tuple(_apply(a, col) for col in b)


@functools.lru_cache(maxsize=256)
def _zeros_matrix(n: int) -> tuple[int, ...]:
    """The map from the CRC register to the register after `n` zero bytes."""
    if n == 0:
        return tuple(1 << i for i in range(32))
    if n == 1:
        return tuple(_raw_small(b"\0", 1 << i) for i in range(32))
    half = _zeros_matrix(n // 2)
    m = _compose(half, half)
    return _compose(_zeros_matrix(1), m) if n % 2 else m


@functools.lru_cache(maxsize=64)
def _shift_tables(n: int) -> np.ndarray:
    """Four byte tables that shift a vector of registers over `n` zero bytes."""
    cols = np.array(_zeros_matrix(n), dtype=np.uint32)
    tables = np.zeros((4, 256), dtype=np.uint32)
    for k in range(4):
        for bit in range(8):
            has = (np.arange(256) >> bit) & 1 == 1
            tables[k, has] ^= cols[8 * k + bit]
    return tables


def _shift(regs: np.ndarray, n: int) -> np.ndarray:
    t = _shift_tables(n)
    return t[0][regs & 0xFF] ^ t[1][(regs >> 8) & 0xFF] ^ t[2][(regs >> 16) & 0xFF] ^ t[3][regs >> 24]


def _raw_chunks(words: np.ndarray) -> np.ndarray:
    """Registers (from 0) of each row of `words` (rows x steps of little-endian uint32), in lockstep."""
    t0, t1, t2, t3 = _NP_TABLES
    cols = np.ascontiguousarray(words.T)
    reg = np.zeros(words.shape[0], dtype=np.uint32)
    for col in cols:
        reg ^= col
        reg = t3[reg & 0xFF] ^ t2[(reg >> 8) & 0xFF] ^ t1[(reg >> 16) & 0xFF] ^ t0[reg >> 24]
    return reg


def _raw_large(buf: memoryview) -> int:
    """The register (from 0) after `buf`: equal chunks in lockstep, folded pairwise, then the tail."""
    n = len(buf)
    rows = 1 << max(0, min(16, (n // 2048).bit_length() - 1))     # power of two, chunks of >= ~2 KB
    step_bytes = (n // rows) // 4 * 4
    body = rows * step_bytes
    words = np.frombuffer(buf[:body], dtype="<u4").reshape(rows, step_bytes // 4)
    regs = _raw_chunks(words)
    length = step_bytes
    while len(regs) > 1:
        regs = _shift(regs[0::2], length) ^ regs[1::2]
        length *= 2
    return _raw_small(buf[body:], int(regs[0]))


def extend(crc: int, data) -> int:
    """The CRC32C of the bytes that gave `crc`, followed by `data` (bytes-like)."""
    buf = memoryview(data).cast("B")
    if len(buf) < _SMALL:
        return _raw_small(buf, crc ^ 0xFFFFFFFF) ^ 0xFFFFFFFF
    # register(init, data) = register(0, data) ^ init shifted over len(data) zero bytes
    start = _apply(_zeros_matrix_for(len(buf)), crc ^ 0xFFFFFFFF)
    return _raw_large(buf) ^ start ^ 0xFFFFFFFF


def _zeros_matrix_for(n: int) -> tuple[int, ...]:
    """The zero-byte shift for any length, from cached powers of two (lengths vary per tensor)."""
    m, bit = _zeros_matrix(0), 0
    while n:
        if n & 1:
            m = _compose(_zeros_matrix(1 << bit), m)
        n >>= 1
        bit += 1
    return m


def value(data) -> int:
    """The CRC32C of `data`: value(b"123456789") == 0xE3069283."""
    return extend(0, data)


def mask(crc: int) -> int:
    """TF's masked form of a CRC, which is what its files store."""
    return ((((crc >> 15) | (crc << 17)) & 0xFFFFFFFF) + _MASK_DELTA) & 0xFFFFFFFF


def unmask(masked: int) -> int:
    rot = (masked - _MASK_DELTA) & 0xFFFFFFFF
    return ((rot >> 17) | (rot << 15)) & 0xFFFFFFFF
