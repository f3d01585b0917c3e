"""tf.py_function: a Python function of eager tensors in a graph run (cpu and the interpreter), in a tf.function and
eagerly, with TF's gradient (a tape around the function) against the closed form."""
import numpy as np
import pytest

import xlite as tf

A = np.array([1.0, 2.0, 3.0], np.float32)
W = np.array([1.0, 2.0, 3.0], np.float32)


def _f(a, n):
    assert isinstance(a, tf.Tensor) and hasattr(a, "numpy")      # an eager tensor, even in a graph run
    return a * a + tf.reduce_sum(a), n + 1


@pytest.mark.parametrize("target", ["cpu", "interpreter"])
def test_in_a_graph_run_with_its_gradient(target):
    x = tf.placeholder(tf.float32, [3])
    y, m = tf.py_function(_f, [x, tf.constant(4)], [tf.float32, tf.int32])
    y.set_shape([3])
    g, = tf.gradients(tf.reduce_sum(y * W), x)
    with tf.Session(target=target) as s:
        got_y, got_m, got_g = s.run([y, m, g], {x: A})
    np.testing.assert_allclose(got_y, A * A + A.sum())
    assert got_m == 5
    np.testing.assert_allclose(got_g, 2 * A * W + W.sum())
    with pytest.raises(tf.errors.InvalidArgumentError, match="ValueError: no"):
        tf.Session(target=target).run(tf.py_function(lambda a: (_ for _ in ()).throw(ValueError("no")), [x],
                                                     tf.float32), {x: A})


def test_eagerly_and_in_a_tf_function(eager):
    x = tf.constant(A)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.py_function(lambda a: a * a + tf.reduce_sum(a), [x], tf.float32)
        loss = tf.reduce_sum(y * W)
    np.testing.assert_allclose(tape.gradient(loss, x).numpy(), 2 * A * W + W.sum())

    @tf.function
    def doubled(v):
        out = tf.py_function(lambda a: a.numpy() * 2, [v], tf.float32)
        out.set_shape([3])
        return out + 1.0
    np.testing.assert_allclose(doubled(x).numpy(), A * 2 + 1)
