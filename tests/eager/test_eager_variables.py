"""Eager tf.Variable: its value, assignments (compiled ops), reads that keep their value, metadata."""
import numpy as np
import pytest

import xlite as tf
from xlite.eager.tensor import EagerTensor
from xlite.eager.variables import EagerVariable


def test_variable_holds_and_updates_its_value(target):
    v = tf.Variable([1.0, 2.0, 3.0], name="w")
    assert isinstance(v, EagerVariable) and isinstance(v, tf.Variable)
    assert v.name == "w:0" and v.shape == tf.TensorShape([3]) and v.dtype == tf.float32 and v.trainable
    v.assign_add([1.0, 1.0, 1.0])
    np.testing.assert_array_equal(v.numpy(), [2.0, 3.0, 4.0])
    v.assign_sub(tf.constant([0.5, 0.5, 0.5]))
    np.testing.assert_array_equal(v.numpy(), [1.5, 2.5, 3.5])
    out = v.assign([7.0, 8.0, 9.0])
    np.testing.assert_array_equal(out.numpy(), [7.0, 8.0, 9.0])
    np.testing.assert_array_equal(v.read_value().numpy(), [7.0, 8.0, 9.0])
    tf.assign_add(v, [1.0, 1.0, 1.0])
    np.testing.assert_array_equal(v.numpy(), [8.0, 9.0, 10.0])
    assert not tf.Variable(1, trainable=False).trainable


def test_a_read_keeps_its_value_after_updates(target):
    v = tf.Variable(np.arange(4, dtype=np.float32))
    before = v.read_value()
    as_tensor = tf.convert_to_tensor(v)
    for _ in range(3):
        v.assign_add(tf.ones([4]))          # in place where the executable donates the buffer
    np.testing.assert_array_equal(before.numpy(), np.arange(4))
    np.testing.assert_array_equal(as_tensor.numpy(), np.arange(4))
    np.testing.assert_array_equal(v.numpy(), np.arange(4) + 3)


def test_variables_in_expressions(target):
    v = tf.Variable([[1.0, 2.0]])
    y = v * 2.0 + tf.matmul(v, tf.transpose(v))
    assert isinstance(y, EagerTensor)
    np.testing.assert_allclose(y.numpy(), [[2.0 + 5.0, 4.0 + 5.0]])
    np.testing.assert_allclose(np.asarray(v), [[1.0, 2.0]])
    assert float(tf.Variable(2.5)) == 2.5
    np.testing.assert_array_equal(v[0, 1:].numpy(), [2.0])
    assert "numpy=array([[1., 2.]], dtype=float32)" in repr(v)


def test_assign_checks_shape_and_dtype(eager):
    v = tf.Variable([1.0, 2.0])
    with pytest.raises(ValueError):
        v.assign([1.0, 2.0, 3.0])
    with pytest.raises(TypeError):
        v.assign(tf.constant([1, 2]))


def test_initial_value_callable_and_dtype(eager):
    v = tf.Variable(lambda: tf.zeros([2, 3]), name="z")
    assert v.shape.as_list() == [2, 3]
    w = tf.Variable(3, dtype=tf.float64)
    assert w.dtype == tf.float64 and float(w) == 3.0
