"""Each replica's rows of a global batch: contiguous, at most one row apart in count, together the batch."""
import numpy as np
import pytest

import xlite as tf
from xlite.distribute.replica_data import ReplicaBatches, local_rows, row_range


@pytest.mark.parametrize("n,replicas", [(8, 2), (7, 3), (2, 4), (0, 2)])
def test_replicas_split_a_batch_into_contiguous_parts(n, replicas):
    x = np.arange(n * 2).reshape(n, 2)
    parts = [local_rows((x, {"y": x[:, 0]}, None), replicas, r) for r in range(replicas)]
    np.testing.assert_array_equal(np.concatenate([p[0] for p in parts]), x)
    np.testing.assert_array_equal(np.concatenate([p[1]["y"] for p in parts]), x[:, 0])
    assert all(p[2] is None for p in parts)
    sizes = [row_range(n, replicas, r)[1] - row_range(n, replicas, r)[0] for r in range(replicas)]
    assert max(sizes) - min(sizes) <= 1


def test_a_distributed_dataset_gives_each_replica_its_part_of_every_batch():
    dataset = tf.data.Dataset.range(10).batch(4)
    seen = []
    for rank in range(2):
        part = ReplicaBatches(dataset, 2, rank)
        assert part.element_spec.shape.as_list() == [None]
        with tf.Graph().as_default(), tf.Session() as sess:
            get_next = tf.compat.v1.data.make_one_shot_iterator(part).get_next()
            seen.append([list(sess.run(get_next)) for _ in range(3)])
    assert seen == [[[0, 1], [4, 5], [8]], [[2, 3], [6, 7], [9]]]
