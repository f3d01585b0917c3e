"""Index-transforming ops compiled inline (no temporaries) against the interpreter."""
import numpy as np
import pytest

from cpu_check import check, check_text, module_from, random_array
from tiers import slow_except
from xlite.ir.shape import Shape
from xlite.ir import dtypes


@pytest.mark.parametrize("n", [0, 1, 7, 17])
def test_broadcast_reshape_transpose(n):
    rng = np.random.default_rng(n)
    x = random_array(rng, "f32", (n, 3))
    s = random_array(rng, "f32", ())

    def build(b, p, q):
        return [b.broadcast_in_dim(p, (2, n, 5, 3), (1, 3)),
                b.broadcast_in_dim(q, (n, 4), ()),
                b.reshape(p, (3, n)),
                b.reshape(p, (1, n, 1, 3, 1)),
                b.transpose(p, (1, 0)),
                b.transpose(b.broadcast_in_dim(p, (n, 4, 3), (0, 2)), (2, 0, 1)),
                b.emit("add", (b.reshape(b.transpose(p, (1, 0)), (n * 3,)), b.reshape(p, (n * 3,))))]
    check(module_from(build, [("f32", (n, 3)), ("f32", ())]), [x, s])


def test_broadcast_of_size_one_dims():
    x = np.arange(3, dtype=np.int32).reshape(1, 3)
    m = module_from(lambda b, p: [b.emit("broadcast_in_dim", (p,), Shape(dtypes.int32, (4, 3)), dimensions=(0, 1))],
                    [("s32", (1, 3))])
    check(m, [x])


@pytest.mark.parametrize("n", [0, 1, 13])
def test_slice_reverse_iota(n):
    rng = np.random.default_rng(5)
    x = random_array(rng, "s32", (n, 10))

    def build(b, p):
        return [b.emit("slice", (p,), start_indices=(0, 1), limit_indices=(n, 10), strides=(1, 3)),
                b.emit("slice", (p,), start_indices=(n // 2, 2), limit_indices=(n, 9), strides=(2, 1)),
                b.emit("reverse", (p,), dimensions=(0, 1)),
                b.emit("reverse", (p,), dimensions=(1,)),
                b.iota("s32", (n, 4), 0), b.iota("f32", (3, n), 1), b.iota("s64", (5,), 0)]
    check(module_from(build, [("s32", (n, 10))]), [x])


@pytest.mark.parametrize("low,high,interior", [
    ((1, 2), (3, 0), (0, 0)), ((-1, 0), (2, -2), (0, 0)), ((0, 1), (1, 0), (1, 2)), ((2, -1), (-1, 3), (3, 1))])
def test_pad(low, high, interior):
    rng = np.random.default_rng(6)
    x = random_array(rng, "f32", (5, 4))
    v = np.float32(-7.5)
    m = module_from(lambda b, p, q: [b.emit("pad", (p, q), low=low, high=high, interior=interior)],
                    [("f32", (5, 4)), ("f32", ())])
    check(m, [x, v])


def test_pad_of_empty_operand():
    m = module_from(lambda b, p, q: [b.emit("pad", (p, q), low=(1, 2), high=(1, 0), interior=(2, 0))],
                    [("f32", (0, 3)), ("f32", ())])
    check(m, [np.zeros((0, 3), np.float32), np.float32(2.0)])


def test_concatenate_with_empty_pieces():
    rng = np.random.default_rng(7)
    shapes = [(3, 4), (3, 0), (3, 1), (3, 7)]
    xs = [random_array(rng, "f32", s) for s in shapes]

    def build(b, *ps):
        return [b.emit("concatenate", ps, dimension=1),
                b.emit("concatenate", (ps[0], ps[0]), dimension=0),
                b.emit("exp", (b.emit("concatenate", (ps[2], ps[1], ps[3]), dimension=1),))]
    check(module_from(build, [("f32", s) for s in shapes]), xs, ulps=2)


@pytest.mark.parametrize("index_dtype", ["s32", "s64", "u32"])
def test_gather_clamps(index_dtype):
    rng = np.random.default_rng(8)
    x = random_array(rng, "f32", (5, 6, 2))
    idx = np.array([[0, 5, -3], [9, 2, 3]]).astype(np.dtype({"s32": "int32", "s64": "int64", "u32": "uint32"}[index_dtype]))
    m = module_from(lambda b, p, i: [b.emit("gather", (p, i), axis=1), b.emit("gather", (p, i), axis=0)],
                    [("f32", (5, 6, 2)), (index_dtype, (2, 3))])
    check(m, [x, idx])


def test_gather_from_empty_axis():
    m = module_from(lambda b, p, i: [b.emit("gather", (p, i), axis=1)], [("f32", (3, 0)), ("s32", (4,))])
    check(m, [np.zeros((3, 0), np.float32), np.array([0, 1, -1, 2], np.int32)])


@pytest.mark.parametrize(*slow_except("n", [0, 1, 7, 67], 0, 3))
@pytest.mark.parametrize("index_dtype, starts", [("s32", (0, 0)), ("s32", (3, 20)), ("s32", (-5, 2)),
                                                 ("s32", (100, -100)), ("s64", (2 ** 40, -(2 ** 40)))])
def test_dynamic_slice_and_update_clamp(n, index_dtype, starts):
    """Windows of every size at in-range, negative, past-the-end and huge starts, one fused with an exp."""
    rng = np.random.default_rng(n)
    x = random_array(rng, "f32", (n, 33))
    u = random_array(rng, "f32", (min(n, 3), 17))
    index = [np.asarray(s, dtypes.as_dtype(index_dtype).np) for s in starts]

    def build(b, p, q, i, j):
        def ds(operand, sizes):
            return b.emit("dynamic_slice", (operand, i, j), dynamic_slice_sizes=sizes)
        return [ds(p, (0, 5)), ds(p, (min(n, 1), 33)), ds(p, (n, 17)), ds(p, (n // 2, 1)),
                b.emit("exp", (ds(b.emit("neg", (p,)), (n, 31)),)),
                b.emit("dynamic_update_slice", (p, q, i, j)), b.emit("dynamic_update_slice", (p, p, j, i)),
                b.emit("add", (b.emit("dynamic_update_slice", (p, b.emit("tanh", (q,)), i, j)), p))]
    check(module_from(build, [("f32", (n, 33)), ("f32", u.shape), (index_dtype, ()), (index_dtype, ())]),
          [x, u, *index], rtol=1e-6, atol=1e-6)


def test_dynamic_slice_of_a_scalar_and_a_vector():
    m = module_from(lambda b, p, v, i: [b.emit("dynamic_slice", (p,), dynamic_slice_sizes=()),
                                        b.emit("dynamic_slice", (v, i), dynamic_slice_sizes=(3,)),
                                        b.emit("dynamic_update_slice", (p, p)),
                                        b.emit("dynamic_update_slice", (v, b.reshape(p, (1,)), i))],
                    [("s32", ()), ("s32", (9,)), ("s64", ())])
    for i in (0, 8, -1, 6):
        check(m, [np.int32(-7), np.arange(9, dtype=np.int32), np.int64(i)])


def test_layouts_and_bitcast():
    """A column-major intermediate: transpose into it is a bitcast, reads honor minor_to_major."""
    x = np.arange(12, dtype=np.float32).reshape(3, 4)
    check_text("""
    ENTRY %main {
      %p = f32[3,4]{1,0} parameter(0)
      %t = f32[3,4]{0,1} copy(%p)
      ROOT %r = (f32[3,4]{0,1}) tuple(%t)
    }""", [x])
    check_text("""
    ENTRY %main {
      %p = f32[3,4]{1,0} parameter(0)
      %t = f32[3,4]{0,1} copy(%p)
      %b = f32[4,3]{1,0} bitcast(%t)
      %tr = f32[4,3]{1,0} transpose(%t), dimensions={1,0}
      %s = f32[4,3]{1,0} add(%b, %tr)
      %e = f32[3,4]{0,1} exp(%t)
      %c = f32[3,4]{1,0} copy(%e)
      ROOT %r = (f32[4,3]{1,0}, f32[3,4]{1,0}, f32[4,3]{1,0}) tuple(%b, %c, %s)
    }""", [x], ulps=2)


def test_empty_arrays_everywhere():
    def build(b, p, q):
        return [b.emit("add", (p, p)), b.reduce(p, "sum", (0,)), b.reduce(q, "max", (1,)),
                b.emit("dot", (p, b.transpose(p, (1, 0))), lhs_batch_dims=(), rhs_batch_dims=(),
                       lhs_contracting_dims=(1,), rhs_contracting_dims=(0,))]
    m = module_from(build, [("f32", (0, 5)), ("f32", (4, 0))])
    check(m, [np.zeros((0, 5), np.float32), np.zeros((4, 0), np.float32)])
