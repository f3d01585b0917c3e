"""`for x in dataset:` inside a tf.function runs in the graph, as TF 2.21's does (a dataset reduce there; a
tf.while_loop over the elements the host makes before each call here, xlite/data/graph_loop.py): the loop's
variables are carried in the graph and each call reads the data as it is then. Expected values are TF's.
A remainder batch (a last element of another shape) runs in a second loop; other elements of differing
shapes cannot be stacked, so they are UnimplementedError here (TF runs them)."""
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
    return D.from_tensor_slices(np.arange(12, dtype=np.float32).reshape(6, 2)).batch(2)


def _total(ds):
    s = tf.zeros([2])
    n = 0
    for x in ds:
        s += tf.reduce_sum(x, 0)
        n += 1
    return s, n


def _until_six():
    s = tf.constant(0, tf.int64)
    for x in D.range(10):
        if x > 5:
            break
        s += x
    return s


def test_a_dataset_loop_in_a_tf_function_carries_its_variables_in_the_graph():
    total = tf.function(_total)
    with eager_mode():
        s, n = total(_batches())
        again = total(_batches())
        stopped = tf.function(_until_six)()
    np.testing.assert_array_equal(s.numpy(), [30.0, 36.0])        # TF 2.21: ([30., 36.], 3)
    assert int(n) == 3 and n.dtype == tf.int32
    np.testing.assert_array_equal(again[0].numpy(), [30.0, 36.0])
    assert int(stopped) == 15                                      # TF 2.21: 15


def test_each_call_makes_a_fresh_pass_over_the_data():
    state = {"scale": 1.0}

    def gen():
        for v in range(4):
            yield v * state["scale"]
    ds = D.from_generator(gen, output_types=tf.float32, output_shapes=[])

    @tf.function
    def summed(ds):
        s = tf.constant(0.0)
        for x in ds:
            s += x
        return s
    with eager_mode():
        first = float(summed(ds))
        state["scale"] = 10.0
        second = float(summed(ds))
    assert (first, second) == (6.0, 60.0)


def test_a_dataset_loop_in_a_tf_function_called_from_a_graph_runs_in_the_session():
    total = tf.function(_total)
    with tf.Graph().as_default():
        s, n = total(_batches())
        with tf.Session() as sess:
            got = sess.run([s, n])
            again = sess.run(s)
    np.testing.assert_array_equal(got[0], [30.0, 36.0])
    assert got[1] == 3
    np.testing.assert_array_equal(again, [30.0, 36.0])


def test_what_cannot_run_in_the_graph_raises_unimplemented_at_the_line():
    def forever(ds):
        s = tf.constant(0, tf.int64)
        for x in ds:
            s += x
        return s
    line = inspect.getsourcelines(forever)[1] + 2
    with eager_mode():
        with pytest.raises(tf.errors.UnimplementedError) as info:
            tf.function(forever)(D.range(3).repeat())
    assert "for loop over a tf.data.Dataset inside tf.function over an infinite dataset" in str(info.value)
    assert f'test_dataset_loops.py", line {line}' in str(info.value)
    ragged = D.from_generator(lambda: iter([[1.0, 2.0], [1.0, 2.0, 3.0], [1.0, 2.0]]), output_types=tf.float32,
                              output_shapes=[None])
    with eager_mode():
        with pytest.raises(tf.errors.UnimplementedError, match="differ in shape"):
            tf.function(_total)(ragged)


def test_a_remainder_batch_runs_in_a_second_loop():
    remainder = D.from_tensor_slices(np.arange(10, dtype=np.float32).reshape(5, 2)).batch(2)
    total = tf.function(_total)
    with eager_mode():
        s, n = total(remainder)
        single = total(D.from_tensor_slices(np.arange(2, dtype=np.float32).reshape(1, 2)).batch(2))
        empty = total(D.from_tensor_slices(np.zeros((0, 2), np.float32)).batch(2))
    np.testing.assert_array_equal(s.numpy(), [20.0, 25.0])        # TF 2.21: ([20., 25.], 3)
    assert int(n) == 3
    np.testing.assert_array_equal(single[0].numpy(), [0.0, 1.0])
    assert int(single[1]) == 1
    np.testing.assert_array_equal(empty[0].numpy(), [0.0, 0.0])
    assert int(empty[1]) == 0


def test_the_same_loop_run_eagerly_is_pythons():
    with eager_mode():
        s, n = _total(_batches())
    np.testing.assert_array_equal(s.numpy(), [30.0, 36.0])
    assert n == 3


def test_iter_and_next_inside_a_tf_function_read_a_fresh_pass_at_each_call():
    ds = D.from_tensor_slices(np.arange(6, dtype=np.float32).reshape(3, 2))

    @tf.function
    def first_two(ds):
        it = iter(ds)
        a = next(it)
        b = next(it)
        return a + 10 * b

    @tf.function
    def too_many(ds):
        it = iter(ds)
        return [next(it) for _ in range(4)]
    with eager_mode():
        got = [first_two(ds).numpy() for _ in range(2)]
        with pytest.raises(tf.errors.OutOfRangeError):              # TF 2.21 too, at the run
            too_many(ds)
    for g in got:
        np.testing.assert_array_equal(g, [20.0, 31.0])            # TF 2.21: [20., 31.] at each call


def test_python_iteration_in_a_graph_still_raises_tfs_error():
    with tf.Graph().as_default():
        with pytest.raises(RuntimeError, match="only supports Python-style iteration in eager mode"):
            iter(D.range(3))
