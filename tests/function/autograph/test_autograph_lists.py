"""Lists appended in a loop over tensors become TensorArrays (xlite/function/autograph/lists.py)."""
import numpy as np
import pytest

import xlite as tf

X = np.arange(8, dtype=np.float32).reshape(4, 2)


def run(fetches, feed=None):
    with tf.Session() as s:
        return s.run(fetches, feed)


def test_append_in_tf_range_loop_then_tf_stack(graph):
    @tf.function
    def scaled_rows(x):
        out = []
        for i in tf.range(4):
            out.append(x[i] * tf.cast(i, tf.float32))
        return tf.stack(out)
    np.testing.assert_array_equal(run(scaled_rows(tf.constant(X))), X * np.arange(4)[:, None])


def test_items_before_the_loop_two_appends_per_iteration_and_gradient(graph):
    @tf.function
    def rows(x):
        out = [x[0]]
        for row in x:
            out.append(row + 1.0)
            out.append(row * row)
        return out.stack()
    x = tf.constant(X)
    stacked = rows(x)
    want = [X[0]] + [v for r in X for v in (r + 1, r * r)]
    (g,) = tf.gradients(tf.reduce_sum(stacked), [x])
    got, grad = run([stacked, g])
    np.testing.assert_array_equal(got, want)
    np.testing.assert_allclose(grad, 2 * X + 1 + np.eye(4, 1))


def test_unbounded_loops_raise_naming_tensor_array(graph):
    @tf.function
    def fed(x, n):
        out = []
        for i in tf.range(n):
            out.append(x[i])
        return tf.stack(out)

    @tf.function
    def with_break(x):
        out = []
        for row in x:
            if tf.reduce_sum(row) > 5.0:
                break
            out.append(row)
        return tf.stack(out)
    with pytest.raises(tf.errors.UnimplementedError, match="TensorArray"):
        fed(tf.constant(X), tf.placeholder(tf.int32, []))
    with pytest.raises(tf.errors.UnimplementedError, match="TensorArray"):
        with_break(tf.constant(X))


def test_append_under_a_tensor_if_raises(graph):
    @tf.function
    def kept(x):
        out = []
        for row in x:
            if tf.reduce_sum(row) > 3.0:
                out.append(row)
        return tf.stack(out)
    with pytest.raises(tf.errors.UnimplementedError, match="tensor `if`"):
        kept(tf.constant(X))


def test_python_loops_keep_python_lists(graph):
    @tf.function
    def listed(x):
        out = []
        for i in range(3):
            out.append(x * i)
        return tf.stack(out)
    np.testing.assert_array_equal(run(listed(tf.constant([1.0, 2.0]))), [[0, 0], [1, 2], [2, 4]])


def test_items_and_len_inside_and_after_the_loop(graph):
    @tf.function
    def running(x):
        out = [x[0]]
        for row in x:
            out.append(out[-1] + row)
        return tf.stack(out), len(out)
    stacked, n = run(running(tf.constant(X[:3])))
    np.testing.assert_array_equal(stacked, np.concatenate([X[:1], X[0] + np.cumsum(X[:3], 0)]))
    assert n == 4
