"""tf.einsum and tf.tensordot against np.einsum / np.tensordot, their static shapes, errors and gradients."""
import numpy as np
import pytest

import xlite as tf
from tiers import slow_except
import gradcheck

RNG = np.random.default_rng(7)
TARGETS = ["cpu", pytest.param("interpreter", marks=pytest.mark.slow)]      # the quick tier runs cpu only


def run(fetches, feed=None, target="interpreter"):
    with tf.Session(target=target) as s:
        return s.run(fetches, feed)


CASES = [("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]), ("ij->ji", [(3, 1)]), ("ij,jk", [(3, 4), (4, 2)]),
         ("bij->", [(2, 3, 4)]), ("...ij,...jk->...ik", [(2, 1, 3, 4), (5, 4, 2)]), ("i,j->ij", [(3,), (4,)]),
         ("ij,kj->", [(2, 3), (4, 3)]), ("...i,i->...", [(2, 1, 3), (3,)]), ("abc,cd,de->ae", [(2, 3, 4), (4, 5), (5, 6)]),
         ("i,i", [(0,), (0,)]), ("ij,j->i", [(1, 5), (5,)]), ("bi,bi->b", [(3, 2), (3, 2)]), ("ba", [(2, 3)]),
         ("Ab,bC->CA", [(3, 5), (5, 1)])]


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize(*slow_except("equation,shapes", CASES, every=3), ids=[c[0] for c in CASES])
def test_einsum_matches_numpy(equation, shapes, target):
    arrays = [RNG.normal(size=s) for s in shapes]
    ps = [tf.placeholder(tf.float64, [None] * len(s)) for s in shapes]
    y = tf.einsum(equation, *ps)
    want = np.einsum(equation, *arrays)
    assert y.shape.ndims == want.ndim and y.dtype == tf.float64
    assert tf.einsum(equation, *[tf.constant(a) for a in arrays]).shape.as_list() == list(want.shape)
    np.testing.assert_allclose(run(y, dict(zip(ps, arrays)), target), want, rtol=1e-12, atol=1e-12)


def test_einsum_integers_and_static_shapes():
    a = np.arange(6, dtype=np.int32).reshape(2, 3)
    y = tf.einsum("ij->i", a)
    assert y.dtype == tf.int32 and y.op.type == "Einsum" and y.name == "einsum/Einsum:0"
    np.testing.assert_array_equal(run(y), a.sum(1))
    x = tf.placeholder(tf.float32, [None, 3, 4])
    assert tf.einsum("bij,bjk->bik", x, tf.placeholder(tf.float32, [None, 4, 5])).shape.as_list() == [None, 3, 5]


def test_einsum_errors():
    with pytest.raises(ValueError, match="Dimensions must be equal"):
        tf.einsum("ij,ij->ij", np.ones((2, 3)), np.ones((1, 3)))
    with pytest.raises(ValueError, match="appear in no operand"):
        tf.einsum("ij->ik", np.ones((2, 3)))
    with pytest.raises(ValueError, match="2 operands"):
        tf.einsum("ij,jk->ik", np.ones((2, 3)))
    with pytest.raises(tf.errors.UnimplementedError, match="trace or diagonal"):
        tf.einsum("ii->i", np.ones((3, 3)))
    with pytest.raises(TypeError, match="one dtype"):
        tf.einsum("i,i->", np.ones(3), np.ones(3, np.float32))
    with pytest.raises(TypeError, match="bool"):
        tf.einsum("i->", np.ones(3, bool))


@pytest.mark.parametrize("equation,shapes", [("bij,bjk->bik", [(2, 3, 4), (2, 4, 1)]), ("ij,kj->", [(2, 3), (1, 3)]),
                                             ("...ij,...jk->...ik", [(2, 1, 3, 2), (3, 2, 2)]),
                                             ("abc,cd,de->ae", [(2, 1, 2), (2, 3), (3, 2)]), ("ij->j", [(3, 2)])])
@pytest.mark.parametrize("static", [True, False])
def test_einsum_gradient(equation, shapes, static):
    gradcheck.check_grad(lambda *xs: tf.einsum(equation, *xs), *[RNG.normal(size=s) for s in shapes],
                         static=static, rng=RNG, target="interpreter")


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("axes", [1, 0, [1, 0], [[0, 2], [1, 0]], ([2], [1])])
def test_tensordot_matches_numpy(axes, target):
    a, b = RNG.normal(size=(3, 1, 4)), RNG.normal(size=(4, 3, 2)) if axes != 1 else RNG.normal(size=(4, 2))
    if axes == [1, 0]:
        a, b = RNG.normal(size=(2, 3)), RNG.normal(size=(3, 4))
    if axes == ([2], [1]):
        b = RNG.normal(size=(2, 4, 5))
    want = np.tensordot(a, b, axes)
    pa, pb = tf.placeholder(tf.float64, [None] * a.ndim), tf.placeholder(tf.float64, [None] * b.ndim)
    y = tf.tensordot(pa, pb, axes)
    assert tf.tensordot(a, b, axes).shape.as_list() == list(want.shape)
    np.testing.assert_allclose(run(y, {pa: a, pb: b}, target), want, rtol=1e-12)


def test_tensordot_errors_and_gradient():
    with pytest.raises(TypeError, match="does not match"):
        tf.tensordot(np.ones((2, 3)), np.ones((3, 4), np.float32), 1)
    with pytest.raises(ValueError, match="Dimensions must be equal"):
        tf.tensordot(np.ones((2, 3)), np.ones((2, 4)), [[0], [1]])
    with pytest.raises(ValueError, match="number of contraction axes"):
        tf.tensordot(np.ones((2, 3)), np.ones((2, 4)), [[0, 1], [1]])
    gradcheck.check_grad(lambda a, b: tf.tensordot(a, b, [[0, 2], [1, 0]]), RNG.normal(size=(3, 2, 4)),
                         RNG.normal(size=(4, 3)), rng=RNG, target="interpreter")


def test_einsum_compare_with_tensorflow():
    tf1 = pytest.importorskip("tensorflow.compat.v1")
    tf1.disable_eager_execution()
    specs = [("bij,bjk->bik", [[None, 3, 4], [None, 4, 5]]), ("...ij,...jk->...ik", [[2, 1, 3, 4], [5, 4, 2]]),
             ("ij,jk", [[3, 4], [4, 2]]), ("bij->", [[None, 3, 4]])]
    for equation, shapes in specs:
        arrays = [RNG.normal(size=[2 if d is None else d for d in s]).astype(np.float32) for s in shapes]
        with tf1.Graph().as_default():
            ps = [tf1.placeholder(tf1.float32, s) for s in shapes]
            y = tf1.einsum(equation, *ps)
            with tf1.Session() as s:
                theirs = s.run(y, dict(zip(ps, arrays)))
            their_shape = y.shape.as_list()
        ps = [tf.placeholder(tf.float32, s) for s in shapes]
        ours = tf.einsum(equation, *ps)
        assert ours.shape.as_list() == their_shape
        np.testing.assert_allclose(run(ours, dict(zip(ps, arrays))), theirs, rtol=1e-5, atol=1e-5)
