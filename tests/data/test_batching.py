"""batch, padded_batch, unbatch and shuffle against TF's values and static shapes (checked with TF 2.21)."""
import numpy as np
import pytest

import xlite as tf
from xlite.eager.context import eager_mode
from xlite.data import TensorSpec

D = tf.data.Dataset


def values(ds):
    with eager_mode():      # Python iteration, as in TF, executes eagerly
        return list(ds.as_numpy_iterator())


def cardinality(ds) -> int:
    with eager_mode():
        return int(ds.cardinality())


def test_batch_keeps_a_remainder_with_an_unknown_batch_dim():
    ds = D.range(7).batch(3)
    assert ds.element_spec == TensorSpec([None], tf.int64)
    assert [v.tolist() for v in values(ds)] == [[0, 1, 2], [3, 4, 5], [6]]
    assert cardinality(ds) == 3


def test_batch_drop_remainder_has_a_static_batch_dim():
    x = np.arange(14, dtype=np.float32).reshape(7, 2)
    ds = D.from_tensor_slices({"x": x, "i": np.arange(7)}).batch(3, drop_remainder=True)
    assert ds.element_spec == {"x": TensorSpec([3, 2], tf.float32), "i": TensorSpec([3], tf.int64)}
    got = values(ds)
    assert len(got) == 2 and cardinality(ds) == 2
    np.testing.assert_array_equal(got[1]["x"], x[3:6])


def test_batch_of_an_empty_dataset_and_of_mismatched_shapes():
    assert values(D.range(0).batch(2)) == []
    ragged = D.from_generator(lambda: iter([[1], [1, 2]]), output_types=tf.int32, output_shapes=[None])
    with pytest.raises(tf.errors.InvalidArgumentError, match="Cannot batch tensors with different shapes"):
        values(ragged.batch(2))
    with pytest.raises(tf.errors.InvalidArgumentError):
        D.range(3).batch(0)


def _ragged():
    return D.from_generator(lambda: ([n] * n for n in range(1, 5)), output_types=tf.int64, output_shapes=[None])


def test_padded_batch_to_the_longest_and_to_a_given_shape():
    ds = _ragged().padded_batch(2)
    assert ds.element_spec == TensorSpec([None, None], tf.int64)
    assert [v.tolist() for v in values(ds)] == [[[1, 0], [2, 2]], [[3, 3, 3, 0], [4, 4, 4, 4]]]
    ds = _ragged().padded_batch(2, padded_shapes=[5], padding_values=tf.constant(-1, tf.int64))
    assert ds.element_spec == TensorSpec([None, 5], tf.int64)
    assert values(ds)[1].tolist() == [[3, 3, 3, -1, -1], [4, 4, 4, 4, -1]]
    with pytest.raises(tf.errors.InvalidArgumentError, match="smaller"):
        values(_ragged().padded_batch(2, padded_shapes=[3]))


def test_unbatch_inverts_batch():
    x = np.arange(12, dtype=np.float32).reshape(6, 2)
    ds = D.from_tensor_slices(x).batch(4).unbatch()
    assert ds.element_spec == TensorSpec([2], tf.float32)
    np.testing.assert_array_equal(np.stack(values(ds)), x)


def test_shuffle_is_a_permutation_seeded_deterministic_and_reshuffled_per_pass():
    ds = D.range(100).shuffle(20, seed=7)
    first, second = values(ds), values(ds)
    assert sorted(first) == list(range(100)) and sorted(second) == list(range(100))
    assert first != list(range(100)) and first != second
    again = D.range(100).shuffle(20, seed=7)
    assert values(again) == first and values(again) == second          # same seed, same orders
    fixed = D.range(100).shuffle(20, seed=7, reshuffle_each_iteration=False)
    assert values(fixed) == values(fixed)


def test_shuffle_buffer_bounds_how_far_an_element_moves():
    # with a buffer of b, the element emitted at position i was among the first i + b inputs
    out = values(D.range(200).shuffle(10, seed=3))
    assert all(v < i + 10 for i, v in enumerate(out))
    assert values(D.range(5).shuffle(1)) == [0, 1, 2, 3, 4]          # a buffer of one keeps the order


def test_a_graph_seed_makes_unseeded_shuffles_repeatable_and_distinct():
    def orders():
        with tf.Graph().as_default():
            tf.set_random_seed(5)
            a, b = D.range(50).shuffle(50), D.range(50).shuffle(50)
        return values(a), values(b)
    first, second = orders()
    assert (first, second) == orders() and first != second
