"""tf.function called eagerly: traced once per signature, compiled through the driver, eager results."""
import numpy as np
import pytest

import xlite as tf
from xlite.eager.context import eager_mode
from xlite.eager.tensor import EagerTensor
from xlite.runtime.executable import default_target


@pytest.fixture(autouse=True)
def graph():
    """No graph entered (conftest's would turn eager execution off again): eager mode for each test."""
    with eager_mode():
        yield None


def test_glossary_examples():
    @tf.function
    def my_function(x):
        if x > 0:
            y = x * x
        else:
            y = -x
        return y

    assert my_function(tf.constant(2)).numpy() == 4
    assert my_function(tf.constant(-3)).numpy() == 3
    assert my_function.experimental_get_tracing_count() == 1   # one trace: the `if` became a tf.cond

    @tf.function
    def optimized_add(a, b):
        return a + b

    out = optimized_add(tf.constant([1, 2, 3]), tf.constant([4, 5, 6]))
    assert isinstance(out, EagerTensor) and out.dtype == tf.int32
    np.testing.assert_array_equal(out.numpy(), [5, 7, 9])
    assert str(out) == "tf.Tensor([5 7 9], shape=(3,), dtype=int32)"


def test_results_match_numpy_and_traces_per_signature():
    rng = np.random.RandomState(0)
    w = rng.standard_normal((5, 3)).astype(np.float32)

    @tf.function
    def layer(x, scale):
        return tf.nn.relu(tf.matmul(x, tf.constant(w)) * scale), tf.reduce_sum(x, axis=0)

    for n in (1, 4, 4, 7):
        x = rng.standard_normal((n, 5)).astype(np.float32)
        y, s = layer(tf.constant(x), 2.0)
        np.testing.assert_allclose(y.numpy(), np.maximum(x @ w * 2.0, 0), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(s.numpy(), x.sum(0), rtol=1e-5, atol=1e-6)
    assert layer.experimental_get_tracing_count() == 3            # shapes (1,5), (4,5), (7,5)
    layer(tf.constant(x), 3.0)                                    # a Python scalar is part of the key
    assert layer.experimental_get_tracing_count() == 4
    layer(x, 3.0)                                                 # a NumPy array counts as a tensor
    assert layer.experimental_get_tracing_count() == 4


def test_input_signature_none_batch_traces_once():
    @tf.function(input_signature=[tf.TensorSpec([None, 784], tf.float32)])
    def mean_pixel(images):
        return tf.reduce_mean(images, axis=1)

    rng = np.random.RandomState(1)
    for n in (1, 3, 32):
        x = rng.random_sample((n, 784)).astype(np.float32)
        np.testing.assert_allclose(mean_pixel(tf.constant(x)).numpy(), x.mean(1), rtol=1e-5)
    assert mean_pixel.experimental_get_tracing_count() == 1
    assert mean_pixel.get_concrete_function().inputs[0].shape.as_list() == [None, 784]
    with pytest.raises(ValueError):
        mean_pixel(tf.constant(np.zeros((2, 5), np.float32)))


def test_captured_eager_tensor_and_variable_updated_in_place():
    offset = tf.constant([1.0, 2.0])
    counter = tf.Variable(0, dtype=tf.int32)
    total = tf.Variable(np.zeros(2, np.float32))

    @tf.function
    def step(x):
        counter.assign_add(1)
        total.assign_add(x + offset)
        return total.read_value() * 2.0

    before = total._array()
    for i in range(1, 4):
        out = step(tf.constant([float(i), 0.0]))
    assert counter.numpy() == 3
    np.testing.assert_allclose(total.numpy(), [1 + 2 + 3 + 3, 6])
    np.testing.assert_allclose(out.numpy(), 2 * total.numpy())
    assert step.experimental_get_tracing_count() == 1
    if default_target() == "cpu":
        assert total._value is before           # updated in its own buffer: the executable donates it
    assert {id(v) for v in step.get_concrete_function(tf.constant([0.0, 0.0])).variables} >= {id(counter), id(total)}


def test_variables_created_on_the_first_trace_only():
    class Dense:
        def __init__(self):
            self.w = None

        @tf.function
        def __call__(self, x):
            if self.w is None:
                self.w = tf.Variable(tf.ones([3, 2]) * 0.5, name="w")
            return tf.matmul(x, self.w)

    layer = Dense()
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    np.testing.assert_allclose(layer(tf.constant(x)).numpy(), x @ np.full((3, 2), 0.5))
    assert isinstance(layer.w, tf.Variable) and layer.w.trainable
    np.testing.assert_allclose(layer.w.numpy(), np.full((3, 2), 0.5))
    layer.w.assign(np.ones((3, 2), np.float32))                    # an eager Variable after the trace
    np.testing.assert_allclose(layer(tf.constant(x)).numpy(), x @ np.ones((3, 2)))
    np.testing.assert_allclose(layer(tf.constant(x[:1])).numpy(), x[:1] @ np.ones((3, 2)))   # retrace: no new one

    assert layer.__call__.experimental_get_tracing_count() == 3     # the first call traced twice, as TF's

    @tf.function
    def leaky(x):
        return x * tf.Variable(2.0)          # a new Variable on every trace: TF refuses it at once

    with pytest.raises(ValueError, match="singleton tf.Variables created on the first call"):
        leaky(tf.constant(3.0))


def test_nested_structures_methods_and_concrete_functions():
    class Model:
        def __init__(self, k):
            self.k = k

        @tf.function
        def apply(self, inputs):
            return {"scaled": [inputs["a"] * self.k], "diff": inputs["a"] - inputs["b"], "k": self.k}

    m = Model(3.0)
    a, b = np.float32([1, 2]), np.float32([5, 5])
    out = m.apply({"a": tf.constant(a), "b": tf.constant(b)})
    np.testing.assert_allclose(out["scaled"][0].numpy(), a * 3)
    np.testing.assert_allclose(out["diff"].numpy(), a - b)
    assert isinstance(out["k"], EagerTensor) and out["k"].numpy() == 3.0    # TF returns Python values as tensors

    @tf.function
    def poly(x):
        return x * x + 1.0

    cf = poly.get_concrete_function(tf.TensorSpec([None], tf.float32))
    np.testing.assert_allclose(cf(tf.constant([1.0, 2.0, 3.0])).numpy(), [2, 5, 10])
    np.testing.assert_allclose(poly(tf.constant([4.0])).numpy(), [17])   # the concrete trace fits: reused
    assert poly.experimental_get_tracing_count() == 1


def test_function_calling_a_function_inlines_it():
    @tf.function
    def inner(x):
        return tf.square(x) + 1.0

    @tf.function
    def outer(x):
        return inner(x) * 2.0

    np.testing.assert_allclose(outer(tf.constant([1.0, 3.0])).numpy(), [4.0, 20.0])
    graph = outer.get_concrete_function(tf.constant([1.0, 3.0])).graph
    assert any(op.name.startswith("inner/") for op in graph.get_operations())
    assert inner.experimental_get_tracing_count() == 1


def test_autograph_loops_on_tensors():
    @tf.function
    def sum_below(n):
        total = tf.constant(0)
        i = tf.constant(0)
        while i < n:
            total += i
            i += 1
        return total

    assert sum_below(tf.constant(10)).numpy() == 45
    assert sum_below(tf.constant(4)).numpy() == 6
    assert sum_below.experimental_get_tracing_count() == 1


def test_training_step_matches_the_session_step():
    """W3's MLP step written as a tf.function with a GradientTape and an optimizer: the same loss and
    the same updated Variables as the TF1 Session step from the same initial values."""
    rng = np.random.RandomState(3)
    shapes = [(12, 8), (8,), (8, 3), (3,)]
    initial = [(rng.standard_normal(s) * 0.3).astype(np.float32) for s in shapes]
    x = rng.random_sample((5, 12)).astype(np.float32)
    y = np.eye(3, dtype=np.float32)[rng.randint(0, 3, 5)]

    def model(h, params):
        h = tf.nn.relu(tf.matmul(h, params[0]) + params[1])
        logits = tf.matmul(h, params[2]) + params[3]
        return tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits_v2(labels=y, logits=logits))

    reference = tf.Graph()
    with reference.as_default():
        ref_vars = [tf.Variable(v) for v in initial]
        ref_loss = model(tf.constant(x), ref_vars)
        train = tf.train.GradientDescentOptimizer(0.1).minimize(ref_loss)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            want = [sess.run([ref_loss, train])[0] for _ in range(2)]
            want_after = sess.run(ref_vars)

    params = [tf.Variable(v) for v in initial]
    optimizer = tf.train.GradientDescentOptimizer(0.1)

    @tf.function
    def step(images):
        with tf.GradientTape() as tape:
            loss = model(images, params)
        optimizer.apply_gradients(zip(tape.gradient(loss, params), params))
        return loss

    got = [step(tf.constant(x)).numpy() for _ in range(2)]
    np.testing.assert_allclose(got, want, rtol=1e-5)
    for p, w in zip(params, want_after):
        np.testing.assert_allclose(p.numpy(), w, rtol=1e-5, atol=1e-6)
    assert step.experimental_get_tracing_count() == 1


def test_arguments_as_tf_keys_them():
    """The trace counts TF 2.21 gives for the same calls (checked with TF where it was importable)."""
    @tf.function
    def f(x):
        return x + 1

    f(np.ones(2, np.float32))
    f(np.zeros(2, np.float32))          # a NumPy array is keyed like a tensor: dtype and shape
    f(np.ones(3, np.float32))
    assert f.experimental_get_tracing_count() == 2

    @tf.function
    def positional(*xs, scale=1.0):
        return tf.add_n(list(xs)) * scale

    np.testing.assert_allclose(positional(tf.constant([1.0]), tf.constant([2.0]), scale=3.0).numpy(), [9.0])
    np.testing.assert_allclose(positional(tf.constant([1.0]), tf.constant([5.0]), scale=3.0).numpy(), [18.0])
    assert positional.experimental_get_tracing_count() == 1

    v, w = tf.Variable(4.0), tf.Variable(-1.0)

    @tf.function
    def bump(var, by):
        var.assign_add(by)
        return var * 2.0

    assert bump(v, tf.constant(1.0)).numpy() == 10.0
    assert bump(w, tf.constant(1.0)).numpy() == 0.0     # another Variable of the same spec: same trace
    v.assign(7.0)
    assert bump(v, tf.constant(1.0)).numpy() == 16.0    # read at every call, not baked into the trace
    assert (v.numpy(), w.numpy()) == (8.0, 0.0)
    assert bump.experimental_get_tracing_count() == 1
    bump(tf.Variable([1.0, 2.0]), tf.constant([1.0, 1.0]))   # another shape: a new trace
    assert bump.experimental_get_tracing_count() == 2

    @tf.function
    def returns_object(x):
        return object()

    with pytest.raises(TypeError, match="must return zero or more Tensors"):
        returns_object(tf.constant(1.0))


def test_seeded_random_ops_repeat_the_graph_mode_sequence():
    with tf.Graph().as_default() as g:
        tf.set_random_seed(7)
        r = tf.random_normal([3])
        with tf.Session(graph=g) as sess:
            want = [sess.run(r), sess.run(r)]
    tf.set_random_seed(7)

    @tf.function
    def noise():
        return tf.random_normal([3])

    got = [noise().numpy(), noise().numpy()]       # each call draws the next numbers, as each run does
    np.testing.assert_array_equal(got, want)
    assert not np.array_equal(got[0], got[1])


def test_relaxed_shapes_and_the_concrete_signature():
    @tf.function(experimental_relax_shapes=True)
    def total(x):
        return tf.reduce_sum(x * x)

    for n in (2, 3, 4, 9):
        x = np.arange(n, dtype=np.float32)
        assert total(tf.constant(x)).numpy() == pytest.approx(float((x * x).sum()))
    assert total.experimental_get_tracing_count() == 2       # [2], then [None] for every later length
    cf = total.get_concrete_function(tf.constant(np.zeros(5, np.float32)))
    (spec,), kwargs = cf.structured_input_signature
    assert kwargs == {} and spec.shape.as_list() == [None] and spec.dtype == tf.float32


@pytest.mark.slow
def test_glossary_script_runs_unchanged_after_enable_eager_execution(tmp_path):
    import subprocess
    import sys
    script = tmp_path / "glossary.py"
    script.write_text(
        "import xlite as tf\n"
        "tf.enable_eager_execution()\n"
        "@tf.function\n"
        "def my_function(x):\n"
        "    if x > 0:\n"
        "        y = x * x\n"
        "    else:\n"
        "        y = -x\n"
        "    return y\n"
        "print(my_function(tf.constant(2)))\n"
        "print(my_function(tf.constant(-3)))\n"
        "@tf.function\n"
        "def optimized_add(a, b):\n"
        "    return a + b\n"
        "print(optimized_add(tf.constant([1, 2, 3]), tf.constant([4, 5, 6])))\n")
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == ["tf.Tensor(4, shape=(), dtype=int32)", "tf.Tensor(3, shape=(), dtype=int32)",
                                       "tf.Tensor([5 7 9], shape=(3,), dtype=int32)"]
