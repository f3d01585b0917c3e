"""Random graphs through the whole cpu pipeline (simplify, layouts, fusion, scheduling, buffers) and the
backend agree with the interpreter on the graph as built."""
import numpy as np
import pytest

from cpu_check import assert_same
from tiers import slow_except
from xlite.codegen.cpu import compile_cpu
from xlite.ir import dtypes
from xlite.ir.builder import Builder
from xlite.ir.module import Module
from xlite.ir.shape import Shape
from xlite.runtime.driver import optimize
from xlite.semantics.eval_rules import evaluate_module

F32 = dtypes.float32


def _graph(seed: int):
    """A module and its arguments, the same for the same seed."""
    rng = np.random.default_rng(seed)
    b = Builder()
    dims = tuple(int(d) for d in rng.integers(1, 9, size=int(rng.integers(1, 4))))
    pool, args = [], []
    for _ in range(int(rng.integers(1, 4))):
        pool.append(b.parameter(Shape(F32, dims)))
        args.append(rng.standard_normal(dims).astype(np.float32))

    def pick():
        return pool[int(rng.integers(len(pool)))]

    for _ in range(int(rng.integers(3, 14))):
        x = pick()
        op = rng.choice(["unary", "binary", "binary", "scalar", "bcast", "reduce", "transpose", "reshape",
                         "slice", "concat", "select", "dot"])
        if op == "unary":
            y = b.emit(str(rng.choice(["exp", "tanh", "neg", "abs", "logistic", "sin"])), (x,))
        elif op == "binary":
            z = [p for p in pool if p.shape.dims == x.shape.dims]
            y = b.emit(str(rng.choice(["add", "sub", "mul", "max", "min"])), (x, z[int(rng.integers(len(z)))]))
        elif op == "scalar":
            c = b.broadcast_in_dim(b.scalar(float(rng.standard_normal()), F32), x.shape.dims, ())
            y = b.emit(str(rng.choice(["add", "mul", "max"])), (x, c))
        elif op == "bcast" and x.shape.rank < 3:
            new = int(rng.integers(1, 5))
            y = b.broadcast_in_dim(x, (new,) + x.shape.dims, tuple(range(1, x.shape.rank + 1)))
        elif op == "reduce" and x.shape.rank:
            axes = tuple(sorted(set(int(a) for a in rng.integers(0, x.shape.rank, size=2))))
            r = b.reduce(x, str(rng.choice(["sum", "max", "min"])), axes)
            kept = tuple(d for d in range(x.shape.rank) if d not in axes)
            y = b.emit("add", (x, b.broadcast_in_dim(r, x.shape.dims, kept)))    # a softmax-like re-broadcast
        elif op == "transpose" and x.shape.rank > 1:
            y = b.transpose(x, tuple(int(p) for p in rng.permutation(x.shape.rank)))
        elif op == "reshape" and x.shape.rank:
            y = b.reshape(x, (int(np.prod(x.shape.dims)),))
        elif op == "slice" and x.shape.rank and x.shape.dims[0] > 1:
            y = b.emit("slice", (x,), start_indices=(1,) + (0,) * (x.shape.rank - 1),
                       limit_indices=tuple(x.shape.dims), strides=(1,) * x.shape.rank)
        elif op == "concat" and x.shape.rank:
            other = pick()
            y = b.emit("concatenate", (x, other if other.shape.dims == x.shape.dims else x), dimension=0)
        elif op == "select":
            z = [p for p in pool if p.shape.dims == x.shape.dims]
            w = z[int(rng.integers(len(z)))]
            y = b.emit("select", (b.compare(x, w, "GT"), x, b.emit("neg", (w,))))
        elif op == "dot" and x.shape.rank == 2:
            y = b.emit("dot", (x, b.transpose(x, (1, 0))), lhs_batch_dims=(), rhs_batch_dims=(),
                       lhs_contracting_dims=(1,), rhs_contracting_dims=(0,))
        else:
            continue
        pool.append(y)
    outs = pool[-int(rng.integers(1, 4)):]
    b.computation.root = b.tuple(outs)
    m = Module("random", b.computation)
    m.add_computation(b.computation)
    return m, args


@pytest.mark.parametrize(*slow_except("seed", range(40), 0, 1, 2, 3, 4))
def test_random_graph_through_the_cpu_pipeline(seed):
    module, args = _graph(seed)
    ref = evaluate_module(module, [a.copy() for a in args])
    compiled, _ = _graph(seed)
    got = compile_cpu(optimize(compiled)).run([a.copy() for a in args])
    assert len(got) == len(ref)
    for g, r in zip(got, ref):
        assert_same(g, np.asarray(r), rtol=1e-4, atol=1e-4, ulps=8)
