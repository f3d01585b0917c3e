"""tf.roll, tf.searchsorted, tf.linalg.matrix_transpose, tf.random_shuffle and tf.multinomial / categorical:
composed of ordinary ops, checked against NumPy (values) and by their distributions (random ones)."""
import numpy as np
import pytest

import gradcheck
import xlite as tf

X = np.arange(24, dtype=np.float32).reshape(2, 3, 4)


@pytest.fixture(autouse=True)
def fresh_graph():
    with tf.Graph().as_default():
        yield


def run(fetches, feed=None):
    with tf.Session() as sess:
        return sess.run(fetches, feed)


@pytest.mark.parametrize("shift, axis", [(1, 0), (-1, 2), (5, 1), ([1, 2], [1, 2]), ([2, -1], [2, 2]), (0, 1),
                                          (4, -1)])
def test_roll_is_numpys(shift, axis):
    np.testing.assert_array_equal(run(tf.roll(X, shift, axis)), np.roll(X, shift, axis))


def test_roll_differentiates_and_names_what_it_needs_known():
    gradcheck.check_grad(lambda x: tf.roll(x, 2, 1) * np.arange(4.0), np.random.RandomState(0).normal(size=(2, 4)),
                         target="interpreter")
    with pytest.raises(ValueError, match="same size"):
        tf.roll(X, [1, 2], [0])
    with pytest.raises(tf.errors.UnimplementedError, match="shift known only at run time"):
        tf.roll(X, tf.placeholder(tf.int32, []), 0)


@pytest.mark.parametrize("side", ["left", "right"])
def test_searchsorted_is_numpys_per_row(side):
    seq = np.array([[1.0, 3.0, 3.0, 5.0], [0.0, 2.0, 4.0, 6.0]], np.float32)
    vals = np.array([[3.0, 0.0, 6.0], [4.0, 7.0, -1.0]], np.float32)
    want = np.stack([np.searchsorted(s, v, side=side) for s, v in zip(seq, vals)])
    got = run(tf.searchsorted(seq, vals, side=side))
    np.testing.assert_array_equal(got, want)
    assert got.dtype == np.int32
    assert run(tf.searchsorted([1, 2, 3], [2], side=side, out_type=tf.int64)).dtype == np.int64


def test_matrix_transpose_swaps_the_last_two_dims():
    np.testing.assert_array_equal(run(tf.linalg.matrix_transpose(X)), np.swapaxes(X, -1, -2))
    with pytest.raises(ValueError, match="rank >= 2"):
        tf.linalg.matrix_transpose(tf.constant([1.0]))


def test_random_shuffle_permutes_rows_and_repeats_with_a_seed():
    rows = np.arange(40, dtype=np.float32).reshape(20, 2)
    x = tf.placeholder(tf.float32, [None, 2])
    tf.set_random_seed(5)
    shuffled = tf.random.shuffle(x, seed=1)
    with tf.Session() as sess:
        first, second = sess.run(shuffled, {x: rows}), sess.run(shuffled, {x: rows})
    with tf.Session() as sess:
        again = sess.run(shuffled, {x: rows})
    for got in (first, second):
        np.testing.assert_array_equal(got[np.argsort(got[:, 0])], rows)     # whole rows, each once
    assert not np.array_equal(first, rows) and not np.array_equal(first, second)
    np.testing.assert_array_equal(again, first)                             # a fresh Session repeats
    with pytest.raises(ValueError, match="at least 1-D"):
        tf.random_shuffle(1.0)


def test_categorical_draws_by_the_softmax_of_each_row():
    probs = np.array([[0.2, 0.8, 0.0], [0.5, 0.25, 0.25]])
    logits = np.log(np.maximum(probs, 1e-30)).astype(np.float32)
    samples = run(tf.random.categorical(logits, 20000, seed=3))
    assert samples.shape == (2, 20000) and samples.dtype == np.int64
    for row, p in zip(samples, probs):
        np.testing.assert_allclose(np.bincount(row, minlength=3) / row.size, p, atol=0.015)
    assert run(tf.multinomial(logits, 4, output_dtype=tf.int32)).dtype == np.int32
