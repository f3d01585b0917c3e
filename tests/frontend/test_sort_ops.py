"""tf.nn.top_k, tf.sort and tf.argsort against NumPy's stable sorts, on cpu and the interpreter (and the CUDA
emulator), with TF's tie order, NaN placement and signed zeros, static shapes, errors and gradients."""
import numpy as np
import pytest

import xlite as tf
import gradcheck
from tests.io.tf_subprocess import LIVE_TF, run_tf

RNG = np.random.default_rng(11)
TARGETS = ["cpu", "interpreter"]


def run(fetches, feed=None, target="cpu"):
    with tf.Session(target=target) as s:
        return s.run(fetches, feed)


def descending_order(a, axis=-1):
    """TF's order: larger first, NaN above every number, ties by lower index."""
    key = np.where(np.isnan(a), -np.inf, -a) if a.dtype.kind == "f" else -a.astype(np.int64)
    nan_first = np.isnan(a) if a.dtype.kind == "f" else np.zeros(a.shape, bool)
    return np.lexsort((key, ~nan_first), axis=axis) if a.ndim == 1 else np.apply_along_axis(
        lambda row: descending_order(row), axis, a)


def ascending_order(a, axis=-1):
    """TF sorts ascending as the descending sort of -x: NaN first, then numbers up, ties by lower index."""
    if a.ndim > 1:
        return np.apply_along_axis(lambda row: ascending_order(row), axis, a)
    nan = np.isnan(a) if a.dtype.kind == "f" else np.zeros(a.shape, bool)
    return np.lexsort((np.where(nan, 0, a), ~nan))


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("shape,k", [((7,), 3), ((2, 3, 4), 2), ((4, 0), 0), ((0, 3), 2),
                                     pytest.param((1,), 1, marks=pytest.mark.slow),
                                     pytest.param((3, 5), 5, marks=pytest.mark.slow)])
def test_top_k_matches_numpy(shape, k, target):
    a = RNG.integers(-3, 4, size=shape).astype(np.float32)      # many ties
    x = tf.placeholder(tf.float32, [None] * len(shape))
    values, indices = tf.nn.top_k(x, k)
    assert values.shape.as_list() == [None] * (len(shape) - 1) + [k] and indices.dtype == tf.int32
    got_v, got_i = run([values, indices], {x: a}, target)
    want_i = descending_order(a)[..., :k] if a.size else np.zeros(shape[:-1] + (k,), np.int64)
    np.testing.assert_array_equal(got_i, want_i)
    np.testing.assert_array_equal(got_v, np.take_along_axis(a, want_i, -1))


@pytest.mark.parametrize("target", TARGETS)
def test_sort_and_argsort_of_ints_floats_nans_and_signed_zeros(target):
    f = np.array([[3, 1, 2, 2, 5], [np.nan, 1, -0.0, 0, np.nan]], np.float64)
    i = np.array([np.iinfo(np.int32).min, 3, -1, 3, np.iinfo(np.int32).max], np.int32)
    fetches = [tf.sort(f), tf.sort(f, direction="DESCENDING"), tf.argsort(f), tf.argsort(f, direction="DESCENDING"),
               tf.sort(i), tf.argsort(i, stable=True), tf.sort(i, direction="DESCENDING"),
               tf.sort(f, axis=0), tf.argsort(f.T, axis=0, direction="DESCENDING")]
    got = run(fetches, target=target)
    down, up = descending_order(f), ascending_order(f)
    np.testing.assert_array_equal(got[0], np.take_along_axis(f, up, -1))
    np.testing.assert_array_equal(np.signbit(got[0][1, 2:4]), [True, False])   # -0.0 stays before 0.0, as in TF
    np.testing.assert_array_equal(got[1], np.take_along_axis(f, down, -1))
    np.testing.assert_array_equal(got[2], up)
    np.testing.assert_array_equal(got[3], down)
    np.testing.assert_array_equal(got[4], np.sort(i))
    np.testing.assert_array_equal(got[5], np.argsort(i, kind="stable"))
    np.testing.assert_array_equal(got[6], np.sort(i)[::-1])
    np.testing.assert_array_equal(got[7], np.take_along_axis(f, ascending_order(f.T).T, 0))
    np.testing.assert_array_equal(got[8], down.T)
    assert got[4].dtype == np.int32 and got[2].dtype == np.int32


def test_static_shapes_names_and_errors():
    x = tf.placeholder(tf.float32, [2, None, 6])
    result = tf.nn.top_k(x, k=4, name="best")
    assert result.values.op.type == "TopKV2" and result.values.op.name == "best"
    assert result.indices.shape.as_list() == [2, None, 4]
    assert tf.sort(x, axis=1).shape.as_list() == [2, None, 6] and tf.math.top_k is tf.nn.top_k
    with pytest.raises(ValueError, match="at least k columns"):
        tf.nn.top_k(x, 7)
    with pytest.raises(ValueError, match="k >= 0"):
        tf.nn.top_k(x, -1)
    with pytest.raises(ValueError, match="direction"):
        tf.sort(x, direction="UP")
    k = tf.placeholder(tf.int32, [])
    fed_k = tf.nn.top_k(tf.ones([3, 5]), k)
    assert fed_k.values.shape.as_list() == [3, None]
    np.testing.assert_array_equal(run(fed_k.values, {k: 2}), np.ones([3, 2], np.float32))   # per fed k


def test_unknown_row_sizes_each_check_k():
    x = tf.placeholder(tf.float32, [None, None])
    values, ordered = tf.nn.top_k(x, 2).values, tf.sort(x)
    with tf.Session() as s:
        for shape in ((3, 4), (5, 7), (2, 2)):
            a = RNG.normal(size=shape).astype(np.float32)
            got = s.run([values, ordered], {x: a})
            np.testing.assert_array_equal(got[0], -np.sort(-a)[:, :2])
            np.testing.assert_array_equal(got[1], np.sort(a))
        with pytest.raises(tf.errors.InvalidArgumentError, match="at least k columns. Had 1, needed 2"):
            s.run(values, {x: np.ones((2, 1), np.float32)})


@pytest.mark.parametrize("target", [pytest.param("cpu", marks=pytest.mark.slow), "interpreter"])
def test_gradients_of_top_k_and_sort(target):
    a = RNG.permutation(24).reshape(2, 3, 4) + RNG.uniform(0, 0.5, (2, 3, 4))   # distinct values
    gradcheck.check_grad(lambda x: tf.nn.top_k(x, 3).values, a, static=False, rng=RNG, target=target)
    gradcheck.check_grad(lambda x: tf.sort(x, axis=1, direction="DESCENDING"), a, rng=RNG, target=target)
    gradcheck.check_grad(lambda x: tf.sort(x), a[0], rng=RNG, target=target)


@pytest.mark.slow
def test_cuda_emulator_matches_interpreter(emulated):
    a = RNG.integers(-4, 5, size=(3, 9)).astype(np.float32)
    a[1, 2] = np.nan
    x = tf.placeholder(tf.float32, [None, 9])
    top = tf.nn.top_k(x, 4)
    fetches = [top.values, top.indices, tf.argsort(x, axis=0), tf.sort(tf.cast(x, tf.int64), direction="DESCENDING"),
               tf.gradients(tf.reduce_sum(top.values * 3.0), x)[0]]
    for got, want in zip(run(fetches, {x: a}, "cuda"), run(fetches, {x: a}, "interpreter")):
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("_", [pytest.param(0, marks=LIVE_TF)])
def test_against_tensorflow(tmp_path, _):
    a = RNG.integers(-3, 4, size=(4, 6)).astype(np.float32)
    a[2, 3] = -0.0      # no NaN: TF's CPU sort has no strict order for it, so where NaN lands varies
    np.save(tmp_path / "a.npy", a)
    run_tf("""
        a = np.load(os.path.join(d, "a.npy"))
        x = tf1.placeholder(tf.float32, [None, 6])
        v, i = tf.nn.top_k(x, 4)
        outs = [v, i, tf.sort(x), tf.argsort(x, axis=0, direction="DESCENDING"),
                tf.gradients(tf.reduce_sum(v * 2.0), x)[0]]
        with tf1.Session() as s:
            np.savez(os.path.join(d, "tf.npz"), *s.run(outs, {x: a}))
    """, tmp_path)
    want = np.load(tmp_path / "tf.npz")
    x = tf.placeholder(tf.float32, [None, 6])
    v, i = tf.nn.top_k(x, 4)
    outs = [v, i, tf.sort(x), tf.argsort(x, axis=0, direction="DESCENDING"), tf.gradients(tf.reduce_sum(v * 2.0), x)[0]]
    for n, got in enumerate(run(outs, {x: a})):
        np.testing.assert_array_equal(got, want[f"arr_{n}"])
        np.testing.assert_array_equal(np.signbit(got), np.signbit(want[f"arr_{n}"]))
