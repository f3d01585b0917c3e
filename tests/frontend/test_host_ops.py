"""tf.py_func / tf.numpy_function, tf.Print / tf.print, check_numerics and run-time tf.Assert on the
interpreter and the cpu backend: values, call counts, shape and dtype errors, exceptions, printed text."""
import sys

import numpy as np
import pytest

import xlite as tf

TARGETS = ["interpreter", "cpu"]


@pytest.fixture(autouse=True)
def fresh_graph():
    with tf.Graph().as_default():
        yield


@pytest.mark.parametrize("target", TARGETS)
def test_py_func_values_and_stateful_calls(target):
    x = tf.placeholder(tf.float32, [None, 2])
    calls = []

    def f(a, b):
        calls.append(a.shape)
        return a * b, np.array(a.sum(), np.float64)
    y, s = tf.py_func(f, [x, tf.constant(3.0)], [tf.float32, tf.float64])
    s.set_shape([])
    z = y + 1.0
    with tf.Session(target=target) as sess:
        for n in (1, 3):
            feed = np.arange(2 * n, dtype=np.float32).reshape(n, 2)
            got_z, got_s = sess.run([z, s], {x: feed})
            np.testing.assert_allclose(got_z, feed * 3 + 1)
            assert got_s == feed.sum()
    assert calls == [(1, 2), (3, 2)]            # one call per run, both outputs from it
    assert tf.compat.v1.py_func is tf.py_func and y.op.type == "PyFunc"


@pytest.mark.parametrize("target", TARGETS)
def test_py_func_errors_name_the_op(target):
    x = tf.placeholder(tf.float32, [3])
    short = tf.numpy_function(lambda a: a[:2], [x], tf.float32, name="shorter")
    wrong = tf.py_func(lambda a: a.astype(np.float64), [x], tf.float32, name="wider")

    def boom(a):
        raise ValueError("bad value")
    raising = tf.py_func(boom, [x], tf.float32, name="raising")
    feed = {x: np.ones(3, np.float32)}
    with tf.Session(target=target) as sess:
        with pytest.raises(tf.errors.InvalidArgumentError, match="shorter.*shape \\(2,\\)"):
            sess.run(short, feed)
        with pytest.raises(tf.errors.InvalidArgumentError,
                           match="0-th value returned by pyfunc_[0-9]+ is double, but expects float(.|\n)*wider"):
            sess.run(wrong, feed)
        with pytest.raises(tf.errors.InvalidArgumentError, match="ValueError: bad value(.|\n)*raising"):
            sess.run(raising, feed)         # (TF's py_func kernel: ValueError and TypeError)
        with pytest.raises(tf.errors.UnknownError, match="KeyError"):
            sess.run(tf.py_func(lambda a: {}["k"], [x], tf.float32), feed)
        np.testing.assert_array_equal(sess.run(x * 2, feed), [2, 2, 2])    # the process and session go on
    assert tf.gradients(raising, x) == [None]       # not differentiable, as in TF


@pytest.mark.parametrize("target", TARGETS)
def test_prints_in_program_order(target, capfd):
    x = tf.placeholder(tf.int32, [4])
    a = tf.Print(x + 1, [x], "first: ", summarize=2)
    b = tf.Print(a * 2, [a], "second: ")
    p = tf.print("third:", b, output_stream=sys.stdout, sep="|")
    with tf.control_dependencies([p]):
        out = tf.identity(b)
    capfd.readouterr()
    with tf.Session(target=target) as sess:
        np.testing.assert_array_equal(sess.run(out, {x: [1, 2, 3, 4]}), [4, 6, 8, 10])
    captured = capfd.readouterr()
    assert captured.err == "first: [1 2...]\nsecond: [2 3 4...]\n"
    assert captured.out == "third:|[4 6 8 10]\n"


@pytest.mark.parametrize("target", TARGETS)
def test_print_first_n_counts_in_each_session(target, capfd):
    """TF's Print kernel keeps its count, and every Session makes its own kernels."""
    x = tf.constant([1.0])
    p = tf.Print(x, [x], "n: ", first_n=2)
    capfd.readouterr()
    for _ in range(2):
        with tf.Session(target=target) as sess:
            for _ in range(3):
                sess.run(p)
    assert capfd.readouterr().err == "n: [1]\n" * 4


def test_print_formats_as_tensorflow():
    from xlite.frontend.host_ops import format_tensor
    assert format_tensor(np.arange(4).reshape(2, 2), 3) == "[[0 1]\n [2 3]]"
    assert format_tensor(np.arange(10), 2) == "[0 1 ... 8 9]"
    assert format_tensor(np.float32(0.5), 3) == "0.5"


@pytest.mark.parametrize("target", TARGETS)
def test_check_numerics_raises_naming_the_op(target):
    x = tf.placeholder(tf.float32, [2])
    y = tf.debugging.check_numerics(tf.log(x), "log of x", name="checked")
    loss = tf.reduce_sum(y)
    (g,) = tf.gradients(loss, x)
    with tf.Session(target=target) as sess:
        np.testing.assert_allclose(sess.run(g, {x: [1.0, 2.0]}), [1.0, 0.5])
        with pytest.raises(tf.errors.InvalidArgumentError, match="log of x : Tensor had Inf values(.|\n)*checked"):
            sess.run(loss, {x: [0.0, 1.0]})
        with pytest.raises(tf.errors.InvalidArgumentError, match="Tensor had NaN values"):
            sess.run(loss, {x: [-1.0, 1.0]})


@pytest.mark.parametrize("target", TARGETS)
def test_add_check_numerics_ops(target):
    x = tf.placeholder(tf.float32, [2])
    y = tf.sqrt(x, name="root")
    check = tf.add_check_numerics_ops()
    with tf.Session(target=target) as sess:
        sess.run([y, check], {x: [1.0, 4.0]})
        with pytest.raises(tf.errors.InvalidArgumentError, match="root:0 : Tensor had NaN values"):
            sess.run([y, check], {x: [-1.0, 4.0]})
    tf.while_loop(lambda i: i < 3.0, lambda i: i + 1.0, [0.0])
    with pytest.raises(ValueError, match="not compatible with TensorFlow control flow"):
        tf.add_check_numerics_ops()


@pytest.mark.parametrize("target", TARGETS)
def test_assert_at_run_time(target):
    x = tf.placeholder(tf.float32, [3])
    check = tf.Assert(tf.reduce_all(x > 0), ["x must be positive:", x], summarize=2)
    with tf.control_dependencies([check]):
        y = tf.identity(x)
    with tf.Session(target=target) as sess:
        np.testing.assert_array_equal(sess.run(y, {x: [1, 2, 3]}), [1, 2, 3])
        with pytest.raises(tf.errors.InvalidArgumentError,
                           match=r"assertion failed: \[x must be positive:\] \[1 -2\.\.\.\]"):
            sess.run(y, {x: [1, -2, 3]})
    with pytest.raises(tf.errors.InvalidArgumentError, match="assertion failed: \\[never\\]"):
        tf.Assert(tf.constant(False), ["never"])


def test_a_symbolic_batch_specializes_for_host_calls():
    x = tf.placeholder(tf.float32, [None])
    y = tf.py_func(lambda a: a + 1, [x], tf.float32)
    with tf.Session(target="cpu") as sess:
        for n in (2, 5):
            np.testing.assert_array_equal(sess.run(y, {x: np.zeros(n, np.float32)}), np.ones(n))
        assert sess.symbolic_fallbacks and all("host call" in str(e) for e in sess.symbolic_fallbacks.values())



@pytest.mark.parametrize("target", TARGETS)
def test_host_calls_in_loop_and_cond_bodies(target, capfd):
    n = tf.placeholder(tf.int32, [])
    calls = []

    def body(i, x):
        y = tf.py_func(lambda a: (calls.append(1), a + 1)[1], [x], tf.float32)
        y.set_shape([2])
        return i + 1, tf.Print(y, [i], "iter ")
    _, out = tf.while_loop(lambda i, x: i < n, body, [0, tf.zeros([2])])
    checked = tf.cond(n > 2, lambda: tf.check_numerics(out, "c"), lambda: out)
    capfd.readouterr()
    with tf.Session(target=target) as sess:
        np.testing.assert_array_equal(sess.run(checked, {n: 3}), [3, 3])
    assert len(calls) == 3 and capfd.readouterr().err == "iter [0]\niter [1]\niter [2]\n"

    def asserting():       # a host call without outputs in a branch runs when the branch does
        tf.Assert(n < 4, ["n is", n])
        return tf.identity(out)
    checked = tf.cond(n > 2, asserting, lambda: out)
    with tf.Session(target=target) as sess:
        np.testing.assert_array_equal(sess.run(checked, {n: 3}), [3, 3])
        np.testing.assert_array_equal(sess.run(checked, {n: 1}), [1, 1])
        with pytest.raises(tf.errors.InvalidArgumentError, match=r"assertion failed: \[n is\] \[4\]"):
            sess.run(checked, {n: 4})


def _checked_loop(n, x):
    """A loop whose body prints, asserts and checks values it does not return (TF2 runs them in order)."""
    def body(i, acc):
        tf.print("iter", i, acc, output_stream=sys.stdout)
        tf.Assert(acc < 5.0, ["acc is", acc])
        tf.debugging.check_numerics(tf.log(acc), "log of acc")
        tf.cond(tf.equal(i, 1), lambda: tf.print("one", output_stream=sys.stdout), tf.no_op)
        return i + 1, acc + x
    return tf.while_loop(lambda i, acc: i < n, body, [0, 1.0])[1]


@pytest.mark.parametrize("target", TARGETS + [pytest.param("cuda", marks=pytest.mark.slow)])
def test_checks_and_prints_in_a_loop_body_run_every_iteration(target, capfd, request):
    if target == "cuda":
        request.getfixturevalue("emulated")
    n, x = tf.placeholder(tf.int32, []), tf.placeholder(tf.float32, [])
    out = _checked_loop(n, x)
    capfd.readouterr()
    with tf.Session(target=target) as sess:
        assert sess.run(out, {n: 3, x: 1.0}) == 4.0
        assert capfd.readouterr().out == "iter 0 1\niter 1 2\none\niter 2 3\n"
        with pytest.raises(tf.errors.InvalidArgumentError, match=r"assertion failed: \[acc is\] \[5\]"):
            sess.run(out, {n: 9, x: 1.0})
        assert capfd.readouterr().out.splitlines()[-1] == "iter 4 5"      # the failing iteration's
        with pytest.raises(tf.errors.InvalidArgumentError, match="log of acc : Tensor had Inf values"):
            sess.run(out, {n: 9, x: -1.0})


def test_a_loop_gradient_does_not_print_again(capfd):
    x = tf.placeholder(tf.float32, [])

    def body(i, acc):
        tf.print("iter", i, output_stream=sys.stdout)
        return i + 1, acc * x
    _, out = tf.while_loop(lambda i, acc: i < 3, body, [0, 1.0])
    (g,) = tf.gradients(out, x)
    capfd.readouterr()
    with tf.Session(target="cpu") as sess:
        assert sess.run([out, g], {x: 2.0}) == [8.0, 12.0]
    assert capfd.readouterr().out == "iter 0\niter 1\niter 2\n"


def test_a_host_call_without_outputs_in_a_loop_condition_raises():
    def cond(i):
        tf.Assert(i < 10, [i])
        return i < 3
    r = tf.while_loop(cond, lambda i: i + 1, [0])
    with tf.Session(target="cpu") as sess:
        with pytest.raises(tf.errors.UnimplementedError, match="Assert .*inside the condition of a tf.while_loop"):
            sess.run(r)


def test_prints_in_a_loop_whose_shapes_change(capfd):
    def body(i, v):
        tf.print("size", tf.size(v), output_stream=sys.stdout)
        return i + 1, tf.concat([v, [1.0]], 0)
    _, v = tf.while_loop(lambda i, v: i < 3, body, [0, tf.zeros([0])],
                         shape_invariants=[tf.TensorShape([]), tf.TensorShape([None])])
    capfd.readouterr()
    with tf.Session(target="cpu") as sess:
        assert sess.run(v).tolist() == [1.0] * 3
    assert capfd.readouterr().out == "size 0\nsize 1\nsize 2\n"
