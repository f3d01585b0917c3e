"""Dataset functions read tensors of the enclosing graph as TF captures them: constants by value,
other tensors with the value they have when a pass starts (an initializer's feeds)."""
import numpy as np
import pytest

import xlite as tf
from xlite.eager.context import eager_mode

D = tf.data.Dataset


def test_a_constant_of_the_enclosing_graph_is_captured_by_value():
    with tf.Graph().as_default():
        offset = tf.constant(np.array([1.0, 2.0], np.float32))
        ds = D.from_tensor_slices(np.zeros((3, 2), np.float32)).map(lambda v: v + offset)
        assert ds._fn.captures == [] and ds._fn.vectorized() is not None
        n = ds.make_one_shot_iterator().get_next()
        with tf.Session() as sess:
            assert sess.run(n).tolist() == [1.0, 2.0]


def test_a_placeholder_read_by_map_and_filter_takes_the_initializers_feed():
    with tf.Graph().as_default():
        scale = tf.placeholder(tf.float32, [])
        limit = tf.placeholder(tf.int64, [])
        ds = D.range(6).filter(lambda v: tf.less(v, limit)).map(lambda v: tf.cast(v, tf.float32) * scale)
        it = ds.make_initializable_iterator()
        n = it.get_next()
        with tf.Session() as sess:
            for s, lim in [(2.0, 3), (-1.0, 5)]:
                sess.run(it.initializer, {scale: s, limit: lim})
                got = []
                try:
                    while True:
                        got.append(sess.run(n))
                except tf.errors.OutOfRangeError:
                    pass
                assert got == [float(v) * s for v in range(lim)]


def test_a_flat_map_argument_captured_by_an_inner_map():
    with eager_mode():
        got = list(D.range(1, 4).flat_map(lambda x: D.range(3).map(lambda y: y * 10 + x)).as_numpy_iterator())
    assert got == [1, 11, 21, 2, 12, 22, 3, 13, 23]


def test_reading_a_variable_of_the_enclosing_graph_is_unimplemented():
    with tf.Graph().as_default():
        w = tf.Variable(1.0)
        with pytest.raises(tf.errors.UnimplementedError, match="tf.Variable"):
            D.range(3).map(lambda v: tf.cast(v, tf.float32) * w)


def _piecewise(x):
    if x > 2:
        y = x * 10
    else:
        y = x - 1
    return y


def _triangle(x):
    total = tf.constant(0, tf.int64)
    i = tf.constant(0, tf.int64)
    while i < x:
        total += i
        i += 1
    return total


def test_python_control_flow_in_dataset_functions_goes_through_autograph():
    with eager_mode():
        assert list(D.range(5).map(_piecewise).as_numpy_iterator()) == [-1, 0, 1, 30, 40]
        triangle = D.range(5).map(_triangle)
        assert triangle._fn.vectorized() is None                 # a while loop runs element by element
        assert list(triangle.as_numpy_iterator()) == [0, 0, 1, 3, 6]
        assert list(D.range(5).filter(lambda x: x > 2 and x < 4).as_numpy_iterator()) == [3]
