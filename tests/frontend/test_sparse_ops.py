"""tf.SparseTensor and tf.sparse ops against NumPy, on the interpreter and the cpu target."""
import numpy as np
import pytest

import xlite as tf
import gradcheck

RNG = np.random.default_rng(13)
INDICES = np.array([[0, 1], [2, 0], [2, 3], [1, 1]], np.int64)
VALUES = np.array([1.5, -2.0, 3.0, 4.0], np.float32)
SHAPE = [3, 4]


def _dense():
    out = np.zeros(SHAPE, np.float32)
    out[tuple(INDICES.T)] = VALUES
    return out


@pytest.mark.parametrize("target", ["interpreter", "cpu"])
def test_to_dense_reduce_sum_and_matmul(target):
    b = RNG.normal(size=(4, 2)).astype(np.float32)
    with tf.Graph().as_default():
        sp = tf.SparseTensor(INDICES, VALUES, SHAPE)
        fetches = [tf.sparse.to_dense(sp), tf.sparse_tensor_to_dense(sp, default_value=7.0),
                   tf.sparse.reduce_sum(sp), tf.sparse_reduce_sum(sp, axis=1), tf.sparse.reduce_sum(sp, 0, True),
                   tf.sparse.sparse_dense_matmul(sp, b), tf.sparse_tensor_dense_matmul(sp, b.T, adjoint_b=True),
                   tf.sparse.sparse_dense_matmul(sp, b[:3], adjoint_a=True)]
        with tf.Session(target=target) as s:
            dense, seven, total, rows, cols, ab, abt, atb = s.run(fetches)
            value = s.run(sp)
    want = _dense()
    np.testing.assert_array_equal(dense, want)
    np.testing.assert_array_equal(seven, np.where(want != 0, want, 7.0))
    assert total == pytest.approx(want.sum())
    np.testing.assert_allclose(rows, want.sum(1))
    np.testing.assert_allclose(cols, want.sum(0, keepdims=True))
    np.testing.assert_allclose(ab, want @ b, rtol=1e-6)
    np.testing.assert_allclose(abt, want @ b, rtol=1e-6)
    np.testing.assert_allclose(atb, want.T @ b[:3], rtol=1e-6)
    assert isinstance(value, tf.SparseTensorValue)
    np.testing.assert_array_equal(value.indices, INDICES)


def test_sparse_placeholder_is_fed_a_sparse_tensor_value():
    with tf.Graph().as_default():
        sp = tf.sparse_placeholder(tf.float32, shape=SHAPE)
        dense = tf.sparse.to_dense(sp)
        with tf.Session(target="interpreter") as s:
            got = s.run(dense, {sp: tf.SparseTensorValue(INDICES, VALUES, SHAPE)})
            np.testing.assert_array_equal(got, _dense())
            got = s.run(dense, {sp: (INDICES[:2], VALUES[:2], np.array(SHAPE))})
            assert np.count_nonzero(got) == 2
            with pytest.raises(ValueError, match="dense_shape"):
                s.run(dense, {sp: tf.SparseTensorValue(INDICES, VALUES, [5, 5])})


def test_matmul_gradients_equal_finite_differences():
    def product(values, b):
        return tf.sparse.sparse_dense_matmul(tf.SparseTensor(INDICES, values, SHAPE), b)
    gradcheck.check_grad(product, RNG.normal(size=4), RNG.normal(size=(4, 2)), target="interpreter")
    gradcheck.check_grad(lambda values: tf.sparse.to_dense(tf.SparseTensor(INDICES, values, SHAPE)) * 2.0,
                         RNG.normal(size=4), target="interpreter")


def test_a_fed_dense_shape_serves_sums_of_values_and_dense_values_of_that_shape():
    with tf.Graph().as_default():
        sp = tf.sparse_placeholder(tf.float32)
        total = tf.sparse.reduce_sum(sp)
        with tf.Session(target="interpreter") as s:
            assert s.run(total, {sp: tf.SparseTensorValue(INDICES, VALUES, SHAPE)}) == pytest.approx(VALUES.sum())
            want = np.zeros(SHAPE, np.float32)
            want[tuple(np.asarray(INDICES).T)] = VALUES
            np.testing.assert_array_equal(s.run(tf.sparse.to_dense(sp), {sp: tf.SparseTensorValue(INDICES, VALUES,
                                                                                                 SHAPE)}), want)
