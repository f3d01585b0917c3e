"""tf.summary.FileWriterCache: one writer per directory (the hooks of a MonitoredTrainingSession share it)."""
import os

import xlite as tf


def test_one_writer_per_directory(tmp_path):
    a, b = str(tmp_path / "a"), str(tmp_path / "b")
    with tf.Graph().as_default():
        first = tf.summary.FileWriterCache.get(a)
        assert tf.summary.FileWriterCache.get(os.path.join(a, ".")) is first
        assert tf.summary.FileWriterCache.get(b) is not first
        assert first.get_logdir() == a
        tf.summary.FileWriterCache.clear()
        assert tf.summary.FileWriterCache.get(a) is not first
        tf.summary.FileWriterCache.clear()
