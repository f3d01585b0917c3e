"""Gradient rules of the array ops against central finite differences in float64.

Each op is differentiated through placeholders of fully known shape and of
shape with every dim unknown until the run (so the rules must work from run-time
shapes), with size-1 and 0-size dims, negative axes and repeated indices.
"""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import xlite as tf
from tiers import slow_except
import gradcheck

RNG = np.random.default_rng(3)


def check_grad(fn, *arrays, **options):
    return gradcheck.check_grad(fn, *arrays, **{**dict(rng=RNG, target="interpreter"), **options})


def rand(*shape):
    return RNG.standard_normal(shape)


UNARY = {
    "reshape": (lambda x: tf.reshape(x, [-1, 2]), (3, 1, 4)),
    "reshape_to_shape": (lambda x: tf.reshape(tf.reshape(x, [-1]), tf.shape(x)), (2, 3)),
    "transpose": (lambda x: tf.transpose(x, [2, 0, 1]), (2, 3, 4)),
    "transpose_default": (lambda x: tf.transpose(x), (2, 1, 3)),
    "expand_dims": (lambda x: tf.expand_dims(x, -2), (2, 3)),
    "squeeze": (lambda x: tf.squeeze(x, [1, -1]), (3, 1, 2, 1)),
    "concat": (lambda x: tf.concat([x, 2.0 * x[:, :1], x], -1), (2, 3)),
    "concat_empty": (lambda x: tf.concat([x[:0], x, x[1:]], 0), (3, 2)),
    "stack": (lambda x: tf.stack([x, x * x], 1), (2, 3)),
    "unstack": (lambda x: tf.unstack(x, num=3, axis=-1)[1] * tf.unstack(x, num=3, axis=-1)[2], (2, 3)),
    "split": (lambda x: tf.split(x, 3, axis=1)[2], (2, 6)),
    "split_v": (lambda x: tf.split(x, [1, -1, 0], axis=0)[1] * 3.0, (4, 2)),
    "slice": (lambda x: tf.slice(x, [1, 0, 2], [-1, 2, 2]), (3, 2, 5)),
    "getitem": (lambda x: x[..., ::-2, None, 1:], (2, 3, 4)),
    "getitem_shrink": (lambda x: x[1, 2:0:-1], (2, 3, 4)),
    "getitem_steps": (lambda x: x[::3, -1::-2], (7, 5)),
    "strided_slice_masks": (lambda x: tf.strided_slice(x, [0, 1], [0, 3], [1, 1], begin_mask=1, end_mask=1), (3, 4)),
    "tile": (lambda x: tf.tile(x, [2, 1, 3]), (2, 1, 2)),
    "pad": (lambda x: tf.pad(x, [[1, 0], [0, 2]]), (2, 3)),
    "pad_value": (lambda x: tf.pad(x, [[0, 1], [2, 2]], constant_values=4.0), (2, 3)),
    "reflect": (lambda x: tf.pad(x, [[2, 1], [1, 2]], "REFLECT"), (3, 4)),
    "symmetric": (lambda x: tf.pad(x, [[2, 3], [0, 1]], "SYMMETRIC"), (3, 4)),
    "reverse": (lambda x: tf.reverse(x, [0, -1]), (2, 3, 2)),
    "gather": (lambda x: tf.gather(x, [2, 0, 2, 1], axis=1), (2, 3)),
    "gather_axis0_matrix": (lambda x: tf.gather(x, [[0, 0], [3, 1]]), (4, 2)),
    "gather_repeated": (lambda x: tf.gather(x, [2, 0, 2]), (3,)),
    "gather_nd": (lambda x: tf.gather_nd(x, [[1, 2], [0, 0], [1, 2]]), (2, 3, 2)),
    # out-of-range index tuples drop their updates, so those updates get no gradient
    "scatter_nd_dropping": (lambda x: tf.scatter_nd([[1, 0], [7, 1], [0, -1], [1, 2], [1, 0]], x, [2, 3, 2]), (5, 2)),
    "broadcast_to": (lambda x: tf.broadcast_to(x, [3, 2, 4]), (2, 1)),
    "meshgrid": (lambda x: tf.meshgrid(x, 2.0 * x)[1], (3,)),
}


@pytest.mark.parametrize(*slow_except("static", [True, False], 1), ids=["static", "unknown_dims"])
@pytest.mark.parametrize(*slow_except("name", sorted(UNARY), every=3))
def test_grad(name, static):
    fn, shape = UNARY[name]
    check_grad(fn, rand(*shape), static=static)


@pytest.mark.parametrize("name", ["reshape", "transpose_default", "concat", "stack", "getitem", "slice", "tile", "pad",
                                  "reflect", "gather", "broadcast_to", "reverse"])
def test_grad_with_unknown_rank(name):
    fn, shape = UNARY[name]
    check_grad(fn, rand(*shape), static=None)


def test_grad_of_several_inputs():
    check_grad(lambda a, b: tf.concat([a, b], 0), rand(2, 3), rand(1, 3), static=False)
    check_grad(lambda a, b: tf.stack([a, b], -1), rand(2, 3), rand(2, 3))
    check_grad(lambda a, b: tf.gather(a, [1, 1, 0]) * b, rand(2, 2), rand(3, 2))


def test_grad_of_fill_value():
    v = tf.placeholder(tf.float64, [])
    (g,) = tf.gradients(tf.reduce_sum(tf.fill([2, 3], v)), [v])
    with tf.Session(target="interpreter") as s:
        assert s.run(g, {v: 1.5}) == 6.0


def test_no_gradient_through_shapes_and_indices():
    x = tf.placeholder(tf.float64, [None, 3])
    y = tf.reshape(x, tf.shape(x)) + tf.cast(tf.size(x), tf.float64) + tf.zeros_like(x) + tf.ones_like(x)
    (g,) = tf.gradients(tf.reduce_sum(y), [x])
    with tf.Session(target="interpreter") as s:
        np.testing.assert_array_equal(s.run(g, {x: rand(2, 3)}), np.ones((2, 3)))
    onehot = tf.one_hot(tf.constant([0, 2]), 3, dtype=tf.float64)
    assert tf.gradients(tf.reduce_sum(onehot * x), [x])[0] is not None


def test_grad_through_variable_indexing():
    v = tf.Variable(np.arange(6.0).reshape(2, 3))
    loss = tf.reduce_sum(v[1, ::-1] * tf.constant([1.0, 2.0, 3.0], tf.float64))
    (g,) = tf.gradients(loss, [v])
    with tf.Session(target="interpreter") as s:
        s.run(v.initializer)
        np.testing.assert_array_equal(s.run(g), [[0, 0, 0], [3, 2, 1]])


def test_grad_with_run_time_index():
    x = tf.placeholder(tf.float64, [None, 3])
    i = tf.placeholder(tf.int32, [])
    (g,) = tf.gradients(tf.reduce_sum(x[i] * tf.constant([1.0, 2.0, 3.0], tf.float64)), [x])
    with tf.Session(target="interpreter") as s:
        for k, row in ((1, 1), (-1, 3), (9, 3)):   # 9 is clamped like the forward index
            want = np.zeros((4, 3))
            want[row] = [1, 2, 3]
            np.testing.assert_array_equal(s.run(g, {x: rand(4, 3), i: k}), want)


def test_grad_on_zero_size_input():
    x = tf.placeholder(tf.float64, [None, 3])
    y = tf.concat([tf.transpose(x), tf.ones([3, 1], tf.float64)], 1)
    (g,) = tf.gradients(tf.reduce_sum(tf.tile(y, [2, 1])), [x])
    with tf.Session(target="interpreter") as s:
        assert s.run(g, {x: np.zeros((0, 3))}).shape == (0, 3)


_BOUND = st.none() | st.integers(-6, 6)
_KEY = st.lists(st.one_of(st.integers(-2, 1), st.none(), st.just(Ellipsis),
                          st.builds(slice, _BOUND, _BOUND, st.sampled_from([None, 1, 2, -1, -3]))), max_size=4)


@settings(max_examples=40, deadline=None)
@given(_KEY)
@pytest.mark.slow
def test_getitem_grad_property(items):
    """The gradient of x[key] scatters the incoming gradient back to the elements the key picked."""
    key = tuple(items)
    a = RNG.standard_normal((2, 3, 4))
    try:
        picked = a[key]
    except IndexError:   # out-of-range ints, several Ellipses
        return
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float64, [None, 3, None])
        w = RNG.standard_normal(picked.shape)
        (g,) = tf.gradients(x[key], [x], grad_ys=tf.constant(w))
        want = np.zeros_like(a)
        want[key] += w
        with tf.Session(target="interpreter") as s:
            np.testing.assert_array_equal(s.run(g, {x: a}), want)
