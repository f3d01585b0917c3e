"""Dataset.shard: every num_shards-th element from index, TF's cardinality and errors."""
import pytest

import xlite as tf


def _values(dataset) -> list:
    with tf.Graph().as_default(), tf.Session() as sess:
        get_next = tf.compat.v1.data.make_one_shot_iterator(dataset).get_next()
        values = []
        while True:
            try:
                values.append(int(sess.run(get_next)))
            except tf.errors.OutOfRangeError:
                return values


@pytest.mark.parametrize("n,shards", [(10, 3), (2, 4), (0, 2), (6, 1)])
def test_shards_partition_the_dataset(n, shards):
    parts = [_values(tf.data.Dataset.range(n).shard(shards, i)) for i in range(shards)]
    assert sorted(v for p in parts for v in p) == list(range(n))
    assert parts[0] == list(range(0, n, shards))
    assert [tf.data.Dataset.range(n).shard(shards, i)._cardinality() for i in range(shards)] == [len(p) for p in parts]


def test_bad_shard_arguments_raise_tf_errors():
    with pytest.raises(tf.errors.InvalidArgumentError, match="Number of shards must be greater than zero"):
        tf.data.Dataset.range(3).shard(0, 0)
    with pytest.raises(tf.errors.InvalidArgumentError, match="Index must be between 0 and 1"):
        tf.data.Dataset.range(3).shard(2, 2)
