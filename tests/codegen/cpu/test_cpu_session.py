"""tf graphs run with Session(target="cpu") against Session(target="interpreter")."""
import numpy as np
import pytest

import xlite as tf


def _both(build, feeds=None, runs=1):
    """Builds the graph once, runs the fetches in a cpu and an interpreter Session, returns both results."""
    g = tf.Graph()
    with g.as_default():
        fetches, init = build()
    out = {}
    for target in ("cpu", "interpreter"):
        with tf.Session(target=target, graph=g) as sess:
            if init is not None:
                sess.run(init)
            out[target] = [sess.run(fetches, feed_dict=feeds(g) if feeds else None) for _ in range(runs)]
    return out["cpu"], out["interpreter"]


def test_five_basics():
    with tf.Graph().as_default():
        a, b = tf.constant(1), tf.constant(2)
        with tf.Session(target="cpu") as sess:
            assert sess.run(tf.add(a, b)) == 3

        cnt = tf.Variable(0, name="counter")
        step = tf.assign(cnt, tf.add(cnt, tf.constant(1)))
        with tf.Session(target="cpu") as sess:
            sess.run(tf.global_variables_initializer())
            assert [int(sess.run(step)) for _ in range(3)] == [1, 2, 3]

        y = tf.placeholder(tf.int32)
        z = tf.constant(1) + y
        with tf.Session(target="cpu") as sess:
            assert sess.run(z, feed_dict={y: 1}) == 2
            assert sess.run(z, feed_dict={y: 3}) == 4

        s1, s2 = tf.Session(target="cpu"), tf.Session(target="cpu")
        s1.run(cnt.initializer)
        s2.run(cnt.initializer)
        s1.run(step)
        s1.run(step)
        s2.run(step)
        assert (int(s1.run(cnt)), int(s2.run(cnt))) == (2, 1)

        x = tf.constant([[1, 2], [1, 2]])
        w = tf.constant([[3, 4], [3, 4]])
        np.testing.assert_array_equal(tf.Session(target="cpu").run(x + w), [[4, 6], [4, 6]])


def test_variable_updated_in_place_over_runs():
    def build():
        v = tf.Variable(np.arange(6, dtype=np.float32).reshape(2, 3))
        w = tf.Variable(np.ones(3, np.float32))
        upd = tf.assign(v, v * 0.5 + w)
        upd_w = tf.assign_add(w, tf.reduce_sum(v, axis=0))
        return [upd, upd_w, v], tf.global_variables_initializer()
    cpu, ref = _both(build, runs=4)
    for c, r in zip(cpu, ref):
        for a, b in zip(c, r):
            np.testing.assert_allclose(a, b, rtol=1e-6)


def test_fetched_variable_is_not_aliased_to_its_update():
    with tf.Graph().as_default():
        v = tf.Variable(np.zeros(4, np.float32))
        upd = tf.assign_add(v, tf.ones([4]))
        with tf.Session(target="cpu") as sess:
            sess.run(v.initializer)
            before = sess.run(v)
            sess.run(upd)
            sess.run(upd)
            np.testing.assert_array_equal(before, np.zeros(4))
            np.testing.assert_array_equal(sess.run(v), np.full(4, 2.0))


def test_a_fetched_update_still_writes_the_variable_in_place():
    """The update output of a Variable that is also fetched stays its own array; the fetch is a copy."""
    with tf.Graph().as_default():
        v = tf.Variable(np.zeros(4, np.float32))
        step = tf.assign_add(v, tf.ones([4]))
        with tf.Session(target="cpu") as sess:
            sess.run(v.initializer)
            sess.run(step)
            storage = sess._variables[v.op]
            got = [sess.run(step) for _ in range(2)]
            assert sess._variables[v.op] is storage
            np.testing.assert_array_equal(got[0], np.full(4, 2.0))
            np.testing.assert_array_equal(got[1], np.full(4, 3.0))


def test_feeds_of_different_shapes_compile_separately():
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [None, 3])
        y = tf.reduce_sum(tf.exp(x) * 2.0, axis=1)
        with tf.Session(target="cpu") as sess:
            for n in (0, 1, 5, 17, 5):
                xs = np.random.default_rng(n).standard_normal((n, 3)).astype(np.float32)
                np.testing.assert_allclose(sess.run(y, {x: xs}), np.sum(np.exp(xs) * 2.0, axis=1), rtol=1e-5)


def test_mlp_training_step_matches_interpreter():
    rng = np.random.default_rng(0)
    xs = rng.standard_normal((32, 20)).astype(np.float32)
    ys = np.eye(5, dtype=np.float32)[rng.integers(0, 5, 32)]

    def build():
        x = tf.placeholder(tf.float32, [None, 20], name="x")
        y = tf.placeholder(tf.float32, [None, 5], name="y")
        w1 = tf.Variable(rng.standard_normal((20, 16)).astype(np.float32) * 0.3)
        b1 = tf.Variable(np.zeros(16, np.float32))
        w2 = tf.Variable(rng.standard_normal((16, 5)).astype(np.float32) * 0.3)
        h = tf.nn.relu(tf.matmul(x, w1) + b1)
        logits = tf.matmul(h, w2)
        loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(labels=y, logits=logits))
        train = tf.train.GradientDescentOptimizer(0.1).minimize(loss)
        acc = tf.reduce_mean(tf.cast(tf.equal(tf.argmax(logits, 1), tf.argmax(y, 1)), tf.float32))
        return [loss, acc, train], tf.global_variables_initializer()

    def feeds(g):
        return {g.get_tensor_by_name("x:0"): xs, g.get_tensor_by_name("y:0"): ys}
    cpu, ref = _both(build, feeds, runs=5)
    for c, r in zip(cpu, ref):
        np.testing.assert_allclose(c[0], r[0], rtol=1e-4)
    assert cpu[-1][0] < cpu[0][0]


def test_control_flow_graphs():
    def build():
        x, y = tf.constant(3), tf.constant(4)
        r = tf.cond(x > y, lambda: tf.add(x, y), lambda: tf.subtract(x, y))
        i, s = tf.constant(0), tf.constant(0)
        _, total = tf.while_loop(lambda i, s: i < 10, lambda i, s: (i + 1, s + i + 1), [i, s])
        return [r, total], None
    cpu, ref = _both(build)
    assert [int(v) for v in cpu[0]] == [int(v) for v in ref[0]] == [-1, 55]


def test_random_ops_match_interpreter():
    def build():
        u = tf.random_uniform([3, 7], seed=1)
        n = tf.random_normal([129], seed=2)
        t = tf.truncated_normal([5, 5], seed=3)
        return [u, n, t], None
    cpu, ref = _both(build, runs=2)
    for c, r in zip(cpu, ref):
        np.testing.assert_array_equal(c[0], r[0])
        np.testing.assert_allclose(c[1], r[1], rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(c[2], r[2], rtol=1e-5, atol=1e-6)
    assert not np.array_equal(cpu[0][0], cpu[1][0])


@pytest.mark.parametrize("padding", ["SAME", pytest.param("VALID", marks=pytest.mark.slow)])
def test_conv_pool_gradients(padding):
    rng = np.random.default_rng(1)
    xs = rng.standard_normal((2, 9, 9, 3)).astype(np.float32)

    def build():
        x = tf.placeholder(tf.float32, [None, 9, 9, 3], name="x")
        w = tf.Variable(rng.standard_normal((3, 3, 3, 4)).astype(np.float32) * 0.2)
        h = tf.nn.conv2d(x, w, strides=[1, 1, 1, 1], padding=padding)
        p = tf.nn.max_pool(tf.nn.relu(h), ksize=[1, 2, 2, 1], strides=[1, 2, 2, 1], padding=padding)
        loss = tf.reduce_sum(p * p)
        grads = tf.gradients(loss, [x, w])
        return [loss] + grads, tf.global_variables_initializer()
    cpu, ref = _both(build, lambda g: {g.get_tensor_by_name("x:0"): xs})
    for c, r in zip(cpu[0], ref[0]):
        np.testing.assert_allclose(c, r, rtol=1e-4, atol=1e-4)


def test_variable_updates_write_the_sessions_array_in_place():
    with tf.Graph().as_default():
        v = tf.Variable(np.zeros((64, 64), np.float32))
        step = tf.assign_add(v, tf.ones([64, 64]))
        with tf.Session(target="cpu") as sess:
            sess.run(v.initializer)
            sess.run(step.op)
            storage = sess._variables[v.op]
            for _ in range(3):
                sess.run(step.op)
            assert sess._variables[v.op] is storage          # updated in place, never copied
            np.testing.assert_array_equal(sess.run(v), np.full((64, 64), 4.0))
