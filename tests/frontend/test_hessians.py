"""tf.hessians against central finite differences of an analytic gradient computed in NumPy (float64)."""
import numpy as np
import pytest

import xlite as tf
from xlite import errors


def _f_np(a, b):
    return np.sum(np.sin(a) * a ** 2) + np.sum(a) ** 2 * b[0] + np.prod(b) ** 3


def _fd_hessian(f, x, eps=1e-4):
    """Central differences of central differences, element by element."""
    flat = x.ravel()
    n = flat.size
    h = np.zeros((n, n))
    for i in range(n):
        for j in range(n):
            def at(di, dj):
                y = flat.copy()
                y[i] += di
                y[j] += dj
                return f(y.reshape(x.shape))
            h[i, j] = (at(eps, eps) - at(eps, -eps) - at(-eps, eps) + at(-eps, -eps)) / (4 * eps * eps)
    return h.reshape(x.shape + x.shape)


@pytest.mark.parametrize("target", [pytest.param("interpreter", marks=pytest.mark.slow), "cpu"])
def test_hessians_match_finite_differences(target):
    rng = np.random.RandomState(3)
    a0, b0 = rng.randn(2, 3), rng.uniform(0.5, 1.5, 2)
    a, b = tf.placeholder(tf.float64, [2, 3]), tf.Variable(b0, name="b")
    y = tf.reduce_sum(tf.sin(a) * a ** 2) + tf.reduce_sum(a) ** 2 * b[0] + tf.reduce_prod(b) ** 3
    ha, hb = tf.hessians(y, [a, b])
    assert ha.shape.as_list() == [2, 3, 2, 3] and hb.shape.as_list() == [2, 2]
    with tf.Session(target=target) as sess:
        sess.run(tf.global_variables_initializer())
        got_a, got_b = sess.run([ha, hb], {a: a0})
    np.testing.assert_allclose(got_a, _fd_hessian(lambda x: _f_np(x, b0), a0), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(got_b, _fd_hessian(lambda x: _f_np(a0, x), b0), rtol=1e-5, atol=1e-5)


def test_hessian_of_a_linear_function_is_zero_and_unknown_sizes_are_unimplemented():
    x = tf.constant([1.0, 2.0])
    (h,) = tf.hessians(tf.reduce_sum(3.0 * x), x)
    with tf.Session() as sess:
        np.testing.assert_array_equal(sess.run(h), np.zeros((2, 2)))
    p = tf.placeholder(tf.float32, [None])
    with pytest.raises(errors.UnimplementedError, match="fully known shape"):
        tf.hessians(tf.reduce_sum(p * p), p)
