"""Session.run's fast path (a RunPlan's `fast`) behaves exactly as the careful path, on every target.

Repeated runs with the same fetch structure, feed keys and fitting feeds go through the fast path;
`options=tf.RunOptions()` sends a run through the careful path, which the results are compared with.
"""
import threading

import numpy as np
import pytest

import xlite as tf
from xlite import errors

TARGETS = ["interpreter", "cpu"]


@pytest.fixture(autouse=True)
def graph():
    with tf.Graph().as_default() as g:
        yield g


def careful(sess, fetches, feed_dict=None):
    return sess.run(fetches, feed_dict, options=tf.RunOptions())


def fast_path_of(sess):
    """The steady states (RunPlan.fast) Session.run has installed: a later run of their fetches and feed keys
    goes through one of them."""
    assert sess._fast, "no run plan became a steady state"
    return list(sess._fast.values())


@pytest.mark.parametrize("target", TARGETS)
def test_scalars_fast_path_results_and_types(target):
    a = tf.placeholder(tf.float32, [], name="a")
    b = tf.placeholder(tf.float32, [], name="b")
    c = a + b
    feeds = {a: np.array(1.5, np.float32), b: np.array(2.25, np.float32)}
    with tf.Session(target=target) as sess:
        for _ in range(3):
            out = sess.run([c], feeds)
            assert type(out) is list and type(out[0]) is np.float32 and out[0] == 3.75
            single = sess.run(c, feeds)
            assert type(single) is np.float32 and single == 3.75
            pair = sess.run((c, c + 1), feeds)
            assert type(pair) is tuple and pair == (3.75, 4.75)
        fast_path_of(sess)
        # feeds that do not fit the compiled signature: converted, recompiled or refused as always
        assert sess.run([c], {a: 1.0, b: 2}) == [3.0]
        assert sess.run([c], {a: np.array(1.0, np.float64), b: np.float32(2)}) == [3.0]
        with pytest.raises(ValueError, match="shape"):
            sess.run([c], {a: np.ones(2, np.float32), b: np.float32(1)})
        assert sess.run([c], feeds) == [3.75]
        assert sess.run([c], {b: feeds[b], a: feeds[a]}) == [3.75]     # feed keys in another order
    with pytest.raises(RuntimeError, match="closed"):
        sess.run([c], feeds)


@pytest.mark.parametrize("target", TARGETS)
def test_fetched_arrays_are_fresh_and_never_a_feed(target):
    x = tf.placeholder(tf.float32, [None, 3], name="x")
    y = x * 2.0
    value = np.arange(6, dtype=np.float32).reshape(2, 3)
    with tf.Session(target=target) as sess:
        for _ in range(3):
            got_x, got_y = sess.run([x, y], {x: value})
            assert got_x is not value and not np.shares_memory(got_x, value)
            got_x[0, 0] = 100.0
            got_y[0, 0] = 100.0
            assert value[0, 0] == 0.0
            again = sess.run(y, {x: value})
            assert again[0, 0] == 0.0 and again is not got_y and again.flags.writeable
        fast_path_of(sess)
        odd = np.arange(12, dtype=np.float32).reshape(2, 6)[:, ::2]          # not C-contiguous
        np.testing.assert_array_equal(sess.run(y, {x: odd}), odd * 2)


@pytest.mark.parametrize("target", TARGETS)
def test_training_steps_on_the_fast_path_match_the_careful_path(target):
    x = tf.placeholder(tf.float32, [4, 3], name="x")
    w = tf.Variable(np.linspace(-1, 1, 6, dtype=np.float32).reshape(3, 2), name="w")
    noise = tf.random_uniform([2])
    loss = tf.reduce_sum(tf.square(tf.matmul(x, w) + noise))
    step = tf.train.GradientDescentOptimizer(0.01).minimize(loss)
    feed = np.linspace(0, 1, 12, dtype=np.float32).reshape(4, 3)
    runs = []
    for how in (lambda s, f, d: s.run(f, d), careful):
        with tf.Session(target=target) as sess:
            sess.run(w.initializer)
            losses = [how(sess, [loss, step], {x: feed})[0] for _ in range(4)]
            runs.append((losses, sess.run(w)))
            if how is not careful:
                fast_path_of(sess)
    (fast_losses, fast_w), (slow_losses, slow_w) = runs
    assert fast_losses == slow_losses and len(set(fast_losses)) == 4   # the run counter advanced each time
    np.testing.assert_array_equal(fast_w, slow_w)


@pytest.mark.parametrize("target", TARGETS)
def test_uninitialized_variable_still_raises(target):
    v = tf.Variable(1.0, name="v")
    out = v * 2.0
    with tf.Session(target=target) as sess:
        sess.run(v.initializer)
        assert [sess.run(out) for _ in range(3)] == [2.0, 2.0, 2.0]
    with tf.Session(target=target) as other:
        with pytest.raises(errors.FailedPreconditionError, match="uninitialized"):
            other.run(out)


@pytest.mark.parametrize("target", TARGETS)
def test_variable_of_dynamic_shape_grows(target):
    """Each run has a new signature (the Variable's shape is part of it); the new value, of another
    shape, is no in-place update of the old one (the cpu backend used to write it over the old array)."""
    v = tf.Variable(np.zeros(2, np.float32), validate_shape=False, name="v")
    grow = tf.assign(v, tf.concat([v, [1.0]], 0), validate_shape=False)
    with tf.Session(target=target) as sess:
        sess.run(v.initializer)
        sizes = [sess.run(grow).shape[0] for _ in range(3)]
        np.testing.assert_array_equal(sess.run(v), [0, 0, 1, 1, 1])
    assert sizes == [3, 4, 5]


@pytest.mark.parametrize("with_constant", [False, True])
def test_concurrent_runs_of_one_signature(with_constant):
    """Runs that touch no Session state take no Session lock: the executable serializes what it must
    (a constant output sends every run through CpuExecutable's general path)."""
    a = tf.placeholder(tf.float32, [], name="a")
    b = tf.placeholder(tf.float32, [], name="b")
    c = a * b
    fetches = [c, tf.constant([1.0, 2.0]), c + 1.0] if with_constant else c
    failures = []
    with tf.Session(target="cpu") as sess:
        sess.run(fetches, {a: np.float32(1), b: np.float32(1)})

        def work(k):
            for i in range(300):
                got = sess.run(fetches, {a: np.array(k, np.float32), b: np.array(i, np.float32)})
                if with_constant:
                    got = got[0] if got[1].tolist() == [1.0, 2.0] and got[2] == k * i + 1 else None
                if got != k * i:
                    failures.append((k, i, got))
        threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert failures == []
