"""Data-dependent shapes while executing eagerly: the compiled ops fill a bounded buffer and count its rows, the
eager value is that buffer cut to the count (TF's exact shapes), GradientTape differentiates through them, and a
tf.function's outputs are cut the same way (inside it graph rules apply: bounded buffer plus count)."""
import numpy as np
import pytest

import xlite as tf
from xlite.eager import dispatch

RNG = np.random.default_rng(5)


@pytest.fixture(params=[pytest.param("cpu", marks=pytest.mark.slow), "interpreter"])
def target(request, eager):
    """conftest's target, its cpu runs in the slow tier: each op of these compositions compiles a kernel (~15 s cold)."""
    dispatch.set_target(request.param)
    yield request.param
    dispatch.set_target(None)


def test_exact_shapes_eagerly(target):
    a = RNG.normal(size=(5, 3))
    keep = np.array([True, False, True, True, False])
    ints = np.array([3, 1, 3, 0, 1, 1], np.int32)
    x = tf.constant(a)
    np.testing.assert_array_equal(tf.boolean_mask(x, keep).numpy(), a[keep])
    np.testing.assert_array_equal(tf.boolean_mask(x, tf.zeros([5], tf.bool)).numpy(), a[:0])
    got = tf.where(x > 0)
    assert got.dtype == tf.int64 and got.shape.as_list() == [int(np.sum(a > 0)), 2]
    np.testing.assert_array_equal(got.numpy(), np.argwhere(a > 0))
    u = tf.unique_with_counts(ints)
    np.testing.assert_array_equal(u.y.numpy(), [3, 1, 0])
    np.testing.assert_array_equal(u.idx.numpy(), [0, 1, 0, 2, 1, 1])
    np.testing.assert_array_equal(u.count.numpy(), [2, 3, 1])
    np.testing.assert_array_equal(tf.math.bincount(ints).numpy(), np.bincount(ints))     # no maxlength: eagerly known
    np.testing.assert_array_equal(tf.math.bincount(ints, minlength=6, maxlength=tf.constant(7)).numpy(),
                                  np.bincount(ints, minlength=6))
    np.testing.assert_array_equal(tf.math.bincount(ints, maxlength=2).numpy(), np.bincount(ints)[:2])
    parts = tf.dynamic_partition(x, keep.astype(np.int32), 2)
    np.testing.assert_array_equal(parts[0].numpy(), a[~keep])
    np.testing.assert_array_equal(parts[1].numpy(), a[keep])
    stitched = tf.dynamic_stitch([tf.constant([0, 4]), tf.constant([[1], [4]])], [x[:2], tf.constant(a[2:4, None])])
    np.testing.assert_array_equal(stitched.numpy(), [a[0], a[2], np.zeros(3), np.zeros(3), a[3]])   # 5 rows: 4 + 1
    boxes = tf.constant([[0, 0, 1, 1], [0, 0.1, 1, 1.1], [2, 2, 3, 3]], tf.float32)
    np.testing.assert_array_equal(tf.image.non_max_suppression(boxes, [0.7, 0.9, 0.8], 3).numpy(), [1, 2])


def test_gradient_tape_through_data_dependent_ops(target):
    a = RNG.normal(size=(4, 3))
    keep = np.array([True, False, True, True])
    x = tf.constant(a)
    w = tf.Variable(np.full((4, 3), 2.0))
    with tf.GradientTape() as tape:
        tape.watch(x)
        picked = tf.boolean_mask(x * w, keep)
        parts = tf.dynamic_partition(x, [1, 0, 0, 1], 2)
        rows = tf.gather(w, tf.where(x[:, 0] > 0)[:, 0])
        loss = tf.reduce_sum(picked ** 2) + 3.0 * tf.reduce_sum(parts[1]) + tf.reduce_mean(rows)
    dx, dw = tape.gradient(loss, [x, w])
    positive = (a[:, :1] > 0) * np.ones((1, 3))
    want_dx = 2 * a * 4 * keep[:, None] + 3.0 * np.array([1, 0, 0, 1])[:, None]
    np.testing.assert_allclose(dx.numpy(), want_dx, rtol=1e-12)
    np.testing.assert_allclose(tf.convert_to_tensor(dw).numpy(),
                               2 * a * a * 2 * keep[:, None] + positive / max(positive.sum(), 1), rtol=1e-12)


def test_tf_function_outputs_are_cut_to_their_counts(eager):
    w = tf.Variable(np.ones((5, 2)))

    @tf.function
    def picked(x):
        kept = tf.boolean_mask(x * w, x[:, 0] > 0)
        return kept, tf.where(x > 0), tf.reduce_sum(kept), tf.shape(kept)

    for a in (RNG.normal(size=(5, 2)), -np.ones((5, 2)), np.ones((5, 2))):
        kept, where, total, size = picked(tf.constant(a))
        np.testing.assert_array_equal(kept.numpy(), a[a[:, 0] > 0])
        np.testing.assert_array_equal(where.numpy(), np.argwhere(a > 0))
        np.testing.assert_allclose(total.numpy(), a[a[:, 0] > 0].sum(), rtol=1e-12)
        np.testing.assert_array_equal(size.numpy(), a[a[:, 0] > 0].shape)
    a = RNG.normal(size=(5, 2))
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(picked(tf.constant(a))[0] ** 2)
    np.testing.assert_allclose(tape.gradient(loss, w).numpy(), 2 * a * a * (a[:, :1] > 0), rtol=1e-12)
