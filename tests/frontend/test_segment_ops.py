"""Segment reductions and cumprod against NumPy, their dropped ids, static shapes, errors and gradients."""
import numpy as np
import pytest

import xlite as tf
from tiers import slow_except
from xlite import errors
import gradcheck

RNG = np.random.default_rng(5)
TARGETS = ["cpu", pytest.param("interpreter", marks=pytest.mark.slow)]      # the quick tier runs cpu only


def run(fetches, feed=None, target="interpreter"):
    with tf.Session(target=target) as s:
        return s.run(fetches, feed)


def segment_sum_ref(data, ids, n):
    out = np.zeros((n,) + data.shape[ids.ndim:], data.dtype)
    for index in np.ndindex(*ids.shape):
        if 0 <= ids[index] < n:
            out[ids[index]] += data[index]
    return out


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("data_shape,ids_shape,n", [((5,), (5,), 3), ((4, 3), (4,), 1), ((2, 3, 2), (2, 3), 5),
                                                    ((0, 2), (0,), 2), ((3,), (3,), 0)])
def test_unsorted_segment_sum_and_mean(data_shape, ids_shape, n, target):
    data = RNG.normal(size=data_shape)
    ids = RNG.integers(-1, n + 2, size=ids_shape).astype(np.int32)   # some dropped: -1 and >= n
    d = tf.placeholder(tf.float64, [None] * len(data_shape))
    i = tf.placeholder(tf.int32, [None] * len(ids_shape))
    total, mean = tf.unsorted_segment_sum(d, i, n), tf.math.unsorted_segment_mean(d, i, n)
    assert total.shape.as_list() == [n] + [None] * (len(data_shape) - len(ids_shape))
    got_sum, got_mean = run([total, mean], {d: data, i: ids}, target)
    want = segment_sum_ref(data, ids, n)
    np.testing.assert_allclose(got_sum, want, rtol=1e-12, atol=1e-12)
    counts = segment_sum_ref(np.ones(ids.shape), ids, n).reshape((n,) + (1,) * (len(data_shape) - len(ids_shape)))
    np.testing.assert_allclose(got_mean, want / np.maximum(counts, 1), rtol=1e-12, atol=1e-12)


def test_segment_dtypes_names_and_errors():
    s = tf.unsorted_segment_sum(np.arange(6, dtype=np.int32).reshape(3, 2), [0, 2, 0], 3)
    assert s.dtype == tf.int32 and s.op.type == "UnsortedSegmentSum" and s.shape.as_list() == [3, 2]
    np.testing.assert_array_equal(run(s), [[4, 6], [0, 0], [2, 3]])
    mean = tf.math.unsorted_segment_mean([1, 2, 4], [0, 1, 1], 3)
    assert mean.dtype == tf.float64
    np.testing.assert_array_equal(run(mean), [1.0, 3.0, 0.0])
    with pytest.raises(TypeError, match="segment_ids"):
        tf.unsorted_segment_sum([1.0, 2.0], [0.0, 1.0], 2)
    with pytest.raises(TypeError, match="bool"):
        tf.unsorted_segment_sum([True], [0], 1)
    with pytest.raises(ValueError, match="prefix"):
        tf.unsorted_segment_sum(np.ones((3, 2)), [0, 1], 2)


@pytest.mark.parametrize("target", TARGETS)
def test_sorted_segment_ops(target):
    data = RNG.normal(size=(6, 2))
    ids = [0, 0, 2, 2, 2, 4]
    s, m = tf.segment_sum(data, ids), tf.math.segment_mean(data, ids)
    assert s.shape.as_list() == [5, 2] and m.shape.as_list() == [5, 2]
    got_sum, got_mean = run([s, m], target=target)
    want = segment_sum_ref(data, np.array(ids), 5)
    np.testing.assert_allclose(got_sum, want)
    np.testing.assert_allclose(got_mean, want / np.maximum(np.bincount(ids, minlength=5), 1)[:, None])
    assert run(tf.segment_sum(np.ones((0, 3)), np.zeros(0, np.int32))).shape == (0, 3)


def test_sorted_segment_errors():
    with pytest.raises(tf.errors.UnimplementedError, match="unsorted_segment_sum"):
        tf.segment_sum([1.0, 2.0], tf.placeholder(tf.int32, [2]))
    with pytest.raises(errors.InvalidArgumentError, match="not increasing"):
        tf.segment_sum([1.0, 2.0, 3.0], [0, 2, 1])
    with pytest.raises(errors.InvalidArgumentError, match="negative"):
        tf.segment_sum([1.0, 2.0], [-1, 0])


@pytest.mark.parametrize("static", [True, False])
def test_segment_gradients(static):
    ids = np.array([[0, 3, -1], [2, 0, 5]], np.int32)   # -1 and 5 are dropped: their gradient is 0
    g = gradcheck.check_grad(lambda d: tf.unsorted_segment_sum(d, ids, 4), RNG.normal(size=(2, 3, 2)),
                             static=static, rng=RNG, target="interpreter")[0]
    assert not g[0, 2].any() and not g[1, 2].any()
    gradcheck.check_grad(lambda d: tf.math.unsorted_segment_mean(d, ids, 4), RNG.normal(size=(2, 3)),
                         static=static, rng=RNG, target="interpreter")
    gradcheck.check_grad(lambda d: tf.segment_sum(d, [0, 0, 1]), RNG.normal(size=(3, 2)), static=static, rng=RNG,
                         target="interpreter")


def cumprod_ref(a, axis, exclusive, reverse):
    a = np.flip(a, axis) if reverse else a
    if exclusive and a.shape[axis]:
        ones = np.ones_like(np.take(a, [0], axis))
        a = np.concatenate([ones, np.take(a, np.arange(a.shape[axis] - 1), axis)], axis)
    r = np.cumprod(a, axis)
    return np.flip(r, axis) if reverse else r


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize(*slow_except("shape,axis", [((0,), 0), ((1,), 0), ((7,), 0), ((3, 9), 1), ((4, 2, 5), -3)], 3))
def test_cumprod_matches_numpy(shape, axis, target):
    a = RNG.uniform(0.5, 1.5, size=shape) * RNG.choice([-1, 1], size=shape)
    x = tf.placeholder(tf.float64, [None] * len(shape))
    flags = [(False, False), (True, False), (False, True), (True, True)]
    ys = [tf.cumprod(x, axis, exclusive=e, reverse=r) for e, r in flags]
    assert all(y.shape.ndims == len(shape) for y in ys)
    for y, (e, r), got in zip(ys, flags, run(ys, {x: a}, target)):
        np.testing.assert_allclose(got, cumprod_ref(a, axis % len(shape), e, r), rtol=1e-12)


def test_cumprod_integers_and_errors():
    y = tf.math.cumprod(np.arange(1, 6), exclusive=True, reverse=True)
    assert y.dtype == tf.int64 and y.op.type == "Cumprod"
    np.testing.assert_array_equal(run(y, target="cpu"), [120, 60, 20, 5, 1])
    with pytest.raises(TypeError, match="bool"):
        tf.cumprod([True])
    with pytest.raises(ValueError, match="out of range"):
        tf.cumprod(np.ones((2, 3)), 2)


@pytest.mark.parametrize("exclusive,reverse", [(False, False), (True, False), (False, True), (True, True)])
def test_cumprod_gradient(exclusive, reverse):
    a = RNG.uniform(0.5, 1.5, size=(3, 5)) * RNG.choice([-1, 1], size=(3, 5))
    gradcheck.check_grad(lambda x: tf.cumprod(x, 1, exclusive=exclusive, reverse=reverse), a, static=False, rng=RNG,
                         target="interpreter")


def test_compare_with_tensorflow():
    tf1 = pytest.importorskip("tensorflow.compat.v1")
    tf1.disable_eager_execution()
    data = RNG.normal(size=(5, 2)).astype(np.float32)
    ids = np.array([0, 2, -1, 2, 1], np.int32)
    builders = [lambda m: m.unsorted_segment_sum(data, ids, 4), lambda m: m.math.unsorted_segment_mean(data, ids, 4),
                lambda m: m.segment_sum(data, [0, 0, 1, 3, 3]), lambda m: m.cumprod(data, 0, exclusive=True),
                lambda m: m.cumprod(data, 1, reverse=True)]
    with tf1.Graph().as_default():
        with tf1.Session() as s:
            theirs = s.run([f(tf1) for f in builders])
    for got, want in zip(run([f(tf) for f in builders]), theirs):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
