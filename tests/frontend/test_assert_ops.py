"""The tf.debugging.assert_* family checked in compiled runs (cpu) with TF's messages, and at graph build
when the values are known."""
import numpy as np
import pytest

import xlite as tf


@pytest.fixture(autouse=True)
def fresh_graph():
    with tf.Graph().as_default():
        yield


def test_binary_and_sign_asserts_in_a_cpu_run():
    x = tf.placeholder(tf.float32, [3], name="x")
    checks = [tf.debugging.assert_less(x, 5.0), tf.assert_positive(x, message="pos"),
              tf.debugging.assert_greater_equal(x, x), tf.assert_none_equal(x, 9.0),
              tf.debugging.assert_non_negative(x), tf.debugging.assert_equal(x, x)]
    with tf.Session(target="cpu") as sess:
        sess.run(checks, {x: [1, 2, 3]})
        with pytest.raises(tf.errors.InvalidArgumentError,
                           match=r"assertion failed: \[Condition x < y did not hold element-wise:\] "
                                 r"\[x \(x:0\) = \] \[1 2 7\] \[y \(assert_less/y:0\) = \] \[5\]"):
            sess.run(checks[0], {x: [1, 2, 7]})
        with pytest.raises(tf.errors.InvalidArgumentError, match=r"\[pos\.  \] \[Condition x > 0 did not hold"):
            sess.run(checks[1], {x: [1, 0, 7]})
        with pytest.raises(tf.errors.InvalidArgumentError, match="Condition x != y"):
            sess.run(checks[3], {x: [9, 0, 7]})


def test_known_values_are_checked_when_the_graph_is_built():
    with pytest.raises(tf.errors.InvalidArgumentError, match="Condition x < y did not hold"):
        tf.debugging.assert_less(tf.constant([1, 5]), tf.constant([2, 3]))
    tf.debugging.assert_negative(tf.constant([-1.0]))
    with pytest.raises(ValueError, match="must have rank 2"):
        tf.debugging.assert_rank(tf.constant([1.0]), 2)
    with pytest.raises(TypeError, match="must be of type float32"):
        tf.debugging.assert_type(tf.constant([1]), tf.float32)
    assert tf.debugging.assert_all_finite(tf.constant([1.0]), "finite").op.type == "CheckNumerics"
