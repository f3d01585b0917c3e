"""tf.autograph.experimental.set_loop_options: the converted loop's tf.while_loop takes its options."""
import numpy as np
import pytest

import xlite as tf


def test_set_loop_options_bounds_while_and_for_loops(graph):
    @tf.function
    def summed_while(x):
        s, i = tf.constant(0.0), tf.constant(0)
        while i < 10:
            tf.autograph.experimental.set_loop_options(maximum_iterations=3, parallel_iterations=1)
            s += x * x
            i += 1
        return s

    @tf.function
    def summed_for(x):
        s = tf.constant(0.0)
        for _ in tf.range(10):
            tf.autograph.experimental.set_loop_options(maximum_iterations=4, swap_memory=False)
            s += x
        return s
    x = tf.constant(2.0)
    y = summed_while(x)
    (g,) = tf.gradients(y, [x])   # a compile-time maximum_iterations: differentiable
    with tf.Session() as s:
        np.testing.assert_allclose(s.run([y, g, summed_for(tf.constant(1.0))]), [12.0, 12.0, 4.0])
    assert tf.autograph.experimental.set_loop_options(maximum_iterations=2) is None   # outside a loop: nothing


def test_set_loop_options_shape_invariants_unimplemented(graph):
    @tf.function
    def relaxed(x):
        for _ in tf.range(3):
            tf.autograph.experimental.set_loop_options(shape_invariants=[(x, tf.TensorShape([None]))])
            x = x * 2.0
        return x
    with pytest.raises(tf.errors.UnimplementedError, match="shape_invariants"):
        relaxed(tf.constant([1.0]))
