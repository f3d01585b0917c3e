"""tf.nn.embedding_lookup over shards ('mod', 'div'), with max_norm, and tf.nn.embedding_lookup_sparse."""
import numpy as np
import pytest

import xlite as tf
import gradcheck
from tests.io.tf_subprocess import LIVE_TF, run_tf

RNG = np.random.default_rng(17)
TABLE = RNG.normal(size=(11, 3)).astype(np.float32)
IDS = np.array([[0, 10, 4], [5, 5, 7]])


def _shards(strategy, n):
    """TF's partitioning of TABLE's rows over n shards."""
    rows = np.arange(len(TABLE))
    if strategy == "mod":
        return [TABLE[rows % n == k] for k in range(n)]
    per, extras = divmod(len(TABLE), n)
    sizes = [per + (k < extras) for k in range(n)]
    return np.split(TABLE, np.cumsum(sizes)[:-1])


def _run(fetches, target="interpreter", feed=None):
    with tf.Session(target=target) as s:
        s.run(tf.global_variables_initializer())
        return s.run(fetches, feed)


@pytest.mark.parametrize("target", ["interpreter", "cpu"])
@pytest.mark.parametrize("strategy,n", [("mod", 3), ("div", 3), ("div", 4), ("mod", 1)])
def test_sharded_lookup_equals_the_whole_table(strategy, n, target):
    with tf.Graph().as_default():
        shards = [tf.Variable(s) for s in _shards(strategy, n)]
        got = _run(tf.nn.embedding_lookup(shards, IDS, partition_strategy=strategy), target)
    np.testing.assert_array_equal(got, TABLE[IDS])


def test_sharded_gradients_are_slices_per_shard():
    with tf.Graph().as_default():
        shards = [tf.Variable(s) for s in _shards("div", 3)]
        loss = tf.reduce_sum(tf.nn.embedding_lookup(shards, IDS, partition_strategy="div") ** 2)
        grads = tf.gradients(loss, shards)
        assert all(isinstance(g, tf.IndexedSlices) for g in grads)
        dense = _run([tf.convert_to_tensor(g) for g in grads])
    want = np.zeros_like(TABLE)
    np.add.at(want, IDS.reshape(-1), 2 * TABLE[IDS.reshape(-1)])
    np.testing.assert_allclose(np.concatenate(dense), want, rtol=1e-6)


def test_max_norm_clips_each_embedding():
    with tf.Graph().as_default():
        got = _run(tf.nn.embedding_lookup(TABLE, IDS, max_norm=1.0))
    rows = TABLE[IDS]
    norms = np.linalg.norm(rows, axis=-1, keepdims=True)
    np.testing.assert_allclose(got, rows * np.minimum(1.0, 1.0 / norms), rtol=1e-6)


SP_INDICES = np.array([[0, 0], [0, 1], [0, 2], [2, 0], [2, 1]], np.int64)
SP_IDS = np.array([3, 1, 3, 0, 9], np.int64)
SP_WEIGHTS = np.array([0.5, 2.0, 1.0, -1.0, 3.0], np.float32)


def _numpy_sparse(combiner, weights):
    w = np.ones(len(SP_IDS), np.float32) if weights is None else weights
    out = np.zeros((3, 3), np.float32)
    for (row, _), i, wi in zip(SP_INDICES, SP_IDS, w):
        out[row] += wi * TABLE[i]
    norm = np.zeros(3, np.float32)
    for (row, _), wi in zip(SP_INDICES, w):
        norm[row] += wi if combiner == "mean" else wi * wi
    if combiner == "sqrtn":
        norm = np.sqrt(norm)
    if combiner != "sum":
        out = np.divide(out, norm[:, None], out=np.zeros_like(out), where=norm[:, None] != 0)
    return out


@pytest.mark.parametrize("target", ["interpreter", "cpu"])
@pytest.mark.parametrize("combiner", ["sum", "mean", "sqrtn"])
def test_embedding_lookup_sparse(combiner, target):
    with tf.Graph().as_default():
        sp_ids = tf.SparseTensor(SP_INDICES, SP_IDS, [3, 3])
        sp_w = tf.SparseTensor(SP_INDICES, SP_WEIGHTS, [3, 3])
        fetches = [tf.nn.embedding_lookup_sparse(TABLE, sp_ids, None, combiner=combiner),
                   tf.nn.embedding_lookup_sparse([TABLE[::2], TABLE[1::2]], sp_ids, sp_w, combiner=combiner)]
        plain, weighted = _run(fetches, target)
    np.testing.assert_allclose(plain, _numpy_sparse(combiner, None), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(weighted, _numpy_sparse(combiner, SP_WEIGHTS), rtol=1e-5, atol=1e-6)


def test_sparse_lookup_gradient_equals_finite_differences():
    sp_ids = tf.SparseTensorValue(SP_INDICES, SP_IDS, [3, 3])
    gradcheck.check_grad(lambda t: tf.nn.embedding_lookup_sparse(t, tf.SparseTensor(*sp_ids), None,
                                                                 combiner="sqrtn"),
                         TABLE.astype(np.float64), target="interpreter")


@LIVE_TF[0]
@LIVE_TF[1]
def test_lookups_equal_tensorflow(tmp_path):
    np.save(tmp_path / "table.npy", TABLE)
    run_tf(f"""
        table = np.load(d + "/table.npy")
        ids = np.array({IDS.tolist()})
        out = {{}}
        for strategy in ("mod", "div"):
            shards = [tf1.constant(table[k::3]) for k in range(3)] if strategy == "mod" else \\
                [tf1.constant(s) for s in np.split(table, [4, 8])]
            out[strategy] = tf1.nn.embedding_lookup(shards, ids, partition_strategy=strategy, max_norm=1.5)
        sp_ids = tf1.SparseTensor({SP_INDICES.tolist()}, np.array({SP_IDS.tolist()}, np.int64), [3, 3])
        sp_w = tf1.SparseTensor({SP_INDICES.tolist()}, np.array({SP_WEIGHTS.tolist()}, np.float32), [3, 3])
        for combiner in ("sum", "mean", "sqrtn"):
            out[combiner] = tf1.nn.embedding_lookup_sparse(tf1.constant(table), sp_ids, sp_w, combiner=combiner)
        with tf1.Session() as s:
            np.savez(d + "/out.npz", **s.run(out))
    """, tmp_path)
    want = np.load(tmp_path / "out.npz")
    with tf.Graph().as_default():
        sp_ids = tf.SparseTensor(SP_INDICES, SP_IDS, [3, 3])
        sp_w = tf.SparseTensor(SP_INDICES, SP_WEIGHTS, [3, 3])
        out = {"mod": tf.nn.embedding_lookup([TABLE[k::3] for k in range(3)], IDS, max_norm=1.5),
               "div": tf.nn.embedding_lookup(np.split(TABLE, [4, 8]), IDS, "div", max_norm=1.5)}
        for combiner in ("sum", "mean", "sqrtn"):
            out[combiner] = tf.nn.embedding_lookup_sparse(TABLE, sp_ids, sp_w, combiner=combiner)
        got = _run(out, "cpu")
    for key, value in got.items():
        np.testing.assert_allclose(value, want[key], rtol=1e-5, atol=1e-6, err_msg=key)
