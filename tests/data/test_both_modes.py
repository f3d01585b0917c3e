"""Each source and transformation read both ways: graph mode through get_next() and a Session, and eagerly
with `for element in dataset`; both give TF's values (checked with TF 2.21 on the same pipelines)."""
import numpy as np
import pytest

import xlite as tf

context = pytest.importorskip("xlite.eager.context")
D = tf.data.Dataset
X = np.arange(12, dtype=np.float32).reshape(6, 2)


def _gen():
    yield from ([n] * n for n in range(1, 4))


PIPELINES = {
    "slices": (lambda: D.from_tensor_slices((X, np.arange(6))).take(2),
               [([0.0, 1.0], 0), ([2.0, 3.0], 1)]),
    "tensors": (lambda: D.from_tensors(X[:2]), [[[0.0, 1.0], [2.0, 3.0]]]),
    "range": (lambda: D.range(10, 2, -3), [10, 7, 4]),
    "generator": (lambda: D.from_generator(_gen, output_types=tf.int64, output_shapes=[None]).padded_batch(2),
                  [[[1, 0], [2, 2]], [[3, 3, 3]]]),
    "zip": (lambda: D.zip((D.range(3), D.range(10, 20))), [(0, 10), (1, 11), (2, 12)]),
    "map": (lambda: D.from_tensor_slices(X).map(lambda v: tf.reduce_sum(v * v)), [1.0, 13.0, 41.0, 85.0, 145.0,
                                                                                   221.0]),
    "filter": (lambda: D.range(10).filter(lambda v: tf.equal(v % 4, 1)), [1, 5, 9]),
    "flat_map": (lambda: D.range(1, 4).flat_map(lambda v: D.range(v)), [0, 0, 1, 0, 1, 2]),
    "interleave": (lambda: D.range(1, 4).interleave(lambda v: D.from_tensors(v).repeat(3), cycle_length=2,
                                                    block_length=2), [1, 1, 2, 2, 1, 2, 3, 3, 3]),
    "batch": (lambda: D.range(7).batch(3), [[0, 1, 2], [3, 4, 5], [6]]),
    "unbatch": (lambda: D.from_tensor_slices(X[:3]).batch(2).unbatch(), [[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]]),
    "repeat_take": (lambda: D.range(3).repeat().take(7), [0, 1, 2, 0, 1, 2, 0]),
    "skip": (lambda: D.range(5).skip(3), [3, 4]),
    "enumerate": (lambda: D.range(3).enumerate(5), [(5, 0), (6, 1), (7, 2)]),
    "concatenate": (lambda: D.range(2).concatenate(D.range(10, 12)), [0, 1, 10, 11]),
    "cache_prefetch": (lambda: D.range(4).cache().prefetch(2), [0, 1, 2, 3]),
    "shuffle_batch": (lambda: D.range(6).shuffle(1).batch(4, drop_remainder=True), [[0, 1, 2, 3]]),
    "empty": (lambda: D.range(0).map(lambda v: v + 1), []),
}


def _graph_values(make):
    with tf.Graph().as_default():
        n = make().make_one_shot_iterator().get_next()
        out = []
        with tf.Session() as sess:
            try:
                while True:
                    out.append(sess.run(n))
            except tf.errors.OutOfRangeError:
                return out


def _eager_values(make):
    with context.eager_mode():
        return [_numpy(e) for e in make()]


def _numpy(element):
    if isinstance(element, tuple):
        return tuple(_numpy(e) for e in element)
    return element.numpy()


def _same(got, want):
    assert len(got) == len(want)
    for g, w in zip(got, want):
        if isinstance(w, tuple):
            for a, b in zip(g, w):
                np.testing.assert_array_equal(a, b)
        else:
            np.testing.assert_array_equal(g, w)


@pytest.mark.parametrize("name", sorted(PIPELINES))
def test_graph_and_eager_give_tfs_values(name):
    make, want = PIPELINES[name]
    _same(_graph_values(make), want)
    _same(_eager_values(make), want)
