"""SavedModels against TensorFlow itself, in a subprocess when an interpreter with TF is at hand
(XLITE_TF_PYTHON, or /tmp/tfvenv/bin/python); skipped otherwise. xlite's simple_save -> TF 1's
loader.load; TF trains and freezes a model -> `xlite compile` -> the compiled function gives TF's numbers."""
import numpy as np
import pytest
from tf_subprocess import LIVE_TF, run_tf

import xlite as tf
import xlite.aot
from xlite.cli import main

pytestmark = LIVE_TF


def test_tensorflow_loads_xlites_saved_model(tmp_path):
    xv = np.random.default_rng(0).standard_normal((4, 3)).astype(np.float32)
    with tf.Graph().as_default(), tf.Session() as sess:
        x = tf.placeholder(tf.float32, [None, 3], name="x")
        h = tf.layers.dense(x, 5, activation=tf.nn.relu, name="h")
        y = tf.nn.softmax(tf.layers.dense(h, 2, name="out"), name="y")
        step = tf.train.get_or_create_global_step()
        tf.Variable(3, name="calls", trainable=False, collections=[tf.GraphKeys.LOCAL_VARIABLES])  # the main op sets it
        sess.run(tf.global_variables_initializer())
        sess.run(tf.assign(step, 9))
        np.save(tmp_path / "want.npy", sess.run(y, {x: xv}))
        tf.saved_model.simple_save(sess, str(tmp_path / "export"), {"x": x}, {"y": y})
        builder = tf.saved_model.builder.SavedModelBuilder(str(tmp_path / "two"))    # two MetaGraphDefs, as text
        builder.add_meta_graph_and_variables(sess, ["serve"], main_op=tf.group(tf.local_variables_initializer()))
        builder.add_meta_graph(["train"], signature_def_map={"p": tf.saved_model.predict_signature_def({"x": x},
                                                                                                     {"y": y})})
        builder.save(as_text=True)
    np.save(tmp_path / "x.npy", xv)
    run_tf("""
        want, xv = np.load(d + "/want.npy"), np.load(d + "/x.npy")
        with tf1.Graph().as_default(), tf1.Session() as s:
            meta = tf1.saved_model.loader.load(s, [tf1.saved_model.tag_constants.SERVING], d + "/export")
            sig = meta.signature_def["serving_default"]
            assert sig.method_name == "tensorflow/serving/predict", sig
            got = s.run(sig.outputs["y"].name, {sig.inputs["x"].name: xv})
            np.testing.assert_allclose(got, want, rtol=1e-6)
            assert s.run("global_step:0") == 9
        with tf1.Graph().as_default(), tf1.Session() as s:
            meta = tf1.saved_model.loader.load(s, ["train"], d + "/two")
            sig = meta.signature_def["p"]
            np.testing.assert_allclose(s.run(sig.outputs["y"].name, {sig.inputs["x"].name: xv}), want, rtol=1e-6)
        with tf1.Graph().as_default(), tf1.Session() as s:
            tf1.saved_model.loader.load(s, ["serve"], d + "/two")     # its main op runs in TF
            assert s.run("global_step:0") == 9 and s.run("calls:0") == 3
    """, tmp_path)


def test_tensorflow_trained_and_frozen_model_compiles_ahead_of_time(tmp_path):
    run_tf("""
        rng = np.random.default_rng(1)
        xv = rng.standard_normal((6, 5)).astype(np.float32)
        labels = np.eye(3, dtype=np.float32)[rng.integers(0, 3, 6)]
        g = tf1.Graph()
        with g.as_default():
            x = tf1.placeholder(tf.float32, [None, 5], name="x")
            y_ = tf1.placeholder(tf.float32, [None, 3], name="y_")
            w1 = tf1.get_variable("w1", [5, 7], initializer=tf1.glorot_uniform_initializer(seed=1))
            b1 = tf1.get_variable("b1", [7], initializer=tf1.zeros_initializer())
            w2 = tf1.get_variable("w2", [7, 3], initializer=tf1.glorot_uniform_initializer(seed=2))
            h = tf.nn.tanh(tf.nn.bias_add(tf.matmul(x, w1), b1))
            logits = tf.matmul(h, w2, name="logits")
            prob = tf.nn.softmax(logits, name="prob")
            loss = tf.reduce_mean(tf1.nn.softmax_cross_entropy_with_logits_v2(labels=y_, logits=logits))
            train = tf1.train.GradientDescentOptimizer(0.3).minimize(loss)
            with tf1.Session() as s:
                s.run(tf1.global_variables_initializer())
                for _ in range(20):
                    s.run(train, {x: xv, y_: labels})
                np.save(d + "/want.npy", s.run(prob, {x: xv}))
                frozen = tf1.graph_util.convert_variables_to_constants(s, g.as_graph_def(), ["prob"])
        tf1.io.write_graph(frozen, d, "frozen.pb", as_text=False)
        np.save(d + "/x.npy", xv)
    """, tmp_path)
    out = tmp_path / "out"
    assert main(["compile", str(tmp_path / "frozen.pb"), "--fetch", "prob", "--feed", "x:6x5", "-o", str(out),
                 "--name", "tf_trained"]) == 0
    (prob,) = xlite.aot.load(str(out / "tf_trained.so"))(x=np.load(tmp_path / "x.npy"))
    np.testing.assert_allclose(prob, np.load(tmp_path / "want.npy"), rtol=1e-5, atol=1e-6)
