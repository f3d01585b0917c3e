"""The finite-difference gradient check every gradient test uses."""
import numpy as np
import pytest

import xlite as tf

EPS = 1e-6


def check_grad(fn, *arrays, static=True, rtol=1e-5, atol=1e-6, directions=None, target=None, rng=None, feed=None):
    """tf.gradients of reduce_sum(fn(xs) * w), for a random w, against central differences of the same loss.

    static: True for known shapes, False for unknown dims, None for unknown rank. With `directions`,
    checks <grad, v> along that many random directions v instead of every element (big inputs).
    `feed`: further placeholders fn reads (run-time indices) and their values."""
    rng = rng if rng is not None else np.random.default_rng(0)
    xs = [tf.placeholder(tf.float64, None if static is None else a.shape if static else [None] * a.ndim)
          for a in arrays]
    y = fn(*xs)
    w = tf.placeholder(tf.float64)
    loss = tf.reduce_sum(y * w)
    grads = [g if g is None else tf.convert_to_tensor(g) for g in tf.gradients(loss, xs)]   # IndexedSlices: dense
    feed = {**(feed or {}), **dict(zip(xs, arrays))}
    with tf.Session(target=target or "") as s:
        feed[w] = rng.normal(size=s.run(y, feed).shape)
        analytic = s.run(grads, feed)

        def f(x, value):
            return s.run(loss, {**feed, x: value})

        for x, a, g in zip(xs, arrays, analytic):
            assert g.shape == a.shape and g.dtype == np.float64
            if directions is None:
                numeric = np.zeros_like(a)
                for i in np.ndindex(*a.shape):
                    up, down = a.copy(), a.copy()
                    up[i] += EPS
                    down[i] -= EPS
                    numeric[i] = (f(x, up) - f(x, down)) / (2 * EPS)
                np.testing.assert_allclose(g, numeric, rtol=rtol, atol=atol)
            else:
                for _ in range(directions):
                    v = rng.normal(size=a.shape)
                    numeric = (f(x, a + EPS * v) - f(x, a - EPS * v)) / (2 * EPS)
                    assert np.sum(g * v) == pytest.approx(numeric, rel=rtol, abs=atol)
    return analytic
