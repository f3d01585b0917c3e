"""tf.math against NumPy and against what TensorFlow 2.21's `tf.compat.v1` does in graph mode.

Dtype rules, op types, names and edge values (floor division of negatives, half-to-even
rounding, integer means, ties in argmax) were checked with TensorFlow itself.
"""
import numpy as np
import pytest

import xlite as tf
from tiers import slow_except

RNG = np.random.default_rng(0)


def run(fetches, feed=None):
    with tf.Session() as s:
        return s.run(fetches, feed)


def rand(*shape, dtype=np.float64, low=-2.0, high=2.0):
    return RNG.uniform(low, high, size=shape).astype(dtype)


# elementwise unary -----------------------------------------------------------------------
def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


UNARY = [
    (tf.negative, np.negative, None), (tf.abs, np.abs, None), (tf.exp, np.exp, None),
    (tf.log, np.log, "positive"), (tf.log1p, np.log1p, "positive"), (tf.tanh, np.tanh, None),
    (tf.sigmoid, _sigmoid, None), (tf.sqrt, np.sqrt, "positive"), (tf.rsqrt, lambda x: 1 / np.sqrt(x), "positive"),
    (tf.sin, np.sin, None), (tf.cos, np.cos, None), (tf.square, np.square, None),
    (tf.reciprocal, np.reciprocal, "positive"), (tf.sign, np.sign, None), (tf.floor, np.floor, None),
    (tf.ceil, np.ceil, None), (tf.tan, np.tan, None), (tf.expm1, np.expm1, None),
    (tf.log_sigmoid, lambda x: np.log(_sigmoid(x)), None),
]


@pytest.mark.parametrize(*slow_except("fn,ref,domain", UNARY, every=3), ids=[u[0].__name__ for u in UNARY])
@pytest.mark.parametrize(*slow_except("shape", [(0,), (1,), (3, 5), (2, 1, 3)], -1))
def test_unary_matches_numpy(fn, ref, domain, shape):
    x = rand(*shape, low=0.1 if domain else -2.0)
    p = tf.placeholder(tf.float64, [None] * len(shape))
    y = fn(p)
    assert y.dtype == tf.float64 and y.shape.ndims == len(shape)
    np.testing.assert_allclose(run(y, {p: x}), ref(x), rtol=1e-12, atol=1e-12)


def test_unary_float32_keeps_dtype():
    x = rand(4, dtype=np.float32)
    y = tf.exp(tf.constant(x))
    assert y.dtype == tf.float32
    np.testing.assert_allclose(run(y), np.exp(x), rtol=1e-6)


def test_expm1_is_accurate_near_zero_and_saturates():
    x = np.array([1e-10, -1e-10, 0.0, -50.0, 1e-3, -0.0999, 0.1, 0.5, 700.0, 1000.0, -np.inf, np.nan])
    with np.errstate(over="ignore"):
        np.testing.assert_allclose(run(tf.expm1(tf.constant(x))), np.expm1(x), rtol=1e-14)


def test_log_sigmoid_stays_finite_for_large_inputs():
    np.testing.assert_allclose(run(tf.log_sigmoid(tf.constant([-1000.0, 1000.0]))), [-1000.0, 0.0])


def test_round_is_half_to_even_and_keeps_integers():
    x = np.array([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 0.49999997, 3.7], np.float32)
    np.testing.assert_array_equal(run(tf.round(tf.constant(x))), [0, 2, 2, -0, -2, -2, 0, 4])
    i = tf.constant([1, 2])
    assert tf.round(i) is i


def test_sign_and_abs_of_integers_and_nan():
    assert run(tf.sign(tf.constant([-3, 0, 4]))).tolist() == [-1, 0, 1]
    assert run(tf.abs(tf.constant([-3, 0, 4], tf.int64))).tolist() == [3, 0, 4]
    np.testing.assert_array_equal(run(tf.sign(tf.constant([-2.0, 0.0, 3.0, np.nan]))), [-1, 0, 1, np.nan])


def test_predicates():
    x = tf.constant([1.0, np.nan, np.inf, -np.inf])
    assert run(tf.is_nan(x)).tolist() == [False, True, False, False]
    assert run(tf.is_inf(x)).tolist() == [False, False, True, True]
    assert run(tf.is_finite(x)).tolist() == [True, False, False, False]


# elementwise binary ------------------------------------------------------------------------
BINARY = [
    (tf.add, np.add), (tf.subtract, np.subtract), (tf.multiply, np.multiply), (tf.truediv, np.true_divide),
    (tf.maximum, np.maximum), (tf.minimum, np.minimum), (tf.squared_difference, lambda a, b: (a - b) ** 2),
    (tf.pow, lambda a, b: np.power(np.abs(a), b)),
]
SHAPE_PAIRS = [((3, 1), (1, 4)), ((2, 3, 4), (4,)), ((0, 3), (1, 3)), ((), (5,)), ((2, 1, 3), (2, 4, 1))]


@pytest.mark.parametrize(*slow_except("fn,ref", BINARY, every=2), ids=[b[0].__name__ for b in BINARY])
@pytest.mark.parametrize(*slow_except("sx,sy", SHAPE_PAIRS, -1))
def test_binary_broadcasts_like_numpy(fn, ref, sx, sy):
    x, y = rand(*sx), rand(*sy, low=0.5)
    if fn is tf.pow:
        x = np.abs(x)
    px, py = tf.placeholder(tf.float64, sx), tf.placeholder(tf.float64, [None] * len(sy))
    z = fn(px, py)
    assert z.shape.ndims == len(np.broadcast_shapes(sx, sy))
    np.testing.assert_allclose(run(z, {px: x, py: y}), ref(x, y), rtol=1e-12)


def test_static_broadcast_shapes_and_mismatch():
    a = tf.placeholder(tf.float32, [None, 3])
    assert (a + tf.zeros_like(tf.constant(np.zeros((4, 1, 1), np.float32)))).shape.as_list() == [4, None, 3]
    with pytest.raises(ValueError):
        a + tf.constant(np.zeros(4, np.float32))


def test_op_types_and_default_names():
    x, y = tf.constant(1.0), tf.constant(2.0)
    cases = [(tf.add(x, y), "AddV2", "Add"), (x + y, "AddV2", "add_1"), (tf.subtract(x, y), "Sub", "Sub"),
             (x - y, "Sub", "sub_1"), (x * y, "Mul", "mul"), (x / y, "RealDiv", "truediv"),
             (x // y, "FloorDiv", "floordiv"), (x % y, "FloorMod", "mod"), (x ** y, "Pow", "pow"),
             (tf.maximum(x, y), "Maximum", "Maximum"), (tf.div(x, y), "RealDiv", "div"),
             (tf.mod(x, y), "FloorMod", "mod_1"), (tf.floordiv(x, y), "FloorDiv", "floordiv_1"),
             (tf.squared_difference(x, y), "SquaredDifference", "SquaredDifference"),
             (-x, "Neg", "Neg"), (abs(x), "Abs", "Abs"), (x < y, "Less", "Less"),
             (tf.add_n([x, y]), "AddN", "AddN"), (tf.where(x < y, x, y), "SelectV2", "SelectV2")]
    for t, op_type, name in cases:   # names count case-insensitively, as in TF
        assert (t.op.type, t.op.name) == (op_type, name)


# TF's dtype rules ------------------------------------------------------------------------------
def test_no_implicit_int_float_promotion():
    i, f = tf.constant(1), tf.constant(1.0)
    with pytest.raises(TypeError):
        i + f
    with pytest.raises(TypeError):
        i + 2.5
    with pytest.raises(TypeError):
        2.5 - i
    with pytest.raises(TypeError):
        tf.add(1, 2.5)
    with pytest.raises(TypeError):
        tf.equal(i, 1.5)


def test_python_and_numpy_values_adopt_the_tensors_dtype():
    f32, i64 = tf.constant(1.0), tf.constant(1, tf.int64)
    assert (f32 + 2).dtype == tf.float32
    assert (f32 + np.float64(2.0)).dtype == tf.float32
    assert (f32 + np.array([1.0, 2.0])).dtype == tf.float32
    assert (i64 + 2).dtype == tf.int64
    assert (np.array([1, 2]) + tf.constant(1)).dtype == tf.int32
    assert (tf.constant(1.0, tf.float16) + 1.5).dtype == tf.float16
    assert tf.add(2.5, 1).dtype == tf.float32 and tf.pow(2, 3).dtype == tf.int32
    assert run(tf.constant(1.0) + True) == 2.0


@pytest.mark.parametrize("fn", [tf.exp, tf.log, tf.sqrt, tf.tanh, tf.sigmoid, tf.floor, tf.ceil, tf.is_finite,
                                tf.is_nan, tf.sin])
def test_float_only_ops_reject_integers(fn):
    with pytest.raises(TypeError, match="int32"):
        fn(tf.constant([1, 2]))


def test_kernel_dtype_checks():
    b = tf.constant([True, False])
    for fn in (tf.abs, tf.sign, tf.negative, tf.square):
        with pytest.raises(TypeError):
            fn(b)
    for fn in (tf.maximum, tf.less, tf.add, tf.multiply):
        with pytest.raises(TypeError):
            fn(b, b)
    with pytest.raises(TypeError):
        tf.negative(tf.constant(1, tf.uint8))
    with pytest.raises(TypeError):
        tf.logical_and(tf.constant(1), tf.constant(1))
    with pytest.raises(TypeError):
        tf.where(tf.constant([1]), [1.0], [2.0])
    with pytest.raises(TypeError):
        tf.truediv(b, b)
    assert run(tf.equal(b, True)).tolist() == [True, False]


# division ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype,expected", [(tf.int8, tf.float32), (tf.uint8, tf.float32), (tf.int32, tf.float64),
                                            (tf.int64, tf.float64), (tf.float32, tf.float32),
                                            (tf.float64, tf.float64)])
def test_truediv_promotes_integers(dtype, expected):
    q = tf.truediv(tf.constant([7, 9], dtype), tf.constant([2, 4], dtype))
    assert q.dtype == expected and q.op.type == "RealDiv"
    np.testing.assert_allclose(run(q), [3.5, 2.25])
    assert (tf.constant(7, dtype) / 2).dtype == expected
    assert tf.divide(7, 2).dtype == tf.float64


def test_div_is_floor_division_for_integers():
    q = tf.div(tf.constant([-7, 7]), 2)
    assert q.op.type == "FloorDiv" and run(q).tolist() == [-4, 3]
    assert tf.div(tf.constant(7.0), 2.0).op.type == "RealDiv"


INTS = np.array([-7, -6, -1, 0, 1, 6, 7])


@pytest.mark.parametrize("divisor", [3, -3, 1, -1, 7])
@pytest.mark.parametrize(*slow_except("dtype", [np.int32, np.int64], 1))
def test_integer_floordiv_and_mod_match_python(divisor, dtype):
    x = tf.constant(INTS.astype(dtype))
    q, r = run([x // divisor, x % divisor])
    assert q.dtype == dtype and r.dtype == dtype
    assert q.tolist() == [int(v) // divisor for v in INTS]
    assert r.tolist() == [int(v) % divisor for v in INTS]


@pytest.mark.parametrize("divisor", [3.0, -3.0, 0.75, -2.5])
def test_float_floordiv_and_mod_match_python(divisor):
    x = np.array([-7.5, -6.0, -1.0, -0.0, 0.0, 1.0, 6.0, 7.25])
    q, r = run([tf.constant(x) // divisor, tf.constant(x) % divisor])
    np.testing.assert_array_equal(q, np.floor(x / divisor))
    np.testing.assert_array_equal(r, [np.fmod(v, divisor) + (divisor if np.fmod(v, divisor) != 0 and
                                      (np.fmod(v, divisor) < 0) != (divisor < 0) else 0) for v in x])
    np.testing.assert_allclose(r, np.mod(x, divisor))


def test_float_floordiv_is_floor_of_the_quotient_as_in_tf():
    one, tenth = tf.constant(1.0, tf.float64), tf.constant(0.1, tf.float64)
    q, r = run([tf.floordiv(one, tenth), tf.mod(one, tenth)])
    assert q == 10.0 and r == pytest.approx(1.0 % 0.1)   # TF: floor(1 / 0.1); Python's 1 // 0.1 is 9
    assert np.signbit(run(tf.mod(tf.constant(-6.0), 3.0)))   # the remainder keeps the dividend's zero sign


def test_broadcast_floormod():
    x, y = rand(3, 1) * 5, np.array([1.5, -2.0, 0.7])
    np.testing.assert_allclose(run(tf.floormod(tf.constant(x), tf.constant(y))), np.mod(x, y), atol=1e-12)


def test_truncating_division():
    x = tf.constant(INTS)
    assert run(tf.truncatediv(x, 3)).tolist() == [int(v / 3) for v in INTS]
    assert run(tf.truncatemod(x, -3)).tolist() == np.fmod(INTS, -3).tolist()
    np.testing.assert_array_equal(run(tf.math.truncatemod(tf.constant([-7.5, 7.5]), 2.0)), [-1.5, 1.5])
    with pytest.raises(TypeError):
        tf.truncatediv(tf.constant(1.0), 2.0)


def test_div_no_nan_and_xlogy():
    assert run(tf.div_no_nan(tf.constant([1.0, 2.0]), tf.constant([0.0, 4.0]))).tolist() == [0.0, 0.5]
    assert tf.math.divide_no_nan is tf.div_no_nan
    np.testing.assert_allclose(run(tf.math.xlogy(tf.constant([0.0, 2.0]), tf.constant([0.0, 3.0]))),
                               [0.0, 2 * np.log(3.0)])


def test_integer_pow():
    x = tf.constant([2, 3, -2, 0, 5])
    assert run(tf.pow(x, tf.constant([3, 0, 3, 0, 1]))).tolist() == [8, 1, -8, 1, 5]
    assert run(2 ** tf.constant([0, 1, 10])).tolist() == [1, 2, 1024]


# cast, where, add_n ----------------------------------------------------------------------------------
def test_cast():
    x = tf.constant([-1.7, 0.0, 2.9])
    assert tf.cast(x, tf.float32) is x
    assert run(tf.cast(x, tf.int32)).tolist() == [-1, 0, 2]
    assert run(tf.cast(x, tf.bool)).tolist() == [True, False, True]
    c = tf.cast(tf.constant([1, 2]), tf.float64)
    assert (c.op.type, c.op.get_attr("SrcT"), c.op.get_attr("DstT")) == ("Cast", tf.int32, tf.float64)
    assert tf.to_float(tf.constant(1)).op.name == "ToFloat" and tf.to_int64(x).dtype == tf.int64


def test_where_broadcasts():
    cond = tf.constant([True, False])
    out = tf.where(cond, tf.constant([[1.0], [2.0]]), 3.0)
    assert out.shape.as_list() == [2, 2]
    np.testing.assert_array_equal(run(out), [[1, 3], [2, 3]])


def test_add_n():
    xs = [rand(2, 3) for _ in range(4)]
    np.testing.assert_allclose(run(tf.add_n([tf.constant(x) for x in xs])), sum(xs))
    one = tf.constant(1.0)
    assert tf.add_n([one]) is one and tf.add_n([one], name="total").op.type == "Identity"
    with pytest.raises(ValueError):
        tf.add_n([])


def test_identity_and_stop_gradient_pass_values():
    x = tf.constant([1.0, 2.0])
    assert run(tf.identity(x)).tolist() == [1.0, 2.0] and run(tf.stop_gradient(x)).tolist() == [1.0, 2.0]
    assert tf.stop_gradient(x).op.type == "StopGradient"


# matmul ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("ta", [False, True])
@pytest.mark.parametrize("tb", [False, True])
def test_matmul_transposes(ta, tb):
    a, b = rand(3, 4), rand(4, 5)
    a_in, b_in = (a.T if ta else a), (b.T if tb else b)
    c = tf.matmul(tf.constant(a_in), tf.constant(b_in), transpose_a=ta, transpose_b=tb)
    assert c.op.type == "MatMul" and c.shape.as_list() == [3, 5]
    assert c.op.get_attr("transpose_a") == ta
    np.testing.assert_allclose(run(c), a @ b, rtol=1e-12)


def test_matmul_adjoint_and_operator():
    a, b = rand(4, 3), rand(5, 4)
    c = tf.matmul(tf.constant(a), tf.constant(b), adjoint_a=True, adjoint_b=True)
    np.testing.assert_allclose(run(c), a.T @ b.T, rtol=1e-12)
    m = tf.constant(a) @ tf.constant(a.T)
    assert m.op.name == "matmul_1"   # after "MatMul": TF counts names case-insensitively
    np.testing.assert_allclose(run(m), a @ a.T, rtol=1e-12)
    np.testing.assert_allclose(run(a.T @ tf.constant(a)), a.T @ a, rtol=1e-12)


@pytest.mark.parametrize("sa,sb", [((2, 1, 3, 4), (5, 4, 2)), ((2, 3, 4), (4, 2)), ((3, 4), (6, 4, 2)),
                                   ((1, 0, 4), (3, 4, 2)), ((2, 3, 0), (2, 0, 5))])
def test_batch_matmul_broadcasts_batch_dims(sa, sb):
    a, b = rand(*sa), rand(*sb)
    c = tf.matmul(tf.constant(a), tf.constant(b))
    assert c.op.type == "BatchMatMulV2" and tuple(c.shape.as_list()) == np.matmul(a, b).shape
    np.testing.assert_allclose(run(c), np.matmul(a, b), rtol=1e-12)


def test_batch_matmul_transposes_with_unknown_dims():
    a, b = rand(2, 4, 3), rand(2, 5, 4)
    pa, pb = tf.placeholder(tf.float64, [None, 4, None]), tf.placeholder(tf.float64, [None, None, 4])
    c = tf.matmul(pa, pb, transpose_a=True, transpose_b=True)
    assert c.shape.as_list() == [None, None, None]
    np.testing.assert_allclose(run(c, {pa: a, pb: b}), np.swapaxes(a, 1, 2) @ np.swapaxes(b, 1, 2), rtol=1e-12)


def test_matmul_integers_and_errors():
    assert run(tf.matmul(tf.constant([[1, 2]]), tf.constant([[3], [4]]))).tolist() == [[11]]
    with pytest.raises(ValueError, match="rank"):
        tf.matmul(tf.constant([1.0, 2.0]), tf.constant([[1.0], [2.0]]))
    with pytest.raises(ValueError):
        tf.matmul(tf.constant(np.ones((2, 3))), tf.constant(np.ones((2, 3))))
    with pytest.raises(TypeError):
        tf.matmul(tf.constant([[1.0]]), tf.constant([[1]]))


# argmax / argmin ------------------------------------------------------------------------------------
def test_argmax_argmin_axes_types_and_ties():
    x = np.array([[1, 5, 5], [4, 2, 4], [0, 0, -1]], np.int32)
    t = tf.constant(x)
    a = tf.argmax(t)
    assert a.dtype == tf.int64 and a.op.type == "ArgMax" and run(a).tolist() == [1, 0, 0]
    assert run(tf.argmax(t, axis=-1)).tolist() == [1, 0, 0]   # first occurrence wins a tie
    assert run(tf.argmin(t, 1)).tolist() == [0, 1, 2]
    b = tf.argmin(t, dimension=0, output_type=tf.int32)
    assert b.dtype == tf.int32 and run(b).tolist() == [2, 2, 2]
    assert run(tf.argmax(t, axis=tf.constant(1, tf.int64))).tolist() == [1, 0, 0]
    assert run(tf.argmax(tf.constant([False, True, True]))) == 1


@pytest.mark.slow
def test_argmax_random_against_numpy():
    x = rand(3, 4, 5)
    for axis in (0, 1, 2, -1, -3):
        assert run(tf.argmax(tf.constant(x), axis)).tolist() == np.argmax(x, axis).tolist()
        assert run(tf.argmin(tf.constant(x), axis)).tolist() == np.argmin(x, axis).tolist()


def test_argmax_errors():
    t = tf.constant([[1.0]])
    with pytest.raises(ValueError):
        tf.argmax(t, 2)
    with pytest.raises(TypeError):
        tf.argmax(t, 0, output_type=tf.float32)
    with pytest.raises(ValueError):
        tf.argmax(t, axis=0, dimension=0)


# reductions -----------------------------------------------------------------------------------------
REDUCTIONS = [(tf.reduce_sum, np.sum), (tf.reduce_mean, np.mean), (tf.reduce_max, np.max),
              (tf.reduce_min, np.min), (tf.reduce_prod, np.prod)]


@pytest.mark.parametrize("fn,ref", REDUCTIONS, ids=[r[0].__name__ for r in REDUCTIONS])
@pytest.mark.parametrize(*slow_except("axis", [None, 0, 1, -1, [0, 2], [-1, 0], (1,), [], [0, 1, 2]], 4))
@pytest.mark.parametrize("keepdims", [False, True])
def test_reductions_match_numpy(fn, ref, axis, keepdims):
    x = rand(2, 3, 4)
    np_axis = None if axis is None else tuple(axis) if isinstance(axis, (list, tuple)) else axis
    expected = ref(x, axis=np_axis, keepdims=keepdims)
    p = tf.placeholder(tf.float64, [None, 3, None])
    y = fn(p, axis=axis, keepdims=keepdims)
    assert y.shape.ndims == expected.ndim
    np.testing.assert_allclose(run(y, {p: x}), expected, rtol=1e-12)


def test_reduction_static_shapes_and_tf1_spellings():
    x = tf.placeholder(tf.float32, [None, 3, 4])
    assert tf.reduce_sum(x, axis=1).shape.as_list() == [None, 4]
    assert tf.reduce_sum(x, reduction_indices=[0, 2], keep_dims=True).shape.as_list() == [1, 3, 1]
    assert tf.reduce_max(x).shape.as_list() == []
    assert tf.reduce_mean(x, axis=[], keepdims=True).shape.as_list() == [None, 3, 4]
    assert tf.reduce_sum(tf.constant(3.0), axis=[]).shape.as_list() == []
    assert tf.reduce_sum(x, axis=tf.placeholder(tf.int32, [2]), keepdims=True).shape.as_list() == [None] * 3
    assert tf.reduce_sum(x, axis=tf.placeholder(tf.int32, [2])).shape.ndims == 1
    with pytest.raises(ValueError):
        tf.reduce_sum(x, axis=1, reduction_indices=1)
    with pytest.raises(ValueError):
        tf.reduce_sum(x, axis=3)
    with pytest.raises(ValueError):
        tf.reduce_sum(tf.constant(3.0), axis=0)
    with pytest.raises(ValueError):
        tf.reduce_sum(x, axis=[1, -2])
    with pytest.raises(TypeError):
        tf.reduce_sum(tf.constant([True]))
    with pytest.raises(TypeError):
        tf.reduce_all(tf.constant([1]))


def test_integer_mean_truncates_like_tf():
    assert run(tf.reduce_mean(tf.constant([1, 2]))) == 1
    assert run(tf.reduce_mean(tf.constant([-1, -2]))) == -1
    assert run(tf.reduce_mean(tf.constant([[7, 8], [1, 1]], tf.int64), axis=1)).tolist() == [7, 1]
    assert tf.reduce_mean(tf.constant([1, 2])).dtype == tf.int32


def test_empty_reductions():
    f, i = tf.constant(np.zeros((0, 3), np.float32)), tf.constant(np.zeros((0, 3), np.int32))
    mean_f, mean_i, max_f, max_i, prod, total = run([
        tf.reduce_mean(f, 0), tf.reduce_mean(i, 0), tf.reduce_max(f, 0), tf.reduce_max(i, 0),
        tf.reduce_prod(f, 0), tf.reduce_sum(f)])
    assert np.isnan(mean_f).all() and mean_i.tolist() == [0, 0, 0]
    assert (max_f == -np.inf).all() and (max_i == np.iinfo(np.int32).min).all()
    assert prod.tolist() == [1, 1, 1] and total == 0


def test_boolean_reductions():
    x = tf.constant([[True, False], [True, True]])
    assert run(tf.reduce_all(x, 1)).tolist() == [False, True]
    assert run(tf.reduce_any(x, 0)).tolist() == [True, True]
    assert run(tf.reduce_all(x)) == False  # noqa: E712
    assert run(tf.count_nonzero(x)) == 3 and tf.count_nonzero(x).dtype == tf.int64
    assert run(tf.count_nonzero(tf.constant([[0.0, 1.5], [2.0, 0.0]]), axis=1)).tolist() == [1, 1]


def test_reduce_logsumexp_is_stable():
    x = rand(3, 4) * 10
    ref = np.log(np.sum(np.exp(x), axis=1))
    y = tf.reduce_logsumexp(tf.constant(x), axis=1)
    assert y.op.name == "ReduceLogSumExp"
    np.testing.assert_allclose(run(y), ref, rtol=1e-12)
    k = tf.reduce_logsumexp(tf.constant(x), axis=[0, 1], keepdims=True)
    assert k.shape.as_list() == [1, 1]
    np.testing.assert_allclose(run(k), [[np.log(np.exp(x).sum())]], rtol=1e-12)
    big = run(tf.reduce_logsumexp(tf.constant([1000.0, 1000.0])))
    assert big == pytest.approx(1000 + np.log(2))
    assert run(tf.reduce_logsumexp(tf.constant([-np.inf, -np.inf]))) == -np.inf
    assert run(tf.reduce_logsumexp(tf.constant([np.inf, 1.0]))) == np.inf
    with pytest.raises(TypeError):
        tf.reduce_logsumexp(tf.constant([1, 2]))


def test_variance_std_and_norm():
    x = rand(4, 5)
    v, s, n = run([tf.math.reduce_variance(tf.constant(x), 1), tf.math.reduce_std(tf.constant(x)),
                   tf.math.reduce_euclidean_norm(tf.constant(x), 0, keepdims=True)])
    np.testing.assert_allclose(v, x.var(1), rtol=1e-12)
    np.testing.assert_allclose(s, x.std(), rtol=1e-12)
    np.testing.assert_allclose(n, np.sqrt((x ** 2).sum(0, keepdims=True)), rtol=1e-12)


@pytest.mark.parametrize("exclusive", [False, True])
@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize(*slow_except("axis", [0, 1, -1], 1))
def test_cumsum(exclusive, reverse, axis):
    x = rand(3, 4)
    ref = np.flip(x, axis) if reverse else x
    ref = np.cumsum(ref, axis)
    if exclusive:
        ref = ref - (np.flip(x, axis) if reverse else x)
    ref = np.flip(ref, axis) if reverse else ref
    y = tf.cumsum(tf.constant(x), axis, exclusive=exclusive, reverse=reverse)
    np.testing.assert_allclose(run(y), ref, rtol=1e-12, atol=1e-12)
    assert run(tf.cumsum(tf.constant([[1, 2], [3, 4]]), 1, exclusive=True, reverse=True)).tolist() == [[2, 0], [4, 0]]


def test_cumsum_with_unknown_dims_and_empty_axis():
    p = tf.placeholder(tf.float64, [None, 4])
    y = tf.cumsum(p, axis=-1, exclusive=True)
    assert y.shape.as_list() == [None, 4]
    x = rand(2, 4)
    np.testing.assert_allclose(run(y, {p: x}), np.cumsum(x, 1) - x, atol=1e-12)
    assert run(tf.cumsum(p, 0), {p: np.zeros((0, 4))}).shape == (0, 4)
    with pytest.raises(ValueError):
        tf.cumsum(p, 2)


# clipping -------------------------------------------------------------------------------------------
def test_clip_by_value():
    x = tf.constant([-1.0, 0.0, 0.5, 1.0, 2.0])
    y = tf.clip_by_value(x, 0.0, 1.0)
    assert (y.op.type, y.op.name) == ("Maximum", "clip_by_value")
    assert run(y).tolist() == [0, 0, 0.5, 1, 1]
    assert run(tf.clip_by_value(tf.constant([1, 5]), 2, 3)).tolist() == [2, 3]
    assert run(tf.clip_by_value(tf.constant([1.0, 5.0]), 3.0, 2.0)).tolist() == [3.0, 3.0]   # TF's order
    lo = tf.constant([0.0, 0.0, 1.0, 1.0, 1.0])
    assert run(tf.clip_by_value(x, lo, 1.5)).tolist() == [0, 0, 1, 1, 1.5]
    with pytest.raises(TypeError):
        tf.clip_by_value(tf.constant([1, 2]), 0.0, 1.0)
    with pytest.raises(ValueError):
        tf.clip_by_value(x, tf.constant(np.zeros((2, 5), np.float32)), 1.0)


def test_clip_by_norm_and_global_norm():
    assert np.allclose(run(tf.clip_by_norm(tf.constant([3.0, 4.0]), 1.0)), [0.6, 0.8])
    assert run(tf.clip_by_norm(tf.constant([0.0, 0.0]), 1.0)).tolist() == [0.0, 0.0]
    rows = run(tf.clip_by_norm(tf.constant([[3.0, 4.0], [0.3, 0.4]]), 1.0, axes=[1]))
    np.testing.assert_allclose(rows, [[0.6, 0.8], [0.3, 0.4]], rtol=1e-6)
    a, b = tf.constant([3.0, 0.0]), tf.constant([[4.0]])
    (ca, cb), norm = tf.clip_by_global_norm([a, None, b][::2], 1.0)
    na, nb, n = run([ca, cb, norm])
    assert n == pytest.approx(5.0)
    np.testing.assert_allclose(na, [0.6, 0.0], rtol=1e-6)
    np.testing.assert_allclose(nb, [[0.8]], rtol=1e-6)
    clipped, _ = tf.clip_by_global_norm([a, None], 10.0)
    assert clipped[1] is None and run(clipped[0]).tolist() == [3.0, 0.0]
    assert run(tf.global_norm([a, b])) == pytest.approx(5.0)


# operator overloads ---------------------------------------------------------------------------------
def test_arithmetic_operators_and_reversed_operands():
    xv = np.array([1.5, -2.0, 3.0])
    x = tf.constant(xv)
    pairs = [(x + 2, xv + 2), (2 + x, 2 + xv), (x - 1, xv - 1), (1 - x, 1 - xv), (x * 3, xv * 3),
             (3 * x, 3 * xv), (x / 2, xv / 2), (2 / x, 2 / xv), (x // 2, xv // 2), (7 // x, np.floor(7 / xv)),
             (x % 2, xv % 2), (7 % x, np.mod(7, xv)), (x ** 2, xv ** 2), (2 ** x, 2 ** xv), (-x, -xv),
             (abs(x), np.abs(xv))]
    for t, ref in pairs:
        np.testing.assert_allclose(run(t), ref, rtol=1e-12)


def test_numpy_left_operands_defer_to_the_tensor():
    x = tf.constant([1.0, 2.0], tf.float32)
    for t in (np.float64(2.0) * x, np.float32(2.0) + x, np.array([1.0, 2.0]) - x, np.int64(3) ** x):
        assert isinstance(t, tf.Tensor) and t.dtype == tf.float32
    assert run(np.array([3.0, 3.0]) - x).tolist() == [2.0, 1.0]


def test_comparison_operators():
    x = tf.constant([1, 2, 3])
    assert run(x < 2).tolist() == [True, False, False]
    assert run(x <= 2).tolist() == [True, True, False]
    assert run(x > 2).tolist() == [False, False, True]
    assert run(x >= 2).tolist() == [False, True, True]
    assert run(2 < x).tolist() == [False, False, True]
    assert (x == x) is True


def test_logical_and_bitwise_operators():
    a, b = tf.constant([True, True, False, False]), tf.constant([True, False, True, False])
    assert run(a & b).tolist() == [True, False, False, False]
    assert run(a | b).tolist() == [True, True, True, False]
    assert run(a ^ b).tolist() == [False, True, True, False]
    assert run(~a).tolist() == [False, False, True, True]
    assert run(True & b).tolist() == [True, False, True, False]
    both = a & b
    assert (both.op.type, both.op.name) == ("LogicalAnd", "and_2")
    i, j = tf.constant([12, -1, 5]), tf.constant([10, 6, 0])
    assert run(i & j).tolist() == [8, 6, 0]
    assert run(i | j).tolist() == [14, -1, 5]
    assert run(i ^ j).tolist() == [6, -7, 5]
    assert run(~i).tolist() == [-13, 0, -6]
    assert (i & j).op.type == "BitwiseAnd" and (~i).op.type == "Invert" and (i ^ j).op.type == "BitwiseXor"
    with pytest.raises(TypeError):
        tf.constant([1.0]) & tf.constant([1.0])


def test_operators_on_variables():
    v = tf.Variable([1.0, 2.0])
    y = 2 * v - v / 2 + v ** 2
    with tf.Session() as s:
        s.run(tf.global_variables_initializer())
        np.testing.assert_allclose(s.run(y), [2.5, 7.0])
