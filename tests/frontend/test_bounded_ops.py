"""Data-dependent shapes (boolean_mask, one-argument where, unique, bincount, dynamic_partition) against NumPy on
cpu and the interpreter (and the CUDA emulator): fetched values have TF's shapes, one compile serves every
count, the few in-graph consumers are right, any other raises UnimplementedError, gradients by differences."""
import textwrap

import numpy as np
import pytest

import xlite as tf
from xlite.runtime import driver
from tests.io.tf_subprocess import LIVE_TF, run_tf

RNG = np.random.default_rng(13)
TARGETS = ["cpu", pytest.param("interpreter", marks=pytest.mark.slow)]      # the quick tier runs cpu only


@pytest.mark.parametrize("target", TARGETS)
def test_boolean_mask_every_count_one_compile(target):
    x = tf.placeholder(tf.float64, [None, 2, 3])
    m = tf.placeholder(tf.bool, [None, 2])
    picked = tf.boolean_mask(x, m)
    total = tf.reduce_sum(picked)
    by_axis = tf.boolean_mask(x, tf.placeholder_with_default(np.array([True, False, True]), [3]), axis=2)
    assert picked.shape.as_list() == [None, 3] and by_axis.shape.as_list() == [None, 2, None]
    with tf.Session(target=target) as s:
        before = driver.STATS.get(target, 0)
        for rows, density in ((5, 0.5), (5, 0.0), (5, 1.0), (5, 0.3), (1, 1.0), (0, 0.5)):
            a = RNG.normal(size=(rows, 2, 3))
            keep = RNG.uniform(size=(rows, 2)) < density
            got, got_total, got_axis = s.run([picked, total, by_axis], {x: a, m: keep})
            np.testing.assert_array_equal(got, a[keep])
            np.testing.assert_allclose(got_total, a[keep].sum(), atol=1e-12)
            np.testing.assert_array_equal(got_axis, a[:, :, [0, 2]])
            if rows == 5:
                assert driver.STATS.get(target, 0) - before <= 1     # every count of one feed shape: one compile


@pytest.mark.parametrize("target", TARGETS)
def test_where_unique_bincount_partition(target):
    c = tf.placeholder(tf.float32, [None, 3])
    v = tf.placeholder(tf.int32, [None])
    u, uc = tf.unique(v), tf.unique_with_counts(v, out_idx=tf.int64)
    bins, fixed = tf.math.bincount(v, maxlength=6), tf.bincount(v, minlength=4, maxlength=4, dtype=tf.float32)
    weighted = tf.math.bincount(v, weights=tf.cast(v, tf.float64) * 0.5, minlength=3, maxlength=9)
    parts = tf.dynamic_partition(c, tf.placeholder_with_default(np.array([0, 2, 0, 1, 2], np.int32), [None]), 3)
    assert tf.where(c > 0).shape.as_list() == [None, 2] and fixed.shape.as_list() == [4]
    fetches = [tf.where(c > 0), tf.where(v), u.y, u.idx, uc.y, uc.idx, uc.count, bins, fixed, weighted, parts]
    with tf.Session(target=target) as s:
        for n in (7, 1):
            a = RNG.integers(-1, 2, size=(5, 3)).astype(np.float32)
            ints = RNG.integers(0, 5, size=n).astype(np.int32)
            got = s.run(fetches, {c: a, v: ints})
            np.testing.assert_array_equal(got[0], np.argwhere(a > 0))
            assert got[0].dtype == np.int64
            np.testing.assert_array_equal(got[1], np.argwhere(ints))
            first = np.sort(np.unique(ints, return_index=True)[1])
            np.testing.assert_array_equal(got[2], ints[first])
            np.testing.assert_array_equal(got[3], [list(ints[first]).index(i) for i in ints])
            np.testing.assert_array_equal(got[4], ints[first])
            assert got[5].dtype == np.int64
            np.testing.assert_array_equal(got[6], [np.sum(ints == i) for i in ints[first]])
            np.testing.assert_array_equal(got[7], np.bincount(ints))
            np.testing.assert_array_equal(got[8], np.bincount(ints, minlength=4)[:4])
            np.testing.assert_allclose(got[9], np.bincount(ints, ints * 0.5, minlength=3))
            for p, part in enumerate(got[10]):
                np.testing.assert_array_equal(part, a[np.array([0, 2, 0, 1, 2]) == p])


def test_nan_and_empty_unique_and_all_false_masks():
    x = tf.placeholder(tf.float32, [None])
    u = tf.unique(x)
    none = tf.boolean_mask(x, tf.zeros_like(x, dtype=tf.bool))
    with tf.Session() as s:
        got = s.run([u.y, u.idx, none, tf.where(x > 100)], {x: [np.nan, 1, np.nan, 1]})
        assert got[0].shape == (3,) and np.isnan(got[0][[0, 2]]).all()      # NaN != NaN: each stays, as TF's
        np.testing.assert_array_equal(got[1], [0, 1, 2, 1])
        assert got[2].shape == (0,) and got[3].shape == (0, 1)
        y, idx = s.run([u.y, u.idx], {x: np.zeros(0, np.float32)})
        assert y.shape == (0,) and idx.shape == (0,)


def test_unsupported_consumers_and_apis_raise():
    x = tf.placeholder(tf.float32, [None])
    picked = tf.boolean_mask(x, x > 0)
    with pytest.raises(tf.errors.UnimplementedError, match="Max reading .*depends on the data"):
        tf.reduce_max(picked)
    with pytest.raises(tf.errors.UnimplementedError, match="Sum reading"):
        tf.reduce_mean(tf.boolean_mask(tf.zeros([3, 2]), [True, False, True]), axis=1)
    with pytest.raises(tf.errors.UnimplementedError, match="Mul reading .*counted apart"):
        picked * tf.boolean_mask(x, x > 1)
    with pytest.raises(tf.errors.UnimplementedError, match="AddV2 reading .*not broadcast along it"):
        picked + tf.ones([5])
    with pytest.raises(tf.errors.UnimplementedError, match="GatherV2 reading"):
        tf.gather(picked, [0])
    with pytest.raises(tf.errors.UnimplementedError, match="StridedSlice reading"):
        picked[1:]
    with pytest.raises(tf.errors.UnimplementedError, match="bincount without .* fed at run time"):
        tf.math.bincount(tf.cast(x, tf.int32))
    with pytest.raises(ValueError, match="scalar"):
        tf.boolean_mask(x, True)
    assert tf.reduce_any(tf.boolean_mask(x > 0, x > 1)).shape.as_list() == []


@pytest.mark.parametrize("target", TARGETS)
def test_shape_size_and_mean_read_the_count(target):
    x = tf.placeholder(tf.float32, [None, 3])
    picked = tf.boolean_mask(x, x[:, 0] > 0)
    ints = tf.boolean_mask(tf.cast(x, tf.int32), x[:, 0] > 0)
    outs = [tf.shape(picked), tf.size(picked, out_type=tf.int64), tf.reduce_mean(picked), tf.reduce_mean(picked, 0),
            tf.shape(tf.where(x > 0))[0], tf.reduce_mean(ints), tf.gradients(tf.reduce_mean(picked), x)[0]]
    with tf.Session(target=target) as s:
        for a in (RNG.normal(size=(5, 3)).astype(np.float32), -np.ones((4, 3), np.float32)):
            kept = a[a[:, 0] > 0]
            got = s.run(outs, {x: a})
            np.testing.assert_array_equal(got[0], kept.shape)
            assert got[1] == kept.size and got[1].dtype == np.int64 and got[4] == np.sum(a > 0)
            if len(kept):
                np.testing.assert_allclose(got[2], kept.mean(), rtol=1e-6)
                np.testing.assert_allclose(got[3], kept.mean(0), rtol=1e-6)
                assert got[5] == int(np.trunc(kept.astype(np.int32).sum() / kept.size))
            else:
                assert np.isnan(got[2]) and np.isnan(got[3]).all() and got[5] == 0
            np.testing.assert_allclose(got[6], (a[:, :1] > 0) * np.ones((1, 3)) / max(kept.size, 1), rtol=1e-6)


@pytest.mark.parametrize("target", TARGETS)
def test_elementwise_ops_of_one_mask_stay_bounded(target):
    x = tf.placeholder(tf.float32, [None, 3])
    y = tf.placeholder(tf.float32, [None, 3])
    m = x[:, 0] > 0
    pred, label = tf.boolean_mask(x, m), tf.boolean_mask(y, m)
    loss = tf.reduce_mean(tf.square(pred - label))
    shifted = tf.exp(pred) * 2.0 + tf.constant([1.0, 2.0, 3.0])
    outs = [loss, shifted, tf.reduce_sum(shifted), tf.cast(pred > 0.5, tf.int32), tf.gradients(loss, [x, y])]
    assert shifted.shape.as_list() == [None, 3]
    a, b = RNG.normal(size=(6, 3)).astype(np.float32), RNG.normal(size=(6, 3)).astype(np.float32)
    k = a[:, 0] > 0
    with tf.Session(target=target) as s:
        got = s.run(outs, {x: a, y: b})
    np.testing.assert_allclose(got[0], np.mean((a[k] - b[k]) ** 2), rtol=1e-5)
    np.testing.assert_allclose(got[1], np.exp(a[k]) * 2 + [1, 2, 3], rtol=1e-5)
    np.testing.assert_allclose(got[2], (np.exp(a[k]) * 2 + [1, 2, 3]).sum(), rtol=1e-5)
    np.testing.assert_array_equal(got[3], (a[k] > 0.5).astype(np.int32))
    dx = 2 * (a - b) * k[:, None] / max(k.sum() * 3, 1)
    np.testing.assert_allclose(got[4][0], dx, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(got[4][1], -dx, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("target", TARGETS)
def test_slices_and_gathers_by_where_indices(target):
    x = tf.placeholder(tf.float32, [None, 3])
    idx = tf.where(x[:, 0] > 0)[:, 0]
    rows, cols = tf.gather(x, idx), tf.gather(x, tf.where(x[0] > 0)[:, 0], axis=1)
    outs = [idx, rows, cols, tf.reduce_sum(rows[:, 1:]), tf.shape(cols), tf.gradients(tf.reduce_sum(rows * rows), x)[0]]
    assert rows.shape.as_list() == [None, 3] and cols.shape.as_list() == [None, None]
    a = RNG.normal(size=(5, 3)).astype(np.float32)
    with tf.Session(target=target) as s:
        got = s.run(outs, {x: a})
    keep = np.flatnonzero(a[:, 0] > 0)
    np.testing.assert_array_equal(got[0], keep)
    np.testing.assert_array_equal(got[1], a[keep])
    np.testing.assert_array_equal(got[2], a[:, a[0] > 0])
    np.testing.assert_allclose(got[3], a[keep, 1:].sum(), rtol=1e-5)
    np.testing.assert_array_equal(got[4], [5, np.sum(a[0] > 0)])
    np.testing.assert_allclose(_dense(got[5], a.shape), 2 * a * (a[:, :1] > 0), rtol=1e-6)


def _dense(slices, shape):
    """The IndexedSlices summed into a dense array; its padding rows name no row (index past the end)."""
    out = np.zeros(shape, slices.values.dtype)
    real = slices.indices < shape[0]
    np.add.at(out, slices.indices[real], slices.values[real])
    assert not slices.values[~real].any()
    return out


@pytest.mark.parametrize("target", TARGETS)
def test_gradients_by_finite_differences(target):
    a = RNG.normal(size=(4, 3))
    keep = np.array([True, False, True, True])
    w = RNG.normal(size=(4, 3))
    x = tf.placeholder(tf.float64, [None, 3])
    parts = tf.dynamic_partition(x * w, [1, 0, 1, 1], 2)
    loss = tf.reduce_sum(tf.boolean_mask(x * w, keep)) ** 2 + tf.reduce_sum(parts[0]) * 3.0 + tf.reduce_sum(parts[1])
    grad = tf.gradients(loss, x)[0]
    direct = tf.gradients(tf.boolean_mask(x * w, keep), x)[0]       # the seed: ones over the kept rows only
    with tf.Session(target=target) as s:
        got, got_direct = s.run([grad, direct], {x: a})
        np.testing.assert_allclose(got_direct, w * keep[:, None], rtol=1e-12)
        numeric = np.zeros_like(a)
        for i in np.ndindex(*a.shape):
            up, down = a.copy(), a.copy()
            up[i] += 1e-6
            down[i] -= 1e-6
            numeric[i] = (s.run(loss, {x: up}) - s.run(loss, {x: down})) / 2e-6
    np.testing.assert_allclose(got, numeric, rtol=1e-6, atol=1e-6)


@pytest.mark.slow
def test_cuda_emulator_matches_interpreter(emulated):
    x = tf.placeholder(tf.float32, [None, 3])
    v = tf.placeholder(tf.int32, [None])
    picked = tf.boolean_mask(x, x[:, 0] > 0)
    fetches = [picked, tf.reduce_sum(picked), tf.where(x > 0), tf.unique(v).y, tf.math.bincount(v, maxlength=5),
               tf.gradients(tf.reduce_sum(picked), x)[0], tf.dynamic_stitch([v], [tf.cast(v, tf.float32)])]
    feed = {x: RNG.normal(size=(7, 3)).astype(np.float32), v: RNG.integers(0, 4, size=9).astype(np.int32)}
    want_all = tf.Session(target="interpreter").run(fetches, feed)
    for got, want in zip(tf.Session(target="cuda").run(fetches, feed), want_all):
        np.testing.assert_allclose(got, want, rtol=1e-6)


@pytest.mark.parametrize("_", [pytest.param(0, marks=LIVE_TF)])
def test_against_tensorflow(tmp_path, _):
    a = RNG.integers(-2, 3, size=(5, 4)).astype(np.float32)
    np.save(tmp_path / "a.npy", a)
    script = """
        x = {tf}placeholder(tf.float32, [None, 4])
        u = tf.unique_with_counts(tf.cast(x[:, 0], tf.int32))
        outs = [tf.boolean_mask(x, x[:, 1] > 0), tf.boolean_mask(x, x > 0), tf.where(x < 0), u.y, u.idx, u.count,
                tf.math.bincount(tf.cast(x + 2, tf.int32), maxlength=3, minlength=1),
                tf.dynamic_partition(x, tf.cast(x[:, 2] > 0, tf.int32), 2)[1],
                tf.gradients(tf.reduce_sum(tf.boolean_mask(x * x, x[:, 3] > 0)), x)[0]]
        stitched = tf.dynamic_stitch([[0, 3], [1, 2, 1]], [x[:2], x[2:5]])
        outs += [stitched, tf.gradients(tf.reduce_sum(stitched * stitched), x)[0]]
    """
    run_tf("a = np.load(os.path.join(d, 'a.npy'))\n" + textwrap.dedent(script.format(tf="tf1.")) +
           "with tf1.Session() as s:\n    np.savez(os.path.join(d, 'tf.npz'), *s.run(outs, {x: a}))\n", tmp_path)
    want = np.load(tmp_path / "tf.npz")
    scope = {"tf": tf}
    exec(textwrap.dedent(script.format(tf="tf.")), scope)
    with tf.Session() as s:
        got = s.run(scope["outs"], {scope["x"]: a})
    for n, value in enumerate(got):
        np.testing.assert_array_equal(value, want[f"arr_{n}"])
        assert value.dtype == want[f"arr_{n}"].dtype


def test_sparse_momentum_through_a_gather_by_where_touches_only_kept_rows():
    table = tf.Variable(np.ones((4, 2), np.float32))
    x = tf.placeholder(tf.float32, [None])
    step = tf.train.MomentumOptimizer(0.1, 0.9).minimize(tf.reduce_sum(tf.gather(table, tf.where(x > 0)[:, 0])))
    with tf.Session() as s:
        s.run(tf.global_variables_initializer())
        for _ in range(2):
            s.run(step, {x: [-1, 1, -1, 1]})
        np.testing.assert_allclose(s.run(table), [[1, 1], [0.71, 0.71], [1, 1], [0.71, 0.71]], rtol=1e-6)


@pytest.mark.parametrize("target", TARGETS)
def test_dynamic_stitch_of_constant_indices(target):
    a, b = RNG.normal(size=(2, 2, 3)), RNG.normal(size=(3, 3))
    x, y = tf.placeholder(tf.float64, [2, 2, 3]), tf.placeholder(tf.float64, [None, 3])
    merged = tf.dynamic_stitch([[[0, 5], [2, 1]], [1, 7, 3]], [x, y])     # 1 twice: the later wins; 4, 6 unnamed
    assert merged.shape.as_list() == [8, 3] and merged.op.type == "DynamicStitch"
    grads = tf.gradients(tf.reduce_sum(merged * np.arange(24.0).reshape(8, 3)), [x, y])
    with tf.Session(target=target) as s:
        got, (gx, gy) = s.run([merged, grads], {x: a, y: b})
    want = np.zeros((8, 3))
    want[[0, 5, 2, 1]] = a.reshape(4, 3)
    want[[1, 7, 3]] = b
    np.testing.assert_array_equal(got, want)
    weights = np.arange(24.0).reshape(8, 3)
    np.testing.assert_array_equal(gx, weights[[0, 5, 2, 1]].reshape(2, 2, 3))     # TF's rule: overwritten too
    np.testing.assert_array_equal(gy, weights[[1, 7, 3]])


@pytest.mark.parametrize("target", TARGETS)
def test_dynamic_stitch_of_fed_indices(target):
    i0, i1 = tf.placeholder(tf.int32, [None]), tf.placeholder(tf.int32, [None, 2])
    d0, d1 = tf.placeholder(tf.float64, [None, 3]), tf.placeholder(tf.float64, [None, 2, 3])
    merged = tf.dynamic_stitch([i0, i1], [d0, d1])
    grads = tf.gradients(tf.reduce_sum(merged * merged), [d0, d1])
    assert merged.shape.as_list() == [None, 3]
    a0, a1 = RNG.normal(size=(3, 3)), RNG.normal(size=(2, 2, 3))
    bounded = tf.math.bincount(tf.constant([1, 4, 1]))        # arr known when the graph is built: exact length
    with tf.Session(target=target) as s:
        got, (g0, g1), bins = s.run([merged, grads, bounded], {i0: [0, 5, 2], i1: [[1, 5], [3, 0]], d0: a0, d1: a1})
        np.testing.assert_array_equal(bins, [0, 2, 0, 0, 1])
        want = np.zeros((6, 3))
        want[[0, 5, 2]] = a0
        want[[1, 5, 3, 0]] = a1.reshape(4, 3)         # later entries win: 5 and 0 from d1
        want[4] = 0
        np.testing.assert_array_equal(got, want)
        np.testing.assert_array_equal(g0, 2 * want[[0, 5, 2]])        # TF's rule: an overwritten entry's row too
        np.testing.assert_array_equal(g1, 2 * want[[1, 5, 3, 0]].reshape(2, 2, 3))
        short = s.run(merged, {i0: [1], i1: [[2, 0]], d0: a0[:1], d1: a1[:1]})
        np.testing.assert_array_equal(short, [a1[0, 1], a0[0], a1[0, 0]])
        with pytest.raises(tf.errors.InvalidArgumentError, match=r"indices\[1\] = 7 is not in \[0, 7\): "
                                                                 r"tf.dynamic_stitch of indices fed"):
            s.run(merged, {i0: [0, 7, 2], i1: [[1, 5], [3, 0]], d0: a0, d1: a1})
        with pytest.raises(tf.errors.InvalidArgumentError, match=r"indices\[0\] = -1 is not in"):
            s.run(merged, {i0: [-1], i1: np.zeros((0, 2), np.int32), d0: a0[:1], d1: a1[:0]})
