"""GradientTape through a tf.function called eagerly: the call is one recorded op whose gradient is a
compiled backward function (xlite/function/call_gradient.py)."""
import numpy as np
import pytest

import xlite as tf
from xlite.eager.context import eager_mode


@pytest.fixture(autouse=True)
def graph():
    with eager_mode():
        yield None


def test_gradient_through_function_of_watched_tensor_and_captured_variable():
    w = tf.Variable([[1.0, 2.0], [3.0, 4.0]])

    @tf.function
    def f(a, k):
        return tf.reduce_sum(tf.matmul(a, w) * a) * k, tf.shape(a)

    a_value = np.array([[0.5, -1.0], [2.0, 1.5]], np.float32)
    a = tf.constant(a_value)
    with tf.GradientTape() as tape:
        tape.watch(a)
        y, shape = f(a, 3.0)
    ga, gw = tape.gradient(y, [a, w])
    w_value = w.numpy()
    np.testing.assert_allclose(ga.numpy(), 3 * (a_value @ w_value + a_value @ w_value.T), rtol=1e-6)
    np.testing.assert_allclose(gw.numpy(), 3 * (a_value.T @ a_value), rtol=1e-6)
    np.testing.assert_array_equal(shape.numpy(), [2, 2])


def test_unwatched_argument_is_unconnected_and_variable_argument_is_watched():
    v = tf.Variable(3.0)

    @tf.function
    def square(x):
        return x * x

    c = tf.constant(2.0)
    with tf.GradientTape(persistent=True) as tape:
        from_constant = square(c)
        from_variable = square(v)
    assert tape.gradient(from_constant, c) is None
    assert tape.gradient(from_variable, v).numpy() == pytest.approx(6.0)


def test_second_derivative_through_function():
    @tf.function
    def cube(x):
        return x * x * x

    x = tf.constant(2.0)
    with tf.GradientTape() as outer:
        outer.watch(x)
        with tf.GradientTape() as inner:
            inner.watch(x)
            y = cube(x)
        dy = inner.gradient(y, x)
    assert dy.numpy() == pytest.approx(12.0)
    assert outer.gradient(dy, x).numpy() == pytest.approx(12.0)


def test_training_step_outside_function_updates_variable():
    w = tf.Variable([1.0, -2.0])

    @tf.function
    def loss(x):
        return tf.reduce_sum((w * x - 1.0) ** 2)

    opt = tf.keras.optimizers.SGD(0.1)
    x = tf.constant([1.0, 2.0])
    with tf.GradientTape() as tape:
        value = loss(x)
    grad = tape.gradient(value, w)
    np.testing.assert_allclose(grad.numpy(), [2 * (1.0 - 1.0) * 1.0, 2 * (-4.0 - 1.0) * 2.0])
    opt.apply_gradients([(grad, w)])
    np.testing.assert_allclose(w.numpy(), [1.0, -2.0 + 0.1 * 20.0])


def test_tape_records_a_call_that_has_a_fast_path_already():
    """After calls that set up the function's fast call, a recording tape still sees the call."""
    @tf.function
    def square(x):
        return x * x

    x = tf.constant(3.0)
    square(x)
    square(x)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = square(x)
    assert float(tape.gradient(y, x)) == 6.0
