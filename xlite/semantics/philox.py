"""Counter-based Philox-4x32-10 and the distributions built on it: the one definition every backend follows.

Element i of an `rng` result uses the counter (i mod 2^32, i div 2^32, run
counter mod 2^32, run counter div 2^32) under the op's 64-bit key, so any
backend can compute any element independently and get the same bits.
"""
from __future__ import annotations

import numpy as np

PHILOX_M0 = 0xD2511F53
PHILOX_M1 = 0xCD9E8D57
PHILOX_W0 = 0x9E3779B9
PHILOX_W1 = 0xBB67AE85
ROUNDS = 10
TRUNCATED_NORMAL_BOUND = 2.0


def _mulhilo(a: int, b: np.ndarray):
    product = np.uint64(a) * b.astype(np.uint64)
    return (product >> np.uint64(32)).astype(np.uint32), product.astype(np.uint32)


def philox4x32(counters: tuple, key: tuple) -> tuple:
    """Philox4x32-10 (Salmon et al., Random123) on arrays of counter words under a two-word key."""
    c0, c1, c2, c3 = (np.asarray(c, dtype=np.uint32) for c in counters)
    k0, k1 = np.uint32(key[0]), np.uint32(key[1])
    with np.errstate(over="ignore"):
        for r in range(ROUNDS):
            hi0, lo0 = _mulhilo(PHILOX_M0, c0)
            hi1, lo1 = _mulhilo(PHILOX_M1, c2)
            c0, c1, c2, c3 = hi1 ^ c1 ^ k0, lo1, hi0 ^ c3 ^ k1, lo0
            if r < ROUNDS - 1:
                k0 = np.uint32((int(k0) + PHILOX_W0) & 0xFFFFFFFF)
                k1 = np.uint32((int(k1) + PHILOX_W1) & 0xFFFFFFFF)
    return c0, c1, c2, c3


def random_words(n: int, key: tuple, run_counter: int) -> tuple:
    """The four output words for elements 0..n-1 of one run."""
    index = np.arange(n, dtype=np.uint64)
    lo = (index & np.uint64(0xFFFFFFFF)).astype(np.uint32)
    hi = (index >> np.uint64(32)).astype(np.uint32)
    ctr = int(run_counter) & 0xFFFFFFFFFFFFFFFF
    c2 = np.full(n, ctr & 0xFFFFFFFF, dtype=np.uint32)
    c3 = np.full(n, ctr >> 32, dtype=np.uint32)
    return philox4x32((lo, hi, c2, c3), key)


def uniform_from_word(word: np.ndarray, dtype) -> np.ndarray:
    """[0, 1) from the top 23 bits: exact in float32, so every backend agrees bit for bit."""
    return ((word >> np.uint32(9)).astype(np.float32) * np.float32(2.0 ** -23)).astype(dtype)


def erfinv_f32(x: np.ndarray) -> np.ndarray:
    """Giles' single-precision erfinv, evaluated in float32 exactly as the generated code does."""
    x = x.astype(np.float32)
    w = -np.log((np.float32(1) - x) * (np.float32(1) + x)).astype(np.float32)
    small = w < np.float32(5)
    ws = (w - np.float32(2.5)).astype(np.float32)
    p = np.float32(2.81022636e-08)
    for c in (3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087, -0.00125372503,
              -0.00417768164, 0.246640727, 1.50140941):
        p = (np.float32(c) + p * ws).astype(np.float32)
    wl = (np.sqrt(np.maximum(w, np.float32(5))) - np.float32(3)).astype(np.float32)
    q = np.float32(-0.000200214257)
    for c in (0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773, -0.0076224613,
              0.00943887047, 1.00167406, 2.83297682):
        q = (np.float32(c) + q * wl).astype(np.float32)
    return (np.where(small, p, q) * x).astype(np.float32)


def normal_from_words(w0: np.ndarray, w1: np.ndarray) -> np.ndarray:
    """Box-Muller on u1 in (0, 1] and u2 in [0, 1), in float32 step by step."""
    f32 = np.float32
    u1 = (uniform_from_word(w0, f32) + f32(2.0 ** -23)).astype(f32)
    u2 = uniform_from_word(w1, f32)
    radius = np.sqrt(f32(-2) * np.log(u1)).astype(f32)
    return (radius * np.cos(f32(2 * np.pi) * u2)).astype(f32)


def truncated_normal_from_word(w0: np.ndarray) -> np.ndarray:
    """Inverse CDF on (-2, 2): sqrt(2) * erfinv((2u - 1) * erf(2 / sqrt(2))), in float32."""
    f32 = np.float32
    u = uniform_from_word(w0, f32)
    bound = f32(0.9544997361036416)          # erf(2 / sqrt(2))
    t = ((f32(2) * u - f32(1)) * bound).astype(f32)
    return (f32(np.sqrt(2.0)) * erfinv_f32(t)).astype(f32)


def sample(distribution: str, dims: tuple, dtype, key: tuple, run_counter: int) -> np.ndarray:
    """An `rng` result: element i (row-major) from the words of counter (i, run_counter) under `key`."""
    n = int(np.prod(dims, dtype=np.int64))
    w0, w1, _, _ = random_words(n, key, run_counter)
    if distribution == "uniform":
        values = uniform_from_word(w0, np.float32)
    elif distribution == "normal":
        values = normal_from_words(w0, w1)
    elif distribution == "truncated_normal":
        values = truncated_normal_from_word(w0)
    else:
        raise ValueError(f"unknown distribution {distribution!r}")
    return values.astype(np.dtype(dtype)).reshape(dims)
