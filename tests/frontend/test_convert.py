"""Constants and conversions follow TF's dtype rules: no silent int/float promotion.

Expectations were checked against TensorFlow 2.21's `tf.compat.v1` in graph mode.
"""
import numpy as np
import pytest

import xlite as tf


@pytest.fixture
def sess(graph):
    with tf.Session(graph=graph) as s:
        yield s


@pytest.mark.parametrize("value,dtype", [
    (1, tf.int32), (1.5, tf.float32), (True, tf.bool), ([1, 2.5], tf.float32), ([[1, 2]], tf.int32),
    (2**40, tf.int64), (np.float64(1.0), tf.float64), (np.int64(3), tf.int64),
    (np.zeros((2, 2), np.float16), tf.float16), ([], tf.float32), (np.array([1], np.uint8), tf.uint8),
])
def test_inferred_dtypes(value, dtype):
    assert tf.constant(value).dtype == dtype


def test_explicit_dtypes_accept_numpy_and_python_types(sess):
    assert tf.constant(1, dtype=np.float32).dtype == tf.float32
    assert tf.constant(1, dtype="float64").dtype == tf.float64
    assert tf.constant(1.5, dtype=tf.float64).dtype == tf.float64
    assert tf.constant(True, dtype=tf.float32).dtype == tf.float32       # as TF allows
    assert tf.constant([1, True], dtype=tf.int32).dtype == tf.int32
    np.testing.assert_array_equal(sess.run(tf.constant(np.array([1.5, -2.7]), dtype=tf.int32)), [1, -2])
    assert sess.run(tf.constant(np.float64(1.5), tf.float32)) == np.float32(1.5)


@pytest.mark.parametrize("value,dtype,message", [
    (1.5, tf.int32, "Expected int32, but got 1.5 of type 'float'."),
    ([1, 2.0], tf.int32, "Expected int32, but got 2.0 of type 'float'."),
    (1.0, tf.int64, "Expected int64, but got 1.0 of type 'float'."),
    (3, tf.bool, "Expected bool, but got 3 of type 'int'."),
    ("a", tf.float32, "Expected float32, but got a of type 'str'."),
    ([1.0, None], tf.float32, "Expected float32, but got None of type 'NoneType'."),
])
def test_python_values_that_do_not_fit_the_dtype(value, dtype, message):
    with pytest.raises(TypeError) as info:
        tf.constant(value, dtype=dtype)
    assert message in str(info.value)


def test_out_of_range_and_unconvertible_values():
    with pytest.raises(TypeError, match="out of range for int32"):
        tf.constant(2**40, dtype=tf.int32)
    with pytest.raises(TypeError, match="out of range for int32"):
        tf.constant(2**70, dtype=tf.int32)
    with pytest.raises(TypeError, match="out of range for uint8"):
        tf.constant(-1, dtype=tf.uint8)
    with pytest.raises(TypeError):
        tf.constant(object())
    with pytest.raises(ValueError, match="non-rectangular"):
        tf.constant([[1, 2], [3]])


def test_constant_shape_broadcasts_and_pads_like_tf1(sess):
    np.testing.assert_array_equal(sess.run(tf.constant(5, shape=[2, 3])), np.full((2, 3), 5))
    np.testing.assert_array_equal(sess.run(tf.constant(7, shape=2)), [7, 7])
    np.testing.assert_array_equal(sess.run(tf.constant([1, 2, 3, 4, 5, 6], shape=[2, 3])),
                                  [[1, 2, 3], [4, 5, 6]])
    np.testing.assert_array_equal(sess.run(tf.constant([1, 2], shape=[3])), [1, 2, 2])
    np.testing.assert_array_equal(sess.run(tf.constant([1, 2, 3], shape=[2, 2])), [[1, 2], [3, 3]])
    np.testing.assert_array_equal(sess.run(tf.constant([[1, 2], [3, 4]], shape=[5])), [1, 2, 3, 4, 4])
    np.testing.assert_array_equal(sess.run(tf.constant([1, 2], shape=[4], dtype=tf.float32)), [1, 2, 2, 2])
    np.testing.assert_array_equal(sess.run(tf.constant([], shape=[2])), [0.0, 0.0])
    assert tf.constant(5, shape=[0, 2]).shape.as_list() == [0, 2]
    with pytest.raises(ValueError, match="Too many elements provided. Takes at most 2, but got 3."):
        tf.constant([1, 2, 3], shape=[2])


def test_constant_verify_shape():
    with pytest.raises(TypeError, match=r"Expected Tensor's shape: \(2,\), but got \(\)."):
        tf.constant(5, shape=[2], verify_shape=True)
    with pytest.raises(TypeError, match=r"Expected Tensor's shape: \(2, 2\), but got \(1,\)."):
        tf.constant([1.0], shape=[2, 2], verify_shape=True)
    assert tf.constant([1, 2], shape=[2], verify_shape=True).shape.as_list() == [2]


def test_constant_names_and_static_values():
    c = tf.constant([[1, 2]], name="k")
    assert (c.name, c.op.type, c.shape.as_list()) == ("k:0", "Const", [1, 2])
    np.testing.assert_array_equal(c.op.get_attr("value"), [[1, 2]])
    source = np.array([1.0, 2.0])
    d = tf.constant(source)
    source[0] = 9.0                        # the graph keeps its own copy
    np.testing.assert_array_equal(d.op.get_attr("value"), [1.0, 2.0])


def test_mixing_int32_and_float32_is_a_type_error_at_construction():
    i, f = tf.constant(1), tf.constant(1.0)
    with pytest.raises(TypeError, match="Input 'y' of 'AddV2' Op has type float32 that does not match "
                                        "type int32 of argument 'x'."):
        tf.add(i, f)
    with pytest.raises(TypeError):
        i + f
    with pytest.raises(TypeError, match="Expected int32, but got 1.5 of type 'float'"):
        i * 1.5
    assert (f + 1).dtype == tf.float32           # a Python int adopts the tensor's float dtype
    assert (2 * i).dtype == tf.int32


def test_convert_to_tensor():
    c = tf.constant(1.0)
    assert tf.convert_to_tensor(c) is c
    assert tf.convert_to_tensor(c, dtype=tf.float32) is c
    with pytest.raises(ValueError, match="Tensor conversion requested dtype int32 for Tensor with dtype float32"):
        tf.convert_to_tensor(c, dtype=tf.int32)
    v = tf.Variable([1, 2], name="v")
    assert tf.convert_to_tensor(v).name == "v:0"
    t = tf.convert_to_tensor([1, 2], name="pair")
    assert (t.name, t.dtype) == ("pair:0", tf.int32)
    assert tf.convert_to_tensor(3, preferred_dtype=tf.int64).dtype == tf.int64
    assert tf.convert_to_tensor(3.5, preferred_dtype=tf.int64).dtype == tf.float32   # a hint only
    with pytest.raises(TypeError, match="Can't convert Operation"):
        tf.convert_to_tensor(tf.no_op())
