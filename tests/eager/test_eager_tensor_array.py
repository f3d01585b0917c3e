"""tf.TensorArray, tf.map_fn and a tf.function with a TensorArray loop while executing eagerly (both targets)."""
import numpy as np
import pytest

import xlite as tf

X = np.random.default_rng(5).standard_normal((3, 2)).astype(np.float32)


def test_tensor_array_eagerly(target):
    ta = tf.TensorArray(tf.float32, size=0, dynamic_size=True)
    for i in range(3):
        ta = ta.write(i, tf.constant(X[i]) + 1.0)
    np.testing.assert_allclose(ta.stack().numpy(), X + 1)
    assert int(ta.size()) == 3
    _, ta = tf.while_loop(lambda i, ta: i < 3, lambda i, ta: (i + 1, ta.write(i, tf.constant(X)[i] * 2.0)),
                          [0, tf.TensorArray(tf.float32, size=3)])
    np.testing.assert_allclose(ta.stack().numpy(), X * 2)
    np.testing.assert_allclose(tf.map_fn(lambda r: r * r, tf.constant(X)).numpy(), X * X)


def test_gradient_tape_through_tensor_array(eager):
    v = tf.constant(X)
    with tf.GradientTape() as tape:
        tape.watch(v)
        y = tf.reduce_sum(tf.TensorArray(tf.float32, size=3).unstack(v).read(1) ** 2)
    np.testing.assert_allclose(tape.gradient(y, v).numpy(), np.stack([0 * X[0], 2 * X[1], 0 * X[2]]))


def test_clear_after_read_eagerly(eager):
    ta = tf.TensorArray(tf.float32, size=3).unstack(tf.constant(X))
    np.testing.assert_array_equal(ta.read(tf.constant(2)).numpy(), X[2])
    with pytest.raises(tf.errors.InvalidArgumentError, match="Could not read index 2 twice"):
        ta.read(2)
    kept = tf.TensorArray(tf.float32, size=3, clear_after_read=False).unstack(tf.constant(X))
    np.testing.assert_array_equal(kept.read(0).numpy() + kept.stack()[0].numpy(), 2 * X[0])


def test_tf_function_with_tensor_array_loop(eager):
    @tf.function
    def doubled(v):
        ta = tf.TensorArray(tf.float32, size=3)
        _, ta = tf.while_loop(lambda i, ta: i < 3, lambda i, ta: (i + 1, ta.write(i, v[i] * 2.0)), [0, ta])
        return ta.stack()
    np.testing.assert_allclose(doubled(tf.constant(X)).numpy(), X * 2)
