"""Initializer runs compile at -O0 (-O1 when they make very many elements: they run once per Session),
everything else at -O3."""
import numpy as np

import xlite as tf
from xlite.codegen.cpu import O0_INITIALIZER_ELEMENTS, initializes_only, speed_level
from xlite.frontend.lower import lower_run
from xlite.passes.pipelines import cpu_pipeline


def optimized(fetches, targets, feeds=None):
    m = lower_run(tf.get_default_graph(), fetches, targets, feeds or {}).module
    cpu_pipeline().run(m)
    return m


def test_only_runs_that_set_variables_from_nothing_else_count_as_initializers():
    with tf.Graph().as_default():
        tf.set_random_seed(1)
        a = tf.Variable(tf.random_normal([8, 4]))
        b = tf.Variable(tf.zeros([4]))
        x = tf.placeholder(tf.float32, [2, 8])
        loss = tf.reduce_sum(tf.matmul(x, a) + b)
        step = tf.train.GradientDescentOptimizer(0.1).minimize(loss)
        assert initializes_only(optimized([], [tf.global_variables_initializer()]))
        assert not initializes_only(optimized([loss], [], {x: (2, 8)}))              # fetches a tensor
        assert not initializes_only(optimized([], [step], {x: (2, 8)}))              # updates read a and b
        assert not initializes_only(optimized([], [tf.assign(b, a[0] * 2.0).op]))    # reads Variable a
        assert speed_level(optimized([], [tf.global_variables_initializer()])) == 0
        assert speed_level(optimized([loss], [], {x: (2, 8)})) == 3


def test_an_initializer_of_very_many_elements_compiles_at_o1():
    with tf.Graph().as_default():
        big = tf.Variable(tf.random_normal([O0_INITIALIZER_ELEMENTS // 1024 + 1, 1024]))
        small = tf.Variable(tf.zeros([3]))
        assert speed_level(optimized([], [big.initializer, small.initializer])) == 1
        assert speed_level(optimized([], [small.initializer])) == 0


def test_an_initializer_compiled_at_o0_gives_the_interpreters_values():
    with tf.Graph().as_default():
        tf.set_random_seed(2)
        w = tf.Variable(tf.truncated_normal([33, 17], stddev=0.1))
        c = tf.Variable(tf.fill([5], 0.25))
        values = {}
        for target in ("cpu", "interpreter"):
            with tf.Session(target=target) as s:
                s.run(tf.global_variables_initializer())
                values[target] = s.run([w, c])
        for got, want in zip(values["cpu"], values["interpreter"]):   # exp/log polynomials: within 2 ulp
            np.testing.assert_allclose(got, want, rtol=5e-7, atol=1e-8)
