"""Random ops: TF1's seed rules, Philox values pinned to xlite/semantics/philox.py, moments and bounds."""
import numpy as np
import pytest

import xlite as tf
from xlite.frontend import random_ops
from xlite.frontend.lower import lower_run
from xlite.semantics import philox


def run_twice_in_fresh_sessions(t):
    values = []
    for _ in range(2):
        with tf.Session() as s:
            values.append(s.run(t))
    return values


# seeds -----------------------------------------------------------------------------------------
def test_get_seed_follows_tf(graph):
    assert random_ops.get_seed(None) == (None, None)
    assert random_ops.get_seed(5) == (random_ops.DEFAULT_GRAPH_SEED, 5)
    tf.set_random_seed(3)
    assert graph.seed == 3
    assert random_ops.get_seed(None) == (3, 0)   # a per-graph count of the ops the graph seed seeds
    tf.constant(1.0)
    assert random_ops.get_seed(None) == (3, 1)
    assert random_ops.get_seed(7) == (3, 7)
    assert random_ops.get_seed(2 ** 31 + 5) == (3, 6)
    tf.set_random_seed(0)
    assert random_ops.get_seed(0) == (0, 2 ** 31 - 1)


@pytest.mark.slow
def test_op_seed_repeats_across_sessions_and_runs_differ_within_one():
    x = tf.random_normal([3, 4], seed=5)
    first, second = run_twice_in_fresh_sessions(x)
    np.testing.assert_array_equal(first, second)
    with tf.Session() as s:
        a, b = s.run(x), s.run(x)
    assert not np.array_equal(a, b)


def test_graph_seed_alone_is_deterministic_per_program():
    def build(unrelated_ops):
        g = tf.Graph()
        with g.as_default():
            tf.set_random_seed(42)
            for _ in range(unrelated_ops):
                tf.constant(1.0)
            a = tf.random_uniform([5])
            b = tf.random_uniform([5])
        with tf.Session(graph=g) as s:
            return s.run([a, b])
    (a1, b1), (a2, b2) = build(0), build(3)
    np.testing.assert_array_equal(a1, a2)   # other ops do not shift the derived seeds (TF 2's rule)
    np.testing.assert_array_equal(b1, b2)
    assert not np.array_equal(a1, b1)


def test_different_seeds_differ_and_equal_seeds_repeat():
    a = tf.random_uniform([6], seed=1)
    b = tf.random_uniform([6], seed=2)
    c = tf.random_uniform([6], seed=1)
    with tf.Session() as s:
        va, vb, vc = s.run([a, b, c])
    assert not np.array_equal(va, vb)
    np.testing.assert_array_equal(va, vc)   # same (graph seed, op seed) pair: the same stream, as in TF


def test_unseeded_ops_get_fresh_keys():
    a, b = tf.random_normal([8]), tf.random_normal([8])
    rnd = a.graph.get_operation_by_name("random_normal/RandomStandardNormal")
    assert (rnd.get_attr("seed"), rnd.get_attr("seed2")) == (0, 0)
    with tf.Session() as s:
        va, vb = s.run([a, b])
    assert not np.array_equal(va, vb)


def test_graph_structure_like_tf():
    u = tf.random_uniform([2])
    assert (u.op.type, u.name) == ("RandomUniform", "random_uniform/RandomUniform:0")
    scaled = tf.random_uniform([2], maxval=3.0)
    assert (scaled.op.type, scaled.name) == ("Mul", "random_uniform_1/Mul:0")
    shifted = tf.random_uniform([2], minval=1.0, maxval=3.0)
    assert (shifted.op.type, shifted.name) == ("AddV2", "random_uniform_2:0")
    n = tf.random_normal([2])
    assert [o.name for o in n.graph.get_operations()][-3:] == [
        "random_normal/RandomStandardNormal", "random_normal/mul", "random_normal"]


def test_seed_attrs_like_tf():
    tf.set_random_seed(11)
    x = tf.random_normal([2], seed=4)
    rnd = x.graph.get_operation_by_name("random_normal/RandomStandardNormal")
    assert (rnd.get_attr("seed"), rnd.get_attr("seed2"), rnd.get_attr("dtype")) == (11, 4, tf.float32)


# the IR contract and exact values ---------------------------------------------------------------------
def test_lowers_to_one_rng_keyed_by_the_seeds(graph):
    u = tf.random_uniform([2, 3], seed=9)
    lowered = lower_run(graph, [u], [], {})
    rngs = [i for i in lowered.module.entry.instructions if i.opcode == "rng"]
    assert len(rngs) == 1
    rng = rngs[0]
    assert rng.attrs["distribution"] == "uniform" and rng.attrs["key"] == (random_ops.DEFAULT_GRAPH_SEED, 9)
    assert rng.shape.dims == (2, 3) and rng.operands[0].opcode == "parameter"
    assert ("rng_counter", None) in lowered.params


@pytest.mark.parametrize("fn,dist", [(tf.random_uniform, "uniform"), (tf.random_normal, "normal"),
                                     (tf.truncated_normal, "truncated_normal")])
def test_values_are_philox_samples_of_the_run_counter(fn, dist):
    t = fn([3, 5], seed=13)
    key = (random_ops.DEFAULT_GRAPH_SEED, 13)
    with tf.Session() as s:
        for counter in (1, 2):   # uniform is exact; the normals go through log/cos/erfinv, good to an ulp
            expected = philox.sample(dist, (3, 5), np.float32, key, counter)
            np.testing.assert_allclose(s.run(t), expected, rtol=0 if dist == "uniform" else 1e-6,
                                       atol=0 if dist == "uniform" else 1e-6)


# distributions --------------------------------------------------------------------------------------
N = 20000


def test_normal_moments_and_dtype():
    x = tf.random_normal([N], mean=3.0, stddev=2.0, dtype=tf.float64, seed=1)
    assert x.dtype == tf.float64 and x.shape.as_list() == [N]
    with tf.Session() as s:
        v = s.run(x)
    assert v.dtype == np.float64
    assert abs(v.mean() - 3.0) < 0.05 and abs(v.std() - 2.0) < 0.05


def test_truncated_normal_bounds_and_moments():
    x = tf.truncated_normal([N], mean=-1.0, stddev=0.5, seed=2)
    with tf.Session() as s:
        v = s.run(x)
    assert v.min() >= -2.0 and v.max() <= 0.0
    assert abs(v.mean() + 1.0) < 0.02 and abs(v.std() - 0.5 * 0.8796) < 0.02


def test_uniform_bounds_and_moments():
    x = tf.random_uniform([N], minval=-2.0, maxval=6.0, seed=3)
    with tf.Session() as s:
        v = s.run(x)
    assert v.min() >= -2.0 and v.max() < 6.0
    assert abs(v.mean() - 2.0) < 0.1 and abs(v.var() - 64 / 12) < 0.2
    assert run_default(tf.random_uniform([N], seed=4)).max() < 1.0


def test_half_precision_uniform_stays_below_one():
    v = run_default(tf.random_uniform([N], dtype=tf.float16, seed=6))
    assert v.dtype == np.float16 and v.min() >= 0 and v.max() < 1.0 and v.max() > 0.99


def run_default(t):
    with tf.Session() as s:
        return s.run(t)


@pytest.mark.parametrize("dtype", [tf.int32, tf.int64])
def test_integer_uniform_covers_the_range(dtype):
    x = tf.random_uniform([N], minval=-3, maxval=4, dtype=dtype, seed=5)
    assert x.op.type == "RandomUniformInt" and x.op.name == "random_uniform" and x.dtype == dtype
    v = run_default(x)
    assert v.dtype == dtype.np and v.min() == -3 and v.max() == 3
    counts = np.bincount(v + 3)
    assert counts.min() > N / 7 * 0.9 and counts.max() < N / 7 * 1.1


def test_integer_uniform_needs_maxval_and_an_ordered_range():
    with pytest.raises(ValueError, match="maxval"):
        tf.random_uniform([2], dtype=tf.int32)
    bad = tf.random_uniform([2], minval=5, maxval=5, dtype=tf.int32)
    with pytest.raises(tf.errors.InvalidArgumentError):
        run_default(bad)


def test_invalid_dtypes():
    with pytest.raises(ValueError):
        tf.random_normal([2], dtype=tf.int32)
    with pytest.raises(ValueError):
        tf.random_uniform([2], dtype=tf.bool)


# shapes -------------------------------------------------------------------------------------------
def test_shape_forms():
    assert tf.random_normal((2, 3)).shape.as_list() == [2, 3]
    assert tf.random_uniform(np.array([4])).shape.as_list() == [4]
    assert tf.random_normal([]).shape.as_list() == []
    assert tf.random_uniform(tf.TensorShape([1, 2])).shape.as_list() == [1, 2]
    assert tf.random_normal(tf.constant([3, 1])).shape.as_list() == [3, 1]
    assert run_default(tf.random_uniform([0, 3])).shape == (0, 3)
    with pytest.raises(ValueError):
        tf.random_normal([None, 2])


def test_shape_from_a_placeholder():
    p = tf.placeholder(tf.float32, [None, 2])
    x = tf.random_uniform(tf.shape(p), seed=1)
    assert x.shape.as_list() == [None, 2]
    with tf.Session() as s:
        assert s.run(x, {p: np.zeros((5, 2))}).shape == (5, 2)
        assert s.run(x * p, {p: np.ones((1, 2))}).shape == (1, 2)
    mixed = tf.random_normal([tf.shape(p)[0], 3], seed=3)
    assert mixed.shape.as_list() == [None, 3]
    with tf.Session() as s:
        assert s.run(mixed, {p: np.zeros((4, 2))}).shape == (4, 3)
    q = tf.placeholder(tf.float32)
    n = tf.random_normal(tf.shape(q), seed=2)
    i = tf.random_uniform(tf.shape(q), 0, 3, tf.int64, seed=2)
    assert n.shape.ndims is None and i.shape.ndims is None
    with tf.Session() as s:
        vn, vi = s.run([n, i], {q: np.zeros((2, 3, 1))})
    assert vn.shape == vi.shape == (2, 3, 1) and vi.dtype == np.int64


def test_tf_random_namespace():
    assert tf.random.normal is tf.random_normal and tf.random.uniform is tf.random_uniform
    assert tf.random.truncated_normal is tf.truncated_normal
    assert tf.random.set_random_seed is tf.set_random_seed and tf.random.set_seed is tf.set_random_seed
    assert not hasattr(tf, "normal")


def test_random_values_feed_gradients_as_constants():
    x = tf.placeholder(tf.float32, [3])
    noise = tf.random_normal([3], seed=1)
    (g,) = tf.gradients(tf.reduce_sum(x * noise), x)
    with tf.Session() as s:
        gv, nv = s.run([g, noise], {x: np.ones(3, np.float32)})
    np.testing.assert_array_equal(gv, nv)
    y = tf.placeholder(tf.float32, [None])
    (gy,) = tf.gradients(tf.reduce_sum(y * tf.random_uniform(tf.shape(y), seed=2)), y)  # a path through Shape
    with tf.Session() as s:
        assert s.run(gy, {y: np.ones(4, np.float32)}).shape == (4,)
