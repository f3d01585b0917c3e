"""Reductions, windows, scatters, dot and convolution compiled for the CPU against the interpreter."""
import itertools

import numpy as np
import pytest

from cpu_check import check, module_from, random_array
from tiers import slow_except
from xlite.codegen.cpu import emit_llvm_ir
from xlite.runtime.driver import with_naive_buffers


def _all_dim_subsets(rank):
    return [c for k in range(1, rank + 1) for c in itertools.combinations(range(rank), k)]


@pytest.mark.parametrize(*slow_except("dims", [(5, 7, 3), (0, 4, 2), (17, 1, 16), (1, 1, 1)], 2))
@pytest.mark.parametrize("dtype", ["f32", "s32", "f64"])
def test_reduce_every_kind_and_dims(dims, dtype):
    rng = np.random.default_rng(sum(dims))
    x = random_array(rng, dtype, dims)
    kinds = ("sum", "prod", "max", "min")
    subsets = _all_dim_subsets(len(dims))
    m = module_from(lambda b, p: [b.reduce(p, k, s) for k in kinds for s in subsets], [(dtype, dims)])
    check(m, [x], **(dict(rtol=1e-5, atol=1e-4) if dtype == "f32" else dict(rtol=1e-12, atol=1e-11)))


def test_reduce_bool_and_nan():
    rng = np.random.default_rng(9)
    p_ = rng.random((6, 33)) < 0.9
    x = random_array(rng, "f32", (6, 33))
    x[2, 5] = np.nan
    x[4, :] = -np.inf

    def build(b, p, q):
        return [b.reduce(p, "and", (1,)), b.reduce(p, "or", (0,)), b.reduce(p, "and", (0, 1)),
                b.reduce(q, "max", (1,)), b.reduce(q, "min", (1,)), b.reduce(q, "sum", (1,))]
    check(module_from(build, [("pred", (6, 33)), ("f32", (6, 33))]), [p_, x], rtol=2e-6)


@pytest.mark.parametrize("dtype", ["f32", "s32", "u8", "f64"])
def test_argmax_argmin_first_occurrence(dtype):
    rng = np.random.default_rng(10)
    x = random_array(rng, dtype, (7, 19))
    x[:, 3] = x[:, 11]                     # ties: the first wins
    if dtype.startswith("f"):
        x[1, 4] = np.nan
        x[1, 9] = np.nan
        x[2, :] = np.nan
        x[3, 0] = np.nan

    def build(b, p):
        return [b.emit(op, (p,), dimension=d, index_dtype=t)
                for op in ("argmax", "argmin") for d in (0, 1) for t in ("s32", "s64")]
    check(module_from(build, [(dtype, (7, 19))]), [x])


@pytest.mark.parametrize("kind", ["sum", "max", "min"])
def test_reduce_window_pooling(kind):
    rng = np.random.default_rng(11)
    x = random_array(rng, "f32", (2, 9, 8, 3))

    def build(b, p):
        return [b.emit("reduce_window", (p,), kind=kind, window=(1, 2, 2, 1), strides=(1, 2, 2, 1),
                       padding=((0, 0), (0, 1), (0, 0), (0, 0))),
                b.emit("reduce_window", (p,), kind=kind, window=(1, 3, 3, 1), strides=(1, 1, 2, 1),
                       padding=((0, 0), (1, 1), (1, 1), (0, 0)))]
    check(module_from(build, [("f32", (2, 9, 8, 3))]), [x], rtol=1e-6)


def test_select_and_scatter_max_pool_gradient():
    rng = np.random.default_rng(12)
    x = random_array(rng, "f32", (2, 7, 6, 3))
    x[0, 0, 0, 0] = x[0, 0, 1, 0]          # a tie inside a window
    window, strides, padding = (1, 2, 2, 1), (1, 2, 2, 1), ((0, 0), (0, 1), (0, 0), (0, 0))
    source = random_array(rng, "f32", (2, 4, 3, 3))
    m = module_from(lambda b, p, s: [b.emit("select_and_scatter", (p, s), window=window, strides=strides,
                                             padding=padding)], [("f32", (2, 7, 6, 3)), ("f32", (2, 4, 3, 3))])
    check(m, [x, source], rtol=1e-6)


def test_select_and_scatter_overlapping_windows():
    rng = np.random.default_rng(13)
    x = random_array(rng, "f32", (9, 8))
    x[0, :3] = -np.inf                     # padding is never selected, even over -inf
    x[4, 4] = np.nan
    source = random_array(rng, "f32", (9, 4))
    m = module_from(lambda b, p, s: [b.emit("select_and_scatter", (p, s), window=(3, 3), strides=(1, 2),
                                             padding=((1, 1), (1, 0)))], [("f32", (9, 8)), ("f32", (9, 4))])
    check(m, [x, source], rtol=1e-6)


@pytest.mark.parametrize("threads", ["1", "2", "3"])
def test_select_and_scatter_shared_out_by_batch_rows(threads, monkeypatch):
    """Big enough to run on several threads, each zeroing and scattering into its own batch rows."""
    monkeypatch.setenv("XLITE_NUM_THREADS", threads)
    rng = np.random.default_rng(15)
    dims, out_dims = (9, 64, 65, 16), (9, 32, 33, 16)
    x, source = random_array(rng, "f32", dims), random_array(rng, "f32", out_dims)
    x[3, :2, :2, 5] = 1.0                    # ties in a window
    window, strides, padding = (1, 2, 2, 1), (1, 2, 2, 1), ((0, 0), (0, 0), (0, 1), (0, 0))
    def build():
        return module_from(lambda b, p, s: [b.emit("select_and_scatter", (p, s), window=window, strides=strides,
                                                    padding=padding)], [("f32", dims), ("f32", out_dims)])
    check(build(), [x, source], rtol=1e-6)
    m = build()
    assert ("pthread_create" in emit_llvm_ir(with_naive_buffers(m))[0]) == (threads != "1")


@pytest.mark.parametrize("axis", [0, 1])
def test_scatter_add_duplicates_and_out_of_range(axis):
    rng = np.random.default_rng(14)
    x = random_array(rng, "f32", (6, 5))
    idx = np.array([[0, 3], [3, -1], [7, 2]], np.int32)
    upd_shape = (3, 2, 5) if axis == 0 else (6, 3, 2)
    updates = random_array(rng, "f32", upd_shape)
    m = module_from(lambda b, p, i, u: [b.emit("scatter_add", (p, i, u), axis=axis)],
                    [("f32", (6, 5)), ("s32", (3, 2)), ("f32", upd_shape)])
    check(m, [x, idx, updates], rtol=1e-6)


def _dot(b, x, y, lb=(), rb=(), lc=(1,), rc=(0,)):
    return b.emit("dot", (x, y), lhs_batch_dims=lb, rhs_batch_dims=rb, lhs_contracting_dims=lc,
                  rhs_contracting_dims=rc)


@pytest.mark.parametrize("m_,k,n", [(128, 784, 256), (1, 1, 1), (3, 5, 2), (17, 31, 16), (33, 0, 4), (64, 64, 1)])
def test_dot_matmul_shapes(m_, k, n):
    rng = np.random.default_rng(m_ + k + n)
    a, w = random_array(rng, "f32", (m_, k)), random_array(rng, "f32", (k, n))
    mod = module_from(lambda b, x, y: [_dot(b, x, y), _dot(b, y, x, lc=(0,), rc=(1,)),
                                       _dot(b, b.transpose(x, (1, 0)), y, lc=(0,), rc=(0,))],
                      [("f32", (m_, k)), ("f32", (k, n))])
    check(mod, [a, w], rtol=2e-5, atol=2e-5 * max(k, 1))


@pytest.mark.parametrize("dtype", ["f32", "f64", "s32", "s64"])
def test_dot_batch_and_transposed_operands(dtype):
    rng = np.random.default_rng(15)
    a = random_array(rng, dtype, (3, 20, 24))     # [batch, m, k]
    w = random_array(rng, dtype, (3, 18, 24))     # [batch, n, k]
    v = random_array(rng, dtype, (24,))

    def build(b, x, y, z):
        return [_dot(b, x, y, lb=(0,), rb=(0,), lc=(2,), rc=(2,)),
                _dot(b, y, x, lb=(0,), rb=(0,), lc=(2,), rc=(2,)),
                _dot(b, x, z, lc=(2,), rc=(0,)),
                _dot(b, z, z, lc=(0,), rc=(0,))]
    tol = dict(rtol=1e-4, atol=1e-3) if dtype == "f32" else dict(rtol=1e-12, atol=1e-10)
    check(module_from(build, [(dtype, (3, 20, 24)), (dtype, (3, 18, 24)), (dtype, (24,))]), [a, w, v], **tol)


@pytest.mark.parametrize("padding,strides,dil,groups", [
    (((2, 2), (2, 2)), (1, 1), (1, 1), 1),      # SAME 5x5
    (((0, 0), (0, 0)), (2, 1), (1, 1), 1),      # VALID, strided
    (((1, 2), (0, 1)), (1, 2), (2, 1), 1),      # dilated kernel
    (((1, 1), (1, 1)), (1, 1), (1, 1), 2),      # grouped
])
def test_convolution_nhwc(padding, strides, dil, groups):
    rng = np.random.default_rng(16)
    x = random_array(rng, "f32", (2, 9, 8, 4))
    w = random_array(rng, "f32", (5, 5, 4 // groups, 6))
    m = module_from(lambda b, p, q: [b.emit("convolution", (p, q), lhs_spec=(0, 3, 1, 2), rhs_spec=(3, 2, 0, 1),
                                             out_spec=(0, 3, 1, 2), window_strides=strides, padding=padding,
                                             rhs_dilation=dil, feature_group_count=groups)],
                    [("f32", (2, 9, 8, 4)), ("f32", (5, 5, 4 // groups, 6))])
    check(m, [x, w], rtol=1e-4, atol=1e-3)


def test_convolution_lhs_dilation_1d():
    """The input-gradient form: lhs dilated by the forward stride."""
    rng = np.random.default_rng(17)
    x = random_array(rng, "f32", (3, 2, 7))        # N C W
    w = random_array(rng, "f32", (4, 2, 3))        # O I W
    m = module_from(lambda b, p, q: [b.emit("convolution", (p, q), lhs_spec=(0, 1, 2), rhs_spec=(0, 1, 2),
                                             out_spec=(0, 1, 2), window_strides=(1,), padding=((2, 2),),
                                             lhs_dilation=(2,))],
                    [("f32", (3, 2, 7)), ("f32", (4, 2, 3))])
    check(m, [x, w], rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("layout", ["NHWC", "NCHW"])
@pytest.mark.parametrize("groups,lhs_dil,rhs_dil,strides", [(1, (1, 1), (1, 1), (1, 1)), (2, (1, 1), (2, 1), (2, 1)),
                                                          (1, (2, 1), (1, 1), (1, 1))])
def test_convolution_through_gemm(layout, groups, lhs_dil, rhs_dil, strides):
    """Shapes big enough for the im2col + gemm path, in both dimension orders."""
    rng = np.random.default_rng(20)
    if layout == "NHWC":
        xs, ws, specs = (3, 16, 15, 8), (3, 4, 8 // groups, 12), dict(lhs_spec=(0, 3, 1, 2), rhs_spec=(3, 2, 0, 1),
                                                                      out_spec=(0, 3, 1, 2))
    else:
        xs, ws, specs = (3, 8, 16, 15), (12, 8 // groups, 3, 4), dict(lhs_spec=(0, 1, 2, 3), rhs_spec=(0, 1, 2, 3),
                                                                      out_spec=(0, 1, 2, 3))
    x, w = random_array(rng, "f32", xs), random_array(rng, "f32", ws)
    m = module_from(lambda b, p, q: [b.emit("convolution", (p, q), window_strides=strides,
                                             padding=((1, 2), (2, 0)), lhs_dilation=lhs_dil, rhs_dilation=rhs_dil,
                                             feature_group_count=groups, **specs)], [("f32", xs), ("f32", ws)])
    check(m, [x, w], rtol=1e-4, atol=1e-3)


@pytest.mark.slow
def test_dot_through_scipy_blas_in_a_fresh_process(tmp_path):
    """XLITE_BLAS=scipy: the LP64 gemm behind scipy.linalg.cython_blas instead of NumPy's bundled one."""
    import subprocess
    import sys
    import textwrap
    script = textwrap.dedent("""
        import numpy as np, sys
        sys.path.insert(0, %r)
        from cpu_check import check, module_from
        from xlite.codegen.cpu.blas import blas_provider
        m = module_from(lambda b, x, y: [b.emit("dot", (x, y), lhs_batch_dims=(), rhs_batch_dims=(),
                                                lhs_contracting_dims=(1,), rhs_contracting_dims=(0,))],
                        [("f64", (40, 30)), ("f64", (30, 20))])
        rng = np.random.default_rng(0)
        check(m, [rng.standard_normal((40, 30)), rng.standard_normal((30, 20))], rtol=1e-12, atol=1e-12)
        print(blas_provider().name)
    """ % str(__import__("pathlib").Path(__file__).parent))
    env = dict(__import__("os").environ, XLITE_BLAS="scipy", XLITE_CACHE_DIR=str(tmp_path))
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split()[-1] == "scipy-cython-blas"
