"""Philox4x32-10 against Random123's known answers, and the distributions built on it."""
import numpy as np
import pytest

from xlite.semantics import philox

KNOWN_ANSWERS = [   # Random123 kat_vectors: philox4x32 10 rounds
    ((0, 0, 0, 0), (0, 0), (0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8)),
    ((0xFFFFFFFF,) * 4, (0xFFFFFFFF,) * 2, (0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD)),
    ((0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344), (0xA4093822, 0x299F31D0),
     (0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1)),
]


@pytest.mark.parametrize("counter,key,expected", KNOWN_ANSWERS)
def test_known_answers(counter, key, expected):
    got = philox.philox4x32(tuple(np.array([c], np.uint32) for c in counter), key)
    assert [int(w[0]) for w in got] == list(expected)
    assert all(w.dtype == np.uint32 for w in got)


def test_known_answers_vectorized_together():
    counters = [np.array([kat[0][j] for kat in KNOWN_ANSWERS[:2]], np.uint32) for j in range(4)]
    words = philox.philox4x32(counters, (0, 0))
    assert [int(w[0]) for w in words] == list(KNOWN_ANSWERS[0][2])


def test_element_counters_are_index_and_run_counter():
    key, run = (7, 9), (5 << 32) + 3
    words = philox.random_words(4, key, run)
    for i in range(4):
        one = philox.philox4x32((np.uint32(i), np.uint32(0), np.uint32(3), np.uint32(5)), key)
        assert [int(w[i]) for w in words] == [int(w) for w in one]


@pytest.mark.parametrize("dist", ["uniform", "normal", "truncated_normal"])
def test_deterministic_and_counter_sensitive(dist):
    a = philox.sample(dist, (5, 7), np.float32, (1, 2), 3)
    np.testing.assert_array_equal(a, philox.sample(dist, (5, 7), np.float32, (1, 2), 3))
    assert not np.array_equal(a, philox.sample(dist, (5, 7), np.float32, (1, 2), 4))
    assert not np.array_equal(a, philox.sample(dist, (5, 7), np.float32, (1, 3), 3))
    flat = philox.sample(dist, (35,), np.float32, (1, 2), 3)
    np.testing.assert_array_equal(a.reshape(-1), flat)         # element i depends on i only
    np.testing.assert_array_equal(philox.sample(dist, (10,), np.float32, (1, 2), 3), flat[:10])
    assert philox.sample(dist, (0, 4), np.float32, (1, 2), 3).shape == (0, 4)


def test_uniform_is_in_unit_interval_and_uniform():
    u = philox.sample("uniform", (100_000,), np.float32, (11, 12), 0)
    assert u.dtype == np.float32 and u.min() >= 0.0 and u.max() < 1.0
    assert abs(u.mean() - 0.5) < 0.005 and abs(u.var() - 1 / 12) < 0.002
    hist, _ = np.histogram(u, bins=10, range=(0, 1))
    assert np.all(np.abs(hist - 10_000) < 500)
    extremes = philox.uniform_from_word(np.array([0, 0xFFFFFFFF], np.uint32), np.float32)
    assert extremes[0] == 0.0 and extremes[1] == np.float32(1 - 2 ** -23)
    u64 = philox.sample("uniform", (100,), np.float64, (11, 12), 0)
    np.testing.assert_array_equal(u64, u[:100].astype(np.float64))


def test_normal_moments():
    x = philox.sample("normal", (100_000,), np.float32, (21, 22), 1).astype(np.float64)
    assert np.all(np.isfinite(x))
    assert abs(x.mean()) < 0.015 and abs(x.var() - 1) < 0.02
    assert abs((x ** 3).mean()) < 0.05 and abs((x ** 4).mean() - 3) < 0.1
    assert abs((np.abs(x) < 1).mean() - 0.6827) < 0.01
    extremes = philox.normal_from_words(np.array([0, 0xFFFFFFFF], np.uint32), np.array([0, 0], np.uint32))
    assert np.all(np.isfinite(extremes)) and extremes[1] == 0.0


def test_truncated_normal_bounds_and_moments():
    x = philox.sample("truncated_normal", (100_000,), np.float32, (31, 32), 2).astype(np.float64)
    assert x.min() > -2.0 and x.max() < 2.0
    truncated_var = 1 - 4 * np.exp(-2) / np.sqrt(2 * np.pi) / 0.9544997361036416   # var of N(0,1) on (-2, 2)
    assert abs(x.mean()) < 0.015 and abs(x.var() - truncated_var) < 0.02
    assert abs((np.abs(x) < 1).mean() - 0.6827 / 0.9545) < 0.01
    extremes = philox.truncated_normal_from_word(np.array([0, 0xFFFFFFFF], np.uint32))
    assert -2.0 < extremes[0] < -1.999 and 1.999 < extremes[1] < 2.0


def test_erfinv_f32_accuracy():
    special = pytest.importorskip("scipy.special")
    x = np.concatenate([np.linspace(-0.999999, 0.999999, 200_001), [0.0, 1e-30, -1e-7, 0.5]]).astype(np.float32)
    got = philox.erfinv_f32(x).astype(np.float64)
    want = special.erfinv(x.astype(np.float64))
    assert got.dtype == np.float64 and philox.erfinv_f32(x).dtype == np.float32
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-30)
    assert philox.erfinv_f32(np.array([0.0], np.float32))[0] == 0.0
    np.testing.assert_array_equal(philox.erfinv_f32(-x), -philox.erfinv_f32(x))
