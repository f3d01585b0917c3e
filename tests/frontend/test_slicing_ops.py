"""Slices whose begin is fed at run time (tf.slice, tf.strided_slice, x[k:k + 3], x[i]) against NumPy.

They compile to dynamic slices: the begin is read at run time, negative strided-slice
begins count from the end, and a window that would leave the array is clamped back
inside it (XLA's dynamic-slice; TF's own kernels raise or return fewer elements).
Results whose size would depend on fed values raise UnimplementedError.
"""
import numpy as np
import pytest

import xlite as tf
from tiers import slow_except
import gradcheck
from xlite import errors
from xlite.frontend.slice_bounds import bound_difference
from xlite.frontend.slicing_ops import dynamic_update_slice

RNG = np.random.default_rng(11)
TARGETS = [pytest.param("interpreter", marks=pytest.mark.slow), "cpu"]      # the quick tier runs cpu only


def run(target, fetches, feed):
    with tf.Session(target=target) as s:
        return s.run(fetches, feed)


def window(a, starts, sizes, steps=None, wrap=False):
    """a[start:start + extent:step] per dim, each start (wrapped if negative, with `wrap`) clamped into range."""
    steps = steps or [1] * a.ndim
    index = []
    for n, start, size, step in zip(a.shape, starts, sizes, steps):
        extent = (size - 1) * step + 1 if size else 0
        start = start + n if wrap and start < 0 else start
        start = min(max(start, 0), n - extent)
        index.append(slice(start, start + extent, step))
    return a[tuple(index)]


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("index_dtype", [tf.int32, tf.int64])
def test_slice_with_fed_begin(target, index_dtype):
    a = RNG.standard_normal((7, 5)).astype(np.float32)
    x = tf.placeholder(tf.float32, [None, 5])
    begin = tf.placeholder(index_dtype, [2])
    sizes = [[3, 2], [0, 5], [1, 1], [7, 5], [5, 3]]
    ys = [tf.slice(x, begin, size) for size in sizes]
    assert [y.shape.as_list() for y in ys] == sizes
    for b in ([0, 0], [2, 1], [6, 4], [-3, 1], [100, -100], [2 ** 31 - 1, -2 ** 31]):
        got = run(target, ys, {x: a, begin: b})
        for g, size in zip(got, sizes):
            np.testing.assert_array_equal(g, window(a, b, size))


@pytest.mark.parametrize("target", TARGETS)
def test_slice_with_begin_partly_fed(target):
    a = RNG.standard_normal((4, 6, 3))
    x = tf.placeholder(tf.float64, a.shape)
    k = tf.placeholder(tf.int32, [])
    y = tf.slice(x, [1, k, 0], [2, 3, -1])        # -1 takes the rest of a dim whose begin is known
    assert y.shape.as_list() == [2, 3, 3]
    for kv in (0, 2, 5, -1):
        np.testing.assert_array_equal(run(target, y, {x: a, k: kv}), window(a, [1, kv, 0], [2, 3, 3]))


@pytest.mark.parametrize("target", TARGETS)
def test_getitem_range_with_fed_begin(target):
    a = RNG.standard_normal((9, 6)).astype(np.float32)
    x = tf.placeholder(tf.float32, [None, 6])
    k = tf.placeholder(tf.int32, [])
    ys = {
        "k:k+3": (x[k:k + 3], lambda kv: window(a, [kv, 0], [3, 6], wrap=True)),
        "k-1:k+2, 1:4": (x[k - 1:k + 2, 1:4], lambda kv: window(a, [kv - 1, 0], [3, 6], wrap=True)[:, 1:4]),
        "k:k+5:2": (x[k:k + 5:2], lambda kv: window(a, [kv, 0], [3, 6], [2, 1], wrap=True)),
        "3+k:k+4, ::-2": (x[3 + k:k + 4, ::-2], lambda kv: window(a, [kv + 3, 0], [1, 6], wrap=True)[:, ::-2]),
        ":, k:k+1": (x[:, k:k + 1], lambda kv: window(a, [0, kv], [9, 1], wrap=True)),
        "k:k": (x[k:k], lambda kv: a[:0]),
        "strided_slice": (tf.strided_slice(x, [k, 1], [k + 2, 6], [1, 2]),
                          lambda kv: window(a, [kv, 1], [2, 3], [1, 2], wrap=True)),
    }
    assert ys["k:k+3"][0].shape.as_list() == [3, 6]
    assert ys["k:k+5:2"][0].shape.as_list() == [3, 6]
    assert ys["strided_slice"][0].shape.as_list() == [2, 3]
    for kv in (0, 1, 4, 8, -1, -4, 30, -30):
        got = run(target, {n: y for n, (y, _) in ys.items()}, {x: a, k: kv})
        for n, (_, want) in ys.items():
            np.testing.assert_array_equal(got[n], want(kv), err_msg=f"x[{n}] at k={kv}")


@pytest.mark.parametrize("target", TARGETS)
def test_getitem_index_with_fed_index(target):
    a = RNG.integers(-9, 9, (5, 4, 3)).astype(np.int64)
    x = tf.placeholder(tf.int64, [None, 4, 3])
    i = tf.placeholder(tf.int64, [])
    j = tf.placeholder(tf.int64, [])
    ys = [x[i], x[:, i], x[i, j], x[i, 1:3, j], x[-1, :, j]]
    assert [y.shape.as_list() for y in ys] == [[4, 3], [None, 3], [3], [2], [4]]
    for iv, jv in ((0, 0), (4, 2), (-1, -1), (-5, -3), (7, 9), (-9, -9)):
        ci, cj = (min(max(v + n if v < 0 else v, 0), n - 1) for v, n in ((iv, 5), (jv, 3)))
        ck = min(max(iv + 4 if iv < 0 else iv, 0), 3)
        want = [a[ci], a[:, ck], a[ci, min(max(jv + 4 if jv < 0 else jv, 0), 3)], a[ci, 1:3, cj], a[-1, :, cj]]
        for g, w in zip(run(target, ys, {x: a, i: iv, j: jv}), want):
            np.testing.assert_array_equal(g, w)


def test_fed_index_of_a_tensor_with_unknown_trailing_dims():
    """x[i] of a [None, None] tensor: the trailing dim the index does not name stays whole."""
    a = RNG.integers(-9, 9, (3, 2)).astype(np.int64)
    x = tf.placeholder(tf.int64, [None, None])
    i = tf.placeholder(tf.int32, [])
    y = x[i]
    assert y.shape.as_list() == [None]
    np.testing.assert_array_equal(run("cpu", y, {x: a, i: 2}), a[2])


def test_fed_index_lowers_to_one_dynamic_slice():
    from xlite.frontend.lower import lower_run
    x = tf.placeholder(tf.float32, [5, 4])
    i = tf.placeholder(tf.int32, [])
    lowered = lower_run(tf.get_default_graph(), [x[i, 1:3], x[i - 1:i + 2]], [], {x: (5, 4), i: ()})
    ops = [inst.opcode for inst in lowered.module.entry.instructions]
    assert ops.count("dynamic_slice") == 2 and "gather" not in ops


X6 = np.arange(24, dtype=np.float32).reshape(6, 4)


@pytest.mark.parametrize("build, want", [
    (lambda x, k, n, b, s: x[k:n], X6[1:3]),
    (lambda x, k, n, b, s: x[k:], X6[1:]),
    (lambda x, k, n, b, s: x[2:n], X6[2:3]),
    (lambda x, k, n, b, s: tf.strided_slice(x, [k], [k + 2], [n]), X6[1:3:3]),
    (lambda x, k, n, b, s: tf.slice(x, b, [-1, 2]), X6[1:, 1:3]),
    (lambda x, k, n, b, s: tf.slice(x, b, s), X6[1:3, 1:3]),
])
@pytest.mark.parametrize("target", TARGETS)
def test_sizes_that_depend_on_small_fed_integers_compile_for_their_values(build, want, target):
    x = tf.placeholder(tf.float32, [None, 4])
    k, n = tf.placeholder(tf.int32, []), tf.placeholder(tf.int32, [])
    b, s = tf.placeholder(tf.int32, [2]), tf.placeholder(tf.int32, [2])
    y = build(x, k, n, b, s)
    np.testing.assert_array_equal(run(target, y, {x: X6, k: 1, n: 3, b: [1, 1], s: [2, 2]}), want)


@pytest.mark.parametrize("target", TARGETS)
def test_a_fed_begin_past_a_compile_time_size_names_the_op_and_line(target):
    x, k = tf.placeholder(tf.float32, [None, 4]), tf.placeholder(tf.int32, [])
    y = x[k:k + 10]
    with pytest.raises(errors.UnimplementedError, match="takes 10 elements of a dimension of 6") as info:
        run(target, y, {x: X6, k: 1})
    assert y.op.name in str(info.value) and f"{__file__}:" in str(info.value)


def test_fed_index_into_an_empty_dim_is_invalid():
    x = tf.placeholder(tf.float32, [None, 4])
    i = tf.placeholder(tf.int32, [])
    with pytest.raises(errors.InvalidArgumentError, match="slice index of dimension 0 out of bounds"):
        run("cpu", x[i], {x: np.zeros((0, 4), np.float32), i: 0})


def test_bound_difference_follows_packs_adds_and_casts():
    k = tf.placeholder(tf.int32, [])
    v = tf.placeholder(tf.int32, [2])
    other = tf.placeholder(tf.int32, [])
    pack = tf.stack
    assert bound_difference(pack([k + 3]), pack([k]), 0) == 3
    assert bound_difference(pack([2 + k]), pack([k - 1]), 0) == 3
    assert bound_difference(pack([tf.cast(k + 1, tf.int64)]), pack([tf.cast(k, tf.int64)]), 0) == 1
    assert bound_difference(pack([0, k - 2]), pack([0, k - 2]), 1) == 0
    assert bound_difference(v + [1, 5], v, 1) == 5
    assert bound_difference(v + 2, v - 1, 0) == 3
    assert bound_difference(pack([other + 3]), pack([k]), 0) is None
    assert bound_difference(pack([k * 2]), pack([k]), 0) is None
    assert bound_difference(tf.constant([4]), tf.constant([1]), 0) is None   # not fed: known already
    assert bound_difference(pack([v[1] + 2]), pack([v[1]]), 0) == 2         # v[1] written twice is one value
    assert bound_difference(pack([v[1] + 2]), pack([v[0]]), 0) is None
    assert bound_difference(pack([tf.random_uniform([], maxval=9, dtype=tf.int32) + 1]),
                            pack([tf.random_uniform([], maxval=9, dtype=tf.int32)]), 0) is None


@pytest.mark.parametrize("target", TARGETS)
def test_strided_slice_with_fed_begin_vector(target):
    a = RNG.standard_normal((6, 5)).astype(np.float32)
    x = tf.placeholder(tf.float32, [6, 5])
    v = tf.placeholder(tf.int64, [2])
    ys = [tf.strided_slice(x, v, v + [2, 3]), x[tf.cast(v[0], tf.int32):tf.cast(v[0], tf.int32) + 2]]
    assert [y.shape.as_list() for y in ys] == [[2, 3], [2, 5]]
    for begin in ([0, 0], [4, -2], [-1, 7]):
        got = run(target, ys, {x: a, v: begin})
        np.testing.assert_array_equal(got[0], window(a, begin, [2, 3], wrap=True))
        np.testing.assert_array_equal(got[1], window(a, [begin[0], 0], [2, 5], wrap=True))


@pytest.mark.slow
def test_fed_slices_and_their_gradients_on_emulated_cuda(emulated):
    a = RNG.standard_normal((9, 6)).astype(np.float32)
    x = tf.placeholder(tf.float32, [None, 6])
    k = tf.placeholder(tf.int32, [])
    b = tf.placeholder(tf.int64, [2])
    ys = [x[k:k + 3], x[k, 1:], tf.slice(x, b, [2, 4]), tf.gradients(tf.reduce_sum(x[k - 1:k + 3:2] * x[k]), x)[0],
          tf.gradients(tf.reduce_sum(tf.slice(x, b, [2, 4]) * 3.0), x)[0]]
    for kv in (0, 5, -2, 40):
        feed = {x: a, k: kv, b: [kv, kv - 3]}
        for got, want in zip(run("cuda", ys, feed), run("interpreter", ys, feed)):
            np.testing.assert_array_equal(got, want)


# gradients ------------------------------------------------------------------------------------------
def check_grad(fn, *arrays, feed, target):
    return gradcheck.check_grad(fn, *arrays, rng=RNG, target=target, feed=feed)


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("begin", [[1, 2], [0, 0], [5, -4], [-2, 9]])
def test_slice_grad_with_fed_begin(target, begin):
    b = tf.placeholder(tf.int32, [2])
    for static in (True, False):
        gradcheck.check_grad(lambda x: tf.slice(x, b, [2, 3]), RNG.standard_normal((4, 5)), static=static,
                             rng=RNG, target=target, feed={b: begin})


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize(*slow_except("k", [0, 2, -1, 9, -9], -1))
@pytest.mark.slow
def test_getitem_grad_with_fed_begin(target, k):
    i = tf.placeholder(tf.int32, [])
    for fn in (lambda x: x[i:i + 3], lambda x: x[i - 1:i + 3:2, ::-1], lambda x: x[i, 1:] * x[i - 1, :3],
               lambda x: tf.strided_slice(x, [0, i], [2, i + 2])):
        check_grad(fn, RNG.standard_normal((5, 4)), feed={i: k}, target=target)


@pytest.mark.parametrize("target", TARGETS)
def test_dynamic_update_slice_grad(target):
    b = tf.placeholder(tf.int32, [2])
    for begin in ([1, 1], [-1, 7]):
        check_grad(lambda x, u: dynamic_update_slice(x, u * u, b), RNG.standard_normal((4, 3)),
                   RNG.standard_normal((2, 2)), feed={b: begin}, target=target)
