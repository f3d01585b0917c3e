"""The array ops against NumPy: values, dtypes, static shapes (with None dims) and TF's errors.

Every op runs through the interpreter on random inputs with awkward shapes
(0- and 1-sized dims, negative axes, int and float dtypes); placeholders with
None dims are fed different shapes to check that one graph serves them all.
"""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import xlite as tf
from xlite import errors

RNG = np.random.default_rng(7)


def run(fetches, feed=None):
    with tf.Session(target="interpreter") as s:
        return s.run(fetches, feed)


def rand(*shape, dtype=np.float32):
    if np.dtype(dtype).kind in "iu":
        return RNG.integers(-5, 6, size=shape).astype(dtype)
    return RNG.standard_normal(shape).astype(dtype)


def same(got, want):
    want = np.asarray(want)
    assert got.shape == want.shape, (got.shape, want.shape)
    assert got.dtype == want.dtype, (got.dtype, want.dtype)
    np.testing.assert_array_equal(got, want)


def unknown(a, dtype=None):
    """A placeholder for `a` with every dim unknown."""
    return tf.placeholder(dtype or tf.as_dtype(a.dtype), [None] * a.ndim)


# reshape -------------------------------------------------------------------------------------
@pytest.mark.parametrize("shape,target", [((2, 3, 4), [4, -1]), ((2, 3, 4), [-1]), ((6,), [1, 6, 1]),
                                          ((0, 3), [3, 0]), ((0, 3), [-1, 3]), ((1,), []), ((), [1, 1])])
@pytest.mark.parametrize("dtype", [np.float32, np.int32])
def test_reshape(shape, target, dtype):
    a = rand(*shape, dtype=dtype)
    x = tf.placeholder(tf.as_dtype(dtype), shape)
    y = tf.reshape(x, target)
    want = a.reshape(target)
    assert y.shape.as_list() == list(want.shape) and y.dtype == tf.as_dtype(dtype)
    same(run(y, {x: a}), want)


def test_reshape_unknown_dims_and_shape_tensors():
    x = tf.placeholder(tf.float32, [None, 3, 4])
    flat = tf.reshape(x, [tf.shape(x)[0], -1])
    rows = tf.reshape(x, [-1, 12])
    back = tf.reshape(rows, tf.shape(x))
    assert rows.shape.as_list() == [None, 12]
    assert back.shape.as_list() == [None, 3, 4]
    for n in (1, 2, 5):
        a = rand(n, 3, 4)
        f, r, b = run([flat, rows, back], {x: a})
        same(f, a.reshape(n, 12))
        same(r, a.reshape(n, 12))
        same(b, a)


def test_reshape_partial_static_shape():
    x = tf.placeholder(tf.float32, [None, 3, 4])
    assert tf.reshape(x, [tf.shape(x)[0], 12]).shape.as_list() == [None, 12]
    assert tf.reshape(x, tf.concat([tf.shape(x)[:1], [12]], 0)).shape.as_list() == [None, 12]
    u = tf.placeholder(tf.float32)
    assert tf.reshape(u, [-1, 784]).shape.as_list() == [None, 784]


def test_reshape_errors():
    with pytest.raises(ValueError, match="Cannot reshape a tensor with 6 elements"):
        tf.reshape(tf.zeros([2, 3]), [5])
    with pytest.raises(ValueError, match="not divisible"):
        tf.reshape(tf.zeros([2, 3]), [4, -1])
    with pytest.raises(ValueError, match="Only one input size may be -1"):
        tf.reshape(tf.zeros([2, 3]), [-1, -1])
    x = tf.placeholder(tf.float32, [None, 3])
    y = tf.reshape(x, [4, -1])
    assert run(y, {x: rand(4, 3)}).shape == (4, 3)
    with pytest.raises(errors.InvalidArgumentError, match="Cannot reshape|not divisible"):
        run(y, {x: rand(3, 3)})


def test_reshape_op_names():
    y = tf.reshape(tf.zeros([2, 3]), [3, 2])
    assert y.op.type == "Reshape" and y.op.name == "Reshape" and y.op.inputs[1].op.name == "Reshape/shape"
    assert tf.reshape(tf.zeros([2, 3]), [6], name="flat").op.name == "flat"


# transpose / expand_dims / squeeze -------------------------------------------------------------
@pytest.mark.parametrize("shape,perm", [((2, 3, 4), None), ((2, 3, 4), [1, 2, 0]), ((0, 1, 3), [2, 0, 1]),
                                        ((5,), None), ((), None)])
def test_transpose(shape, perm):
    a = rand(*shape, dtype=np.int64)
    x = unknown(a)
    y = tf.transpose(x, perm)
    same(run(y, {x: a}), np.transpose(a, perm))
    assert y.op.name == "transpose"


def test_transpose_static_shape_and_errors():
    x = tf.placeholder(tf.float32, [None, 3, 4])
    assert tf.transpose(x).shape.as_list() == [4, 3, None]
    with pytest.raises(ValueError, match="Dimension must be 3 but is 2"):
        tf.transpose(x, [1, 0])
    with pytest.raises(ValueError, match="permutation"):
        tf.transpose(x, [0, 0, 1])
    u = tf.placeholder(tf.float32)
    a = rand(2, 3, 4)
    same(run(tf.transpose(u), {u: a}), a.T)


def test_invert_permutation():
    p = tf.placeholder(tf.int32, [5])
    perm = RNG.permutation(5).astype(np.int32)
    same(run(tf.invert_permutation(p), {p: perm}), np.argsort(perm).astype(np.int32))


@pytest.mark.parametrize("axis", [-4, -3, -1, 0, 1, 3])
def test_expand_dims(axis):
    a = rand(2, 0, 3)
    x = tf.placeholder(tf.float32, [None, 0, 3])
    y = tf.expand_dims(x, axis)
    want = np.expand_dims(a, axis)
    assert y.shape.as_list() == [None if d == 2 else d for d in want.shape]
    same(run(y, {x: a}), want)


def test_expand_dims_errors():
    with pytest.raises(ValueError, match="not in the interval"):
        tf.expand_dims(tf.zeros([2, 3]), 3)
    with pytest.raises(ValueError, match="Must specify an axis"):
        tf.expand_dims(tf.zeros([2, 3]))
    same(run(tf.expand_dims(tf.constant(3), dim=0)), np.array([3], np.int32))


@pytest.mark.parametrize("axis", [None, [0], [-1], [0, 3], 2])
def test_squeeze(axis):
    a = rand(1, 3, 1, 1)
    x = tf.placeholder(tf.float32, [1, 3, 1, 1])
    want = np.squeeze(a, axis=None if axis is None else tuple(np.atleast_1d(axis)))
    y = tf.squeeze(x, axis)
    assert y.shape.as_list() == list(want.shape)
    same(run(y, {x: a}), want)


def test_squeeze_unknown_dims():
    x = tf.placeholder(tf.float32, [None, 3, None])
    y = tf.squeeze(x)
    assert y.shape.ndims is None
    a = rand(1, 3, 1)
    same(run(y, {x: a}), a.reshape(3))
    a = rand(2, 3, 1)
    same(run(y, {x: a}), a.reshape(2, 3))
    z = tf.squeeze(x, [2])
    assert z.shape.as_list() == [None, 3]
    with pytest.raises(errors.InvalidArgumentError, match="Can not squeeze dim"):
        run(z, {x: rand(2, 3, 2)})


def test_squeeze_errors():
    with pytest.raises(ValueError, match="Can not squeeze dim\\[0\\], expected a dimension of 1, got 2"):
        tf.squeeze(tf.zeros([2, 3]), [0])
    with pytest.raises(ValueError, match="not in \\[-2,2\\)"):
        tf.squeeze(tf.zeros([2, 3]), [2])


# concat / stack / unstack / split ----------------------------------------------------------------
@pytest.mark.parametrize("axis", [0, 1, -1, -2])
@pytest.mark.parametrize("dtype", [np.float64, np.int32])
def test_concat(axis, dtype):
    arrays = [rand(2, 3, dtype=dtype), rand(2, 3, dtype=dtype)]
    if axis in (0, -2):
        arrays.append(rand(0, 3, dtype=dtype))
    else:
        arrays.append(rand(2, 1, dtype=dtype))
    xs = [unknown(a) for a in arrays]
    y = tf.concat(xs, axis)
    assert y.op.type == "ConcatV2" and y.op.name == "concat"
    same(run(y, dict(zip(xs, arrays))), np.concatenate(arrays, axis))


def test_concat_static_shape_single_and_errors():
    x = tf.placeholder(tf.float32, [None, 3])
    assert tf.concat([x, tf.zeros([2, 3])], 0).shape.as_list() == [None, 3]
    assert tf.concat([x, tf.zeros([2, 3])], 1).shape.as_list() == [2, 6]
    a = rand(4, 3)
    same(run(tf.concat([x], 0), {x: a}), a)
    with pytest.raises(ValueError, match="Shape must be rank 2 but is rank 1"):
        tf.concat([tf.zeros([2, 3]), tf.zeros([2])], 0)
    with pytest.raises(ValueError, match="Expected concatenating dimensions in the range \\[-2, 2\\)"):
        tf.concat([tf.zeros([2, 3]), tf.zeros([2, 3])], 2)
    with pytest.raises(ValueError, match="Dimension 0 in both shapes must be equal"):
        tf.concat([tf.zeros([2, 3]), tf.zeros([3, 3])], 1)
    with pytest.raises(TypeError, match="don't all match"):
        tf.concat([tf.zeros([2, 3]), tf.zeros([2, 3], tf.int32)], 1)
    u = tf.placeholder(tf.float32, [None, None])
    with pytest.raises(errors.InvalidArgumentError, match="Dimension 1 in both shapes must be equal"):
        run(tf.concat([u, tf.zeros([2, 2])], 0), {u: a})


@pytest.mark.parametrize("axis", [0, 1, 2, -1, -3])
def test_stack_unstack(axis):
    arrays = [rand(2, 3), rand(2, 3), rand(2, 3)]
    xs = [tf.placeholder(tf.float32, [None, 3]) for _ in arrays]
    y = tf.stack(xs, axis)
    want = np.stack(arrays, axis)
    same(run(y, dict(zip(xs, arrays))), want)
    parts = tf.unstack(tf.constant(want), axis=axis)
    assert len(parts) == 3
    for got, a in zip(run(parts), arrays):
        same(got, a)


def test_stack_constants_and_scalars():
    assert tf.stack([1, 2]).op.type == "Const"
    t = tf.placeholder(tf.int64, [])
    y = tf.stack([t, 4, 5])
    assert y.dtype == tf.int64 and y.shape.as_list() == [3]
    same(run(y, {t: 3}), np.array([3, 4, 5], np.int64))


def test_stack_unstack_errors():
    with pytest.raises(ValueError, match="Dimension 0 in both shapes must be equal"):
        tf.stack([tf.zeros([2, 3]), tf.zeros([3, 3])], 1)
    with pytest.raises(ValueError, match="not in range"):
        tf.stack([tf.zeros([2, 3])], 3)
    with pytest.raises(ValueError, match="Cannot infer argument `num`"):
        tf.unstack(tf.placeholder(tf.float32, [None, 2]))
    a = rand(2, 0)
    assert run(tf.unstack(tf.constant(a), axis=1)) == []
    x = tf.placeholder(tf.float32, [None, 2])
    first, _ = tf.unstack(x, num=2)
    same(run(first, {x: np.array([[1, 2], [3, 4]], np.float32)}), np.array([1, 2], np.float32))
    with pytest.raises(errors.InvalidArgumentError, match="must equal num"):
        run(first, {x: rand(3, 2)})


def test_tensor_iteration_uses_unstack():
    a = rand(3, 2)
    rows = list(tf.constant(a))
    for got, want in zip(run(rows), a):
        same(got, want)


@pytest.mark.parametrize("splits,axis", [(3, 0), (1, 1), (2, -1), ([1, 2, 3], 0), ([2, -1], 1), ([0, 4], -1),
                                         ([6], 0)])
def test_split(splits, axis):
    a = rand(6, 4, dtype=np.int32)
    x = unknown(a)
    parts = tf.split(x, splits, axis)
    sizes = splits if isinstance(splits, list) else [a.shape[axis] // splits] * splits
    if -1 in sizes:
        sizes[sizes.index(-1)] = a.shape[axis] - sum(s for s in sizes if s != -1)
    want = np.split(a, np.cumsum(sizes)[:-1], axis)
    got = run(parts, {x: a})
    assert len(got) == len(want)
    for g, w in zip(got, want):
        same(g, w)


def test_split_static_shapes_and_errors():
    x = tf.placeholder(tf.float32, [None, 6])
    a, b = tf.split(x, [2, -1], 1)
    assert a.shape.as_list() == [None, 2] and b.shape.as_list() == [None, 4]
    assert [p.shape.as_list() for p in tf.split(x, 2)] == [[None, 6]] * 2
    with pytest.raises(ValueError, match="evenly divisible by 4 but is 6"):
        tf.split(x, 4, 1)
    with pytest.raises(ValueError, match="can't split axis of size 6"):
        tf.split(x, [2, 2], 1)
    with pytest.raises(ValueError, match="only have one -1"):
        tf.split(x, [-1, -1], 1)
    halves = tf.split(x, 2)
    with pytest.raises(errors.InvalidArgumentError, match="evenly divisible"):
        run(halves, {x: rand(3, 6)})


# slice / strided_slice / indexing --------------------------------------------------------------------
@pytest.mark.parametrize("begin,size", [([0, 0, 0], [-1, -1, -1]), ([1, 0, 2], [1, 3, -1]), ([0, 2, 1], [2, 0, 2]),
                                        ([2, 3, 4], [0, 0, 0])])
def test_slice(begin, size):
    a = rand(2, 3, 4, dtype=np.int64)
    x = unknown(a)
    want = a[tuple(slice(b, None if s == -1 else b + s) for b, s in zip(begin, size))]
    same(run(tf.slice(x, begin, size), {x: a}), want)
    assert tf.slice(tf.constant(a), begin, size).shape.as_list() == list(want.shape)


def test_slice_errors():
    with pytest.raises(ValueError, match="Expected size\\[0\\]"):
        tf.slice(tf.zeros([5, 3]), [4, 0], [2, -1])
    with pytest.raises(ValueError, match="Expected begin\\[0\\]"):
        tf.slice(tf.zeros([5, 3]), [-1, 0], [1, -1])
    x = tf.placeholder(tf.float32, [None, 3])
    y = tf.slice(x, [4, 0], [2, -1])
    assert y.shape.as_list() == [2, 3]
    with pytest.raises(errors.InvalidArgumentError, match="Expected size"):
        run(y, {x: rand(5, 3)})


A = np.arange(2 * 3 * 5, dtype=np.float32).reshape(2, 3, 5)
KEYS = [1, -1, (0, 2), (slice(None), 1), (Ellipsis, 2), (Ellipsis, slice(None, None, -1)),
        (slice(None, None, -1), slice(1, None), slice(None, None, 2)), (slice(1, -6, -2),),
        (None, 0), (0, None, slice(4, 0, -3)), (Ellipsis, None), (slice(5, 1),), (slice(-100, 100),),
        (0, Ellipsis, -2, None), (slice(None), None, slice(None), Ellipsis), (slice(1, 1), 0),
        (slice(None, None, 3), slice(None, None, -2), slice(-2, -6, -1)), ()]


@pytest.mark.parametrize("key", KEYS, ids=[repr(k) for k in KEYS])
def test_getitem_matches_numpy(key):
    x = tf.placeholder(tf.float32, [None, 3, None])
    y = x[key]
    want = A[key]
    assert y.shape.ndims == want.ndim
    same(run(y, {x: A}), want)
    known = tf.constant(A)[key]
    assert known.shape.as_list() == list(want.shape)


_BOUND = st.none() | st.integers(-7, 7)
_INDEX = st.one_of(st.integers(-3, 2), st.none(),
                   st.builds(slice, _BOUND, _BOUND, st.sampled_from([None, 1, 2, 3, -1, -2, -3])))


@st.composite
def _keys(draw):
    """Keys of up to four entries with at most one Ellipsis, valid for NumPy on A."""
    items = draw(st.lists(_INDEX, max_size=4))
    if draw(st.booleans()):
        items.insert(draw(st.integers(0, len(items))), Ellipsis)
    key = tuple(items)
    try:
        A[key]
    except IndexError:
        key = ()
    return key


@settings(max_examples=60, deadline=None)
@given(_keys())
@pytest.mark.slow
def test_getitem_property(key):
    """Any NumPy basic-indexing key gives NumPy's values, static rank and (for known dims) static shape."""
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [None, 3, None])
        y, known = x[key], tf.constant(A)[key]
        want = A[key]
        assert y.shape.ndims == want.ndim and known.shape.as_list() == list(want.shape)
        same(run(y, {x: A}), want)


def test_getitem_static_values_and_names():
    x = tf.placeholder(tf.float32, [None, 3, 4])
    s = tf.shape(x)
    first = x[0]
    assert first.op.type == "StridedSlice" and first.op.name == "strided_slice"
    assert first.op.inputs[1].op.name == "strided_slice/stack"
    assert tf.zeros([s[0], s[2]]).shape.as_list() == [None, 4]
    assert tf.fill(s[1:], 1.0).shape.as_list() == [3, 4]
    assert tf.range(s[1]).shape.as_list() == [3]
    assert tf.shape(tf.zeros([2, 7]))[1]._static_value == 7


def test_getitem_with_tensor_index():
    a = rand(4, 4)
    x = tf.placeholder(tf.float32, [None, 4])
    i = tf.placeholder(tf.int32, [])
    row, col, item = x[i], x[:, i], x[i, -1]
    assert row.shape.as_list() == [4] and col.shape.as_list() == [None]
    for k in (0, 3, -1, -4):
        got_row, got_col, got_item = run([row, col, item], {x: a, i: k})
        same(got_row, a[k])
        same(got_col, a[:, k])
        same(got_item, a[k, -1])
    # out-of-range run-time indices are clamped, as XLA's dynamic indexing does
    same(run(row, {x: a, i: 9}), a[3])


def test_getitem_on_variable():
    v = tf.Variable(np.arange(6, dtype=np.float32).reshape(2, 3))
    with tf.Session(target="interpreter") as s:
        s.run(v.initializer)
        same(s.run(v[1, ::-1]), np.array([5, 4, 3], np.float32))


def test_getitem_errors():
    x = tf.zeros([5, 3])
    with pytest.raises(ValueError, match="slice index 7 of dimension 0 out of bounds"):
        x[7]
    with pytest.raises(ValueError, match="Index out of range using input dim 2"):
        x[1, 2, 3]
    with pytest.raises(TypeError, match="Only integers, slices"):
        x[1.5]
    with pytest.raises(TypeError, match="Only integers, slices"):
        x[tf.constant([1, 2])]
    with pytest.raises(ValueError, match="Multiple ellipses"):
        x[..., ...]
    with pytest.raises(ValueError, match="strides\\[0\\] must be non-zero"):
        x[::0]
    p = tf.placeholder(tf.float32, [None, 3])
    y = p[4]
    with pytest.raises(errors.InvalidArgumentError, match="out of bounds"):
        run(y, {p: rand(2, 3)})


def test_strided_slice_masks():
    a = rand(4, 5, 6)
    x = unknown(a)
    cases = [
        (dict(begin=[1, 0, 0], end=[3, 0, 0], strides=[1, 1, 1], end_mask=6), a[1:3]),
        (dict(begin=[0, 2], end=[0, 0], strides=[1, -1], begin_mask=1, end_mask=3), a[:, 2::-1]),
        (dict(begin=[0, 1], end=[0, 2], strides=[1, 1], ellipsis_mask=1, shrink_axis_mask=2), a[..., 1]),
        (dict(begin=[0, 0, 3], end=[0, 0, 0], strides=[1, 1, 1], new_axis_mask=1, end_mask=4,
              shrink_axis_mask=2), a[None, 0, 3:]),
        (dict(begin=[-1], end=[0], strides=[1], shrink_axis_mask=1), a[-1]),
        (dict(begin=[1, 1], end=[4, 5], strides=[2, 3]), a[1:4:2, 1:5:3]),
    ]
    for kwargs, want in cases:
        same(run(tf.strided_slice(x, **kwargs), {x: a}), want)


# tile / pad / reverse / broadcast_to -----------------------------------------------------------
@pytest.mark.parametrize("shape,multiples", [((2, 3), [2, 3]), ((1, 0), [3, 2]), ((4,), [1]), ((2, 1, 2), [1, 0, 2]),
                                             ((), [])])
def test_tile(shape, multiples):
    a = rand(*shape, dtype=np.int32)
    x = unknown(a)
    same(run(tf.tile(x, multiples), {x: a}), np.tile(a, multiples) if shape else a)
    assert tf.tile(tf.constant(a), multiples).shape.as_list() == list(np.tile(a, multiples).shape if shape else [])


def test_tile_errors():
    with pytest.raises(ValueError, match="vector of length 2 but got length 1"):
        tf.tile(tf.zeros([5, 3]), [2])
    x = tf.placeholder(tf.float32, [None, 3])
    assert tf.tile(x, [2, 2]).shape.as_list() == [None, 6]


@pytest.mark.parametrize("mode", ["CONSTANT", "reflect", "SYMMETRIC"])
@pytest.mark.parametrize("dtype", [np.float32, np.int64])
def test_pad(mode, dtype):
    a = rand(3, 4, 1, dtype=dtype)
    pads = [[1, 2], [3, 0], [0, 0]] if mode != "reflect" else [[2, 1], [0, 3], [0, 0]]
    x = unknown(a)
    y = tf.pad(x, pads, mode)
    same(run(y, {x: a}), np.pad(a, pads, mode.lower()))
    assert tf.pad(tf.constant(a), pads, mode).shape.as_list() == list(np.pad(a, pads).shape)


def test_pad_constant_values_and_names():
    a = rand(2, 3)
    y = tf.pad(tf.constant(a), [[1, 0], [0, 2]], constant_values=-2.5)
    assert y.op.type == "PadV2"
    same(run(y), np.pad(a, [[1, 0], [0, 2]], constant_values=-2.5).astype(np.float32))
    assert tf.pad(a, [[0, 1], [0, 0]]).op.type == "Pad"
    assert tf.pad(a, [[0, 1], [0, 0]], "SYMMETRIC").op.type == "MirrorPad"


def test_pad_errors():
    with pytest.raises(ValueError, match="Paddings must be non-negative"):
        tf.pad(tf.zeros([5, 3]), [[-1, 1], [0, 0]])
    with pytest.raises(ValueError, match="rank of inputs"):
        tf.pad(tf.zeros([5, 3]), [[1, 1]])
    with pytest.raises(ValueError, match="less than the dimension size"):
        tf.pad(tf.zeros([5, 3]), [[5, 1], [0, 0]], "REFLECT")
    with pytest.raises(ValueError, match="no greater than the dimension size"):
        tf.pad(tf.zeros([5, 3]), [[6, 1], [0, 0]], "SYMMETRIC")
    with pytest.raises(ValueError, match="mode"):
        tf.pad(tf.zeros([5, 3]), [[1, 1], [0, 0]], "FOO")
    x = tf.placeholder(tf.float32, [None, 3])
    y = tf.pad(x, [[3, 0], [0, 0]], "REFLECT")
    assert y.shape.as_list() == [None, 3]
    with pytest.raises(errors.InvalidArgumentError):
        run(y, {x: rand(2, 3)})


@pytest.mark.parametrize("axis", [[0], [1, -1], [], [-3, 1, 2]])
def test_reverse(axis):
    a = rand(2, 0, 3) if axis == [] else rand(2, 3, 4, dtype=np.int32)
    x = unknown(a)
    want = np.flip(a, tuple(axis)) if axis else a
    same(run(tf.reverse(x, axis), {x: a}), want)
    same(run(tf.reverse_v2(x, axis), {x: a}), want)


def test_reverse_errors():
    with pytest.raises(ValueError, match="out of valid range"):
        tf.reverse(tf.zeros([5, 3]), [2])
    with pytest.raises(ValueError, match="specified more than once"):
        tf.reverse(tf.zeros([5, 3]), [0, -2])


@pytest.mark.parametrize("shape,target", [((3,), [2, 3]), ((2, 1), [2, 4]), ((), [0, 2]), ((1, 1), [3, 1, 5])])
def test_broadcast_to(shape, target):
    a = rand(*shape, dtype=np.int32)
    x = unknown(a)
    same(run(tf.broadcast_to(x, target), {x: a}), np.broadcast_to(a, target))


def test_broadcast_to_dynamic_shape_and_errors():
    x = tf.placeholder(tf.float32, [None, 4])
    row = tf.placeholder(tf.float32, [4])
    y = tf.broadcast_to(row, tf.shape(x))
    assert y.shape.as_list() == [None, 4]
    r = rand(4)
    same(run(y, {x: rand(3, 4), row: r}), np.broadcast_to(r, (3, 4)))
    with pytest.raises(ValueError, match="Dimensions must be equal, but are 3 and 2"):
        tf.broadcast_to(tf.zeros([3]), [2, 2])


def test_meshgrid():
    xs, ys = np.arange(3, dtype=np.float32), np.arange(4, dtype=np.float32) * 10
    for indexing in ("xy", "ij"):
        got = run(tf.meshgrid(xs, ys, indexing=indexing))
        for g, w in zip(got, np.meshgrid(xs, ys, indexing=indexing)):
            same(g, w)


# shape / size / rank ------------------------------------------------------------------------------
def test_shape_size_rank():
    x = tf.placeholder(tf.float32, [None, 3, 0])
    s, n, r = tf.shape(x), tf.size(x), tf.rank(x)
    s64 = tf.shape(x, out_type=tf.int64)
    assert (s.dtype, s64.dtype, n.dtype, r.dtype) == (tf.int32, tf.int64, tf.int32, tf.int32)
    assert s.shape.as_list() == [3] and n.shape.as_list() == [] and r._static_value == 3
    for rows in (0, 2):
        got = run([s, s64, n, r], {x: np.zeros((rows, 3, 0), np.float32)})
        same(got[0], np.array([rows, 3, 0], np.int32))
        same(got[1], np.array([rows, 3, 0], np.int64))
        same(got[2], np.int32(0))
        same(got[3], np.int32(3))
    known = tf.shape(tf.zeros([2, 5]))
    assert known.op.type == "Const" and known._static_value.tolist() == [2, 5]


def test_shape_of_unknown_rank_and_shape_n():
    u = tf.placeholder(tf.float32)
    s, n, r = tf.shape(u), tf.size(u), tf.rank(u)
    assert s.shape.as_list() == [None] and r.op.type == "Rank"
    a = rand(2, 3, 4)
    got = run([s, n, r], {u: a})
    same(got[0], np.array([2, 3, 4], np.int32))
    same(got[1], np.int32(24))
    same(got[2], np.int32(3))
    x = tf.placeholder(tf.float32, [None, 2])
    s1, s2 = tf.shape_n([x, u])
    assert s1.shape.as_list() == [2]
    got = run([s1, s2], {x: rand(5, 2), u: a})
    same(got[0], np.array([5, 2], np.int32))
    same(got[1], np.array([2, 3, 4], np.int32))


# fills ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("fn,value", [(tf.zeros, 0), (tf.ones, 1)])
@pytest.mark.parametrize("dtype", [tf.float32, tf.int64, tf.bool])
def test_zeros_ones(fn, value, dtype):
    small, big = fn([2, 3], dtype), fn([40, 30], dtype)
    assert small.op.type == "Const" and big.op.type == "Fill"
    assert small.dtype == dtype and big.shape.as_list() == [40, 30]
    got_small, got_big = run([small, big])
    same(got_small, np.full((2, 3), value, dtype.np))
    same(got_big, np.full((40, 30), value, dtype.np))
    same(run(fn(3, dtype)), np.full(3, value, dtype.np))


def test_zeros_with_dynamic_shape():
    x = tf.placeholder(tf.float32, [None, 3])
    z = tf.zeros(tf.shape(x))
    o = tf.ones([tf.shape(x)[0], 2], tf.int32)
    assert z.shape.as_list() == [None, 3] and o.shape.as_list() == [None, 2]
    for rows in (0, 4):
        got_z, got_o = run([z, o], {x: rand(rows, 3)})
        same(got_z, np.zeros((rows, 3), np.float32))
        same(got_o, np.ones((rows, 2), np.int32))


def test_fill():
    y = tf.fill([2, 3], 7)
    assert y.op.type == "Fill" and y.dtype == tf.int32
    same(run(y), np.full((2, 3), 7, np.int32))
    v = tf.placeholder(tf.float64, [])
    same(run(tf.fill([0, 2], v), {v: 1.5}), np.zeros((0, 2)))
    with pytest.raises(ValueError, match="Fill dimensions must be >= 0"):
        tf.fill([-1, 2], 1.0)
    with pytest.raises(ValueError, match="must be rank 0"):
        tf.fill([1, 2], [1.0])


def test_zeros_like_ones_like():
    x = tf.placeholder(tf.int32, [None, 2])
    z, o = tf.zeros_like(x), tf.ones_like(x, dtype=tf.float32)
    assert (z.op.type, z.op.name, o.op.type, o.op.name) == ("ZerosLike", "zeros_like", "OnesLike", "ones_like")
    assert z.dtype == tf.int32 and o.dtype == tf.float32 and o.shape.as_list() == [None, 2]
    got_z, got_o = run([z, o], {x: np.ones((3, 2), np.int32)})
    same(got_z, np.zeros((3, 2), np.int32))
    same(got_o, np.ones((3, 2), np.float32))
    k = tf.zeros_like(tf.zeros([2, 2]), name="known")
    assert k.op.type == "Const" and k.op.name == "known" and k._static_value is not None


@pytest.mark.parametrize("args,kwargs", [((5,), {}), ((2, 9, 3), {}), ((9, 2, -2), {}), ((3, 3), {}),
                                         ((1.0, 5.0, 0.5), {}), ((1, 5.5, 2), {}), ((4,), {"dtype": tf.float64}),
                                         ((-3.0, 1), {}), ((5,), {"dtype": tf.int64})])
def test_range(args, kwargs):
    y = tf.range(*args, **kwargs)
    py = [float(a) if isinstance(a, float) else a for a in args]
    want = np.arange(*py)
    dtype = kwargs.get("dtype") or (tf.float32 if any(isinstance(a, float) for a in args) else tf.int32)
    assert y.dtype == dtype and y.shape.as_list() == [len(want)]
    got = run(y)
    assert got.dtype == dtype.np
    np.testing.assert_allclose(got, want.astype(dtype.np), rtol=1e-6)


def test_range_from_tensors_and_errors():
    n = tf.placeholder(tf.int32, [])
    same(run(tf.range(n), {n: 3}), np.arange(3, dtype=np.int32))     # compiled for the fed value
    x = tf.placeholder(tf.float32, [None])
    r = tf.range(tf.shape(x)[0])
    same(run(r, {x: rand(4)}), np.arange(4, dtype=np.int32))
    with pytest.raises(ValueError, match="Requires start <= limit when delta > 0"):
        tf.range(5, 1)
    with pytest.raises(ValueError, match="Requires delta != 0"):
        tf.range(5, 1, 0)


@pytest.mark.parametrize("axis", [None, -1, 0, 1])
def test_one_hot(axis):
    idx = np.array([[0, 3], [-1, 2], [5, 1]], np.int64)
    x = unknown(idx)
    y = tf.one_hot(x, 4, axis=axis)
    want = (idx[..., None] == np.arange(4)).astype(np.float32)
    if axis not in (None, -1):
        want = np.moveaxis(want, -1, axis)
    assert y.dtype == tf.float32 and y.shape.ndims == 3
    same(run(y, {x: idx}), want)


def test_one_hot_values_and_dtypes():
    y = tf.one_hot([1, 0], 3, on_value=5, off_value=-1)
    assert y.dtype == tf.int32
    same(run(y), np.array([[-1, 5, -1], [5, -1, -1]], np.int32))
    z = tf.one_hot([2], 3, dtype=tf.float64, on_value=2.0)
    same(run(z), np.array([[0, 0, 2.0]]))
    with pytest.raises(TypeError, match="does not match"):
        tf.one_hot([1, 2], 3, on_value=1, off_value=0.0)
    with pytest.raises(ValueError, match="Expected axis to be -1 or between"):
        tf.one_hot([1, 2], 3, axis=3)
    with pytest.raises(TypeError):
        tf.one_hot([1.0], 3)


# gather / gather_nd / scatter_nd ---------------------------------------------------------------------
@pytest.mark.parametrize("axis", [0, 1, -1, 2])
def test_gather(axis):
    a = rand(3, 4, 5, dtype=np.int32)
    idx = RNG.integers(0, a.shape[axis], size=(2, 3))
    x = unknown(a)
    i = tf.placeholder(tf.int64, [None, None])
    y = tf.gather(x, i, axis=axis)
    assert y.shape.ndims == 4 and y.op.type == "GatherV2"
    same(run(y, {x: a, i: idx}), np.take(a, idx, axis=axis))


def test_gather_clamps_and_errors():
    a = rand(4, 2)
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"indices\[0\] = -3 is not in \[0, 4\)"):
        run(tf.gather(a, [-3, 1, 9]))       # TF's error, raised before anything runs for known indices
    same(run(tf.gather(a, 2)), a[2])
    with pytest.raises(ValueError, match="out of range"):
        tf.gather(tf.zeros([5, 3]), [1], axis=2)
    with pytest.raises(TypeError, match="indices"):
        tf.gather(tf.zeros([5, 3]), [1.0])


def test_gather_nd_and_scatter_nd():
    a = rand(3, 4, 2)
    idx = np.array([[[0, 1], [2, 3]], [[1, 1], [0, 0]]], np.int32)
    same(run(tf.gather_nd(a, idx)), a[idx[..., 0], idx[..., 1]])
    same(run(tf.gather_nd(a, [[2], [0]])), a[[2, 0]])
    same(run(tf.gather_nd(a, [[2, 3, 1]])), a[2, 3, 1][None])
    updates = rand(3, 2)
    got = run(tf.scatter_nd([[1], [3], [1]], updates, [5, 2]))
    want = np.zeros((5, 2), np.float32)
    np.add.at(want, [1, 3, 1], updates)
    np.testing.assert_allclose(got, want, rtol=1e-6)
    same(run(tf.scatter_nd([[0, 7]], [1.0], [2, 2])), np.zeros((2, 2), np.float32))   # out of range: dropped
    with pytest.raises(ValueError, match="innermost dimension"):
        tf.gather_nd(a, [[0, 0, 0, 0]])


def test_sequence_mask():
    lengths = tf.placeholder(tf.int32, [None])
    m = tf.sequence_mask(lengths, 4, dtype=tf.float32)
    same(run(m, {lengths: np.array([0, 2, 4], np.int32)}), (np.arange(4) < np.array([[0], [2], [4]])).astype(np.float32))
    same(run(tf.sequence_mask([1, 3])), np.arange(3) < np.array([[1], [3]]))


def test_array_ops_compare_with_tensorflow():
    """Static shapes of a few idioms, against TensorFlow when it is installed."""
    tf1 = pytest.importorskip("tensorflow.compat.v1")
    tf1.disable_eager_execution()
    builders = [lambda m, x: m.reshape(x, [-1, 12]), lambda m, x: m.transpose(x), lambda m, x: x[..., ::-1, None],
                lambda m, x: m.concat([x, x], -1), lambda m, x: m.split(x, [1, -1], 2)[1],
                lambda m, x: m.pad(x, [[1, 1], [0, 0], [2, 2]], "REFLECT"), lambda m, x: m.gather(x, [0, 1], axis=1),
                lambda m, x: m.zeros([m.shape(x)[0], 5]), lambda m, x: m.fill(m.shape(x)[1:], 2.0)]
    with tf1.Graph().as_default():
        theirs = [f(tf1, tf1.placeholder(tf1.float32, [None, 3, 4])).shape.as_list() for f in builders]
    ours = [f(tf, tf.placeholder(tf.float32, [None, 3, 4])).shape.as_list() for f in builders]
    assert ours == theirs
