"""GradientTape inside a tf.function trace watches as TF's does: explicitly watched tensors, trainable
Variables, and what is computed from them while recording; any other source is unconnected."""
import numpy as np

import xlite as tf


def test_unwatched_sources_are_unconnected_in_a_trace(eager):
    v = tf.Variable([1.0, 2.0])
    frozen = tf.Variable([1.0, 2.0], trainable=False)

    @tf.function
    def grads(x, y):
        with tf.GradientTape(persistent=True) as tape:
            tape.watch(x)
            z = x * x * y + tf.reduce_sum(v * v) + tf.reduce_sum(frozen)
            w = z * 2.0
        gx, gy, gv, gf, gz = tape.gradient(w, [x, y, v, frozen, z])
        zero = tape.gradient(w, y, unconnected_gradients=tf.UnconnectedGradients.ZERO)
        return gx, gy is None, gv, gf is None, gz, zero

    gx, y_none, gv, frozen_none, gz, zero = grads(tf.constant([1.0, 3.0]), tf.constant([2.0, 2.0]))
    np.testing.assert_allclose(gx.numpy(), [8.0, 24.0])      # 2 * 2xy
    assert bool(y_none) and bool(frozen_none)                # y was never watched; frozen is not trainable
    np.testing.assert_allclose(gv.numpy(), [8.0, 16.0])      # trainable Variables are watched
    np.testing.assert_allclose(gz.numpy(), [2.0, 2.0])       # computed from x while recording
    np.testing.assert_allclose(zero.numpy(), [0.0, 0.0])


def test_watch_accessed_variables_false_in_a_trace(eager):
    v = tf.Variable(3.0)

    @tf.function
    def grads():
        with tf.GradientTape(watch_accessed_variables=False) as tape:
            y = v * v
        return tape.gradient(y, v) is None

    assert bool(grads())
