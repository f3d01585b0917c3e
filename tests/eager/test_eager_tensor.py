"""EagerTensor: values, shapes, dtypes, printing, Python and NumPy interop, against NumPy and TF's output."""
import numpy as np
import pytest

import xlite as tf
from xlite.eager.tensor import EagerTensor


def test_constant_values_shape_dtype(target):
    t = tf.constant([[1.5, 2.0], [3.0, 4.0]])
    assert isinstance(t, EagerTensor)
    assert t.shape == tf.TensorShape([2, 2]) and t.shape.as_list() == [2, 2] and t.dtype == tf.float32
    np.testing.assert_array_equal(t.numpy(), [[1.5, 2.0], [3.0, 4.0]])
    assert tf.convert_to_tensor(np.arange(3, dtype=np.int64)).dtype == tf.int64
    assert t.ndim == 2 and len(t) == 2


def test_numpy_is_a_copy(eager):
    t = tf.constant([1.0, 2.0])
    a = t.numpy()
    a[0] = 9.0
    assert t.numpy()[0] == 1.0
    assert isinstance(tf.constant(2.5).numpy(), np.float32)


# TF 2.x's own strings for these values (EagerTensor __str__ and __repr__)
@pytest.mark.parametrize("value, text, rep", [
    ([[6, 8], [10, 12]], "tf.Tensor(\n[[ 6  8]\n [10 12]], shape=(2, 2), dtype=int32)",
     "<tf.Tensor: shape=(2, 2), dtype=int32, numpy=\narray([[ 6,  8],\n       [10, 12]], dtype=int32)>"),
    (2.5, "tf.Tensor(2.5, shape=(), dtype=float32)", "<tf.Tensor: shape=(), dtype=float32, numpy=2.5>"),
    ([1.0, 2.0], "tf.Tensor([1. 2.], shape=(2,), dtype=float32)",
     "<tf.Tensor: shape=(2,), dtype=float32, numpy=array([1., 2.], dtype=float32)>"),
    ([True], "tf.Tensor([ True], shape=(1,), dtype=bool)",
     "<tf.Tensor: shape=(1,), dtype=bool, numpy=array([ True])>"),
])
def test_printing_matches_tf(eager, value, text, rep):
    t = tf.constant(value)
    assert str(t) == text and repr(t) == rep


def test_python_conversions(eager):
    assert float(tf.constant(2.5)) == 2.5 and int(tf.constant(7)) == 7
    assert bool(tf.constant(True)) and not bool(tf.constant(0))
    assert [1, 2, 3][tf.constant(1)] == 2
    with pytest.raises(ValueError):
        bool(tf.constant([1, 2]))
    with pytest.raises(TypeError, match="Scalar tensor has no `len\\(\\)`"):
        len(tf.constant(1))
    with pytest.raises(TypeError, match="Cannot iterate over a scalar tensor"):
        iter(tf.constant(1))
    assert f"{tf.constant(2.5):.2f}" == "2.50"


def test_numpy_interop(target):
    x = np.array([[0.5, -1.0, 2.0]], np.float32)
    t = tf.constant(x)
    np.testing.assert_allclose(np.asarray(t), x)
    np.testing.assert_allclose(np.sin(t), np.sin(x), rtol=1e-6)
    np.testing.assert_allclose((x + t).numpy(), 2 * x)          # ndarray <op> EagerTensor defers to TF
    assert np.asarray(t).flags.writeable is False


def test_iteration_and_indexing(target):
    x = np.arange(12, dtype=np.float32).reshape(3, 4)
    t = tf.constant(x)
    rows = list(t)
    assert len(rows) == 3 and all(isinstance(r, EagerTensor) for r in rows)
    for r, want in zip(rows, x):
        np.testing.assert_array_equal(r.numpy(), want)
    np.testing.assert_array_equal(t[1].numpy(), x[1])
    np.testing.assert_array_equal(t[:, 1:3].numpy(), x[:, 1:3])
    np.testing.assert_array_equal(t[-1, ::2].numpy(), x[-1, ::2])


def test_operators_against_numpy(target):
    rng = np.random.default_rng(0)
    a = rng.standard_normal((3, 5)).astype(np.float32)
    b = rng.standard_normal((5,)).astype(np.float32) + 3
    x, y = tf.constant(a), tf.constant(b)
    for got, want in [(x + y, a + b), (x - y, a - b), (x * y, a * b), (x / y, a / b), (-x, -a),
                      (2.0 * x + 1.0, 2 * a + 1), (1.0 - x, 1 - a), (3.0 / y, 3 / b), (x ** 2, a ** 2),
                      (abs(x), np.abs(a)), (x @ tf.transpose(x), a @ a.T)]:
        np.testing.assert_allclose(got.numpy(), want, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal((x > 0).numpy(), a > 0)
    i = tf.constant([7, -7, 5])
    np.testing.assert_array_equal((i // 2).numpy(), np.array([7, -7, 5]) // 2)
    np.testing.assert_array_equal((i % 3).numpy(), np.array([7, -7, 5]) % 3)
    np.testing.assert_allclose((i / 2).numpy(), np.array([7, -7, 5]) / 2)   # truediv: float64, as TF
    assert (i / 2).dtype == tf.float64


def test_dtype_rules_stay_tf_s(eager):
    with pytest.raises(TypeError):
        tf.constant(1) + tf.constant(1.0)
    with pytest.raises(TypeError):
        tf.constant([1, 2]) * 0.5       # TF refuses a float for an int32 tensor


def test_print_writes_tf_s_summary_eagerly(eager, capsys):
    x = tf.constant([[1, 2], [3, 4]])
    y = tf.Print(x, [x, tf.constant([1.5, 2.5, 3.5, 4.5])], message="vals: ")
    assert y.numpy().tolist() == [[1, 2], [3, 4]]
    tf.Print(x, [tf.constant(0.1), tf.constant([True, False]), tf.constant(1234567.0), tf.ones([2, 2, 2])],
             summarize=-1)
    tf.Print(x, [tf.ones([3, 2, 2]), tf.constant(1.0 / 3)], message="m")
    # what TensorFlow 2.21's tf.compat.v1.Print writes for the same calls
    assert capsys.readouterr().err.splitlines() == [
        "vals: [[1 2][3...]...][1.5 2.5 3.5...]", "[0.1][1 0][1234567][[[1 1][1 1]][[1 1][1 1]]]",
        "m[[[1 1][1...]]...][0.333333343]"]
