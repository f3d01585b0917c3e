"""tf.function called from TF1 graph code: the trace is inlined, and one Session.run compiles it all."""
import numpy as np
import pytest

import xlite as tf


def test_inlined_call_matches_numpy(graph):
    @tf.function
    def f(x, y):
        return tf.tanh(x) * y + 1.0

    x = tf.placeholder(tf.float32, [None, 3])
    out = f(x, tf.constant(2.0))
    assert isinstance(out, tf.Tensor) and out.graph is graph
    assert out.shape.as_list() == [None, 3]
    xv = np.random.RandomState(0).standard_normal((5, 3)).astype(np.float32)
    with tf.Session() as sess:
        got = sess.run(out, {x: xv})
    np.testing.assert_allclose(got, np.tanh(xv) * 2.0 + 1.0, rtol=1e-6)
    assert not any(op.type == "Placeholder" and op.name.startswith("f/") for op in graph.get_operations())


def test_python_scalars_trace_by_value_tensors_by_signature(graph):
    traced = []

    @tf.function
    def f(x, k):
        traced.append(k)
        return x * k

    a = tf.placeholder(tf.float32, [2])
    outs = [f(a, 2.0), f(a, 3.0), f(a, 2.0), f(tf.placeholder(tf.float32, [2]), 3.0)]
    assert traced == [2.0, 3.0]
    assert f.experimental_get_tracing_count() == 2
    f(tf.placeholder(tf.float32, [4]), 2.0)          # a new shape traces again
    f(tf.placeholder(tf.int32, [2]), 2)              # and a new dtype
    assert f.experimental_get_tracing_count() == 4
    with tf.Session() as sess:
        got = sess.run(outs[:3], {a: np.array([1.0, 2.0], np.float32)})
    np.testing.assert_allclose(got, [[2, 4], [3, 6], [2, 4]])


def test_keyword_and_positional_calls_share_a_trace():
    @tf.function
    def f(x, scale=2.0):
        return x * scale

    x = tf.constant([1.0, 2.0])
    f(x)
    f(x, 2.0)
    f(x=x, scale=2.0)
    assert f.experimental_get_tracing_count() == 1


def test_input_signature_with_none_batch_traces_once(graph):
    @tf.function(input_signature=[tf.TensorSpec([None, 4], tf.float32)])
    def f(x):
        return tf.reduce_sum(x, axis=1)

    outs = []
    for n in (1, 3, 7):
        outs.append(f(tf.placeholder(tf.float32, [n, 4])))
    assert f.experimental_get_tracing_count() == 1
    cf = f.get_concrete_function()
    assert cf.inputs[0].shape.as_list() == [None, 4]       # the None dim stays None in the trace
    assert cf.outputs[0].shape.as_list() == [None]
    with pytest.raises(ValueError):
        f(tf.placeholder(tf.float32, [2, 5]))


def test_nested_inputs_and_outputs(graph):
    @tf.function
    def f(pair, d):
        a, b = pair
        return {"sum": a + b + d["c"], "parts": (a * 2.0, [b])}

    a, b, c = tf.constant([1.0, 2.0]), tf.constant([3.0, 4.0]), tf.constant(10.0)
    out = f((a, b), {"c": c})
    assert set(out) == {"sum", "parts"} and isinstance(out["parts"], tuple) and isinstance(out["parts"][1], list)
    with tf.Session() as sess:
        got = sess.run(out)
    np.testing.assert_allclose(got["sum"], [14, 16])
    np.testing.assert_allclose(got["parts"][0], [2, 4])
    np.testing.assert_allclose(got["parts"][1][0], [3, 4])


def test_captured_graph_variable_updated_in_place(graph):
    counter = tf.Variable(0, dtype=tf.int32)

    @tf.function
    def bump(step):
        counter.assign_add(step)
        return counter.read_value()

    out = bump(tf.constant(3))
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        assert [sess.run(out) for _ in range(3)] == [3, 6, 9]
        assert sess.run(counter) == 9


def test_function_without_outputs_returns_its_update_op(graph):
    v = tf.Variable(1.0)

    @tf.function
    def double():
        v.assign(v * 2.0)

    op = double()
    assert isinstance(op, tf.Operation)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(op)
        sess.run(op)
        assert sess.run(v) == 4.0


def test_variables_created_on_first_trace_only(graph):
    class Scale:
        def __init__(self):
            self.w = None

        @tf.function
        def __call__(self, x):
            if self.w is None:
                self.w = tf.Variable(tf.fill([3], 2.0), name="w")
            return x * self.w

    m = Scale()
    out = m(tf.constant([1.0, 2.0, 3.0]))
    assert m.w.graph is graph and m.w in tf.global_variables()
    out2 = m(tf.constant([4.0, 5.0, 6.0]))             # same signature: no new trace
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        np.testing.assert_allclose(sess.run([out, out2]), [[2, 4, 6], [8, 10, 12]])

    assert m.__call__.experimental_get_tracing_count() == 2     # traced again, as TF does

    @tf.function
    def make(x):
        return x * tf.Variable(1.0)          # a new Variable on every trace: TF refuses it at once

    with pytest.raises(ValueError, match="singleton tf.Variables created on the first call"):
        make(tf.constant(1.0))


def test_methods_bind_self_per_instance(graph):
    class Affine:
        def __init__(self, a):
            self.a = a

        @tf.function
        def apply(self, x):
            return x * self.a + 1.0

    p, q = Affine(2.0), Affine(3.0)
    x = tf.constant([1.0, 2.0])
    with tf.Session() as sess:
        np.testing.assert_allclose(sess.run([p.apply(x), q.apply(x)]), [[3, 5], [4, 7]])
    assert p.apply is p.apply and p.apply.experimental_get_tracing_count() == 1


def test_nested_function_and_control_flow_inline(graph):
    @tf.function(autograph=False)
    def inner(x):
        return tf.cond(x > 0, lambda: x * x, lambda: -x)

    @tf.function(autograph=False)
    def outer(x):
        return inner(x) + tf.while_loop(lambda i, s: i < 3, lambda i, s: (i + 1, s + x), (0, 0.0),
                                             maximum_iterations=5)[1]

    x = tf.placeholder(tf.float32, [])
    y = outer(x)
    (dx,) = tf.gradients(y, [x])
    with tf.Session() as sess:
        for v in (2.0, -3.0):
            got, g = sess.run([y, dx], {x: v})
            want = (v * v if v > 0 else -v) + 3 * v
            assert got == pytest.approx(want)
            assert g == pytest.approx((2 * v if v > 0 else -1.0) + 3)


def test_get_concrete_function_from_specs(graph):
    @tf.function
    def f(x, y):
        return {"out": tf.matmul(x, y)}

    cf = f.get_concrete_function(tf.TensorSpec([None, 2], tf.float32), tf.TensorSpec([2, 3], tf.float32))
    assert [t.shape.as_list() for t in cf.inputs] == [[None, 2], [2, 3]]
    assert cf.structured_outputs["out"].shape.as_list() == [None, 3]
    assert cf.outputs[0].dtype == tf.float32
    assert f.python_function.__name__ == "f"
    a = np.arange(8, dtype=np.float32).reshape(4, 2)
    b = np.arange(6, dtype=np.float32).reshape(2, 3)
    out = cf(tf.constant(a), tf.constant(b))            # a ConcreteFunction is callable too
    f(tf.constant(a), tf.constant(b))                   # a call that fits the concrete trace uses it
    assert f.experimental_get_tracing_count() == 1
    with tf.Session() as sess:
        np.testing.assert_allclose(sess.run(out["out"]), a @ b)


def test_reduce_retracing_relaxes_the_second_shape(graph):
    @tf.function(reduce_retracing=True)
    def f(x):
        return x + 1.0

    for n in (2, 3, 4, 5):
        f(tf.placeholder(tf.float32, [n]))
    assert f.experimental_get_tracing_count() == 2

    @tf.function(experimental_relax_shapes=True, jit_compile=True)
    def g(x):
        return x * 2.0
    g(tf.placeholder(tf.float32, [1, 2]))
    g(tf.placeholder(tf.float32, [3, 2]))
    g(tf.placeholder(tf.float32, [9, 2]))
    assert g.experimental_get_tracing_count() == 2


def test_random_ops_take_the_callers_graph_seed(graph):
    tf.set_random_seed(5)

    @tf.function
    def noise():
        return tf.random_normal([4])

    out = noise()
    reference = tf.Graph()
    with reference.as_default():
        tf.set_random_seed(5)
        want = tf.random_normal([4])
    with tf.Session() as sess, tf.Session(graph=reference) as ref:
        np.testing.assert_array_equal(sess.run(out), ref.run(want))
        np.testing.assert_array_equal(sess.run(out), ref.run(want))   # the same stream, run after run
    again = noise()              # a second call site draws other numbers, as a second call does in TF
    with tf.Session() as sess:
        first, second = sess.run([out, again])
        assert not np.array_equal(first, second)


def test_errors_in_a_traced_function_name_the_users_line(graph):
    @tf.function
    def bad(x, y):
        return tf.matmul(x, y)          # the line the error names

    with pytest.raises(ValueError, match=r"test_graph_mode\.py:\d+"):
        bad(tf.zeros([2, 3]), tf.zeros([4, 5]))


def test_variable_arguments_bind_per_call(graph):
    a, b = tf.Variable(1.0), tf.Variable(10.0)

    @tf.function
    def bump(var):
        var.assign_add(1.0)
        return var.read_value()

    ra, rb = bump(a), bump(b)
    assert bump.experimental_get_tracing_count() == 1     # Variables of one spec share a trace (TF's key)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        assert sess.run(ra) == 2.0 and sess.run(rb) == 11.0
        assert sess.run([a, b]) == [2.0, 11.0]


def test_function_called_inside_a_cond_branch(graph):
    @tf.function
    def double(v):
        return v * 2.0

    x = tf.placeholder(tf.float32, [])
    y = tf.cond(x > 0, lambda: double(x), lambda: -x)
    with tf.Session() as sess:
        assert sess.run(y, {x: 3.0}) == 6.0 and sess.run(y, {x: -2.0}) == 2.0
