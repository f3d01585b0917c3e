"""`for x in dataset:` inside a tf.function. TF 2.21 runs the loop in the graph (a dataset reduce): on the
batches below, `total` gives ([20., 25.], 3). xlite cannot run it in the graph yet, and unrolling it in
Python at trace time would bake one pass of the data into the trace, so the loop raises UnimplementedError
naming the user's line; eagerly, the same loop is Python's."""
import inspect

import numpy as np
import pytest

import xlite as tf
from xlite.eager.context import eager_mode

D = tf.data.Dataset


@pytest.fixture(autouse=True)
def graph():
    """No graph entered (conftest's would turn eager execution off): each test picks its mode."""
    yield None


def _batches():
    return D.from_tensor_slices(np.arange(10, dtype=np.float32).reshape(5, 2)).batch(2)


def _total(ds):
    s = tf.zeros([2])
    n = 0
    for x in ds:
        s += tf.reduce_sum(x, 0)
        n += 1
    return s, n


LOOP_LINE = inspect.getsourcelines(_total)[1] + 3


def test_a_dataset_loop_in_a_tf_function_raises_unimplemented_at_its_line():
    total = tf.function(_total)
    with eager_mode():
        with pytest.raises(tf.errors.UnimplementedError) as info:
            total(_batches())
    message = str(info.value)
    assert "for loop over a tf.data.Dataset inside tf.function" in message
    assert f'test_dataset_loops.py", line {LOOP_LINE}' in message


def test_a_dataset_loop_in_a_tf_function_called_from_a_graph_raises_too():
    total = tf.function(_total)
    with tf.Graph().as_default():
        with pytest.raises(tf.errors.UnimplementedError, match="for loop over a tf.data.Dataset"):
            total(_batches())


def test_the_same_loop_run_eagerly_is_pythons_and_gives_tfs_values():
    with eager_mode():
        s, n = _total(_batches())
    np.testing.assert_array_equal(s.numpy(), [20.0, 25.0])      # TF 2.21, inside or outside tf.function
    assert n == 3
