"""Against TensorFlow itself, run in a subprocess when an interpreter with TF is at hand (XLITE_TF_PYTHON,
or /tmp/tfvenv/bin/python); skipped otherwise, TF never being a dependency. xlite saves -> TF restores
(Saver and import_meta_graph of xlite's .meta); TF saves (strings too) -> xlite reads."""
import os
import subprocess
import textwrap

import numpy as np
import pytest

import xlite as tf

TF_PYTHON = os.environ.get("XLITE_TF_PYTHON", "/tmp/tfvenv/bin/python")
pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not os.path.exists(TF_PYTHON), reason="no Python with TensorFlow at hand")]

_PRELUDE = """
import sys, numpy as np, tensorflow as tf
tf1 = tf.compat.v1
tf1.disable_v2_behavior()
d = sys.argv[1]
"""


def _run_tf(script: str, directory) -> None:
    out = subprocess.run([TF_PYTHON, "-c", _PRELUDE + textwrap.dedent(script), str(directory)],
                         capture_output=True, text=True, timeout=600,
                         env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": ""})
    if out.returncode != 0 and "No module named 'tensorflow'" in out.stderr:
        pytest.skip("TensorFlow is not importable there")
    assert out.returncode == 0, out.stderr[-3000:]


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
    _run_tf("""
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
    _run_tf("""
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
    _run_tf("""
        r = tf1.train.NewCheckpointReader(d + "/mine")
        assert list(r.get_tensor("s")) == [b"hello", b"", b"\\xff\\x00"], r.get_tensor("s")
        assert r.get_tensor("i64").tolist() == [[1, 2]] and r.get_tensor("b") == True
    """, tmp_path)
