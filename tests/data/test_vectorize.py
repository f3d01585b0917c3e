"""Map vectorization: a chunk of elements per compiled run gives what one element per run gives."""
import numpy as np
import pytest

import xlite as tf
from xlite.eager.context import eager_mode
from xlite.data.vectorize import vectorize

D = tf.data.Dataset


def values(ds):
    with eager_mode():      # Python iteration, as in TF, executes eagerly
        return list(ds.as_numpy_iterator())


def test_w9_normalize_is_vectorized_and_matches_numpy():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (600, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, 600)
    ds = D.from_tensor_slices((images, labels)).map(
        lambda img, lab: (tf.reshape(tf.cast(img, tf.float32) / 255.0, [784]), tf.one_hot(lab, 10)))
    assert ds._fn.vectorized() is not None
    got = values(ds)
    assert len(got) == 600
    np.testing.assert_allclose(np.stack([g[0] for g in got]), images.reshape(600, 784) / np.float32(255.0),
                               rtol=1e-6)
    np.testing.assert_array_equal(np.stack([g[1] for g in got]), np.eye(10, dtype=np.float32)[labels])


def _per_element_and_vectorized(fn, *arrays):
    ds = D.from_tensor_slices(arrays if len(arrays) > 1 else arrays[0]).map(fn)
    assert ds._fn.vectorized() is not None, [op.type for op in ds._fn.graph.get_operations()]
    chunked = values(ds)
    with eager_mode():
        slices = list(D.from_tensor_slices(arrays if len(arrays) > 1 else arrays[0]).as_numpy_iterator())
    single = [ds._fn(e) for e in slices]
    return chunked, single


@pytest.mark.parametrize("fn, reference", [
    (lambda x: x * tf.constant(np.arange(12, dtype=np.float32).reshape(4, 3)),      # a constant of higher rank
     lambda x: x * np.arange(12, dtype=np.float32).reshape(4, 3)),
    (lambda x: tf.reduce_sum(x, axis=-1, keepdims=True) - tf.reduce_max(x),
     lambda x: x.sum(-1, keepdims=True) - x.max()),
    (lambda x: tf.transpose(tf.expand_dims(tf.sqrt(tf.abs(x)), 0)), lambda x: np.sqrt(np.abs(x))[None].T),
    (lambda x: tf.where(x > 0.0, x, tf.square(x) + 1.0), lambda x: np.where(x > 0, x, x * x + 1)),
    (lambda x: tf.reduce_mean(tf.exp(x)), lambda x: np.exp(x).mean()),
])
def test_vectorized_ops_match_numpy_and_the_per_element_run(fn, reference):
    x = np.random.default_rng(1).standard_normal((300, 3)).astype(np.float32)
    chunked, single = _per_element_and_vectorized(fn, x)
    for c, s, row in zip(chunked, single, x):
        np.testing.assert_allclose(c, reference(row), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(c, s, rtol=1e-6, atol=1e-7)


def test_ops_without_a_rule_run_element_by_element():
    x = np.random.default_rng(2).standard_normal((5, 2, 2)).astype(np.float32)
    ds = D.from_tensor_slices(x).map(lambda m: tf.matmul(m, m))
    assert ds._fn.vectorized() is None
    np.testing.assert_allclose(np.stack(values(ds)), x @ x, rtol=1e-5)
    noisy = D.from_tensor_slices(x).map(lambda m: m + tf.random_uniform([2, 2]))
    assert noisy._fn.vectorized() is None                # random numbers are per element


def test_an_error_in_a_chunk_surfaces_at_its_element():
    g = D.from_generator(lambda: iter([[1.0] * 4] * 3 + [[1.0] * 6]), output_types=tf.float32, output_shapes=[None])
    with eager_mode():
        it = iter(g.map(lambda v: tf.reshape(v, [2, 2])))
        assert [next(it).shape for _ in range(3)] == [(2, 2)] * 3
        with pytest.raises(tf.errors.InvalidArgumentError):
            next(it)


def test_vectorize_refuses_unknown_ranks():
    with tf.Graph().as_default():
        p = tf.placeholder(tf.float32, None)
        assert vectorize([p], [p * 2.0]) is None


def test_parallel_chunks_come_back_in_order():
    x = np.arange(3000, dtype=np.float32)
    ds = D.from_tensor_slices(x).map(lambda v: v * 2.0 + 1.0, num_parallel_calls=3)
    assert ds._fn.vectorized() is not None
    np.testing.assert_array_equal(np.array(values(ds)), x * 2.0 + 1.0)
    gen = D.from_generator(lambda: iter(range(1000)), output_types=tf.int64, output_shapes=[])
    assert values(gen.map(lambda v: v * 3, num_parallel_calls=tf.data.AUTOTUNE)) == list(range(0, 3000, 3))
