"""FuncGraph.stateful_ops: a tf.function runs its stateful host calls (tf.print, tf.Assert, py_func) on every
call though no output needs them, as TF2's automatic control dependencies do."""
import numpy as np
import pytest

import xlite as tf
from xlite.eager.context import eager_mode


@pytest.fixture(autouse=True)
def graph():
    """No graph entered (conftest's would turn eager execution off again): eager mode for each test."""
    with eager_mode():
        yield None


def test_prints_and_asserts_run_on_every_call(capfd):
    @tf.function
    def f(x):
        tf.print("inside", x)
        tf.debugging.assert_positive(x)
        return tf.numpy_function(lambda a: a + 1, [x], tf.float32) * 2
    capfd.readouterr()
    np.testing.assert_array_equal(f(tf.constant([1.0, 2.0])).numpy(), [4, 6])
    np.testing.assert_array_equal(f(tf.constant([1.0, 3.0])).numpy(), [4, 8])
    assert capfd.readouterr().err == "inside [1 2]\ninside [1 3]\n"
    with pytest.raises(tf.errors.InvalidArgumentError, match="Condition x > 0"):
        f(tf.constant([-1.0, 3.0]))
    tf.print("eager", tf.constant([3, 4]))
    assert capfd.readouterr().err.endswith("eager [3 4]\n")
