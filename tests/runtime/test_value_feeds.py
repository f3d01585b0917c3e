"""Shapes computed from small integer feeds (a fed batch size, a fed shape or tile multiples): the Session
compiles the run with the fewest such feeds as constants, once per value; other feeds stay parameters."""
import numpy as np
import pytest

import xlite as tf


@pytest.fixture(autouse=True)
def fresh_graph():
    with tf.Graph().as_default():
        yield


@pytest.mark.parametrize("target", ["cpu", "interpreter"])
def test_a_fed_batch_size_compiles_once_per_value(target):
    bs = tf.placeholder(tf.int32, [])
    x = tf.placeholder(tf.float32, [None, 4])
    labels = tf.placeholder(tf.int32, [None])
    y = x + tf.zeros([bs, 4]) + 1.0
    loss = tf.reduce_sum(tf.one_hot(labels, 4) * y)
    with tf.Session(target=target) as sess:
        def run(n, k=0):
            return sess.run([y, loss], {x: np.full((n, 4), 2.0, np.float32), bs: n, labels: (np.arange(n) + k) % 4})
        got, total = run(3)
        np.testing.assert_array_equal(got, np.full((3, 4), 3.0, np.float32))
        assert total == 9.0
        compiled = len(sess._cache)
        for k in range(3):          # new labels, same batch size: no compile (the labels stay a parameter)
            assert run(3, k)[1] == 9.0
        assert len(sess._cache) == compiled
        assert run(5)[0].shape == (5, 4) and len(sess._cache) == compiled + 1
        assert run(3)[1] == 9.0 and len(sess._cache) == compiled + 1
        (request,) = [r for r in sess._requests.values() if r.value_feeds]
        assert request.value_feeds == {bs}
        with pytest.raises(tf.errors.InvalidArgumentError):
            sess.run(y, {x: np.ones((3, 4), np.float32), bs: 4})


def test_fed_shapes_multiples_and_an_rnn_zero_state_of_a_fed_batch_size():
    x = tf.placeholder(tf.float32, [None, 4])
    shape, multiples = tf.placeholder(tf.int32, [2]), tf.placeholder(tf.int32, [2])
    reshaped, tiled = tf.reshape(x, shape), tf.tile(x, multiples)
    bs, seq = tf.placeholder(tf.int32, []), tf.placeholder(tf.float32, [None, 5, 3])
    cell = tf.nn.rnn_cell.BasicLSTMCell(4)
    out, _ = tf.nn.dynamic_rnn(cell, seq, initial_state=cell.zero_state(bs, tf.float32))
    data = np.arange(12, dtype=np.float32).reshape(3, 4)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        np.testing.assert_array_equal(sess.run(reshaped, {x: data, shape: [6, 2]}), data.reshape(6, 2))
        np.testing.assert_array_equal(sess.run(reshaped, {x: data, shape: [2, -1]}), data.reshape(2, 6))
        np.testing.assert_array_equal(sess.run(tiled, {x: data, multiples: [2, 1]}), np.tile(data, [2, 1]))
        for n in (2, 3):
            assert sess.run(out, {seq: np.ones((n, 5, 3), np.float32), bs: n}).shape == (n, 5, 4)


def test_a_float_or_large_feed_as_a_shape_stays_unimplemented():
    f = tf.placeholder(tf.float32, [])
    big = tf.placeholder(tf.int32, [None])
    with tf.Session() as sess:
        with pytest.raises(tf.errors.UnimplementedError, match="compile-time constant"):
            sess.run(tf.zeros(tf.cast(tf.stack([f, f]), tf.int32)), {f: 2.0})
        with pytest.raises(tf.errors.UnimplementedError, match="compile-time constant"):
            sess.run(tf.reshape(tf.zeros([24]), big), {big: [1] * 20 + [2, 3, 4, 1]})
