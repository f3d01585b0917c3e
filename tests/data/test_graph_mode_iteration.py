"""A TF1 graph reads a dataset through an iterator's get_next(), never by Python iteration: TF 2.21 raises
RuntimeError for `iter(ds)`, `for x in ds` and `as_numpy_iterator()` there, and its `cardinality()` is an
int64 scalar tensor (a `DatasetCardinality` op) whose value a Session gives."""
import numpy as np
import pytest

import xlite as tf

D = tf.data.Dataset

# TF 2.21's messages, with eager execution disabled
ITERATION = "`tf.data.Dataset` only supports Python-style iteration in eager mode or within tf.function."
AS_NUMPY = "`tf.data.Dataset.as_numpy_iterator()` is only supported in eager mode."
LEN = "`tf.data.Dataset` only supports `len` in eager mode. Use `tf.data.Dataset.cardinality()` instead."


def test_python_iteration_in_a_graph_raises_tfs_runtime_error():
    with tf.Graph().as_default():
        ds = D.range(3)
        for iterate in (iter, list, lambda d: [x for x in d]):
            with pytest.raises(RuntimeError) as info:
                iterate(ds)
            assert str(info.value) == ITERATION
        with pytest.raises(RuntimeError) as info:
            ds.as_numpy_iterator()
        assert str(info.value) == AS_NUMPY
        with pytest.raises(TypeError) as info:
            len(ds)
        assert str(info.value) == LEN


def test_cardinality_in_a_graph_is_an_int64_scalar_tensor():
    with tf.Graph().as_default():
        ds = D.range(3)
        n = ds.cardinality()
        assert isinstance(n, tf.Tensor) and n.dtype == tf.int64 and n.shape.as_list() == []
        assert n.name == "DatasetCardinality:0"           # TF: Tensor("DatasetCardinality:0", shape=(), ...)
        forever = tf.data.experimental.cardinality(ds.repeat())
        unknown = ds.filter(lambda x: x > 0).cardinality()
        assert isinstance(forever, tf.Tensor) and forever.name == "DatasetCardinality_1:0"
        with tf.Session() as sess:
            got = sess.run([n, forever, unknown])
    assert got == [3, -1, -2] and all(isinstance(v, np.int64) for v in got)
    assert (tf.data.INFINITE_CARDINALITY, tf.data.UNKNOWN_CARDINALITY) == (-1, -2)
    assert (tf.data.experimental.INFINITE_CARDINALITY, tf.data.experimental.UNKNOWN_CARDINALITY) == (-1, -2)
