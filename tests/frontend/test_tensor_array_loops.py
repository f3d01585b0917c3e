"""Dynamic-size TensorArrays written in tf.while_loops without maximum_iterations (the loop runs on the host,
runtime/host_loops.py): values against TF (one program text, run by xlite here and by TF in a subprocess where
it is at hand), on the interpreter, cpu and the emulated cuda target, and the gaps that raise."""

import numpy as np
import pytest

import xlite as tf
from tests.io.tf_subprocess import LIVE_TF, tf_values

PROGRAM = """
n = tf1.placeholder(tf1.int32, [], name="n")
x = tf1.placeholder(tf1.float32, [3], name="x")
v = tf1.placeholder(tf1.float32, [None], name="v")
def scaled(i, ta):
    return i + 1, ta.write(i, x * tf1.cast(i, tf1.float32))
_, rows = tf1.while_loop(lambda i, ta: i < n, scaled, [0, tf1.TensorArray(tf1.float32, size=0, dynamic_size=True)])
first = tf1.TensorArray(tf1.float32, size=1, dynamic_size=True, clear_after_read=False).write(0, x)
def doubled(i, ta):
    return i + 1, ta.write(i, ta.read(i - 1) * 2.0)
_, powers = tf1.while_loop(lambda i, ta: tf1.reduce_sum(ta.read(i - 1)) < 50.0 * tf1.cast(n, tf1.float32),
                           doubled, [1, first])
def two(i, a, b):
    return i + 1, a.write(i, v + tf1.cast(i, tf1.float32)), b.write(i, tf1.reduce_sum(v) * tf1.cast(i, tf1.float32))
_, a, b = tf1.while_loop(lambda i, a, b: i < n, two,
                         [0, tf1.TensorArray(tf1.float32, size=0, dynamic_size=True),
                          tf1.TensorArray(tf1.float32, size=0, dynamic_size=True, element_shape=[])])
m = tf1.placeholder(tf1.int32, [], name="m")
def pair(i, ta):
    return i + 1, ta.write(2 * i, [tf1.cast(i, tf1.float32)]).write(2 * i + 1, [-tf1.cast(i, tf1.float32)])
_, pairs = tf1.while_loop(lambda i, ta: i < n, pair,
                          [0, tf1.TensorArray(tf1.float32, size=0, dynamic_size=True, clear_after_read=False)])
_, sized = tf1.while_loop(lambda i, ta: i < n, lambda i, ta: (i + 1, ta.write(i, tf1.cast(i, tf1.float32) + 1.0)),
                          [0, tf1.TensorArray(tf1.float32, size=2, dynamic_size=True)])
_, capped = tf1.while_loop(lambda i, ta: i < n, lambda i, ta: (i + 1, ta.write(i, i * 10)),
                           (0, tf1.TensorArray(tf1.int32, size=0, dynamic_size=True)), maximum_iterations=m)
def outer(j, acc):
    _, inner = tf1.while_loop(lambda i, ta: i < j, lambda i, ta: (i + 1, ta.write(i, tf1.cast(i, tf1.float32))),
                              [0, tf1.TensorArray(tf1.float32, size=0, dynamic_size=True)])
    return j + 1, acc + tf1.reduce_sum(inner.stack()) + tf1.cast(inner.size(), tf1.float32)
_, nested = tf1.while_loop(lambda j, acc: j < n, outer, [0, 0.0])
def inner_pairs(j, ta):
    return j + 1, tf1.while_loop(lambda i, ta: i < 2, lambda i, ta: (i + 1, ta.write(2 * j + i, 10 * j + i)), [0, ta])[1]
_, grown_inside = tf1.while_loop(lambda j, ta: j < n, inner_pairs,
                                 [0, tf1.TensorArray(tf1.int32, size=0, dynamic_size=True)])
def appends(j, ta):
    return j + 1, tf1.while_loop(lambda i, ta: i < j, lambda i, ta: (i + 1, ta.write(ta.size(), i)), [0, ta])[1]
_, triangle = tf1.while_loop(lambda j, ta: j < n, appends, [0, tf1.TensorArray(tf1.int32, size=0, dynamic_size=True)])
FETCHES = [rows.stack(), rows.size(), powers.stack(), powers.size(), a.concat(), b.gather([0, 2]), a.size(),
           pairs.stack(), pairs.gather([1, 0]), pairs.size(), sized.stack(), capped.stack(), nested,
           grown_inside.stack(), triangle.stack()]
FEEDS = [{n: 3, x: [1.0, 2.0, 3.0], v: [1.0, -1.0], m: 2}, {n: 5, x: [0.5, -1.0, 4.0], v: [2.0], m: 9}]
"""


@pytest.fixture(autouse=True)
def fresh_graph():
    with tf.Graph().as_default():
        yield


def _xlite_results(target, feeds=2) -> list:
    names = {"tf1": tf}
    exec(PROGRAM, names)
    with tf.Session(target=target) as sess:
        return [sess.run(names["FETCHES"], feed) for feed in names["FEEDS"][:feeds]]


def _expected() -> list:
    """The program's values written out (TF 2.21 gives these; test_matches_tensorflow checks it live)."""
    out = []
    for n, x, v, m in [(3, [1.0, 2.0, 3.0], [1.0, -1.0], 2), (5, [0.5, -1.0, 4.0], [2.0], 9)]:
        x, v = np.array(x, np.float32), np.array(v, np.float32)
        rows = np.array([x * i for i in range(n)], np.float32)
        powers = [x]
        while powers[-1].sum() < 50.0 * n:
            powers.append(powers[-1] * 2)
        a = np.concatenate([v + i for i in range(n)])
        b = np.array([v.sum() * i for i in (0, 2)], np.float32)
        pairs = np.array([[s * i] for i in range(n) for s in (1, -1)], np.float32)
        sized = np.arange(1, max(n, 2) + 1, dtype=np.float32) * (np.arange(max(n, 2)) < n)
        capped = np.arange(min(n, m), dtype=np.int32) * 10
        nested = sum(j * (j - 1) / 2 + j for j in range(n))
        grown_inside = np.array([10 * j + i for j in range(n) for i in range(2)], np.int32)
        triangle = np.array([i for j in range(n) for i in range(j)], np.int32)
        out.append([rows, n, np.array(powers), len(powers), a, b, n, pairs, pairs[[1, 0]], 2 * n, sized, capped,
                    nested, grown_inside, triangle])
    return out


@pytest.mark.parametrize("target, feeds", [("interpreter", 1), pytest.param("cpu", 2, marks=pytest.mark.slow)])
def test_values(target, feeds):
    for got, want in zip(_xlite_results(target, feeds), _expected()):
        for g, w in zip(got, want):
            assert np.shape(g) == np.shape(w)
            np.testing.assert_allclose(g, w, rtol=1e-6)


@pytest.mark.parametrize("_", [pytest.param(0, marks=LIVE_TF)])
def test_matches_tensorflow(_, tmp_path):
    want = tf_values(PROGRAM, tmp_path)
    got = _xlite_results("cpu")
    assert len(want) == len(got)
    for g_feed, w_feed in zip(got, want):
        for g, w in zip(g_feed, w_feed):
            assert np.shape(g) == w.shape and np.asarray(g).dtype == w.dtype
            np.testing.assert_allclose(g, w, rtol=1e-6)


def _appended(n):
    """[0, 1, ..., n-1] as float32 rows of one, written into a dynamic-size array in a loop bounded by n."""
    ta = tf.TensorArray(tf.float32, size=0, dynamic_size=True)
    return tf.while_loop(lambda i, ta: i < n, lambda i, ta: (i + 1, ta.write(i, [tf.cast(i, tf.float32)])),
                         [0, ta])[1]


@pytest.mark.slow
def test_cuda_emulated(emulated):
    n = tf.placeholder(tf.int32, [])
    stacked = _appended(n).stack() * 2.0
    with tf.Session(target="cuda") as sess:
        assert [sess.run(stacked, {n: k}).ravel().tolist() for k in (0, 2, 3)] == [[], [0.0, 2.0], [0.0, 2.0, 4.0]]


@pytest.mark.slow
def test_one_compile_per_signature(monkeypatch):
    """On cpu the buffer's growing dim is a symbol: more trip counts compile nothing new."""
    from xlite.runtime import driver
    compiles = []
    real = driver.compile
    monkeypatch.setattr(driver, "compile", lambda *a, **k: compiles.append(1) or real(*a, **k))
    n = tf.placeholder(tf.int32, [])
    stacked = _appended(n).stack()
    with tf.Session(target="cpu") as sess:
        assert sess.run(stacked, {n: 3}).ravel().tolist() == [0.0, 1.0, 2.0]
        first = len(compiles)
        assert [len(sess.run(stacked, {n: k})) for k in (5, 9, 2)] == [5, 9, 2]
        assert len(compiles) == first


def test_gaps_raise():
    n = tf.placeholder(tf.int32, [])
    with pytest.raises(tf.errors.UnimplementedError, match="TensorArray.stack of 'TensorArray'.*inside a"):
        tf.while_loop(lambda i, ta: i < n, lambda i, ta: (i + 1, ta.write(i, ta.stack()[0])), [0, _fresh()])

    _, skipping = tf.while_loop(lambda i, ta: i < n, lambda i, ta: (i + 1, ta.write(2 * i, [1.0])), [0, _fresh()])
    with tf.Session(target="interpreter") as sess:
        assert sess.run(skipping.stack(), {n: 1}).tolist() == [[1.0]]
        with pytest.raises(tf.errors.InvalidArgumentError, match="may skip no index"):
            sess.run(skipping.stack(), {n: 3})


def test_in_a_branch_raises_naming_the_array():
    p = tf.placeholder(tf.bool, [])
    branched = tf.cond(p, lambda: tf.reduce_sum(_appended(3).stack()), lambda: 0.0)
    with tf.Session(target="interpreter") as sess:
        with pytest.raises(tf.errors.UnimplementedError, match="TensorArray 'TensorArray'.*inside a tf.cond branch"):
            sess.run(branched, {p: True})


def _fresh():
    return tf.TensorArray(tf.float32, size=0, dynamic_size=True, element_shape=[1])
