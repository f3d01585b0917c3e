"""Against TensorFlow itself, run in a subprocess when an interpreter with TF is at hand (XLITE_TF_PYTHON,
or /tmp/tfvenv/bin/python); skipped otherwise, TF never being a dependency. xlite saves -> TF restores
(Saver and import_meta_graph of xlite's .meta); TF saves (strings too) -> xlite reads."""
import numpy as np
import pytest
from tf_subprocess import LIVE_TF, run_tf

import xlite as tf

pytestmark = LIVE_TF


def _xlite_model():
    tf.reset_default_graph()
    x = tf.placeholder(tf.float32, [None, 3], name="x")
    with tf.variable_scope("dense"):
        k = tf.get_variable("kernel", [3, 2])
        b = tf.get_variable("bias", [2], initializer=tf.constant_initializer(0.3))
    y = tf.nn.relu(tf.nn.bias_add(tf.matmul(x, k), b), name="y")
    return x, y, tf.train.get_or_create_global_step()


def test_xlite_checkpoint_and_meta_graph_restore_in_tensorflow(tmp_path):
    x, y, step = _xlite_model()
    xv = np.array([[1.0, -2.0, 0.5], [0.25, 3.0, -1.0]], np.float32)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(tf.assign(step, 12))
        path = tf.train.Saver().save(sess, str(tmp_path / "model.ckpt"), global_step=step)
        np.save(tmp_path / "want.npy", sess.run(y, {x: xv}))
    np.save(tmp_path / "x.npy", xv)
    run_tf("""
        want, xv = np.load(d + "/want.npy"), np.load(d + "/x.npy")
        with tf1.Graph().as_default():            # the same model built with TF, restored by TF's Saver
            x = tf1.placeholder(tf.float32, [None, 3], name="x")
            with tf1.variable_scope("dense"):
                k = tf1.get_variable("kernel", [3, 2]); b = tf1.get_variable("bias", [2])
            y = tf.nn.relu(tf.nn.bias_add(tf.matmul(x, k), b))
            step = tf1.train.get_or_create_global_step()
            with tf1.Session() as s:
                tf1.train.Saver().restore(s, tf1.train.latest_checkpoint(d))
                assert s.run(step) == 12
                np.testing.assert_allclose(s.run(y, {x: xv}), want, rtol=1e-6)
        with tf1.Graph().as_default():            # xlite's .meta, imported by TF
            saver = tf1.train.import_meta_graph(d + "/model.ckpt-12.meta")
            with tf1.Session() as s:
                saver.restore(s, d + "/model.ckpt-12")
                np.testing.assert_allclose(s.run("y:0", {"x:0": xv}), want, rtol=1e-6)
    """, tmp_path)
    assert path.endswith("model.ckpt-12")


def test_tensorflow_checkpoint_with_every_dtype_reads_in_xlite(tmp_path):
    run_tf("""
        values = {"f32": np.arange(6, dtype=np.float32).reshape(2, 3), "f64": np.float64(-1.5),
                  "i32": np.array([1, -2], np.int32), "i64": np.array([2**40], np.int64),
                  "b": np.array([True, False]), "e": np.zeros((0, 2), np.float32),
                  "s": np.array([b"ab", b"", b"xyz"]), "h": np.array([0.5, 2.0], np.float16)}
        names = sorted(values)
        with tf1.Session() as s:
            s.run(tf.raw_ops.SaveV2(prefix=d + "/raw", tensor_names=names, shape_and_slices=[""] * len(names),
                                    tensors=[tf.constant(values[n]) for n in names]))
        np.savez(d + "/values.npz", **{k: v for k, v in values.items() if k != "s"})
    """, tmp_path)
    reader = tf.train.NewCheckpointReader(str(tmp_path / "raw"))
    want = np.load(tmp_path / "values.npz")
    for name in want.files:
        got = reader.get_tensor(name)
        assert got.dtype == want[name].dtype and got.tobytes() == want[name].tobytes(), name
    assert reader.get_tensor("s").tolist() == [b"ab", b"", b"xyz"]


def test_xlite_strings_and_dtypes_read_in_tensorflow(tmp_path):
    from xlite.io.format import bundle
    bundle.write_bundle(str(tmp_path / "mine"), {"s": np.array([b"hello", b"", b"\xff\x00"], dtype=object),
                                                 "i64": np.array([[1, 2]], np.int64), "b": np.bool_(True)})
    run_tf("""
        r = tf1.train.NewCheckpointReader(d + "/mine")
        assert list(r.get_tensor("s")) == [b"hello", b"", b"\\xff\\x00"], r.get_tensor("s")
        assert r.get_tensor("i64").tolist() == [[1, 2]] and r.get_tensor("b") == True
    """, tmp_path)


def test_tensorflow_trains_xlites_exported_training_graph(tmp_path):
    """xlite's gradient ops TF lacks are written as TF ops: TF imports the .meta, restores, runs the train op,
    and the loss and weights it gets match xlite's own step."""
    tf.reset_default_graph()
    x = tf.placeholder(tf.float32, [None, 6, 6, 2], name="x")
    lab = tf.placeholder(tf.int32, [None], name="lab")
    c = tf.layers.conv2d(x, 3, 3, padding="same", activation=tf.nn.relu, name="conv")
    d = tf.layers.dense(tf.reshape(tf.layers.max_pooling2d(c, 2, 2), [-1, 27]), 4, name="fc")
    loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=lab, logits=d), name="loss")
    train = tf.train.AdamOptimizer(0.05).minimize(loss, global_step=tf.train.get_or_create_global_step())
    tf.add_to_collection("train_op", train)
    rng = np.random.default_rng(0)
    xv, lv = rng.standard_normal((5, 6, 6, 2)).astype(np.float32), rng.integers(0, 4, 5).astype(np.int32)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        path = tf.train.Saver().save(sess, str(tmp_path / "train.ckpt"))
        loss0 = sess.run(loss, {x: xv, lab: lv})
        sess.run(train, {x: xv, lab: lv})
        np.savez(tmp_path / "want.npz", x=xv, lab=lv, loss=sess.run(loss, {x: xv, lab: lv}), loss0=loss0,
                 kernel=sess.run(tf.trainable_variables()[-2]))
    run_tf("""
        e = np.load(d + "/want.npz")
        with tf1.Graph().as_default() as g:
            saver = tf1.train.import_meta_graph(d + "/train.ckpt.meta")
            with tf1.Session() as s:
                saver.restore(s, d + "/train.ckpt")
                np.testing.assert_allclose(s.run("loss:0", {"x:0": e["x"], "lab:0": e["lab"]}), e["loss0"], rtol=1e-5)
                s.run(tf1.get_collection("train_op")[0], {"x:0": e["x"], "lab:0": e["lab"]})
                np.testing.assert_allclose(s.run("loss:0", {"x:0": e["x"], "lab:0": e["lab"]}), e["loss"], rtol=1e-4)
                np.testing.assert_allclose(s.run("fc/kernel:0"), e["kernel"], rtol=1e-4, atol=1e-6)
    """, tmp_path)
    assert path.endswith("train.ckpt")
