"""host_call on the cuda backend (emulated): a host step between launches, as collectives are; values and
errors as on the interpreter."""
import numpy as np
import pytest

import xlite as tf
from xlite.codegen.cuda import emit_cuda
from xlite.codegen.cuda.host_calls import HostCall
from xlite.runtime.driver import optimize


def _graph():
    x = tf.placeholder(tf.float32, [None, 3])
    y = tf.transpose(tf.exp(x))                     # a kernel before the call, another layout after
    z = tf.py_func(lambda a: a[::-1] * 2, [y], tf.float32)
    w = tf.check_numerics(tf.reduce_sum(z, axis=1) + 1.0, "w")
    return x, w


@pytest.mark.slow      # ~5 s: the emulator compiles the kernels
def test_emulated_cuda_matches_the_interpreter(emulated):
    with tf.Graph().as_default():
        x, w = _graph()
        feeds = [{x: np.random.default_rng(n).standard_normal((n, 3)).astype(np.float32)} for n in (5, 0)]
        with tf.Session(target="interpreter") as sess:
            want = [sess.run(w, feed) for feed in feeds]
        with tf.Session(target="cuda") as sess:
            for feed, expected in zip(feeds, want):
                np.testing.assert_allclose(sess.run(w, feed), expected, rtol=1e-5)
            with pytest.raises(tf.errors.InvalidArgumentError, match="w : Tensor had Inf values"):
                sess.run(w, {x: np.full((5, 3), 200, np.float32)})


def test_the_call_is_a_host_step_of_the_program():
    from xlite.ir.builder import Builder
    from xlite.ir.module import Computation, Module
    from xlite.ir.shape import Shape
    from xlite.ir import dtypes
    from xlite.semantics import host_calls
    key = host_calls.register(lambda a: [a], "PyFunc")
    m, c = Module("host"), Computation("main")
    b = Builder(c)
    p = b.parameter(Shape(dtypes.float32, (4,)), name="p")
    c.root = b.tuple([b.emit("host_call", (p,), Shape(dtypes.float32, (4,)), key=key, output=0, args=1)])
    m.entry = c
    m.add_computation(c)
    steps = emit_cuda(optimize(m)).steps
    assert [type(s) for s in steps] == [HostCall]
