"""tf.map_fn, tf.scan, tf.foldl, tf.foldr against NumPy loops; gradients by finite differences (cpu, interpreter)."""
import numpy as np
import pytest

import gradcheck
import xlite as tf

RNG = np.random.default_rng(11)
X = RNG.standard_normal((5, 3)).astype(np.float32)
TARGETS = pytest.mark.parametrize("target", ["cpu", "interpreter"])


def run(fetches, target="cpu"):
    with tf.Session(target=target) as s:
        return s.run(fetches)


@TARGETS
def test_map_fn_values_and_structures(target):
    x = tf.constant(X)
    ints = tf.constant(np.arange(5, dtype=np.int32))
    sq = tf.map_fn(lambda r: tf.reduce_sum(r * r), x)
    pair = tf.map_fn(lambda t: (t[0] * 2.0, t[1] + 1), (x, ints), dtype=(tf.float32, tf.int32))
    spec = tf.map_fn(lambda r: {"a": r[0]}, x, fn_output_signature={"a": tf.TensorSpec([], tf.float32)})
    assert sq.shape.as_list() == [5]
    got = run([sq, pair, spec], target=target)
    np.testing.assert_allclose(got[0], (X * X).sum(1), rtol=1e-6)
    np.testing.assert_allclose(got[1][0], X * 2)
    np.testing.assert_array_equal(got[1][1], np.arange(1, 6))
    np.testing.assert_array_equal(got[2]["a"], X[:, 0])


def _scan(fn, xs, a=None, reverse=False):
    order = xs[::-1] if reverse else xs
    out = []
    for k, r in enumerate(order):
        a = r if a is None and k == 0 else fn(a, r)
        out.append(a)
    return np.array(out[::-1] if reverse else out)


@TARGETS
def test_scan_and_folds(target):
    x = tf.constant(X)
    ops = [tf.scan(lambda a, r: a + r, x),
           tf.scan(lambda a, r: a * 0.5 + r, x, initializer=tf.zeros([3]), reverse=True),
           tf.foldl(lambda a, r: a * 2.0 + r, x),
           tf.foldr(lambda a, r: a * 2.0 + r, x, initializer=tf.ones([3]))]
    got = run(ops, target=target)
    np.testing.assert_allclose(got[0], np.cumsum(X, 0), rtol=1e-5)
    np.testing.assert_allclose(got[1], _scan(lambda a, r: a * 0.5 + r, X, np.zeros(3, np.float32), True), rtol=1e-5)
    np.testing.assert_allclose(got[2], _scan(lambda a, r: a * 2 + r, X)[-1], rtol=1e-5)
    np.testing.assert_allclose(got[3], _scan(lambda a, r: a * 2 + r, X, np.ones(3, np.float32), True)[0], rtol=1e-5)


@pytest.mark.parametrize("static", [True, False])   # False: the trip count is the fed batch size
def test_gradients_against_finite_differences(static):
    def functional(x):
        return (tf.reduce_sum(tf.map_fn(lambda r: tf.sin(r) * r, x)) +
                tf.reduce_sum(tf.scan(lambda a, r: a * r, x) ** 2) +
                tf.reduce_sum(tf.foldr(lambda a, r: tf.tanh(a + r), x, initializer=tf.zeros([2], tf.float64))))
    gradcheck.check_grad(functional, RNG.standard_normal((3, 2)), static=static, target="interpreter")


def test_empty_and_single_element_inputs():
    empty, one = tf.zeros([0, 3]), tf.constant([[1.0, 2.0]])
    got = run([tf.map_fn(lambda r: r * 2.0, empty), tf.scan(lambda a, r: a + r, empty, initializer=tf.zeros([3])),
               tf.foldl(lambda a, r: a + r, empty, initializer=tf.ones([3])), tf.foldr(lambda a, r: a * r, one),
               tf.scan(lambda a, r: a + r, one)])
    assert got[0].shape == (0, 3) and got[1].shape == (0, 3)
    np.testing.assert_array_equal(got[2], [1, 1, 1])
    np.testing.assert_array_equal(got[3], [1, 2])
    np.testing.assert_array_equal(got[4], [[1, 2]])


def test_back_prop_false_and_errors():
    x = tf.constant(X)
    assert tf.gradients(tf.reduce_sum(tf.map_fn(lambda r: r * r, x, back_prop=False)), [x]) == [None]
    with pytest.raises(ValueError, match="scalars"):
        tf.map_fn(lambda r: r, tf.constant(1.0))
    with pytest.raises(ValueError, match="same first dimension"):
        tf.map_fn(lambda t: t[0], (x, tf.zeros([4])), dtype=tf.float32)
    assert tf.compat.v1.map_fn is tf.map_fn and tf.compat.v1.foldl is tf.foldl
