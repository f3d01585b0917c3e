"""Second derivatives through tf.while_loop (xlite/frontend/while_grad_grad.py): against central
differences of the first derivative on every backend, against TF (control flow v2, which has them) where
it is at hand, and the loops it does not cover."""
import os

import numpy as np
import pytest

import xlite as tf
from tests.io.tf_subprocess import LIVE_TF, run_tf

PROGRAM = """
x = tf1.placeholder(tf1.float64, [2])
c = tf1.placeholder(tf1.float64, [2])
def body(i, v):
    return i + 1, v * c + tf1.sin(v) * tf1.reduce_sum(c * v)
_, y = tf1.while_loop(lambda i, v: i < 3, body, [0, x])
gx, gc = tf1.gradients(tf1.reduce_sum(y * y), [x, c])
first = tf1.reduce_sum(gx * [1.0, 2.0]) + tf1.reduce_sum(gc * [0.5, -1.0])
second = tf1.gradients(first, [x, c])
FEED = {x: [0.3, -0.2], c: [0.7, 1.1]}
"""


@pytest.fixture(autouse=True)
def fresh_graph():
    with tf.Graph().as_default():
        yield


def _program() -> dict:
    names = {"tf1": tf}
    exec(PROGRAM, names)
    return names


@pytest.mark.parametrize("target", ["interpreter", pytest.param("cpu", marks=pytest.mark.slow),
                                    pytest.param("cuda", marks=pytest.mark.slow)])
def test_second_derivative_matches_differences(target, request):
    if target == "cuda":
        request.getfixturevalue("emulated")
    p = _program()
    x, c, feed = p["x"], p["c"], p["FEED"]
    with tf.Session(target=target) as sess:
        got = sess.run(p["second"], feed)
        eps = 1e-6
        for k, t in enumerate((x, c)):
            for e in np.eye(2):
                plus, minus = dict(feed), dict(feed)
                plus[t] = np.add(feed[t], eps * e)
                minus[t] = np.subtract(feed[t], eps * e)
                want = (sess.run(p["first"], plus) - sess.run(p["first"], minus)) / (2 * eps)
                np.testing.assert_allclose(got[k] @ e, want, rtol=1e-6)


@pytest.mark.parametrize("_", [pytest.param(0, marks=LIVE_TF)])
def test_matches_tensorflow(_, tmp_path):
    run_tf("tf1.enable_control_flow_v2()\n" + PROGRAM + """
np.savez(os.path.join(d, "tf.npz"), *tf1.Session().run(second, FEED))
""", tmp_path)
    p = _program()
    with tf.Session(target="cpu") as sess:
        got = sess.run(p["second"], p["FEED"])
    want = np.load(os.path.join(tmp_path, "tf.npz"))
    for k, g in enumerate(got):
        np.testing.assert_allclose(g, want[f"arr_{k}"], rtol=1e-10)


def test_hessians_of_a_loop_that_stops_on_its_values():
    """maximum_iterations bounds the history; the loop's own count (fewer here) drives every sweep."""
    x = tf.placeholder(tf.float64, [])
    _, y = tf.while_loop(lambda i, v: v < 5.0, lambda i, v: (i + 1, v * v + 1.0), [0, x], maximum_iterations=6)
    (h,) = tf.hessians(y, x)
    with tf.Session(target="cpu") as sess:
        for value, steps in ((0.5, 3), (3.0, 1)):     # y = p(x), p the map composed `steps` times
            coefficients = np.polynomial.Polynomial([0.0, 1.0])
            for _ in range(steps):
                coefficients = coefficients ** 2 + 1.0
            np.testing.assert_allclose(sess.run(h, {x: value}), coefficients.deriv(2)(value), rtol=1e-12)


def test_a_fed_trip_count_raises_naming_the_loop():
    x = tf.placeholder(tf.float32, [])
    n = tf.placeholder(tf.int32, [])
    _, z = tf.while_loop(lambda i, v: i < n, lambda i, v: (i + 1, tf.sin(v)), [0, x], name="fed")
    (h,) = tf.hessians(z, x)
    with tf.Session(target="cpu") as sess:
        assert sess.run(tf.gradients(z, x)[0], {x: 0.3, n: 2}) == pytest.approx(np.cos(np.sin(0.3)) * np.cos(0.3))
        with pytest.raises(tf.errors.UnimplementedError, match="second derivative of tf.while_loop 'fed'"):
            sess.run(h, {x: 0.3, n: 2})
