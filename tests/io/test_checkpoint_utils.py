"""Checkpoint readers (NewCheckpointReader, load_checkpoint, list_variables, init_from_checkpoint) and the
`checkpoint` state file, on TF's fixture and on xlite's own saves."""
import os

import numpy as np
import pytest

import xlite as tf

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")
TF_PREFIX = os.path.join(FIXTURES, "tf_model.ckpt")


def test_reader_of_tfs_checkpoint():
    e = np.load(os.path.join(FIXTURES, "tf_expected.npz"))
    reader = tf.train.NewCheckpointReader(TF_PREFIX)
    assert reader.get_variable_to_shape_map() == {"dense/bias": [2], "dense/kernel": [3, 2], "global_step": [],
                                                  "counts": [3]}
    assert reader.get_variable_to_dtype_map()["global_step"] == tf.int64
    np.testing.assert_array_equal(reader.get_tensor("dense/kernel"), e["kernel"])
    assert reader.get_tensor("dense/bias").tolist() == [0.5, -0.25]
    assert tf.train.list_variables(TF_PREFIX) == [("counts", [3]), ("dense/bias", [2]), ("dense/kernel", [3, 2]),
                                                  ("global_step", [])]
    assert tf.train.load_variable(TF_PREFIX, "global_step:0") == 7
    with pytest.raises(tf.errors.NotFoundError, match="Key nope not found"):
        reader.get_tensor("nope")


def test_state_file_as_tf_writes_it(tmp_path):
    tf.reset_default_graph()
    v = tf.Variable(1.0, name="v")
    saver = tf.train.Saver(max_to_keep=2)
    prefix = str(tmp_path / "model.ckpt")
    with tf.Session() as sess:
        sess.run(v.initializer)
        for step in (1, 2, 3):
            saver.save(sess, prefix, global_step=step)
    assert (tmp_path / "checkpoint").read_text() == (f'model_checkpoint_path: "{prefix}-3"\n'
                                                     f'all_model_checkpoint_paths: "{prefix}-2"\n'
                                                     f'all_model_checkpoint_paths: "{prefix}-3"\n')
    assert not os.path.exists(f"{prefix}-1.index") and not os.path.exists(f"{prefix}-1.meta")
    assert tf.train.latest_checkpoint(str(tmp_path)) == f"{prefix}-3"
    state = tf.train.get_checkpoint_state(str(tmp_path))
    assert state.all_model_checkpoint_paths == [f"{prefix}-2", f"{prefix}-3"]
    (tmp_path / "checkpoint").write_text('model_checkpoint_path: "model.ckpt-2"\n')   # relative, as TF allows
    assert tf.train.latest_checkpoint(str(tmp_path)) == f"{prefix}-2"
    assert tf.train.load_checkpoint(str(tmp_path)).get_tensor("v") == 1.0


def test_init_from_checkpoint_by_scope_and_by_name():
    tf.reset_default_graph()
    with tf.variable_scope("new"):
        k = tf.get_variable("kernel", [3, 2])
        b = tf.get_variable("bias", [2])
    c = tf.get_variable("c", [3], dtype=tf.int64)
    tf.train.init_from_checkpoint(TF_PREFIX, {"dense/": "new/", "counts": "c"})
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        np.testing.assert_array_equal(sess.run(k), np.load(os.path.join(FIXTURES, "tf_expected.npz"))["kernel"])
        assert sess.run(b).tolist() == [0.5, -0.25] and sess.run(c).tolist() == [1, 2, 3]
    with pytest.raises(ValueError, match="not found"):
        tf.train.init_from_checkpoint(TF_PREFIX, {"nothing": "c"})


def test_saver_restores_tfs_checkpoint_into_the_same_model():
    tf.reset_default_graph()
    with tf.variable_scope("dense"):
        k = tf.get_variable("kernel", [3, 2])
        tf.get_variable("bias", [2])
    tf.train.get_or_create_global_step()
    tf.get_variable("counts", [3], dtype=tf.int64)
    with tf.Session() as sess:
        tf.train.Saver().restore(sess, TF_PREFIX)
        np.testing.assert_array_equal(sess.run(k), np.load(os.path.join(FIXTURES, "tf_expected.npz"))["kernel"])
        assert sess.run(tf.train.get_global_step()) == 7
