"""Seeded tf.random.* gives eagerly what the graph mode of the same program gives."""
import numpy as np
import pytest

import xlite as tf
from xlite.eager.context import eager_mode


def _program():
    tf.set_random_seed(1)
    a = tf.random_normal([3])
    b = tf.random_normal([3])
    c = tf.random_uniform([2, 2], seed=7)
    d = tf.truncated_normal([4], mean=1.0, stddev=2.0)
    return a, b, c, d


@pytest.mark.parametrize("target", ["cpu", "interpreter"])
def test_seeded_sequences_match_graph_mode(target):
    with tf.Graph().as_default():
        tensors = _program()
        with tf.Session(target) as sess:
            graph_values = [sess.run(t) for t in tensors]       # one run each: run counters 1, 2, 3, 4
    from xlite.eager import dispatch
    with eager_mode():
        dispatch.set_target(target)
        try:
            eager_values = [t.numpy() for t in _program()]
            again = [t.numpy() for t in _program()]              # set_random_seed starts over, as TF's
        finally:
            dispatch.set_target(None)
    for g, e, a in zip(graph_values, eager_values, again):
        np.testing.assert_array_equal(g, e)
        np.testing.assert_array_equal(e, a)
    assert not np.array_equal(eager_values[0], eager_values[1])


def test_unseeded_ops_draw_new_numbers(eager):
    assert not np.array_equal(tf.random_normal([8]).numpy(), tf.random_normal([8]).numpy())
