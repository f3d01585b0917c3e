"""tf.TensorArray: methods against NumPy, as tf.while_loop variables, gradients by finite differences, eagerly.

Graph runs go to the cpu target and the interpreter; the suite's conftest also checks every compiled module
against the interpreter."""
import numpy as np
import pytest

import gradcheck
import xlite as tf
from xlite import errors

RNG = np.random.default_rng(3)
TARGETS = pytest.mark.parametrize("target", ["cpu", "interpreter"])


def run(fetches, target="cpu"):
    with tf.Session(target=target) as s:
        return s.run(fetches)


@TARGETS
def test_methods_outside_loops(target):
    x = RNG.standard_normal((4, 3)).astype(np.float32)
    ta = tf.TensorArray(tf.float32, size=3, clear_after_read=False).write(0, x[0]).write(2, x[2])
    assert ta.element_shape.as_list() == [3]
    un = tf.TensorArray(tf.float32, size=4, clear_after_read=False).unstack(x)     # (elements read twice)
    scattered = un.scatter([3, 0], x[:2] * 10)
    assert isinstance(ta.close(), tf.Operation)
    stack, size, concat, read, gathered, sc = run(
        [ta.identity().stack(), ta.size(), ta.concat(), un.read(1), un.gather([3, 1]), scattered.stack()],
        target=target)
    np.testing.assert_array_equal(stack, np.stack([x[0], np.zeros(3, np.float32), x[2]]))
    assert size == 3 and concat.shape == (9,)
    np.testing.assert_array_equal(read, x[1])
    np.testing.assert_array_equal(gathered, x[[3, 1]])
    np.testing.assert_array_equal(sc, np.stack([x[1] * 10, x[1], x[2], x[0] * 10]))


def test_dynamic_size_grows_at_static_indices_and_split():
    ta = tf.TensorArray(tf.int32, size=0, dynamic_size=True)
    for i in range(3):
        ta = ta.write(i, [i, i * i])
    parts = tf.TensorArray(tf.float32, size=2).split(tf.range(6, dtype=tf.float32), [3, 3])
    stack, size, part = run([ta.stack(), ta.size(), parts.read(1)])
    np.testing.assert_array_equal(stack, [[0, 0], [1, 1], [2, 4]])
    assert size == 3
    np.testing.assert_array_equal(part, [3, 4, 5])


def test_errors():
    ta = tf.TensorArray(tf.float32, size=2)
    with pytest.raises(errors.InvalidArgumentError, match="not resizeable"):
        ta.write(2, [1.0])
    with pytest.raises(errors.InvalidArgumentError, match="dtype"):
        ta.write(0, tf.constant([1, 2]))
    with pytest.raises(errors.UnimplementedError, match="TensorArray"):
        ta.stack()   # no element shape yet
    with pytest.raises(ValueError, match="Size must be provided"):
        tf.TensorArray(tf.float32)


@TARGETS
def test_while_loop_write_then_stack(target):
    """The TF1 pattern: the body writes row i, the array is stacked after the loop."""
    x = RNG.standard_normal((5, 2)).astype(np.float32)
    xs = tf.constant(x)
    ta = tf.TensorArray(tf.float32, size=5)   # element shape from the body's write
    _, out = tf.while_loop(lambda i, ta: i < 5, lambda i, ta: (i + 1, ta.write(i, xs[i] * 2.0)), [0, ta])
    result = out.stack()
    assert result.shape.as_list() == [5, 2]
    np.testing.assert_allclose(run(result, target=target), x * 2.0)


def test_element_shape_with_a_fed_dimension():
    """The body writes [batch, 2] rows with a fed batch: the buffer takes its shape when the run fixes it."""
    x = tf.placeholder(tf.float32, [None, 2])
    _, out = tf.while_loop(lambda i, ta: i < 3, lambda i, ta: (i + 1, ta.write(i, x * tf.cast(i, tf.float32))),
                           [0, tf.TensorArray(tf.float32, size=3)])
    stacked = out.stack()
    assert stacked.shape.as_list() == [3, None, 2]
    value = RNG.standard_normal((4, 2)).astype(np.float32)
    with tf.Session() as s:
        np.testing.assert_allclose(s.run(stacked, {x: value}), value * np.arange(3)[:, None, None])


def test_dynamic_size_in_loop_sized_by_maximum_iterations():
    ta = tf.TensorArray(tf.float32, size=0, dynamic_size=True)
    _, out = tf.while_loop(lambda i, ta: i < 4, lambda i, ta: (i + 1, ta.write(i, tf.cast(i, tf.float32) * [1.0, -1.0])),
                           [0, ta], maximum_iterations=4)
    np.testing.assert_array_equal(run(out.stack()), [[0, 0], [1, -1], [2, -2], [3, -3]])
    # without maximum_iterations the loop grows the array on the host (test_tensor_array_loops.py)


@TARGETS
def test_gradient_through_loop_and_read(target):
    """A recurrence written into a TensorArray (a tiny RNN), against finite differences."""
    w = RNG.standard_normal(3)

    def rnn(x):
        def body(i, h, ta):
            h = tf.tanh(x[i] * w + h)
            return i + 1, h, ta.write(i, h)
        _, _, out = tf.while_loop(lambda i, h, ta: i < 4, body,
                                  [0, tf.zeros([3], tf.float64),
                                   tf.TensorArray(tf.float64, size=4, clear_after_read=False)],
                                  maximum_iterations=4)
        return out.stack() + out.read(2)
    gradcheck.check_grad(rnn, RNG.standard_normal((4, 3)), target=target)


def test_unstack_read_gradient():
    x = tf.constant(RNG.standard_normal((3, 2)).astype(np.float32))
    ta = tf.TensorArray(tf.float32, size=3, clear_after_read=False).unstack(x)
    (g,) = tf.gradients(tf.reduce_sum(ta.read(1) * 3.0) + tf.reduce_sum(ta.gather([0, 0])), [x])
    np.testing.assert_allclose(run(g), [[2, 2], [3, 3], [0, 0]])


def test_in_tf_function():
    x = RNG.standard_normal((3, 2)).astype(np.float32)

    @tf.function
    def doubled(v):
        ta = tf.TensorArray(tf.float32, size=3)
        _, ta = tf.while_loop(lambda i, ta: i < 3, lambda i, ta: (i + 1, ta.write(i, v[i] * 2.0)), [0, ta])
        return ta.stack()
    np.testing.assert_allclose(run(doubled(tf.constant(x))), x * 2)


def test_tf_cond_returns_tensor_arrays():
    x = RNG.standard_normal((3, 2)).astype(np.float32)
    xs = tf.constant(x)

    def body(i, ta):
        return i + 1, tf.cond(tf.equal(i % 2, 0), lambda: ta.write(i, xs[i]), lambda: ta.write(i, -xs[i]))
    _, ta = tf.while_loop(lambda i, ta: i < 3, body, [0, tf.TensorArray(tf.float32, size=3)])
    first = tf.TensorArray(tf.float32, size=2).write(0, [1.0, 2.0])
    second = tf.cond(tf.constant(True), lambda: first.write(1, [3.0, 4.0]), lambda: first)
    stacked, both = run([ta.stack(), second.stack()])
    np.testing.assert_allclose(stacked, x * [[1], [-1], [1]])
    np.testing.assert_array_equal(both, [[1, 2], [3, 4]])


def test_tf1_dynamic_rnn_pattern_with_fed_batch():
    """TF1's dynamic_rnn loop: inputs unstacked into one array, each step's output written to another, no
    maximum_iterations, batch (and time) fed: forward against NumPy, gradients by finite differences."""
    def rnn(inputs, w):
        steps, batch = tf.shape(inputs)[0], tf.shape(inputs)[1]
        input_ta = tf.TensorArray(tf.float64, size=steps).unstack(inputs)

        def step(t, h, out):
            h = tf.tanh(tf.matmul(tf.concat([input_ta.read(t), h], 1), w))
            return t + 1, h, out.write(t, h)
        _, _, out = tf.while_loop(lambda t, *_: t < steps, step,
                                  [0, tf.zeros(tf.stack([batch, 2]), tf.float64), tf.TensorArray(tf.float64, size=steps)])
        return out.stack()
    xs, w = RNG.standard_normal((3, 2, 2)), RNG.standard_normal((4, 2)) * 0.5
    got = gradcheck.check_grad(rnn, xs, w, static=False, directions=2)
    assert [g.shape for g in got] == [xs.shape, w.shape]
    h, want = np.zeros((2, 2)), []
    for x in xs:
        h = np.tanh(np.concatenate([x, h], 1) @ w)
        want.append(h)
    inputs, weights = tf.placeholder(tf.float64, [None, None, 2]), tf.placeholder(tf.float64, [4, 2])
    with tf.Session() as s:
        np.testing.assert_allclose(s.run(rnn(inputs, weights), {inputs: xs, weights: w}), want, rtol=1e-12)


def test_clear_after_read_raises_tf1s_error_for_a_second_read():
    x = tf.constant(np.arange(6.0, dtype=np.float32).reshape(3, 2))
    ta = tf.TensorArray(tf.float32, size=3, name="steps").unstack(x)
    first = ta.read(1)
    # TF raises where one run makes both reads; each read alone runs (a TensorArray lives for a run)
    values = np.arange(6.0, dtype=np.float32).reshape(3, 2)
    for second, want in ((ta.read(1), values[1]), (ta.gather([2, 1]), values[[2, 1]]), (ta.stack(), values),
                         (ta.concat(), values.reshape(-1))):
        np.testing.assert_array_equal(run(second), want)
        with pytest.raises(errors.InvalidArgumentError, match=r"TensorArray steps: Could not read index 1 twice "
                                                              r"because it was cleared after a previous read"):
            run([first, second])
    with pytest.raises(errors.InvalidArgumentError, match="Could not read index 0 twice"):
        run(tf.TensorArray(tf.float32, size=3).unstack(x).gather([0, 2, 0]))
    i, j = tf.placeholder(tf.int32, []), tf.placeholder(tf.int32, [None])
    fed = tf.TensorArray(tf.float32, size=3).unstack(x)
    a, b = fed.read(i), fed.gather(j)
    kept = tf.TensorArray(tf.float32, size=3, clear_after_read=False).unstack(x)
    with tf.Session() as s:
        np.testing.assert_array_equal(run([first, ta.read(2)])[1], [4, 5])
        got_a, got_b = s.run([a, b], {i: 0, j: [2, 1]})
        np.testing.assert_array_equal(got_b, [[4, 5], [2, 3]])
        np.testing.assert_array_equal(s.run(b, {j: [0, 1]}), [[0, 1], [2, 3]])     # the read of i is not in this run
        with pytest.raises(errors.InvalidArgumentError, match=r"Could not read index 2 twice"):
            s.run([a, b], {i: 2, j: [0, 2]})
        with pytest.raises(errors.InvalidArgumentError, match=r"Could not read index 1 twice"):
            s.run(b, {j: [1, 1]})
        np.testing.assert_array_equal(s.run([kept.read(i), kept.read(i), kept.stack()], {i: 1})[1], [2, 3])
