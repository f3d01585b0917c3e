"""The Horovod-style collective op types in a world of one process: values, static shapes, and Horovod's
gradients (an all-reduce of the upstream gradient)."""
import numpy as np
import pytest

import xlite as tf
from xlite.frontend import collective_ops


pytestmark = pytest.mark.usefixtures("world_of_one")


def test_values_shapes_and_gradients_of_one_process():
    x_value = np.arange(6, dtype=np.float32).reshape(3, 2)
    with tf.Graph().as_default(), tf.Session() as sess:
        x = tf.placeholder(tf.float32, [3, 2])
        ops = [collective_ops.all_reduce(x, kind) for kind in ("sum", "average", "max", "min")]
        ops += [collective_ops.all_gather(x), collective_ops.broadcast(x, 0)]
        assert [o.op.type for o in ops[-3:]] == ["HorovodAllreduce", "HorovodAllgather", "HorovodBroadcast"]
        assert all(o.shape.as_list() == [3, 2] for o in ops)
        for value in sess.run(ops, {x: x_value}):
            np.testing.assert_array_equal(value, x_value)
        weights = tf.constant([[1.0, 2.0]])
        loss = tf.reduce_sum(weights * (ops[1] + ops[4] + ops[5]))
        (grad,) = sess.run(tf.gradients(loss, [x]), {x: x_value})
        np.testing.assert_array_equal(grad, np.tile([[3.0, 6.0]], (3, 1)))


def test_errors():
    with tf.Graph().as_default():
        x = tf.constant([1.0])
        with pytest.raises(ValueError, match="reduce_op must be one of"):
            collective_ops.all_reduce(x, "prod")
        with pytest.raises(tf.errors.InvalidArgumentError, match="broadcast from rank 1, but the world has 1"):
            collective_ops.broadcast(x, 1)
        with pytest.raises(tf.errors.UnimplementedError, match="gradient of an all-reduce max"):
            tf.gradients(collective_ops.all_reduce(x, "max"), [x])
