"""Run-time index checks: a fed out-of-range gather, gather_nd or embedding id raises TF's InvalidArgumentError
("indices[1] = 12 is not in [0, 10)") naming the op and its line, on the interpreter, cpu and the cuda emulator,
(eagerly and in a tf.function: tests/eager/test_eager_run_checks.py); in-range runs are unchanged and one executable serves every batch size."""
import numpy as np
import pytest

import xlite as tf
from xlite.runtime import driver

TABLE = np.arange(20.0, dtype=np.float32).reshape(10, 2)


def _gathers():
    ids = tf.placeholder(tf.int32, [None])
    grid = tf.placeholder(tf.int64, [2, 2])
    rows = tf.gather(TABLE, ids)
    embedded = tf.nn.embedding_lookup(tf.constant(TABLE), grid)
    return ids, grid, rows, embedded


@pytest.mark.parametrize("target", ["cpu", "interpreter"])
def test_fed_out_of_range_ids_raise_tf_error(target):
    ids, grid, rows, embedded = _gathers()
    ok = {ids: np.array([0, 9, 3], np.int32), grid: np.array([[1, 2], [3, 4]], np.int64)}
    ids_nd = tf.placeholder(tf.int32, [None, 2])
    nd = tf.gather_nd(TABLE, ids_nd)
    with tf.Session(target=target) as s:
        got_rows, got_embedded = s.run([rows, embedded], ok)
        np.testing.assert_array_equal(got_rows, TABLE[[0, 9, 3]])
        np.testing.assert_array_equal(got_embedded, TABLE[[[1, 2], [3, 4]]])
        before = driver.STATS.get(target, 0)
        with pytest.raises(tf.errors.InvalidArgumentError,
                           match=r"indices\[1\] = 12 is not in \[0, 10\)\n\t \[\[node GatherV2 \(defined at .*"
                                 r"test_run_checks.py:\d+\) \]\]"):
            s.run(rows, {ids: np.array([4, 12, -1], np.int32)})
        with pytest.raises(tf.errors.InvalidArgumentError, match=r"indices\[0\] = -1 is not in \[0, 10\)"):
            s.run(rows, {ids: np.array([-1, 2], np.int32)})
        with pytest.raises(tf.errors.InvalidArgumentError, match=r"indices\[1,0\] = 10 is not in \[0, 10\) *\n.*"
                                                                 r"embedding_lookup"):
            s.run(embedded, {grid: np.array([[1, 2], [10, 4]], np.int64)})
        assert s.run(rows, {ids: np.zeros(0, np.int32)}).shape == (0, 2)
        np.testing.assert_array_equal(s.run(rows, {ids: np.array([7], np.int32)}), TABLE[[7]])
        if target == "cpu":
            assert driver.STATS.get(target, 0) - before <= 3     # rows, embedded, rows of 0 ids: every other size reuses
        with pytest.raises(tf.errors.InvalidArgumentError,
                           match=r"indices\[1\] = \[12, 0\] does not index into param shape \[10,2\]"):
            s.run(nd, {ids_nd: [[0, 1], [12, 0]]})
        np.testing.assert_array_equal(s.run(nd, {ids_nd: [[9, 1]]}), [19])


def test_known_indices_raise_before_the_run_and_gradients_keep_clamping():
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"indices\[2\] = 5 is not in \[0, 3\)"):
        tf.Session().run(tf.gather(tf.zeros([3]), [0, 1, 5]))
    x = tf.placeholder(tf.float32, [4])
    # unsorted_segment_sum drops id 7; its gradient gathers there clamped (and zeroes it), raising nothing
    g, = tf.gradients(tf.reduce_sum(tf.math.unsorted_segment_sum(x, [0, 7, 1, 1], 2) * [1.0, 2.0]), x)
    np.testing.assert_array_equal(tf.Session().run(g, {x: np.ones(4, np.float32)}), [1, 0, 2, 2])


@pytest.mark.slow
def test_cuda_emulator_raises_the_same(emulated):
    ids, grid, rows, embedded = _gathers()
    with tf.Session(target="cuda") as s:
        np.testing.assert_array_equal(s.run(rows, {ids: np.array([2, 5], np.int32)}), TABLE[[2, 5]])
        with pytest.raises(tf.errors.InvalidArgumentError, match=r"indices\[1\] = 10 is not in \[0, 10\)"):
            s.run(rows, {ids: np.array([2, 10], np.int32)})
