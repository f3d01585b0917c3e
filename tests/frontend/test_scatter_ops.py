"""tf.scatter_* on Variables and tf.tensor_scatter_nd_* against NumPy, on the interpreter and the cpu target."""
import numpy as np
import pytest

import xlite as tf
import gradcheck

RNG = np.random.default_rng(5)
TARGETS = ["interpreter", "cpu"]


def _run(target, fetches, init=True, feed=None):
    with tf.Session(target=target) as s:
        if init:
            s.run(tf.global_variables_initializer())
        return s.run(fetches, feed)


@pytest.mark.parametrize("target", TARGETS)
def test_variable_scatters_update_in_order(target):
    start = RNG.normal(size=(5, 2)).astype(np.float32)
    upd = RNG.normal(size=(3, 2)).astype(np.float32)
    with tf.Graph().as_default():
        v = tf.Variable(start)
        added = tf.scatter_add(v, [1, 4, 1], upd)
        with tf.control_dependencies([added]):
            subbed = tf.compat.v1.scatter_sub(v, [0, 0, 2], upd)
        with tf.control_dependencies([subbed]):
            updated = tf.scatter_update(v, [3, 1, 3], upd)     # a repeated index: the last write wins
        first, second, third = _run(target, [added, subbed, updated])
    want = start.copy()
    np.add.at(want, [1, 4, 1], upd)
    np.testing.assert_allclose(first, want, rtol=1e-6)
    np.subtract.at(want, [0, 0, 2], upd)
    np.testing.assert_allclose(second, want, rtol=1e-6)
    want[1], want[3] = upd[1], upd[2]
    np.testing.assert_allclose(third, want, rtol=1e-6)
    assert added.op.type == "ScatterAdd" and updated.op.type == "ScatterUpdate"


@pytest.mark.parametrize("target", TARGETS)
def test_scatter_nd_on_variables(target):
    start = np.arange(24, dtype=np.float64).reshape(2, 3, 4)
    with tf.Graph().as_default():
        v = tf.Variable(start)
        updated = tf.scatter_nd_update(v, [[1, 2], [0, 0]], np.ones((2, 4)))
        with tf.control_dependencies([updated]):
            added = tf.scatter_nd_add(v, [[1, 2, 3], [1, 2, 3]], [10.0, 20.0])
        got_update, got_add = _run(target, [updated, added])
    want = start.copy()
    want[1, 2], want[0, 0] = 1, 1
    np.testing.assert_array_equal(got_update, want)
    want[1, 2, 3] += 30
    np.testing.assert_array_equal(got_add, want)


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("n", [0, 1, 7])
def test_tensor_scatter_nd(target, n):
    base = RNG.normal(size=(6, 3))
    idx = RNG.integers(0, 6, size=(n, 1))
    upd = RNG.normal(size=(n, 3))
    with tf.Graph().as_default():
        fetches = [tf.tensor_scatter_nd_add(base, idx, upd), tf.tensor_scatter_nd_sub(base, idx, upd),
                   tf.tensor_scatter_nd_update(base, idx, upd)]
        add, sub, update = _run(target, fetches, init=False)
    want = base.copy()
    np.add.at(want, idx[:, 0], upd)
    np.testing.assert_allclose(add, want)
    want = base.copy()
    np.subtract.at(want, idx[:, 0], upd)
    np.testing.assert_allclose(sub, want)
    want = base.copy()
    for i, row in zip(idx[:, 0], upd):
        want[i] = row
    np.testing.assert_allclose(update, want)


@pytest.mark.parametrize("target", TARGETS)
def test_fed_out_of_range_indices_are_dropped(target):
    with tf.Graph().as_default():
        v = tf.Variable(np.zeros((3, 2), np.float32))
        ids = tf.placeholder(tf.int32, [None])
        out = tf.scatter_add(v, ids, tf.ones([tf.shape(ids)[0], 2]))
        got = _run(target, out, feed={ids: [-1, 2, 3, 1 << 30]})
    np.testing.assert_array_equal(got, [[0, 0], [0, 0], [1, 1]])


def test_constant_out_of_range_indices_raise_when_built():
    with tf.Graph().as_default():
        v = tf.Variable(np.zeros((3, 2), np.float32))
        with pytest.raises(tf.errors.InvalidArgumentError, match=r"indices\[1\] = 3 is not in \[0, 3\)"):
            tf.scatter_update(v, [0, 3], np.ones((2, 2), np.float32))
        with pytest.raises(tf.errors.InvalidArgumentError, match="does not index into shape"):
            tf.tensor_scatter_nd_add(tf.zeros([3, 2]), [[0, 2]], [1.0])


def test_tensor_scatter_gradients_equal_finite_differences():
    idx = [[2], [0], [2]]
    gradcheck.check_grad(lambda t, u: tf.tensor_scatter_nd_add(t, idx, u) * 1.5, RNG.normal(size=(4, 2)),
                         RNG.normal(size=(3, 2)), target="interpreter")
    gradcheck.check_grad(lambda t, u: tf.tensor_scatter_nd_update(t, [[1], [3]], u), RNG.normal(size=(4, 2)),
                         RNG.normal(size=(2, 2)), target="interpreter")

