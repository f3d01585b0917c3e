"""tf.GradientTape against NumPy derivatives and finite differences, and TF's documented behaviours."""
import numpy as np
import pytest

import xlite as tf


def test_watched_tensor_and_trainable_variable(target):
    x = tf.constant(3.0)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = x * x
    assert float(tape.gradient(y, x)) == 6.0
    a = np.array([0.3, -1.2, 2.0], np.float32)
    v = tf.Variable(a)
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(v * v + tf.sin(v) * tf.exp(-v))
    want = 2 * a + np.cos(a) * np.exp(-a) - np.sin(a) * np.exp(-a)
    np.testing.assert_allclose(tape.gradient(loss, v).numpy(), want, rtol=1e-5)
    assert tape.watched_variables() == (v,)


def test_matches_finite_differences_on_an_mlp(target):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((5, 4)).astype(np.float64)
    w0 = rng.standard_normal((4, 3)).astype(np.float64)
    b0 = rng.standard_normal(3).astype(np.float64)
    w, b = tf.Variable(w0), tf.Variable(b0)

    def loss_of(wv, bv):
        h = np.tanh(x @ wv + bv)
        return np.mean(h ** 2)
    with tf.GradientTape() as tape:
        h = tf.tanh(tf.matmul(tf.constant(x), w) + b)
        loss = tf.reduce_mean(h * h)
    gw, gb = tape.gradient(loss, [w, b])
    assert abs(float(loss) - loss_of(w0, b0)) < 1e-12
    eps = 1e-6
    for (i, j) in [(0, 0), (3, 2), (1, 1)]:
        d = np.zeros_like(w0)
        d[i, j] = eps
        fd = (loss_of(w0 + d, b0) - loss_of(w0 - d, b0)) / (2 * eps)
        assert abs(float(gw[i, j]) - fd) < 1e-7
    fd = (loss_of(w0, b0 + [eps, 0, 0]) - loss_of(w0, b0 - [eps, 0, 0])) / (2 * eps)
    assert abs(float(gb[0]) - fd) < 1e-7


def test_persistent_and_non_persistent(eager):
    x = tf.constant(2.0)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        y = x * x
        z = y * y
    assert float(tape.gradient(z, x)) == 32.0 and float(tape.gradient(y, x)) == 4.0
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = x * x
    tape.gradient(y, x)
    with pytest.raises(RuntimeError, match="non-persistent GradientTape can only be used"):
        tape.gradient(y, x)


def test_nested_tapes_give_second_derivatives(target):
    x = tf.constant(1.5)
    with tf.GradientTape() as outer:
        outer.watch(x)
        with tf.GradientTape() as inner:
            inner.watch(x)
            y = x * x * x + tf.sin(x)
        dy = inner.gradient(y, x)
    d2y = outer.gradient(dy, x)
    np.testing.assert_allclose(float(dy), 3 * 1.5 ** 2 + np.cos(1.5), rtol=1e-6)
    np.testing.assert_allclose(float(d2y), 6 * 1.5 - np.sin(1.5), rtol=1e-6)


def test_stop_recording_and_stop_gradient(eager):
    x = tf.constant(2.0)
    with tf.GradientTape() as tape:
        tape.watch(x)
        with tape.stop_recording():
            c = x * 5.0
        y = c * x + tf.stop_gradient(x * x) * x
    assert float(tape.gradient(y, x)) == 10.0 + 4.0


def test_unconnected_sources_output_gradients_and_structures(eager):
    x, u = tf.constant([1.0, 2.0]), tf.constant(3.0)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        tape.watch(u)
        y = x * 3.0
    assert tape.gradient(y, [x, u])[1] is None
    zero = tape.gradient(y, {"a": x, "b": [u]}, unconnected_gradients=tf.UnconnectedGradients.ZERO)
    assert float(zero["b"][0]) == 0.0 and zero["a"].numpy().tolist() == [3.0, 3.0]
    weighted = tape.gradient(y, x, output_gradients=tf.constant([1.0, -2.0]))
    assert weighted.numpy().tolist() == [3.0, -6.0]


def test_unwatched_values_and_accessed_variables(eager):
    x = tf.constant(1.0)
    v = tf.Variable(2.0)
    frozen = tf.Variable(5.0, trainable=False)
    with tf.GradientTape() as tape:
        y = x * v * frozen
    gx, gv, gf = tape.gradient(y, [x, v, frozen])
    assert gx is None and float(gv) == 5.0 and gf is None
    with tf.GradientTape(watch_accessed_variables=False) as tape:
        tape.watch(frozen)
        y = v * frozen
    gv, gf = tape.gradient(y, [v, frozen])
    assert gv is None and float(gf) == 2.0


def test_tape_in_graph_mode_is_tf_gradients():
    """Outside eager execution (a trace graph, or any TF1 graph) gradient() is tf.gradients."""
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [3])
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = tf.reduce_sum(x * x * x)
        g = tape.gradient(y, x)
        with tf.Session() as sess:
            got = sess.run(g, {x: [1.0, 2.0, -1.0]})
    np.testing.assert_allclose(got, [3.0, 12.0, 3.0])


def test_tape_inside_tf_function_updates_captured_variables(eager):
    """A tf.function trace: gradient() is tf.gradients on the trace, the Variable its captured VariableV2."""
    v = tf.Variable([1.0, 2.0])
    optimizer = tf.train.GradientDescentOptimizer(0.1)

    @tf.function
    def step(x):
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(v * v * x)
        grads = tape.gradient(loss, [v])
        optimizer.apply_gradients(zip(grads, [v]))
        return loss
    before = v.read_value()
    w = np.array([1.0, 2.0], np.float32)
    for _ in range(2):
        loss = step(tf.constant(3.0))
        np.testing.assert_allclose(float(loss), np.sum(3.0 * w * w), rtol=1e-6)
        w = w - 0.1 * 6.0 * w
        np.testing.assert_allclose(v.numpy(), w, rtol=1e-6)
    np.testing.assert_array_equal(before.numpy(), [1.0, 2.0])       # a read made before keeps its value


def test_against_tensorflow_where_importable(eager):
    """The same program in TensorFlow's eager mode (skipped where TF is not installed; never a dependency)."""
    real = pytest.importorskip("tensorflow")
    a = np.array([[0.5, -1.0], [2.0, 0.3]], np.float32)
    results = []
    for lib in (tf, real):
        x = lib.constant(a)
        with lib.GradientTape() as outer:
            outer.watch(x)
            with lib.GradientTape() as inner:
                inner.watch(x)
                y = lib.reduce_sum(lib.tanh(lib.matmul(x, x)) * x)
            g = inner.gradient(y, x)
            s = lib.reduce_sum(g * g)
        results.append((g.numpy(), outer.gradient(s, x).numpy(), str(lib.constant([[1, 2], [3, 4]]))))
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-4, atol=1e-5)
    assert results[0][2] == results[1][2]


def test_gradients_through_gather_and_eager_control_flow(eager):
    table = np.arange(12, dtype=np.float32).reshape(4, 3)
    emb = tf.Variable(table)
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(tf.square(tf.nn.embedding_lookup(emb, [1, 3, 1])))
    want = np.zeros_like(table)
    for i in [1, 3, 1]:
        want[i] += 2 * table[i]
    np.testing.assert_allclose(tape.gradient(loss, emb).numpy(), want)
    x = tf.constant(2.0)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.while_loop(lambda i, a: i < 3, lambda i, a: (i + 1, a * x), [0, tf.constant(1.0)])[1]
        z = tf.cond(y > 5.0, lambda: y * 2.0, lambda: y)         # the taken branch's ops are recorded
    assert float(z) == 16.0 and float(tape.gradient(z, x)) == 24.0   # d(2x^3)/dx
