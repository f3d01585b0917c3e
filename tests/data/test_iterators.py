"""TF1 iterators: get_next() tensors in graph ops, initializers with feeds, OutOfRangeError."""
import numpy as np
import pytest

import xlite as tf

D = tf.data.Dataset


def drain(sess, fetch, feed_dict=None):
    out = []
    while True:
        try:
            out.append(sess.run(fetch, feed_dict))
        except tf.errors.OutOfRangeError:
            return out


def test_one_shot_iterator_feeds_graph_ops_until_out_of_range():
    x = np.arange(10, dtype=np.float32).reshape(5, 2)
    with tf.Graph().as_default():
        a, b = tf.compat.v1.data.make_one_shot_iterator(D.from_tensor_slices((x, np.arange(5))).batch(2)).get_next()
        assert a.shape.as_list() == [None, 2] and b.dtype == tf.int64
        total = tf.reduce_sum(a, axis=1) + tf.cast(b, tf.float32)
        with tf.Session() as sess:
            got = drain(sess, total)
            with pytest.raises(tf.errors.OutOfRangeError, match="End of sequence"):
                sess.run(total)                      # stays at the end
    np.testing.assert_allclose(np.concatenate(got), x.sum(1) + np.arange(5))
    assert [len(g) for g in got] == [2, 2, 1]


def test_each_run_advances_once_and_each_get_next_op_advances():
    with tf.Graph().as_default():
        it = D.range(10).make_one_shot_iterator()
        n = it.get_next()
        doubled = n * 2
        with tf.Session() as sess:
            assert sess.run([n, doubled]) == [0, 0]        # one element per run, whatever reads it
            assert sess.run(doubled) == 2
            other = it.get_next()
            assert sorted(sess.run([n, other])) == [2, 3]


def test_initializable_iterator_restarts_with_new_feeds():
    with tf.Graph().as_default():
        ph = tf.placeholder(tf.float32, [None])
        count = tf.placeholder(tf.int64, [])
        it = D.from_tensor_slices(ph).map(lambda v: v * 2.0).repeat(count).make_initializable_iterator()
        n = it.get_next()
        with tf.Session() as sess:
            with pytest.raises(tf.errors.FailedPreconditionError, match="not been initialized"):
                sess.run(n)
            sess.run(it.initializer, {ph: [1.0, 2.0, 3.0], count: 1})
            assert drain(sess, n) == [2.0, 4.0, 6.0]
            sess.run(it.initializer, {ph: [10.0, 20.0], count: 2})
            assert sess.run(n) == 20.0                        # re-initialized part-way
            sess.run(it.initializer, {ph: [10.0, 20.0], count: 2})
            assert drain(sess, n) == [20.0, 40.0, 20.0, 40.0]
            with pytest.raises(tf.errors.InvalidArgumentError, match="must feed"):
                sess.run(it.initializer)


def test_from_structure_switches_between_datasets():
    train = D.from_tensor_slices(np.arange(4, dtype=np.float32)).batch(2)
    val = D.from_tensor_slices(np.arange(10, 13, dtype=np.float32)).batch(3)
    with tf.Graph().as_default():
        it = tf.data.Iterator.from_structure(train.output_types, train.output_shapes)
        n = it.get_next()
        init_train, init_val = it.make_initializer(train), it.make_initializer(val)
        with tf.Session() as sess:
            sess.run(init_train)
            assert [v.tolist() for v in drain(sess, n)] == [[0, 1], [2, 3]]
            sess.run(init_val)
            assert [v.tolist() for v in drain(sess, n)] == [[10, 11, 12]]
            sess.run(init_train)
            assert sess.run(n).tolist() == [0, 1]
        with pytest.raises(TypeError):
            it.make_initializer(D.range(3))


def test_two_sessions_iterate_apart():
    with tf.Graph().as_default():
        n = D.range(3).make_one_shot_iterator().get_next()
        with tf.Session() as s1, tf.Session() as s2:
            assert s1.run(n) == 0 and s1.run(n) == 1 and s2.run(n) == 0


def test_a_map_error_surfaces_at_get_next_with_the_users_line():
    gen = D.from_generator(lambda: iter([[1.0] * 4, [1.0] * 3]), output_types=tf.float32, output_shapes=[None])
    with tf.Graph().as_default():
        n = gen.map(lambda v: tf.reshape(v, [2, 2])).make_one_shot_iterator().get_next()
        with tf.Session() as sess:
            assert sess.run(n).shape == (2, 2)
            with pytest.raises(tf.errors.InvalidArgumentError, match=r"test_iterators.py:\d+"):
                sess.run(n)


def test_repeat_forever_with_take_and_an_empty_dataset():
    with tf.Graph().as_default():
        n = D.range(3).repeat().take(8).make_one_shot_iterator().get_next()
        empty = D.range(0).batch(4).make_one_shot_iterator().get_next()
        with tf.Session() as sess:
            assert drain(sess, n) == [0, 1, 2, 0, 1, 2, 0, 1]
            assert drain(sess, empty) == []


def test_nested_structures_come_back_as_built():
    ds = D.from_tensor_slices({"img": np.ones((3, 2, 2), np.float32), "meta": (np.arange(3), np.arange(3.0))})
    with tf.Graph().as_default():
        el = ds.make_one_shot_iterator().get_next()
        assert sorted(el) == ["img", "meta"] and el["img"].shape.as_list() == [2, 2]
        with tf.Session() as sess:
            got = sess.run(el)
    assert got["img"].shape == (2, 2) and got["meta"][0] == 0 and got["meta"][1] == 0.0


def test_a_training_step_compiles_once_and_fits_least_squares():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((256, 3)).astype(np.float32)
    y = (x @ np.array([[1.5], [-2.0], [0.5]], np.float32) + 0.3
         + 0.05 * rng.standard_normal((256, 1))).astype(np.float32)
    design = np.hstack([x, np.ones((256, 1), np.float32)]).astype(np.float64)
    want = np.linalg.lstsq(design, y.astype(np.float64), rcond=None)[0]
    with tf.Graph().as_default():
        ds = D.from_tensor_slices((x, y)).shuffle(256, seed=1).repeat(60).batch(32, drop_remainder=True)
        xb, yb = ds.make_one_shot_iterator().get_next()
        w = tf.Variable(tf.zeros([3, 1]))
        b = tf.Variable(tf.zeros([1]))
        loss = tf.reduce_mean(tf.square(tf.matmul(xb, w) + b - yb))
        step = tf.train.GradientDescentOptimizer(0.1).minimize(loss)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            steps = len(drain(sess, step))
            got_w, got_b = sess.run([w, b])
            compiled = len(sess._cache)
    assert steps == 60 * 256 // 32
    assert compiled == 3        # the initializer, the step, and the fetch of w and b
    np.testing.assert_allclose(np.vstack([got_w, got_b[:, None]]), want, atol=2e-2)


def test_runs_on_several_threads_take_each_element_once():
    import threading
    with tf.Graph().as_default():
        n = D.range(400).map(lambda v: v * 2).prefetch(4).make_one_shot_iterator().get_next()
        got, errors_seen = [], []
        with tf.Session() as sess:
            def worker():
                try:
                    while True:
                        got.append(int(sess.run(n)))
                except tf.errors.OutOfRangeError:
                    pass
                except Exception as e:      # noqa: BLE001  (reported below)
                    errors_seen.append(e)
            threads = [threading.Thread(target=worker) for _ in range(4)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
    assert not errors_seen
    assert sorted(got) == list(range(0, 800, 2))


@pytest.mark.parametrize("target", ["interpreter", pytest.param("cuda", marks=pytest.mark.slow)])
def test_get_next_feeds_a_step_on_every_target(target, request):
    if target == "cuda":
        request.getfixturevalue("emulated")             # the cuda target on the CPU emulator
    x = np.arange(12, dtype=np.float32).reshape(6, 2)
    with tf.Graph().as_default():
        xb = D.from_tensor_slices(x).map(lambda v: v * 2.0).batch(4).make_one_shot_iterator().get_next()
        total = tf.Variable(0.0)
        step = tf.assign_add(total, tf.reduce_sum(xb))
        with tf.Session(target) as sess:
            sess.run(total.initializer)
            assert drain(sess, step) == [2.0 * x[:4].sum(), 2.0 * x.sum()]
