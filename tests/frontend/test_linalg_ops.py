"""linspace, eye, the diagonal ops, matrix_band_part, trace and norm against NumPy (and TF where it imports)."""
import numpy as np
import pytest

import xlite as tf
from tiers import slow_except
import gradcheck

RNG = np.random.default_rng(11)
TARGETS = ["cpu", pytest.param("interpreter", marks=pytest.mark.slow)]      # the quick tier runs cpu only


def run(fetches, feed=None, target="interpreter"):
    with tf.Session(target=target) as s:
        return s.run(fetches, feed)


def band(a, lower, upper):
    i, j = np.indices(a.shape[-2:])
    keep = ((lower < 0) | (i - j <= lower)) & ((upper < 0) | (j - i <= upper))
    return np.where(keep, a, 0)


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("shape", [(0, 0), (1, 1), (3, 5), (2, 4, 3)])
def test_matrix_ops_match_numpy(shape, target):
    a = RNG.normal(size=shape)
    x = tf.placeholder(tf.float64, [None] * len(shape))
    k = min(shape[-2:])
    diag_part = np.diagonal(a, axis1=-2, axis2=-1)
    fetches = [tf.linalg.diag_part(x), tf.linalg.trace(x), tf.matrix_band_part(x, 1, 0), tf.linalg.band_part(x, -1, 2),
               tf.linalg.diag(x)]
    got = run(fetches, {x: a}, target)
    np.testing.assert_allclose(got[0], diag_part[..., :k])
    np.testing.assert_allclose(got[1], np.trace(a, axis1=-2, axis2=-1))
    np.testing.assert_array_equal(got[2], band(a, 1, 0))
    np.testing.assert_array_equal(got[3], band(a, -1, 2))
    want = np.zeros(a.shape + a.shape[-1:])
    idx = np.arange(a.shape[-1])
    want[..., idx, idx] = a
    np.testing.assert_array_equal(got[4], want)


def test_static_shapes_and_dtypes():
    x = tf.placeholder(tf.float32, [None, 3, 4])
    assert tf.linalg.diag_part(x).shape.as_list() == [None, 3]
    assert tf.trace(x).shape.as_list() == [None]
    assert tf.matrix_band_part(x, 1, -1).shape.as_list() == [None, 3, 4]
    assert tf.linalg.diag(x).shape.as_list() == [None, 3, 4, 4]
    assert tf.diag(x).shape.as_list() == [None, 3, 4, None, 3, 4]
    assert tf.eye(tf.shape(x)[1]).shape.as_list() == [3, 3]
    t = tf.trace(np.arange(6).reshape(2, 3))
    assert t.dtype == tf.int64 and t.name == "Trace_1:0" and run(t) == 4
    with pytest.raises(ValueError, match="even and non-zero rank"):
        tf.diag_part([1, 2])
    with pytest.raises(ValueError, match="Dimensions must be equal"):
        tf.diag_part(np.ones((2, 3)))
    with pytest.raises(TypeError, match="num_lower"):
        tf.matrix_band_part(x, 1.5, 0)


@pytest.mark.parametrize("target", TARGETS)
def test_tf1_diag_and_diag_part(target):
    a = RNG.normal(size=(2, 3))
    d = tf.diag(a)
    got = run([d, tf.diag_part(d)], target=target)
    np.testing.assert_array_equal(got[0], np.diag(a.ravel()).reshape(2, 3, 2, 3))
    np.testing.assert_array_equal(got[1], a)


@pytest.mark.parametrize("target", TARGETS)
def test_eye(target):
    got = run([tf.eye(3), tf.eye(2, 3, [2], tf.int32), tf.eye(0), tf.eye(1, 4, dtype=tf.float64)], target=target)
    np.testing.assert_array_equal(got[0], np.eye(3, dtype=np.float32))
    assert got[1].dtype == np.int32
    np.testing.assert_array_equal(got[1], np.broadcast_to(np.eye(2, 3), (2, 2, 3)))
    assert got[2].shape == (0, 0)
    np.testing.assert_array_equal(got[3], np.eye(1, 4))


@pytest.mark.parametrize("target", TARGETS)
def test_linspace(target):
    cases = [(0.0, 1.0, 5), (1.0, 3.0, 1), (1.0, 3.0, 0), (-2.5, 7.0, 7), (0, 3, 4)]
    tensors = [tf.linspace(a, b, n) for a, b, n in cases]
    assert tensors[-1].dtype == tf.float64 and tensors[0].dtype == tf.float32
    assert tf.lin_space is tf.linspace
    for t, (a, b, n), got in zip(tensors, cases, run(tensors, target=target)):
        assert t.shape.as_list() == [n]
        np.testing.assert_allclose(got, np.linspace(a, b, n), rtol=1e-6)
        if n > 1:
            assert got[-1] == b
    nd = tf.linspace([0.0, 1.0], [1.0, 3.0], 3, axis=-1)
    assert nd.shape.as_list() == [2, 3]
    np.testing.assert_allclose(run(nd, target=target), np.linspace([0.0, 1.0], [1.0, 3.0], 3, axis=-1))
    with pytest.raises(TypeError, match="num"):
        tf.linspace(0.0, 1.0, 2.5)


NORMS = [("euclidean", None, lambda a: np.sqrt(np.sum(a * a))), (1, -1, lambda a: np.abs(a).sum(-1)),
         (np.inf, 0, lambda a: np.abs(a).max(0)), (3, 1, lambda a: (np.abs(a) ** 3).sum(1) ** (1 / 3)),
         ("fro", (0, 1), lambda a: np.linalg.norm(a, "fro")), (1, (0, 1), lambda a: np.linalg.norm(a, 1)),
         (np.inf, [0, 1], lambda a: np.linalg.norm(a, np.inf)), (2, 1, lambda a: np.linalg.norm(a, 2, axis=1))]


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize(*slow_except("ord_,axis,ref", NORMS, every=2))
def test_norm_matches_numpy(ord_, axis, ref, target):
    a = RNG.normal(size=(3, 5))
    x = tf.placeholder(tf.float64, [None, 5])
    y = tf.norm(x, ord=ord_, axis=axis)
    kept = tf.norm(x, ord=ord_, axis=axis, keepdims=True)
    got, got_kept = run([y, kept], {x: a}, target)
    np.testing.assert_allclose(got, ref(a), rtol=1e-12)
    assert got_kept.ndim == 2 and got_kept.size == np.size(ref(a))


def test_norm_errors_and_shapes():
    x = tf.placeholder(tf.float32, [None, 3, 4])
    assert tf.norm(x).shape.as_list() == []
    assert tf.norm(x, axis=[1, 2]).shape.as_list() == [None]
    assert tf.norm(x, ord=1, axis=-1, keepdims=True).shape.as_list() == [None, 3, 1]
    with pytest.raises(ValueError, match="supported vector norm"):
        tf.norm(x, ord="fro")
    with pytest.raises(ValueError, match="supported vector norm"):
        tf.norm(x, ord=-1)
    with pytest.raises(tf.errors.UnimplementedError, match="singular value"):
        tf.norm(x, ord=2, axis=[1, 2])
    with pytest.raises(TypeError, match="int32"):
        tf.norm([3, 4])


@pytest.mark.parametrize("fn", [lambda x: tf.linalg.diag_part(x), lambda x: tf.trace(x), lambda x: tf.linalg.diag(x),
                                lambda x: tf.matrix_band_part(x, 0, 1), lambda x: tf.norm(x, axis=-1),
                                lambda x: tf.norm(x, ord=1, axis=[0, 1]), lambda x: tf.norm(x, ord=3),
                                lambda x: tf.diag_part(tf.diag(x))], ids=range(8))
def test_gradients(fn):
    gradcheck.check_grad(fn, RNG.uniform(0.5, 2.0, size=(3, 2)) * RNG.choice([-1, 1], size=(3, 2)),
                         static=False, rng=RNG, target="interpreter")


def test_linspace_gradient():
    gradcheck.check_grad(lambda a, b: tf.linspace(a, b, 4), RNG.normal(size=(2,)), RNG.normal(size=(2,)),
                         rng=RNG, target="interpreter")


def test_compare_with_tensorflow():
    tf1 = pytest.importorskip("tensorflow.compat.v1")
    tf1.disable_eager_execution()
    a = RNG.normal(size=(2, 3, 4)).astype(np.float32)
    builders = [lambda m, x: m.linalg.diag_part(x), lambda m, x: m.trace(x), lambda m, x: m.matrix_band_part(x, 1, -1),
                lambda m, x: m.norm(x, ord=1, axis=[1, 2]), lambda m, x: m.norm(x, axis=-1, keepdims=True),
                lambda m, x: m.eye(3, 4, batch_shape=[2]), lambda m, x: m.linspace(x[0, 0, 0], x[0, 0, 1], 5),
                lambda m, x: m.linalg.diag(x[0])]
    with tf1.Graph().as_default():
        x = tf1.placeholder(tf1.float32, [None, 3, 4])
        outs = [f(tf1, x) for f in builders]
        with tf1.Session() as s:
            theirs = s.run(outs, {x: a})
        their_shapes = [o.shape.as_list() for o in outs]
    x = tf.placeholder(tf.float32, [None, 3, 4])
    outs = [f(tf, x) for f in builders]
    assert [o.shape.as_list() for o in outs] == their_shapes
    for got, want in zip(run(outs, {x: a}), theirs):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
