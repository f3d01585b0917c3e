"""host_call on the cpu backend against the interpreter: edge sizes, several dtypes and outputs, errors kept
while native code runs and raised when it returns (cuda: tests/codegen/cuda/test_cuda_host_calls.py)."""
import numpy as np
import pytest

from xlite import errors
from xlite.ir import dtypes
from xlite.ir.builder import Builder
from xlite.ir.module import Computation, Module
from xlite.ir.shape import Shape
from xlite.runtime.driver import compile
from xlite.semantics import host_calls


def _module(key, shapes, outs):
    """main(params...) = (host_call output k + 1 for each k), the calls' operands being the parameters."""
    m, c = Module("host"), Computation("main")
    b = Builder(c)
    params = [b.parameter(s, name=f"p{i}") for i, s in enumerate(shapes)]
    first, results = None, []
    for k, s in enumerate(outs):
        ops = tuple(params) + (() if first is None else (first,))
        h = b.emit("host_call", ops, s, key=key, output=k, args=len(params))
        first = first or h
        one = b.emit("broadcast_in_dim", (b.constant(np.array(1, s.dtype.np)),), Shape(s.dtype, s.dims),
                     dimensions=())
        results.append(b.emit("add", (h, one)))
    c.root = b.tuple(results)
    m.entry = c
    m.add_computation(c)
    return m


@pytest.mark.parametrize("n", [0, 1, 7, 17])
def test_cpu_matches_the_interpreter(n):
    calls = []

    def fn(x, y):
        calls.append(1)
        return [x * 2 + y.sum(), (x[:, :1] > 0).astype(np.int32)]
    key = host_calls.register(fn, "PyFunc")
    rng = np.random.default_rng(n)
    x = rng.standard_normal((n, 3)).astype(np.float32)
    y = rng.standard_normal((5,)).astype(np.float64).astype(np.float32)
    m = _module(key, [Shape(dtypes.float32, (n, 3)), Shape(dtypes.float32, (5,))],
                [Shape(dtypes.float32, (n, 3)), Shape(dtypes.int32, (n, 1))])
    want = compile(m, "interpreter").run([x, y])
    got = compile(m, "cpu").run([x, y])
    assert len(calls) == 2                  # once per run, both outputs from the one call
    for w, g in zip(want, got):
        np.testing.assert_array_equal(w, g)


def test_an_error_in_a_call_is_raised_after_the_native_run_and_skips_later_calls():
    seen = []

    def fn(x):
        seen.append(x.copy())
        if x[0] < 0:
            raise errors.InvalidArgumentError(None, None, "negative")
        return [x]
    key = host_calls.register(fn, "Check")
    m = _module(key, [Shape(dtypes.float64, (2,))], [Shape(dtypes.float64, (2,))])
    exe = compile(m, "cpu")
    with pytest.raises(errors.InvalidArgumentError, match="negative"):
        exe.run([np.array([-1.0, 2.0])])
    np.testing.assert_array_equal(exe.run([np.array([1.0, 2.0])])[0], [2.0, 3.0])   # nothing left pending
    bad = host_calls.register(lambda x: [x[:1]], "PyFunc")
    with pytest.raises(errors.InvalidArgumentError, match=r"shape \(1,\).*expects \(2,\)"):
        compile(_module(bad, [Shape(dtypes.float64, (2,))], [Shape(dtypes.float64, (2,))]), "cpu").run(
            [np.zeros(2)])
