"""The deprecated spellings the TF1 tutorials still use work, and each warns once, at the user's line."""
import warnings

import numpy as np
import pytest

import xlite as tf
from xlite import tf_logging

try:
    from tensorboard.compat.proto import summary_pb2
except ImportError:
    summary_pb2 = None


@pytest.fixture(autouse=True)
def fresh():
    tf.reset_default_graph()
    tf_logging._warned.clear()
    yield
    tf.reset_default_graph()


def caught(fn):
    """fn()'s result and the XliteDeprecationWarnings it issued."""
    with warnings.catch_warnings(record=True) as records:
        warnings.simplefilter("always")
        result = fn()
    return result, [r for r in records if issubclass(r.category, tf_logging.XliteDeprecationWarning)]


def test_reduction_indices_and_keep_dims_work_and_warn_once():
    x = tf.constant(np.arange(6, dtype=np.float32).reshape(2, 3))
    old, records = caught(lambda: tf.reduce_sum(x, reduction_indices=[1], keep_dims=True))
    assert sorted(str(r.message).split(" ")[0] for r in records) == ["keep_dims=", "reduction_indices="]
    assert all(r.filename == __file__ for r in records)
    assert "use axis=" in str(records[0].message) or "use axis=" in str(records[1].message)
    _, again = caught(lambda: (tf.reduce_mean(x, reduction_indices=0), tf.reduce_max(x, 1, keep_dims=False),
                               tf.reduce_logsumexp(x, reduction_indices=1)))
    assert again == []
    new = tf.reduce_sum(x, axis=[1], keepdims=True)
    with tf.Session() as sess:
        np.testing.assert_array_equal(sess.run(old), sess.run(new))
        np.testing.assert_array_equal(sess.run(old), [[3.0], [12.0]])


def test_new_spellings_do_not_warn():
    x = tf.constant([1.0, 2.0])
    _, records = caught(lambda: (tf.reduce_sum(x, axis=0, keepdims=True), tf.reduce_mean(x),
                                 tf.global_variables_initializer()))
    assert records == []


def test_initialize_all_variables():
    v = tf.Variable(3.0)
    init, records = caught(tf.initialize_all_variables)
    assert len(records) == 1 and "tf.global_variables_initializer" in str(records[0].message)
    assert records[0].filename == __file__
    with tf.Session() as sess:
        sess.run(init)
        assert sess.run(v) == 3.0
    _, records = caught(tf.initialize_all_variables)
    assert records == []
    _, records = caught(lambda: (tf.initialize_local_variables(), tf.initialize_variables([v])))
    assert len(records) == 2


def test_summary_spellings_of_tf_0_x(tmp_path):
    pytest.importorskip("tensorboard")
    x = tf.placeholder(tf.float32, [2])
    with tf.name_scope("scope"):
        (s, h, i, pair), records = caught(lambda: (
            tf.scalar_summary("loss", tf.reduce_sum(x)),
            tf.histogram_summary("weights", x),
            tf.image_summary("img", tf.reshape(x, [1, 1, 2, 1])),
            tf.scalar_summary(["a", "b"], x)))
    assert sorted(str(r.message).split(" ")[0] for r in records) == \
        ["tf.histogram_summary", "tf.image_summary", "tf.scalar_summary"]
    assert [t.op.name for t in (s, h, i, pair)] == ["scope/ScalarSummary", "scope/HistogramSummary",
                                                    "scope/ImageSummary", "scope/ScalarSummary_1"]
    merged, records = caught(tf.merge_all_summaries)
    assert len(records) == 1
    also, records = caught(lambda: tf.merge_summary([s, h]))
    assert len(records) == 1
    with tf.Session() as sess:
        out = summary_pb2.Summary.FromString(sess.run(merged, feed_dict={x: [1.0, 2.0]}))
        assert [v.tag for v in out.value] == ["loss", "weights", "img/image/0", "a", "b"]   # tags as given
        assert [v.simple_value for v in out.value if v.HasField("simple_value")] == [3.0, 1.0, 2.0]
        assert len(summary_pb2.Summary.FromString(sess.run(also, feed_dict={x: [1.0, 2.0]})).value) == 2
    writer, records = caught(lambda: tf.train.SummaryWriter(str(tmp_path), tf.get_default_graph()))
    assert len(records) == 1 and "tf.summary.FileWriter" in str(records[0].message)
    assert isinstance(writer, tf.summary.FileWriter)
    writer.close()


def test_scalar_summary_tags_must_match_values_shape():
    with pytest.raises(ValueError, match="same shape"):
        caught(lambda: tf.scalar_summary(["a", "b", "c"], tf.constant([1.0, 2.0])))
