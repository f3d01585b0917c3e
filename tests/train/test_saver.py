"""Saver round-trips every Variable bit-exactly; damaged checkpoints raise clear errors."""
import os

import numpy as np
import pytest

import xlite as tf
from xlite.train import xckpt


def _graph():
    tf.reset_default_graph()
    rng = np.random.default_rng(0)
    a = tf.Variable(rng.standard_normal((3, 4)).astype(np.float32), name="a")
    b = tf.Variable(np.array([1, -2, 3], dtype=np.int64), name="scope/b")
    c = tf.Variable(np.float64(np.pi), name="c")
    d = tf.Variable(np.array([True, False]), name="d")
    return [a, b, c, d]


def test_round_trip_is_bit_exact(tmp_path):
    variables = _graph()
    saver = tf.train.Saver()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(tf.assign(variables[0], variables[0] * 3.0 + 1e-7))
        saved = sess.run(variables)
        path = saver.save(sess, str(tmp_path / "model.ckpt"))
    assert path == str(tmp_path / "model.ckpt")
    with tf.Session() as sess:
        saver.restore(sess, path)
        restored = sess.run(variables)
    for s, r in zip(saved, restored):
        assert np.asarray(s).tobytes() == np.asarray(r).tobytes()


def test_global_step_suffix_max_to_keep_and_latest(tmp_path):
    _graph()
    saver = tf.train.Saver(max_to_keep=2)
    prefix = str(tmp_path / "model.ckpt")
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for step in (10, 20, 30):
            assert saver.save(sess, prefix, global_step=step) == f"{prefix}-{step}"
    assert not tf.train.checkpoint_exists(f"{prefix}-10")
    assert tf.train.checkpoint_exists(f"{prefix}-20") and tf.train.checkpoint_exists(f"{prefix}-30")
    assert tf.train.latest_checkpoint(str(tmp_path)) == f"{prefix}-30"


def test_truncated_and_corrupt_files_raise_data_loss(tmp_path):
    _graph()
    saver = tf.train.Saver()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        path = saver.save(sess, str(tmp_path / "m"))
    for file in (path + ".index", path + ".data-00000-of-00001"):
        data = open(file, "rb").read()
        for damaged in (data[: len(data) // 2], data[:10], data[:-1] + bytes([data[-1] ^ 1]),
                        data[:7] + bytes([data[7] ^ 0x10]) + data[8:]):
            with open(file, "wb") as f:
                f.write(damaged)
            with tf.Session() as sess, pytest.raises(tf.errors.DataLossError):
                saver.restore(sess, path)
        with open(file, "wb") as f:
            f.write(data)


def test_old_xckpt_files_still_restore(tmp_path):
    variables = _graph()
    values = [np.arange(12, dtype=np.float32).reshape(3, 4), np.array([4, 5, 6]), np.float64(2.5),
              np.array([False, True])]
    xckpt.write_checkpoint(str(tmp_path / "old") + xckpt.SUFFIX, dict(zip(["a", "scope/b", "c", "d"], values)))
    assert tf.train.checkpoint_exists(str(tmp_path / "old"))
    with tf.Session() as sess:
        tf.train.Saver().restore(sess, str(tmp_path / "old"))
        for want, got in zip(values, sess.run(variables)):
            assert np.asarray(want).tobytes() == np.asarray(got).tobytes()
    assert tf.train.list_variables(str(tmp_path / "old")) == [("a", [3, 4]), ("c", []), ("d", [2]),
                                                                ("scope/b", [3])]


def test_missing_file_and_missing_key(tmp_path):
    _graph()
    with tf.Session() as sess, pytest.raises(ValueError, match="not a valid checkpoint"):   # as TF's Saver
        tf.train.Saver().restore(sess, str(tmp_path / "nothing"))
    with pytest.raises(tf.errors.NotFoundError, match="Failed to find any matching files"):
        tf.train.NewCheckpointReader(str(tmp_path / "nothing"))
    from xlite.io.format import bundle
    bundle.write_bundle(str(tmp_path / "other"), {"zzz": np.zeros(2)})
    with tf.Session() as sess, pytest.raises(tf.errors.NotFoundError, match="Key a not found"):
        tf.train.Saver().restore(sess, str(tmp_path / "other"))


def test_no_temporary_files_left_behind(tmp_path):
    _graph()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        tf.train.Saver().save(sess, str(tmp_path / "m"))
    assert sorted(os.listdir(tmp_path)) == ["checkpoint", "m.data-00000-of-00001", "m.index", "m.meta"]


def test_write_version_v2_is_the_format_and_v1_is_refused(tmp_path):
    _graph()
    assert tf.train.SaverDef.V2 == 2
    tf.train.Saver(write_version=tf.train.SaverDef.V2)
    with pytest.raises(tf.errors.UnimplementedError, match="V2"):
        tf.train.Saver(write_version=tf.train.SaverDef.V1)
