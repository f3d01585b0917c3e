"""The same tf.function programs in TensorFlow (where it imports; never a dependency) and xlite: the
same values and the same number of traces."""
import numpy as np
import pytest

import xlite as tf
from xlite.eager.context import eager_mode

real_tf = pytest.importorskip("tensorflow")


@pytest.fixture(autouse=True)
def graph():
    with eager_mode():
        yield None


def _program(lib):
    """Calls a few functions the way a user would; (values, tracing counts)."""
    @lib.function
    def branch(x):
        if x > 0:
            y = x * x
        else:
            y = -x
        return y

    @lib.function(reduce_retracing=True)
    def total(x, k):
        return lib.reduce_sum(x) * k

    @lib.function(input_signature=[lib.TensorSpec([None, 3], lib.float32)])
    def rows(m):
        return lib.reduce_max(m, axis=1)

    v = lib.Variable(1.0)

    @lib.function
    def bump(var, by):
        var.assign_add(by)
        return var.read_value()

    values = [branch(lib.constant(2)), branch(lib.constant(-3))]
    for n in (2, 3, 4, 5):
        values.append(total(lib.constant(np.arange(n, dtype=np.float32)), 2.0))
    values.append(total(lib.constant(np.arange(3, dtype=np.float32)), 3.0))
    for n in (1, 4):
        values.append(rows(lib.constant(np.arange(3 * n, dtype=np.float32).reshape(n, 3))))
    values += [bump(v, lib.constant(2.0)), bump(lib.Variable(5.0), lib.constant(1.0))]
    counts = [f.experimental_get_tracing_count() for f in (branch, total, rows, bump)]
    return [np.asarray(x) for x in values], counts


def test_values_and_tracing_counts_match_tensorflow():
    want, want_counts = _program(real_tf)
    got, got_counts = _program(tf)
    assert got_counts == want_counts
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-6)


def _stateful_program(lib):
    class Scale:
        def __init__(self):
            self.w = None

        @lib.function
        def __call__(self, x):
            if self.w is None:
                self.w = lib.Variable(lib.ones([3]) * 2.0)
            self.w.assign_add(x)
            return {"out": [x * self.w], "k": 3, "none": None}

    m = Scale()
    first = m(lib.constant([1.0, 2.0, 3.0]))
    second = m(np.float32([1.0, 1.0, 1.0]))

    @lib.function
    def leaky(x):
        return x * lib.Variable(2.0)

    try:
        leaky(lib.constant(3.0))             # a Variable on every trace: refused on the first call
        error = None
    except ValueError as e:
        error = str(e).split("tf.function only supports")[-1].split(".")[0]
    values = [first["out"][0], first["k"], second["out"][0], m.w]
    return ([np.asarray(v) for v in values], first["none"], error,
            m.__call__.experimental_get_tracing_count())


def test_variables_and_structures_match_tensorflow():
    want = _stateful_program(real_tf)
    got = _stateful_program(tf)
    for g, w in zip(got[0], want[0]):
        np.testing.assert_allclose(g, w, rtol=1e-6)
    assert got[1:] == want[1:]


def _graph_program(lib):
    """A tf.function called from TF1 graph code and run in a Session (TF inlines or calls it; the
    values are what must agree)."""
    v1 = lib.compat.v1
    with lib.Graph().as_default():
        x = v1.placeholder(lib.float32, [None])
        counter = v1.Variable(0.0)

        @lib.function
        def step(x, k):
            counter.assign_add(lib.reduce_sum(x))
            total = lib.constant(0.0)
            for i in lib.range(3):
                total += lib.cast(i, lib.float32) * k
            return x * total + counter.read_value()

        y = step(x, 2.0)
        with v1.Session() as sess:
            sess.run(v1.global_variables_initializer())
            out = [sess.run(y, {x: np.float32([1.0, 2.0])}), sess.run(y, {x: np.float32([3.0])})]
            out.append(sess.run(counter))
    return out, step.experimental_get_tracing_count()


def test_graph_mode_calls_match_tensorflow():
    want, want_count = _graph_program(real_tf)
    got, got_count = _graph_program(tf)
    assert got_count == want_count
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-6)
