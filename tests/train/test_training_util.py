"""tf.train.global_step and assert_global_step."""
import pytest

import xlite as tf


def test_global_step_value_and_checks():
    with tf.Graph().as_default():
        step = tf.train.get_or_create_global_step()
        bump = tf.assign_add(step, 3)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            sess.run(bump)
            value = tf.train.global_step(sess, step)
        assert value == 3 and type(value) is int
        tf.train.assert_global_step(step)
        with pytest.raises(TypeError, match="does not have integer type"):
            tf.train.assert_global_step(tf.Variable(1.0))
        with pytest.raises(TypeError, match="is not scalar"):
            tf.train.assert_global_step(tf.Variable([1, 2]))
        with pytest.raises(TypeError, match="must be a Variable or Tensor"):
            tf.train.assert_global_step(3)
