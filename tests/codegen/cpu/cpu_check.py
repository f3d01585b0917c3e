"""Helpers for CPU backend tests: build a module, run it on the interpreter and compiled, compare."""
from __future__ import annotations

import numpy as np

from xlite.codegen.cpu import compile_cpu
from xlite.ir import dtypes
from xlite.ir.builder import Builder
from xlite.ir.module import Module
from xlite.ir.parser import parse_module
from xlite.ir.shape import Shape
from xlite.runtime.driver import with_naive_buffers
from xlite.semantics.eval_rules import evaluate_module

SIZES = (0, 1, 7, 16, 31, 67)   # empty, scalar-like, odd, a multiple of 16, primes


def module_from(build, param_shapes) -> Module:
    """build(b, *params) -> list of result instructions."""
    b = Builder()
    params = [b.parameter(Shape(dtypes.as_dtype(dt), tuple(dims))) for dt, dims in param_shapes]
    outs = build(b, *params)
    b.computation.root = b.tuple(list(outs))
    m = Module("test", b.computation)
    m.add_computation(b.computation)
    return m


def run_both(module: Module, args: list):
    """(interpreter results, compiled results); the interpreter runs first on an untouched module."""
    ref = [np.asarray(r) for r in evaluate_module(module, [np.copy(a) for a in args])]
    exe = compile_cpu(with_naive_buffers(module))
    got = exe.run([np.copy(a) for a in args])
    return ref, got


def assert_same(got, ref, rtol=0.0, atol=0.0, ulps=0, what=""):
    got, ref = np.asarray(got), np.asarray(ref)
    assert got.shape == ref.shape and got.dtype == ref.dtype, f"{what}: {got.dtype}{got.shape} vs {ref.dtype}{ref.shape}"
    if ref.dtype.kind != "f":
        np.testing.assert_array_equal(got, ref, err_msg=what)
        return
    nan_ref, nan_got = np.isnan(ref), np.isnan(got)
    np.testing.assert_array_equal(nan_got, nan_ref, err_msg=f"{what}: NaN positions")
    g, r = got[~nan_ref], ref[~nan_ref]
    inf = np.isinf(r)
    np.testing.assert_array_equal(g[inf], r[inf], err_msg=f"{what}: infinities")
    g, r = g[~inf], r[~inf]
    tol = atol + rtol * np.abs(r)
    if ulps:
        tol = np.maximum(tol, ulps * np.spacing(np.abs(r).astype(ref.dtype)))
    bad = ~(np.abs(g.astype(np.float64) - r.astype(np.float64)) <= tol)
    if bad.any():
        i = np.argmax(bad)
        raise AssertionError(f"{what}: {bad.sum()} of {bad.size} differ, first {g[i]!r} vs {r[i]!r}")


def check(module: Module, args: list, **tol) -> list:
    ref, got = run_both(module, args)
    assert len(got) == len(ref)
    for i, (g, r) in enumerate(zip(got, ref)):
        assert_same(g, r, what=f"output {i}", **tol)
    return got


def check_text(text: str, args: list, **tol) -> list:
    return check(parse_module(text), args, **tol)


def random_array(rng, dtype, dims, special=False):
    dt = np.dtype(dtypes.as_dtype(dtype).np)
    if dt == np.bool_:
        return rng.random(dims) < 0.5
    if dt.kind == "f":
        x = (rng.standard_normal(dims) * 3).astype(dt)
        if special and x.size:
            flat = x.reshape(-1)
            with np.errstate(over="ignore"):
                values = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 1e-40, -1e-40, 88.5, -104.0, 1e30, 0.5, 2.5,
                                   -2.5]).astype(dt)
            k = min(flat.size, values.size)
            flat[rng.choice(flat.size, k, replace=False)] = values[:k]
        return x
    info = np.iinfo(dt)
    lo, hi = max(info.min, -100), min(info.max, 100)
    x = rng.integers(lo, hi + 1, dims, dtype=dt)
    if special and x.size:
        flat = x.reshape(-1)
        values = np.array([0, info.min, info.max, 1, info.max - 1], dtype=np.int64)
        if info.min < 0:
            values = np.append(values, [-1, info.min + 1])
        k = min(flat.size, values.size)
        flat[rng.choice(flat.size, k, replace=False)] = values[:k].astype(dt)
    return x
