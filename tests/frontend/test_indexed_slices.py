"""tf.IndexedSlices: the gradient of an axis-0 gather, kept sparse through aggregation, dense on conversion."""
import numpy as np
import pytest

import xlite as tf
import gradcheck

RNG = np.random.default_rng(11)


def test_gather_gradient_is_indexed_slices_and_fetches_as_value():
    table = RNG.normal(size=(4, 3))
    with tf.Graph().as_default():
        p = tf.placeholder(tf.float64, [4, 3])
        y = tf.reduce_sum(tf.square(tf.gather(p, [[1, 3], [1, 2]])))
        g, = tf.gradients(y, [p])
        assert isinstance(g, tf.IndexedSlices) and g.dtype == tf.float64 and g.shape.as_list() == [4, 3]
        with tf.Session(target="interpreter") as s:
            value, dense = s.run([g, tf.convert_to_tensor(g)], {p: table})
    assert isinstance(value, tf.IndexedSlicesValue)
    np.testing.assert_array_equal(value.indices, [1, 3, 1, 2])
    np.testing.assert_allclose(value.values, 2 * table[[1, 3, 1, 2]])
    np.testing.assert_array_equal(value.dense_shape, [4, 3])
    want = 2 * table * [[0], [2], [1], [1]]
    np.testing.assert_allclose(dense, want)


def test_slices_of_several_gathers_stay_sparse_and_mix_with_dense():
    with tf.Graph().as_default():
        p = tf.placeholder(tf.float64, [5, 2])
        two = tf.reduce_sum(tf.gather(p, [0, 1])) + tf.reduce_sum(3.0 * tf.gather(p, [1, 4]))
        g_sparse, = tf.gradients(two, [p])
        g_mixed, = tf.gradients(two + tf.reduce_sum(p), [p])
        assert isinstance(g_sparse, tf.IndexedSlices) and isinstance(g_mixed, tf.Tensor)
        with tf.Session(target="interpreter") as s:
            sparse, mixed = s.run([tf.convert_to_tensor(g_sparse), g_mixed], {p: np.zeros((5, 2))})
    np.testing.assert_allclose(sparse, [[1, 1], [4, 4], [0, 0], [0, 0], [3, 3]])
    np.testing.assert_allclose(mixed, sparse + 1)


def test_gather_along_another_axis_gives_a_dense_gradient():
    with tf.Graph().as_default():
        p = tf.placeholder(tf.float32, [2, 3])
        assert isinstance(tf.gradients(tf.gather(p, [2, 0], axis=1), [p])[0], tf.Tensor)


@pytest.mark.parametrize("static", [True, False])
def test_densified_gradient_equals_finite_differences(static):
    gradcheck.check_grad(lambda x: tf.gather(x, [[2, 0], [2, 2]]) ** 2, RNG.normal(size=(3, 2, 2)),
                         static=static, target="interpreter")


def test_clip_by_global_norm_scales_the_rows():
    with tf.Graph().as_default():
        p = tf.placeholder(tf.float64, [3, 2])
        g, = tf.gradients(tf.reduce_sum(tf.gather(p, [0, 2]) * 4.0), [p])
        (clipped,), norm = tf.clip_by_global_norm([g], 2.0)
        assert isinstance(clipped, tf.IndexedSlices)
        with tf.Session(target="interpreter") as s:
            got, n = s.run([tf.convert_to_tensor(clipped), norm], {p: np.zeros((3, 2))})
    assert n == pytest.approx(8.0)
    np.testing.assert_allclose(got, [[1, 1], [0, 0], [1, 1]])
