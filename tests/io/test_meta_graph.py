"""export_meta_graph / import_meta_graph with collections and the SaverDef; restore after import, ours and TF's."""
import os

import numpy as np
import pytest

import xlite as tf

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")


def _train_model():
    tf.reset_default_graph()
    x = tf.placeholder(tf.float32, [None, 3], name="x")
    y = tf.layers.dense(x, 2, activation=tf.nn.relu, name="dense")
    loss = tf.reduce_mean(tf.square(y - 1.0), name="loss")
    step = tf.train.get_or_create_global_step()
    train = tf.train.GradientDescentOptimizer(0.1).minimize(loss, global_step=step)
    tf.add_to_collection("train_op", train)
    tf.add_to_collection("my_numbers", 3)
    return x, y, loss, train


def test_save_import_meta_graph_restore_and_keep_training(tmp_path):
    x, y, loss, train = _train_model()
    xv = np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32)
    saver = tf.train.Saver()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(train, {x: xv})
        path = saver.save(sess, str(tmp_path / "model.ckpt"), global_step=tf.train.get_global_step())
        sess.run(train, {x: xv})
        want_loss, want_y = sess.run([loss, y], {x: xv})
    assert path.endswith("model.ckpt-1") and os.path.exists(path + ".meta")

    tf.reset_default_graph()
    restorer = tf.train.import_meta_graph(path + ".meta")
    graph = tf.get_default_graph()
    assert sorted(v.op.name for v in tf.trainable_variables()) == ["dense/bias", "dense/kernel"]
    assert [v.op.name for v in tf.global_variables()] == ["dense/kernel", "dense/bias", "global_step"]
    assert graph.get_collection("my_numbers") == [3]
    train_op = graph.get_collection("train_op")[0]
    assert isinstance(train_op, tf.Operation) and train_op.name == train.name
    with tf.Session() as sess:
        restorer.restore(sess, path)
        assert sess.run("global_step:0") == 1
        sess.run(train_op, {"x:0": xv})
        got_loss, got_y = sess.run(["loss:0", y.name], {"x:0": xv})
    np.testing.assert_array_equal(got_loss, want_loss)
    np.testing.assert_array_equal(got_y, want_y)


def test_export_meta_graph_text_and_saver_def(tmp_path):
    _train_model()
    saver = tf.train.Saver(max_to_keep=3)
    meta = saver.export_meta_graph(str(tmp_path / "m.meta.txt"), as_text=True)
    assert meta.saver_def.restore_op_name == "save/restore_all" and meta.saver_def.max_to_keep == 3
    assert meta.saver_def.version == 2
    assert set(meta.collection_def) >= {"variables", "trainable_variables", "train_op", "global_step"}
    tf.reset_default_graph()
    assert tf.train.import_meta_graph(str(tmp_path / "m.meta.txt")) is not None
    with pytest.raises(tf.errors.NotFoundError, match="does not exist"):
        tf.train.import_meta_graph(str(tmp_path / "missing.meta"))


def test_tf_written_meta_graph_and_checkpoint():
    e = np.load(os.path.join(FIXTURES, "tf_expected.npz"))
    tf.reset_default_graph()
    saver = tf.train.import_meta_graph(os.path.join(FIXTURES, "tf_model.ckpt.meta"))
    assert not any(op.type in ("SaveV2", "RestoreV2") for op in tf.get_default_graph().get_operations())
    with tf.Session() as sess:
        saver.restore(sess, os.path.join(FIXTURES, "tf_model.ckpt"))
        y, m, step = sess.run(["y:0", "m:0", "global_step:0"], {"x:0": e["x"]})
        assert step == 7 and sess.run("counts:0").tolist() == [1, 2, 3]
    np.testing.assert_allclose(y, e["y"], rtol=1e-6)
    np.testing.assert_allclose(m, e["m"], rtol=1e-6)
    assert [v.op.name for v in tf.trainable_variables()] == ["dense/kernel", "dense/bias"]


def test_tf_meta_graph_with_resource_variables():
    """TF 2's tf.compat.v1 graphs use resource variables (VarHandleOp, ReadVariableOp, AssignVariableOp):
    they import as xlite's VariableV2 and its reads and assignments, and TF's checkpoint restores into them."""
    e = np.load(os.path.join(FIXTURES, "tf_resource.npz"))
    tf.reset_default_graph()
    saver = tf.train.import_meta_graph(os.path.join(FIXTURES, "tf_resource.ckpt.meta"))
    graph = tf.get_default_graph()
    assert graph.get_operation_by_name("dense/kernel").type == "VariableV2"
    assert [v.op.name for v in tf.trainable_variables()] == ["dense/kernel", "dense/bias"]
    with tf.Session() as sess:
        saver.restore(sess, os.path.join(FIXTURES, "tf_resource.ckpt"))
        assert sess.run("global_step:0") == 1
        np.testing.assert_allclose(sess.run("y:0", {"x:0": e["x"]}), e["y"], rtol=1e-6)
        sess.run(tf.global_variables_initializer())          # the imported initializers run too
        assert sess.run("global_step:0") == 0 and sess.run("dense/bias:0").tolist() == [0.5, -0.25]


def test_import_meta_graph_under_a_scope_restores_the_unscoped_checkpoint():
    e = np.load(os.path.join(FIXTURES, "tf_expected.npz"))
    tf.reset_default_graph()
    saver = tf.train.import_meta_graph(os.path.join(FIXTURES, "tf_model.ckpt.meta"), import_scope="imported")
    assert tf.get_default_graph().get_operation_by_name("imported/dense/kernel").type == "VariableV2"
    with tf.Session() as sess:
        saver.restore(sess, os.path.join(FIXTURES, "tf_model.ckpt"))
        np.testing.assert_allclose(sess.run("imported/y:0", {"imported/x:0": e["x"]}), e["y"], rtol=1e-6)
