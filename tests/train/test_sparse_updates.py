"""Optimizers given a gather's IndexedSlices gradient: scatter updates that equal TF's sparse formulas."""
import numpy as np
import pytest

import xlite as tf
from tests.io.tf_subprocess import LIVE_TF, run_tf

TABLE = np.random.default_rng(0).normal(size=(6, 3)).astype(np.float32)
STEPS = ([1, 3, 1], [2, 1])          # a repeated id, then an overlapping batch
LR = 0.1

OPTIMIZERS = {
    "sgd": lambda: tf.train.GradientDescentOptimizer(LR),
    "momentum": lambda: tf.train.MomentumOptimizer(LR, 0.9),
    "nesterov": lambda: tf.train.MomentumOptimizer(LR, 0.9, use_nesterov=True),
    "adagrad": lambda: tf.train.AdagradOptimizer(LR),
    "adam": lambda: tf.train.AdamOptimizer(LR),
}


def _train(make, target):
    """The table after each step of minimizing sum(lookup(table, ids)^2), and the update's op types."""
    with tf.Graph().as_default():
        table = tf.Variable(TABLE)
        ids = tf.placeholder(tf.int32, [None])
        loss = tf.reduce_sum(tf.square(tf.nn.embedding_lookup(table, ids)))
        step = make().minimize(loss)
        op_types = {op.type for op in tf.get_default_graph().get_operations()}
        with tf.Session(target=target) as s:
            s.run(tf.global_variables_initializer())
            tables = []
            for batch in STEPS:
                s.run(step, {ids: batch})
                tables.append(s.run(table))
        return tables, op_types


def _numpy(name):
    """TF's sparse update formulas, duplicate ids summed first (Adam: non-lazy, every row)."""
    var = TABLE.astype(np.float64)
    slot = np.zeros_like(var) + (0.1 if name == "adagrad" else 0.0)
    v = np.zeros_like(var)
    out = []
    for t, batch in enumerate(STEPS, 1):
        grad = np.zeros_like(var)
        for i in batch:
            grad[i] += 2 * var[i]
        rows = sorted(set(batch))
        if name == "sgd":
            var[rows] -= LR * grad[rows]
        elif name in ("momentum", "nesterov"):
            slot[rows] = 0.9 * slot[rows] + grad[rows]
            var[rows] -= LR * (grad[rows] + 0.9 * slot[rows] if name == "nesterov" else slot[rows])
        elif name == "adagrad":
            slot[rows] += grad[rows] ** 2
            var[rows] -= LR * grad[rows] / np.sqrt(slot[rows])
        else:
            slot = 0.9 * slot + 0.1 * grad
            v = 0.999 * v + 0.001 * grad ** 2
            var -= LR * np.sqrt(1 - 0.999 ** t) / (1 - 0.9 ** t) * slot / (np.sqrt(v) + 1e-8)
        out.append(var.copy())
    return out


@pytest.mark.parametrize("target", ["interpreter", "cpu"])
@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_sparse_update_matches_tf_formulas(name, target):
    tables, op_types = _train(OPTIMIZERS[name], target)
    for got, want in zip(tables, _numpy(name)):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    if name != "adam":                      # rows no id touched keep their values
        np.testing.assert_array_equal(tables[-1][[0, 4, 5]], TABLE[[0, 4, 5]])
    # compiled as scatters; the gradient itself is never made dense
    assert op_types & {"ScatterSub", "ScatterUpdate", "TensorScatterAdd"}
    assert "UnsortedSegmentSum" not in op_types


ROW_WISE = {
    "rmsprop": lambda: tf.train.RMSPropOptimizer(LR, momentum=0.5),
    "centered": lambda: tf.train.RMSPropOptimizer(LR, momentum=0.5, centered=True),
    "adadelta": lambda: tf.train.AdadeltaOptimizer(1.0),
    "proximal": lambda: tf.train.ProximalGradientDescentOptimizer(LR, 0.01, 0.02),
    "ftrl": lambda: tf.train.FtrlOptimizer(LR, l1_regularization_strength=0.01),
}


@pytest.mark.parametrize("name", sorted(ROW_WISE))
def test_row_wise_optimizers_change_only_the_touched_rows_as_their_dense_update_does(name):
    """One step from the same state: the touched rows as the dense update of the summed gradient makes them,
    the others unchanged (TF's sparse kernels)."""
    sparse, op_types = _train(ROW_WISE[name], "interpreter")
    assert "ScatterUpdate" in op_types
    with tf.Graph().as_default():
        table = tf.Variable(TABLE)
        grad = tf.placeholder(tf.float32, TABLE.shape)
        step = ROW_WISE[name]().apply_gradients([(grad, table)])
        with tf.Session(target="interpreter") as s:
            s.run(tf.global_variables_initializer())
            dense = np.zeros_like(TABLE)
            np.add.at(dense, STEPS[0], 2 * TABLE[STEPS[0]])
            s.run(step, {grad: dense})
            dense_table = s.run(table)
    touched = sorted(set(STEPS[0]))
    np.testing.assert_allclose(sparse[0][touched], dense_table[touched], rtol=1e-6, atol=1e-7)
    untouched = [i for i in range(len(TABLE)) if i not in touched]
    np.testing.assert_array_equal(sparse[0][untouched], TABLE[untouched])


TF_OPTIMIZERS = {"sgd": "tf1.train.GradientDescentOptimizer(0.1)", "momentum": "tf1.train.MomentumOptimizer(0.1, 0.9)",
                 "nesterov": "tf1.train.MomentumOptimizer(0.1, 0.9, use_nesterov=True)",
                 "adagrad": "tf1.train.AdagradOptimizer(0.1)", "adam": "tf1.train.AdamOptimizer(0.1)",
                 "rmsprop": "tf1.train.RMSPropOptimizer(0.1, momentum=0.5)",
                 "centered": "tf1.train.RMSPropOptimizer(0.1, momentum=0.5, centered=True)",
                 "adadelta": "tf1.train.AdadeltaOptimizer(1.0)",
                 "proximal": "tf1.train.ProximalGradientDescentOptimizer(0.1, 0.01, 0.02)",
                 "ftrl": "tf1.train.FtrlOptimizer(0.1, l1_regularization_strength=0.01)"}


@LIVE_TF[0]
@LIVE_TF[1]
def test_sparse_updates_equal_tensorflow(tmp_path):
    np.save(tmp_path / "table.npy", TABLE)
    run_tf(f"""
        for name, make in {TF_OPTIMIZERS!r}.items():
            with tf.Graph().as_default():
                table = tf1.Variable(np.load(d + "/table.npy"))
                ids = tf1.placeholder(tf.int32, [None])
                loss = tf.reduce_sum(tf.square(tf1.nn.embedding_lookup(table, ids)))
                assert isinstance(tf1.gradients(loss, [table])[0], tf.IndexedSlices)
                step = eval(make).minimize(loss)
                with tf1.Session() as s:
                    s.run(tf1.global_variables_initializer())
                    out = []
                    for batch in {list(map(list, STEPS))}:
                        s.run(step, {{ids: batch}})
                        out.append(s.run(table))
                np.save(d + "/" + name + ".npy", np.stack(out))
    """, tmp_path)
    for name, make in {**OPTIMIZERS, **ROW_WISE}.items():
        tables, _ = _train(make, "cpu")
        np.testing.assert_allclose(np.stack(tables), np.load(tmp_path / f"{name}.npy"), rtol=1e-5, atol=1e-6,
                                   err_msg=name)


@pytest.mark.slow
def test_sparse_updates_on_the_cuda_emulator(emulated):
    """The CUDA backend's code for the scatters (sgd) and the row updates of repeated ids (momentum), run on the
    CPU emulator."""
    for name in ("sgd", "momentum"):
        tables, _ = _train(OPTIMIZERS[name], "cuda")
        for got, want in zip(tables, _numpy(name)):
            np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6, err_msg=name)


@pytest.mark.parametrize("strategy", ["mod", "div"])
def test_sharded_tables_train_as_one_table(strategy):
    """Each shard's slices name only the ids it owns, so Momentum leaves the rows TF would not touch alone."""
    whole, _ = _train(OPTIMIZERS["momentum"], "interpreter")
    order = np.concatenate([np.arange(k, 6, 2) for k in range(2)]) if strategy == "mod" else np.arange(6)
    with tf.Graph().as_default():
        shards = [tf.Variable(part) for part in np.split(TABLE[order], 2)]
        ids = tf.placeholder(tf.int32, [None])
        loss = tf.reduce_sum(tf.square(tf.nn.embedding_lookup(shards, ids, partition_strategy=strategy)))
        step = OPTIMIZERS["momentum"]().minimize(loss)
        with tf.Session(target="interpreter") as s:
            s.run(tf.global_variables_initializer())
            for batch in STEPS:
                s.run(step, {ids: batch})
            got = np.concatenate(s.run(shards))
    np.testing.assert_allclose(got, whole[-1][order], rtol=1e-6)
