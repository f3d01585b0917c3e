"""tf.while_loops whose loop variables change shape (xlite/runtime/host_loops.py): values against TF
(one program text, run by xlite here and by TF in a subprocess where it is at hand), one compile per
signature, each op once per run, Variables assigned per iteration, and the gaps that raise."""

import numpy as np
import pytest

import xlite as tf
from tests.io.tf_subprocess import LIVE_TF, tf_values
from xlite.runtime import driver, host_loops

PROGRAM = """
n = tf1.placeholder(tf1.int32, [], name="n")
row = tf1.placeholder(tf1.float32, [3], name="row")
def grow(i, x):
    return i + 1, tf1.concat([x, [tf1.cast(i * i, tf1.float32)]], 0)
_, vec = tf1.while_loop(lambda i, x: i < n, grow, [tf1.constant(0), tf1.zeros([0])],
                        shape_invariants=[tf1.TensorShape([]), tf1.TensorShape([None])])
def add_row(i, m):
    return [i + 1, tf1.concat([m, tf1.expand_dims(row * tf1.cast(i, tf1.float32), 0)], 0)]
_, mat = tf1.while_loop(lambda i, m: tf1.reduce_sum(m) < 1000.0, add_row, [tf1.constant(1), tf1.ones([1, 3])],
                        shape_invariants=[tf1.TensorShape([]), tf1.TensorShape([None, 3])], maximum_iterations=n)
_, dbl = tf1.while_loop(lambda k, x: tf1.size(x) < 5 * n, lambda k, x: (k + 1, tf1.concat([x, x + 1.0], 0)),
                        [tf1.constant(0), tf1.reshape(row[:1], [1])],
                        shape_invariants=[tf1.TensorShape([]), tf1.TensorShape([None])])
after = tf1.reduce_sum(mat, 0) * tf1.reduce_mean(vec) + tf1.cast(tf1.shape(dbl)[0], tf1.float32)
FETCHES = [vec, mat, dbl, after]
FEEDS = [{n: 0, row: [1.0, 2.0, 3.0]}, {n: 4, row: [1.0, -2.0, 0.5]}, {n: 7, row: [30.0, 20.0, 10.0]}]
"""


@pytest.fixture(autouse=True)
def fresh_graph():
    with tf.Graph().as_default():
        yield


def _xlite_results(target) -> list:
    names = {"tf1": tf}
    exec(PROGRAM, names)
    with tf.Session(target=target) as sess:
        return [sess.run(names["FETCHES"], feed) for feed in names["FEEDS"]]


def _expected() -> list:
    """The program's values written out (TF 2.21 gives these; test_matches_tensorflow checks it live)."""
    out = []
    for n, row in [(0, [1.0, 2.0, 3.0]), (4, [1.0, -2.0, 0.5]), (7, [30.0, 20.0, 10.0])]:
        vec = np.array([i * i for i in range(n)], np.float32)
        mat, i = np.ones((1, 3), np.float32), 1
        while i - 1 < n and mat.sum() < 1000:
            mat, i = np.concatenate([mat, [np.float32(i) * np.array(row, np.float32)]]), i + 1
        dbl = np.array([row[0]], np.float32)
        while dbl.size < 5 * n:
            dbl = np.concatenate([dbl, dbl + 1])
        with np.errstate(invalid="ignore"):
            after = mat.sum(0) * (vec.mean() if vec.size else np.float32(np.nan)) + dbl.size
        out.append([vec, mat, dbl, after])
    return out


@pytest.mark.parametrize("target", ["interpreter", pytest.param("cpu", marks=pytest.mark.slow)])
def test_values(target):
    for got, want in zip(_xlite_results(target), _expected()):
        for g, w in zip(got, want):
            assert g.shape == w.shape
            np.testing.assert_allclose(g, w, rtol=1e-6)


@pytest.mark.slow
def test_cuda_emulated(emulated):
    n = tf.placeholder(tf.int32, [])
    _, x = tf.while_loop(lambda i, x: i < n, lambda i, x: (i + 1, tf.concat([x, [tf.cast(i, tf.float32)]], 0)),
                         [0, tf.zeros([0])], shape_invariants=[tf.TensorShape([]), tf.TensorShape([None])])
    with tf.Session(target="cuda") as sess:
        assert [sess.run(x * 2.0, {n: k}).tolist() for k in (2, 3)] == [[0.0, 2.0], [0.0, 2.0, 4.0]]


@pytest.mark.parametrize("_", [pytest.param(0, marks=LIVE_TF)])
def test_matches_tensorflow(_, tmp_path):
    _assert_matches_tensorflow(PROGRAM, _xlite_results("cpu"), tmp_path, rtol=1e-6)


def _assert_matches_tensorflow(program: str, results: list, tmp_path, rtol: float):
    """`results` (one list of fetched values per feed) against TF's run of the same program text."""
    want = tf_values(program, tmp_path)
    assert len(want) == len(results)
    for got, w_feed in zip(results, want):
        for g, w in zip(got, w_feed):
            np.testing.assert_allclose(g, w, rtol=rtol)


def test_one_compile_per_signature(monkeypatch):
    """On cpu the varying sizes are symbols: more trip counts compile nothing new."""
    compiles = []
    real = driver.compile
    monkeypatch.setattr(driver, "compile", lambda *a, **k: compiles.append(1) or real(*a, **k))
    n = tf.placeholder(tf.int32, [])
    _, x = tf.while_loop(lambda i, x: i < n, lambda i, x: (i + 1, tf.concat([x, x[:1] + 1.0], 0)),
                         [0, tf.zeros([1])], shape_invariants=[tf.TensorShape([]), tf.TensorShape([None])])
    total = tf.reduce_sum(x)
    with tf.Session(target="cpu") as sess:
        assert sess.run(total, {n: 2}) == 2.0
        assert sess.run(total, {n: 3}) == 3.0
        first = len(compiles)
        assert [sess.run(total, {n: k}) for k in (5, 9, 4)] == [5.0, 9.0, 4.0]
        assert len(compiles) == first


def test_each_op_runs_once_and_variables_update_per_iteration():
    """A random draw read by the loop and by the rest of the run is the same draw; a Variable the body
    assigns has taken every iteration's assignment."""
    seed = tf.random_uniform([1])
    count = tf.Variable(0.0)

    def body(k, x):
        with tf.control_dependencies([count.assign_add(1.0)]):
            return k + 1, tf.concat([x, seed], 0)
    _, x = tf.while_loop(lambda k, x: k < 4, body, [0, seed],
                         shape_invariants=[tf.TensorShape([]), tf.TensorShape([None])])
    with tf.Session(target="cpu") as sess:
        sess.run(tf.global_variables_initializer())
        drawn, looped = sess.run([seed, x * 1.0])
        np.testing.assert_array_equal(looped, np.repeat(drawn, 5))
        assert sess.run(count) == 4.0


def test_a_loop_keeping_its_shapes_stays_compiled():
    x = tf.placeholder(tf.float32, [2])
    y = tf.while_loop(lambda y: tf.reduce_sum(y) < 10.0, lambda y: y * 2.0, [x],
                      shape_invariants=[tf.TensorShape([None])])
    with tf.Session(target="cpu") as sess:
        assert sess.run(y, {x: [1.0, 1.0]}).tolist() == [8.0, 8.0]
    assert not host_loops.has_loops(tf.get_default_graph())


def test_gaps_raise_naming_the_loop():
    x0 = tf.placeholder(tf.float32, [1])
    _, x = tf.while_loop(lambda k, x: k < 2, lambda k, x: (k + 1, tf.concat([x, x * x], 0)), [0, x0],
                         shape_invariants=[tf.TensorShape([]), tf.TensorShape([None])])
    (g,) = tf.gradients(tf.reduce_sum(x), x0)
    (h,) = tf.gradients(g, x0)
    with tf.Session(target="interpreter") as sess:
        assert sess.run(g, {x0: [1.0]}).tolist() == [9.0]
        with pytest.raises(tf.errors.UnimplementedError, match="the second derivative of tf.while_loop 'while'"):
            sess.run(h, {x0: [1.0]})

    p = tf.placeholder(tf.bool, [])
    branched = tf.cond(p, lambda: tf.reduce_sum(_growing(3)), lambda: 0.0)
    with tf.Session(target="cpu") as sess:
        with pytest.raises(tf.errors.UnimplementedError, match="inside a tf.cond branch"):
            sess.run(branched, {p: True})


def test_a_loop_holding_one_whose_shapes_change_runs_on_the_host():
    _, total = tf.while_loop(lambda j, t: j < 4, lambda j, t: (j + 1, t + tf.reduce_sum(_growing(j))), [0, 0.0])
    with tf.Session(target="interpreter") as sess:
        assert sess.run(total) == 4.0


@pytest.mark.slow
def test_loops_with_varying_shapes_nest():
    _, joined = tf.while_loop(lambda j, a: j < 4, lambda j, a: (j + 1, tf.concat([a, _growing(j)], 0)),
                              [0, tf.zeros([0])], shape_invariants=[tf.TensorShape([]), tf.TensorShape([None])])
    with tf.Session(target="cpu") as sess:
        assert sess.run(joined).tolist() == [0.0, 0.0, 1.0, 0.0, 1.0, 2.0]


def _growing(j):
    """[0, 1, ..., j-1] as float32, grown one element per iteration."""
    return tf.while_loop(lambda k, v: k < j, lambda k, v: (k + 1, tf.concat([v, [tf.cast(k, tf.float32)]], 0)),
                         [0, tf.zeros([0])], shape_invariants=[tf.TensorShape([]), tf.TensorShape([None])])[1]


UNKNOWN_DIMS = """
x = tf1.placeholder(tf1.float32, [None], name="x")
y = tf1.placeholder(tf1.float32, [None], name="y")
summed = tf1.while_loop(lambda a: tf1.reduce_sum(a) < 10.0, lambda a: a + y, [x])
tiled = tf1.reshape(y, [-1, 1]) * tf1.ones([1, 3])
_, rows = tf1.while_loop(lambda i, m: i < 3, lambda i, m: (i + 1, tf1.concat([m, m[-1:] + 1.0], 0)), [0, tiled])
FETCHES = [summed, rows, tf1.reduce_sum(rows, 0)]
FEEDS = [{x: [1.0], y: [4.0]}, {x: [1.0], y: [4.0, 5.0]}, {x: [2.0, 3.0], y: [1.0]}]
"""


def _unknown_dims_results(target) -> tuple:
    names = {"tf1": tf}
    exec(UNKNOWN_DIMS, names)
    assert names["rows"].shape.as_list() == [None, 3]      # shape inference's, no shape_invariants
    with tf.Session(target=target) as sess:
        return [sess.run(names["FETCHES"], feed) for feed in names["FEEDS"]], names


@pytest.mark.parametrize("target", ["interpreter", pytest.param("cpu", marks=pytest.mark.slow)])
def test_loop_variables_entering_with_unknown_dims_change_shape(target):
    """TF accepts a variable whose static shape has unknown dims changing shape without shape_invariants."""
    got, names = _unknown_dims_results(target)
    rows = [np.array([[v] * 3 for v in column]) for column in ([4, 5, 6, 7], [4, 5, 6, 7, 8], [1, 2, 3, 4])]
    want = [[[13.0], rows[0], rows[0].sum(0)], [[5.0, 6.0], rows[1], rows[1].sum(0)],
            [[5.0, 6.0], rows[2], rows[2].sum(0)]]
    for g_feed, w_feed in zip(got, want):
        for g, w in zip(g_feed, w_feed):
            assert g.shape == np.shape(w)
            np.testing.assert_array_equal(g, np.asarray(w, np.float32))
    assert host_loops.has_loops(tf.get_default_graph())
    (grad,) = tf.gradients(tf.reduce_sum(names["summed"]), names["x"])
    with tf.Session(target=target) as sess:     # x [1] + y [2] broadcasts once: d/dx is 2
        assert sess.run(grad, names["FEEDS"][1]).tolist() == [2.0]


@pytest.mark.parametrize("_", [pytest.param(0, marks=LIVE_TF)])
def test_unknown_dims_match_tensorflow(_, tmp_path):
    want = tf_values(UNKNOWN_DIMS, tmp_path)
    assert len(want) == 3
    for got, w_feed in zip(_unknown_dims_results("cpu")[0], want):
        for g, w in zip(got, w_feed):
            assert g.shape == w.shape
            np.testing.assert_allclose(g, w, rtol=1e-6)


def test_loops_with_unknown_dims_keeping_their_shapes_stay_compiled():
    """Unknown dims alone send no loop to the host: a loop over a fed batch, dynamic_rnn over one."""
    x = tf.placeholder(tf.float32, [None, 2])
    doubled = tf.while_loop(lambda y: tf.reduce_sum(y) < 100.0, lambda y: y * 2.0, [x])
    seq = tf.placeholder(tf.float32, [None, 3, 2])
    outputs, _ = tf.nn.dynamic_rnn(tf.nn.rnn_cell.BasicRNNCell(2), seq, dtype=tf.float32)
    (grad,) = tf.gradients(tf.reduce_sum(doubled), x)
    with tf.Session(target="interpreter") as sess:
        sess.run(tf.global_variables_initializer())
        total, g, out = sess.run([tf.reduce_sum(doubled), grad, outputs],
                                 {x: np.ones((3, 2)), seq: np.zeros((4, 3, 2))})
    assert total == 192.0 and (g == 32.0).all() and out.shape == (4, 3, 2)
    assert not host_loops.has_loops(tf.get_default_graph())


GRADIENT = """
n = tf1.placeholder(tf1.int32, [], name="n")
x0 = tf1.placeholder(tf1.float32, [2], name="x0")
w = tf1.placeholder(tf1.float32, [], name="w")
_, x = tf1.while_loop(lambda i, x: i < n, lambda i, x: (i + 1, tf1.concat([x, x[-1:] * w + tf1.sin(x[:1])], 0)),
                      [0, x0], shape_invariants=[tf1.TensorShape([]), tf1.TensorShape([None])])
loss = tf1.reduce_sum(x * x)
FETCHES = [loss] + tf1.gradients(loss, [x0, w])
FEEDS = [{n: k, x0: [0.5, 1.5], w: 0.7} for k in (0, 1, 3)]
"""


def _gradient_results(target) -> list:
    names = {"tf1": tf}
    exec(GRADIENT, names)
    with tf.Session(target=target) as sess:
        return [sess.run(names["FETCHES"], feed) for feed in names["FEEDS"]]


def _grown_loss(x0, w, n: int) -> float:
    """GRADIENT's loss in float64 NumPy."""
    x = np.array(x0, np.float64)
    for _ in range(n):
        x = np.concatenate([x, x[-1:] * w + np.sin(x[:1])])
    return float((x * x).sum())


@pytest.mark.parametrize("target", ["interpreter", pytest.param("cpu", marks=pytest.mark.slow)])
def test_gradient_through_a_growing_loop_equals_finite_differences(target):
    """The backward loop runs on the host too: one run of the body's VJP per iteration, in reverse."""
    eps, x0, w = 1e-5, np.array([0.5, 1.5]), 0.7
    for (loss, gx, gw), n in zip(_gradient_results(target), (0, 1, 3)):
        want_x = [(_grown_loss(x0 + eps * e, w, n) - _grown_loss(x0 - eps * e, w, n)) / (2 * eps) for e in np.eye(2)]
        want_w = (_grown_loss(x0, w + eps, n) - _grown_loss(x0, w - eps, n)) / (2 * eps)
        np.testing.assert_allclose(loss, _grown_loss(x0, w, n), rtol=1e-5)
        np.testing.assert_allclose(gx, want_x, rtol=1e-4)
        np.testing.assert_allclose(gw, want_w, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("_", [pytest.param(0, marks=LIVE_TF)])
def test_gradient_through_a_growing_loop_matches_tensorflow(_, tmp_path):
    _assert_matches_tensorflow(GRADIENT, _gradient_results("cpu"), tmp_path, rtol=1e-5)


def test_gradient_through_a_growing_tensor_array():
    """A TensorArray(dynamic_size=True) grown by a loop with a fed bound: stack()'s gradient w.r.t. a captured
    tensor sums over the iterations; the gradient alone (the loop's outputs not fetched) runs the loop too."""
    n = tf.placeholder(tf.int32, [])
    w = tf.placeholder(tf.float32, [2])
    _, ta = tf.while_loop(lambda i, ta: i < n,
                          lambda i, ta: (i + 1, ta.write(i, w * tf.cast(i + 1, tf.float32) + tf.sin(w))),
                          [0, tf.TensorArray(tf.float32, size=0, dynamic_size=True)])
    stacked = ta.stack()
    (grad,) = tf.gradients(tf.reduce_sum(stacked * stacked), w)
    w_value = np.array([0.5, -1.5])
    with tf.Session(target="interpreter") as sess:
        for k in (0, 1, 3):
            want = sum(2 * (w_value * (i + 1) + np.sin(w_value)) * (i + 1 + np.cos(w_value)) for i in range(k))
            np.testing.assert_allclose(sess.run(grad, {n: k, w: w_value}), want + np.zeros(2), rtol=1e-5)
        assert sess.run(stacked, {n: 2, w: w_value}).shape == (2, 2)


def test_gradient_without_the_loops_outputs_and_of_a_nested_loop():
    """A run fetching only the gradient (grad_ys fed) runs the forward loop for its history; a loop holding
    one whose shapes change differentiates through it (both run on the host)."""
    x0, grad_ys, v = tf.placeholder(tf.float32, [1]), tf.placeholder(tf.float32, [None]), tf.placeholder(tf.float32, [])
    _, x = tf.while_loop(lambda k, x: k < 2, lambda k, x: (k + 1, tf.concat([x, x * 2.0], 0)), [0, x0],
                         shape_invariants=[tf.TensorShape([]), tf.TensorShape([None])])
    (gx,) = tf.gradients(x, x0, grad_ys=grad_ys)
    _, total = tf.while_loop(lambda j, t: j < 4, lambda j, t: (j + 1, t + tf.reduce_sum(_growing(j) * v * v)), [0, 0.0])
    (gv,) = tf.gradients(total, v)
    with tf.Session(target="interpreter") as sess:
        assert sess.run(gx, {x0: [1.0], grad_ys: [1.0, 0.0, 0.0, 10.0]}).tolist() == [41.0]
        assert sess.run([total, gv], {v: 2.0}) == [16.0, 16.0]      # 4 v^2 and 8 v


def test_gradient_reuses_the_bodys_random_draws():
    """The backward loop runs the body's ops again on the numbers the forward iterations drew."""
    x0 = tf.placeholder(tf.float32, [1])
    _, x = tf.while_loop(lambda k, x: k < 3, lambda k, x: (k + 1, tf.concat([x, x[-1:] * tf.random_uniform([1])], 0)),
                         [0, x0], shape_invariants=[tf.TensorShape([]), tf.TensorShape([None])])
    (g,) = tf.gradients(tf.reduce_sum(x), x0)
    with tf.Session(target="interpreter") as sess:
        grown, grad = sess.run([x, g], {x0: [2.0]})
    np.testing.assert_allclose(grad, [grown.sum() / 2.0], rtol=1e-6)     # linear in x0
