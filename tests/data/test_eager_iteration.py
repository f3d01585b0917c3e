"""Datasets executing eagerly: `for x in dataset` gives EagerTensors, each pass starts over, and a
training loop over batches gives what the same loop on get_next() gives in graph mode."""
import numpy as np
import pytest

import xlite as tf

context = pytest.importorskip("xlite.eager.context")
D = tf.data.Dataset


def test_for_loops_give_eager_tensors_and_start_over():
    x = np.arange(12, dtype=np.float32).reshape(6, 2)
    with context.eager_mode():
        ds = D.from_tensor_slices((tf.constant(x), np.arange(6))).map(lambda a, b: (a * 2.0, b + 1)).batch(4)
        passes = [[(a, b) for a, b in ds] for _ in range(2)]
        it = iter(ds)
        first = next(it)
        second = it.get_next()
        with pytest.raises(tf.errors.OutOfRangeError):
            it.get_next()
        as_numpy = list(ds.as_numpy_iterator())
    for batches in passes:
        assert [type(a).__name__ for a, _ in batches] == ["EagerTensor", "EagerTensor"]
        np.testing.assert_array_equal(np.concatenate([a.numpy() for a, _ in batches]), x * 2.0)
        np.testing.assert_array_equal(np.concatenate([b.numpy() for _, b in batches]), np.arange(1, 7))
    np.testing.assert_array_equal(first[0].numpy(), x[:4] * 2.0)
    np.testing.assert_array_equal(second[1].numpy(), [5, 6])
    assert isinstance(as_numpy[0][0], np.ndarray)


def _data():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((192, 2)).astype(np.float32)
    y = (x @ np.array([[2.0], [-1.0]], np.float32) + 0.5 + 0.01 * rng.standard_normal((192, 1))).astype(np.float32)
    return x, y


def _dataset(x, y):
    return D.from_tensor_slices((x, y)).shuffle(64, seed=2).batch(16, drop_remainder=True).repeat(10)


@pytest.mark.slow
def test_eager_training_over_batches_matches_graph_mode_and_least_squares():
    x, y = _data()
    lr = 0.2
    with tf.Graph().as_default():
        xb, yb = _dataset(x, y).make_one_shot_iterator().get_next()
        w, b = tf.Variable(tf.zeros([2, 1])), tf.Variable(tf.zeros([1]))
        loss = tf.reduce_mean(tf.square(tf.matmul(xb, w) + b - yb))
        step = tf.train.GradientDescentOptimizer(lr).minimize(loss)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            try:
                while True:
                    sess.run(step)
            except tf.errors.OutOfRangeError:
                pass
            graph_w, graph_b = sess.run([w, b])
    with context.eager_mode():
        w, b = tf.Variable(tf.zeros([2, 1])), tf.Variable(tf.zeros([1]))
        for xb, yb in _dataset(x, y):
            with tf.GradientTape() as tape:
                loss = tf.reduce_mean(tf.square(tf.matmul(xb, w) + b - yb))
            gw, gb = tape.gradient(loss, [w, b])
            w.assign_sub(lr * gw)
            b.assign_sub(lr * gb)
        eager_w, eager_b = w.numpy(), b.numpy()
    np.testing.assert_allclose(eager_w, graph_w, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(eager_b, graph_b, rtol=1e-5, atol=1e-6)
    design = np.hstack([x, np.ones((192, 1), np.float32)]).astype(np.float64)
    want = np.linalg.lstsq(design, y.astype(np.float64), rcond=None)[0]
    np.testing.assert_allclose(np.vstack([eager_w, eager_b[:, None]]), want, atol=1e-2)


# TF 2.21's w and b after the loop below (eager GradientTape and TF1 get_next() give the same, to the bit)
TF_W, TF_B = np.array([2.0013652, -1.0000044], np.float32), np.array([0.50062597], np.float32)


def test_linear_regression_both_ways_gives_tfs_result():
    x, y = _data()
    make = lambda: D.from_tensor_slices((x, y)).batch(16, drop_remainder=True).repeat(3)    # noqa: E731
    with tf.Graph().as_default():
        xb, yb = make().make_one_shot_iterator().get_next()
        w, b = tf.Variable(tf.zeros([2, 1])), tf.Variable(tf.zeros([1]))
        step = tf.train.GradientDescentOptimizer(0.2).minimize(tf.reduce_mean(tf.square(tf.matmul(xb, w) + b - yb)))
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            try:
                while True:
                    sess.run(step)
            except tf.errors.OutOfRangeError:
                pass
            graph_w, graph_b = sess.run([w, b])
    with context.eager_mode():
        w, b = tf.Variable(tf.zeros([2, 1])), tf.Variable(tf.zeros([1]))
        for xb, yb in make():
            with tf.GradientTape() as tape:
                loss = tf.reduce_mean(tf.square(tf.matmul(xb, w) + b - yb))
            gw, gb = tape.gradient(loss, [w, b])
            w.assign_sub(0.2 * gw)
            b.assign_sub(0.2 * gb)
        eager_w, eager_b = w.numpy(), b.numpy()
    for got_w, got_b in [(graph_w, graph_b), (eager_w, eager_b)]:
        np.testing.assert_allclose(got_w.ravel(), TF_W, rtol=2e-6)
        np.testing.assert_allclose(got_b, TF_B, rtol=2e-6)


def test_cardinality_is_an_eager_tensor_when_executing_eagerly():
    with context.eager_mode():
        n = D.range(10).batch(3).cardinality()
        assert n.numpy() == 4 and n.dtype == tf.int64
        assert int(tf.data.experimental.cardinality(D.range(3).repeat())) == tf.data.INFINITE_CARDINALITY


def test_tf1_iterators_executing_eagerly():
    with context.eager_mode():
        it = tf.compat.v1.data.make_one_shot_iterator(D.range(2))
        assert [int(it.get_next()), int(it.get_next())] == [0, 1]
        with pytest.raises(tf.errors.OutOfRangeError):
            it.get_next()
        with pytest.raises(RuntimeError, match="eager execution"):
            D.range(2).make_initializable_iterator()
