"""Per-op dispatch: every eager op goes through the compile driver once per signature, then its cache."""
import numpy as np
import pytest

import xlite as tf
from xlite import errors
from xlite.eager import dispatch
from xlite.runtime import driver


@pytest.fixture
def compiles(monkeypatch, target):
    """The Modules the compile driver compiles during the test (the kernels start uncached)."""
    seen = []
    original = driver.compile

    def counting(module, target, options=None):
        seen.append(module)
        return original(module, target, options)
    monkeypatch.setattr(driver, "compile", counting)
    dispatch.clear_cache()
    return seen


def test_an_op_compiles_once_per_signature(compiles):
    x = tf.constant(np.arange(6, dtype=np.float32))
    y = tf.exp(x)
    assert len(compiles) == 1                     # Const needs no kernel; Exp one
    np.testing.assert_allclose(y.numpy(), np.exp(np.arange(6, dtype=np.float32)), rtol=1e-6)
    hits = dispatch.stats.hits
    z = tf.exp(tf.constant(np.ones(6, np.float32)))
    assert len(compiles) == 1 and dispatch.stats.hits == hits + 1      # the same signature: cached
    np.testing.assert_allclose(z.numpy(), np.e, rtol=1e-6)
    tf.exp(tf.constant(np.ones(7, np.float32)))                        # another shape: another kernel
    tf.exp(tf.constant(np.ones(6, np.float64)))                        # another dtype: another kernel
    assert len(compiles) == 3


def test_operators_in_a_loop_reuse_their_kernels(compiles):
    x = tf.constant(np.ones(16, np.float32))
    for _ in range(50):
        x = x * 0.5 + 1.0
    assert len(compiles) == 2                     # Mul and AddV2 (the scalars are arguments, not constants)
    np.testing.assert_allclose(x.numpy(), 2.0 - 0.5 ** 50, rtol=1e-6)


def test_value_inputs_become_constants_only_where_needed(compiles):
    x = tf.constant(np.arange(12, dtype=np.float32))
    r = tf.reshape(x, [3, 4])
    assert r.shape == tf.TensorShape([3, 4])
    np.testing.assert_array_equal(tf.reduce_sum(r, axis=1).numpy(), np.arange(12).reshape(3, 4).sum(1))
    np.testing.assert_array_equal(tf.reduce_sum(r, axis=0).numpy(), np.arange(12).reshape(3, 4).sum(0))
    n = len(compiles)
    a = tf.constant([1, 2, 3])
    tf.reduce_sum(a + tf.constant([4, 5, 6]), axis=0)      # an int tensor summed: its values are not baked
    tf.reduce_sum(a + tf.constant([7, 8, 9]), axis=0)
    assert len(compiles) == n + 2                 # AddV2 int32 and Sum int32 once each


def test_ops_with_several_or_no_outputs(target):
    x = np.arange(12, dtype=np.float32).reshape(4, 3)
    parts = tf.split(tf.constant(x), 2, axis=0)
    for got, want in zip(parts, np.split(x, 2, axis=0)):
        np.testing.assert_array_equal(got.numpy(), want)
    assert tf.no_op() is not None and tf.group(tf.constant(1.0)).outputs == []


def test_random_ops_run_eagerly(target):
    a = tf.random_uniform([1000], seed=3)
    b = tf.random_uniform([1000], seed=3)
    assert a.shape == tf.TensorShape([1000]) and 0 <= a.numpy().min() and a.numpy().max() < 1
    assert not np.array_equal(a.numpy(), b.numpy())            # each call is a run: new numbers
    assert abs(float(tf.reduce_mean(a)) - 0.5) < 0.05


def test_shape_errors_name_the_user_line(eager):
    with pytest.raises(errors.InvalidArgumentError) as info:
        tf.constant([1, 2]) + tf.constant([1, 2, 3])
    assert "test_eager_dispatch.py:" in str(info.value) and "AddV2" in str(info.value)


def test_graph_values_and_eager_values_do_not_mix(eager):
    with pytest.raises(RuntimeError, match="tf.placeholder\\(\\) is not compatible with eager execution"):
        tf.placeholder(tf.float32, [2])
    x = tf.constant(1.0)
    with tf.Graph().as_default():
        g = tf.constant(2.0)
        with pytest.raises(RuntimeError, match="Attempting to capture an EagerTensor"):
            tf.add(g, x)
    with pytest.raises(TypeError, match="graph tensor"):
        tf.exp(g)


def test_eager_cond_and_while_run_as_python(target):
    x = tf.constant(2)
    assert int(tf.cond(x > 0, lambda: x * x, lambda: -x)) == 4
    assert int(tf.cond(tf.constant(-3) > 0, lambda: x * x, lambda: -tf.constant(-3))) == 3
    i, s = tf.while_loop(lambda i, s: i < 5, lambda i, s: (i + 1, s + i), [tf.constant(0), tf.constant(0)])
    assert (int(i), int(s)) == (5, 10)
    assert int(tf.while_loop(lambda i: i < 100, lambda i: i + 1, [0], maximum_iterations=7)) == 7


@pytest.mark.slow
def test_eager_ops_on_emulated_cuda(eager, emulated):
    dispatch.set_target("cuda")
    try:
        x = np.linspace(-2, 2, 12).astype(np.float32)
        y = tf.reduce_sum(tf.reshape(tf.exp(tf.constant(x)) * 2.0 + 1.0, [3, 4]), axis=1)
        np.testing.assert_allclose(y.numpy(), (np.exp(x) * 2 + 1).reshape(3, 4).sum(1), rtol=1e-5)
        v = tf.Variable([1.0, 2.0])
        v.assign_add([0.5, 0.5])
        np.testing.assert_array_equal(v.numpy(), [1.5, 2.5])
    finally:
        dispatch.set_target(None)


def test_threads_share_the_kernels(eager):
    import threading
    dispatch.clear_cache()
    results = {}

    def work(k):
        x = tf.constant(np.full(8, k, np.float32))
        for _ in range(50):
            x = tf.exp(x * 0.0) + x * 0.5       # converges to 2 from any start
        results[k] = x.numpy()
    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [0, 1, 2, 3]
    for k, value in results.items():
        np.testing.assert_allclose(value, 2.0 + (k - 2.0) * 0.5 ** 50, rtol=1e-6)
