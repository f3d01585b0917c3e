"""ExponentialMovingAverage: shadow values against a NumPy loop (with num_updates and zero_debias), TF's
names and collections, restoring averages through a Saver; against TensorFlow where it imports."""
import numpy as np
import pytest

import xlite as tf

W0 = np.array([[1.0, -2.0, 0.5], [3.0, 0.25, -1.5]], dtype=np.float32)


def _one_minus(decay):
    """TF computes 1 - decay in float32 (its decay tensor's dtype) and casts it to the Variable's dtype."""
    return np.float64(np.float32(1.0) - np.float32(decay))


def _scenario(module, target=None, steps=4):
    """Moves w (float32), b (float64) and a Tensor t between applies; returns the shadows after each apply."""
    w = module.Variable(W0, name="w")
    b = module.Variable(np.float64(3.0), name="b")
    t = module.identity(w * 2.0, name="t")
    n = module.Variable(0, trainable=False, name="n")
    ema = module.train.ExponentialMovingAverage(0.9, num_updates=n, zero_debias=True)
    apply = ema.apply([w, b, t])
    moves = [module.assign(w, w * 1.5 + 1.0), module.assign(b, b - 1.0)]
    fetch = [ema.average(w), ema.average(b), ema.average(t)]
    kwargs = {"target": target} if target is not None else {}
    with module.Session(**kwargs) as sess:
        sess.run(module.global_variables_initializer())
        history = []
        for _ in range(steps):
            sess.run(moves)
            sess.run(apply)
            sess.run(module.assign_add(n, 1))
            history.append(sess.run(fetch))
    return history


def _numpy_scenario(steps=4):
    w, b = W0.astype(np.float64), 3.0
    avg_w, avg_b, biased_t, avg_t = w.copy(), b, np.zeros_like(w), None
    history = []
    for n in range(steps):
        w, b = w * 1.5 + 1.0, b - 1.0
        decay = min(0.9, np.float32((1.0 + n) / (10.0 + n)))
        one_minus = _one_minus(decay)
        avg_w = avg_w - (avg_w - w) * one_minus
        avg_b = avg_b - (avg_b - b) * one_minus
        biased_t = biased_t - (biased_t - 2 * w) * one_minus     # a Tensor's shadow is zero-debiased
        avg_t = biased_t / (1 - (1 - one_minus) ** (n + 1))
        history.append([avg_w, avg_b, avg_t])
    return history


@pytest.mark.parametrize("target", ["cpu", "interpreter"])
def test_shadows_follow_the_numpy_loop(target):
    tf.reset_default_graph()
    got = _scenario(tf, target)
    for g, e in zip(got, _numpy_scenario()):
        np.testing.assert_allclose(g[0], e[0], rtol=2e-6)
        assert g[1].dtype == np.float64 and g[1] == pytest.approx(e[1], rel=1e-12)
        np.testing.assert_allclose(g[2], e[2], rtol=2e-6)


def test_shadows_match_tensorflow():
    tfv1 = pytest.importorskip("tensorflow").compat.v1
    graph = tfv1.Graph()
    with graph.as_default():
        want = _scenario(tfv1)
    tf.reset_default_graph()
    got = _scenario(tf)
    for g, e in zip(got, want):
        for gi, ei in zip(g, e):
            np.testing.assert_allclose(gi, ei, rtol=1e-6)


def test_fixed_decay_after_a_training_step_in_the_same_run():
    """The usual TF1 idiom: the averages update under control_dependencies([train_op]) and read its result."""
    tf.reset_default_graph()
    w = tf.Variable(W0, name="w")
    train = tf.train.GradientDescentOptimizer(0.1).minimize(0.5 * tf.reduce_sum(tf.square(w)))
    ema = tf.train.ExponentialMovingAverage(0.75)
    with tf.control_dependencies([train]):
        step = ema.apply([w])
    want_w, want_avg = W0.astype(np.float64), W0.astype(np.float64)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for _ in range(3):
            sess.run(step)
            want_w = want_w - 0.1 * want_w
            want_avg = want_avg - (want_avg - want_w) * _one_minus(0.75)
            np.testing.assert_allclose(sess.run(w), want_w, rtol=1e-6)
            np.testing.assert_allclose(sess.run(ema.average(w)), want_avg, rtol=1e-6)


def test_names_collections_and_trainability_follow_tf():
    tf.reset_default_graph()
    w = tf.Variable(W0, name="w")
    b = tf.Variable(np.float32(1.0), name="layer/b")
    step = tf.Variable(0, trainable=False, name="step")
    ema = tf.train.ExponentialMovingAverage(0.9)
    assert ema.name == "ExponentialMovingAverage"
    assert ema.average_name(w) == "w/ExponentialMovingAverage" and ema.average(w) is None
    op = ema.apply()                                      # default: the trainable Variables
    assert op.name == "ExponentialMovingAverage" and op.type == "NoOp"
    assert ema.average(w).op.name == "w/ExponentialMovingAverage"
    assert ema.average(b).op.name == "layer/b/ExponentialMovingAverage"
    assert ema.average_name(b) == "layer/b/ExponentialMovingAverage"
    assert not ema.average(w).trainable and ema.average(w) in tf.global_variables()
    assert [v.op.name for v in tf.trainable_variables()] == ["w", "layer/b"]
    assert tf.moving_average_variables() == [w, b]
    assert tf.get_collection(tf.GraphKeys.MOVING_AVERAGE_VARIABLES) == [w, b]
    other = tf.train.ExponentialMovingAverage(0.5, name="Slow")
    assert other.apply([w]).name == "Slow" and other.average(w).op.name == "w/Slow"
    again = tf.train.ExponentialMovingAverage(0.5)
    again.apply([w])
    assert again.average(w).op.name == "w/ExponentialMovingAverage_1"
    assert ema.variables_to_restore() == {"w/ExponentialMovingAverage": w, "layer/b/ExponentialMovingAverage": b,
                                          "step": step, "w/Slow": other.average(w),
                                          "w/ExponentialMovingAverage_1": again.average(w)}


def test_variables_to_restore_loads_the_averages_through_a_saver(tmp_path):
    tf.reset_default_graph()
    w = tf.Variable(W0, name="w")
    ema = tf.train.ExponentialMovingAverage(0.5)
    apply = ema.apply([w])
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(tf.assign(w, W0 + 4.0))
        sess.run(apply)
        averaged = sess.run(ema.average(w))
        path = tf.train.Saver().save(sess, str(tmp_path / "model.ckpt"))
    np.testing.assert_allclose(averaged, W0 + 2.0)
    tf.reset_default_graph()
    w = tf.Variable(np.zeros_like(W0), name="w")
    restore = tf.train.Saver(tf.train.ExponentialMovingAverage(0.5).variables_to_restore())
    with tf.Session() as sess:
        restore.restore(sess, path)
        np.testing.assert_array_equal(sess.run(w), averaged)


def test_non_float_variables_are_a_type_error():
    tf.reset_default_graph()
    counter = tf.Variable(np.int32(0), name="counter")
    with pytest.raises(TypeError, match="must be half, float, or double: counter:0"):
        tf.train.ExponentialMovingAverage(0.9).apply([counter])


@pytest.mark.parametrize("num_updates,decay", [(0, 0.1), (5, 6 / 15), (1000, 0.9)])
def test_num_updates_caps_the_decay(num_updates, decay):
    tf.reset_default_graph()
    v = tf.Variable(np.float32(0.0), name="v")
    ema = tf.train.ExponentialMovingAverage(0.9, num_updates=num_updates)
    apply = ema.apply([v])
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(tf.assign(v, 10.0))
        sess.run(apply)
        assert sess.run(ema.average(v)) == pytest.approx(10.0 * _one_minus(decay), rel=1e-6)
