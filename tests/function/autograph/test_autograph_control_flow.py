"""AutoGraph's control flow: converted functions build tf.cond / tf.while_loop on graph tensors (run in a
Session and compared with the same Python function run on Python numbers) and stay Python on Python values."""
import numpy as np
import pytest

import xlite as tf
from xlite.function.autograph import convert


def run(fetches, feed_dict=None):
    with tf.Session() as sess:
        return sess.run(fetches, feed_dict)


def op_types(graph):
    return [op.type for op in graph.get_operations()]


def my_function(x):
    if x > 0:
        y = x * x
    else:
        y = -x
    return y


def test_seed_example():
    f = convert(my_function)
    got = run([f(tf.constant(2)), f(tf.constant(-3))])
    assert [int(v) for v in got] == [4, 3]
    assert "If" in op_types(tf.get_default_graph())


def test_seed_example_on_placeholders_against_python(graph):
    f = convert(my_function)
    x = tf.placeholder(tf.float32, [])
    y = f(x)
    with tf.Session() as sess:
        for v in np.random.RandomState(0).uniform(-5, 5, 6).astype(np.float32):
            assert np.isclose(sess.run(y, {x: v}), my_function(float(v)), rtol=1e-6)


def python_conditions(x, flag):
    if True:
        x = x * 2.0
    if flag and not flag is None:
        y = x + 1
    else:
        y = x - 1
    n = 0
    while n < 3:
        n += 1
        y = y + n
    return y


def test_python_values_keep_python_semantics(graph):
    g = convert(python_conditions)
    assert [g(3, True), g(3, False)] == [python_conditions(3, True), python_conditions(3, False)]
    x = tf.constant(1.0)
    counts = []
    for fn in (python_conditions, g):       # the converted function builds exactly the original's ops
        before = len(graph.get_operations())
        out = fn(x, True)
        counts.append(op_types(graph)[before:])
    assert counts[0] == counts[1] and not {"If", "While"} & set(counts[1])
    assert run(out) == python_conditions(1.0, True)


def sum_below(n):
    i = 0
    total = 0
    while i < n:
        total += i
        i += 1
    return total


def test_while_with_tensor_test_sums(graph):
    g = convert(sum_below)
    n = tf.placeholder(tf.int32, [])
    out = g(n)
    assert "While" in op_types(graph)
    with tf.Session() as sess:
        for v in (0, 1, 7, 13):
            assert sess.run(out, {n: v}) == sum_below(v) == sum(range(v))


def squares_over_range(n):
    s = 0
    for i in tf.range(n):
        s += i * i
    return s


def test_for_over_tf_range(graph):
    g = convert(squares_over_range)
    out = g(tf.constant(6))
    assert "While" in op_types(graph)
    assert run(out) == sum(i * i for i in range(6))


def test_for_over_python_range_on_a_tensor_is_a_loop(graph):
    def f(x, n):
        for _ in range(n):
            x = x * 2.0
        return x
    g = convert(f)
    n = tf.placeholder(tf.int32, [])
    out = g(tf.constant(1.5), n)
    assert "While" in op_types(graph)
    with tf.Session() as sess:
        assert [sess.run(out, {n: k}) for k in (0, 3)] == [1.5, 12.0]
    before = len(graph.get_operations())
    g(tf.constant(1.5), 3)                      # a Python count unrolls, as Python would
    assert "While" not in op_types(graph)[before:]


def test_for_over_tensor_rows(graph):
    def f(m):
        acc = tf.zeros([3])
        for row in m:
            acc = acc + row * row
        return acc
    data = np.random.RandomState(1).randn(5, 3).astype(np.float32)
    out = convert(f)(tf.constant(data))
    np.testing.assert_allclose(run(out), (data * data).sum(0), rtol=1e-5)


def first_at_least(values, limit):
    found = -1
    for v in values:
        if v >= limit:
            found = v
            break
    return found


def skip_odd_sum(n):
    total = 0
    i = 0
    while i < n:
        i += 1
        if i % 2 > 0:        # (`==` on TF1 graph tensors is identity, as in TF1)
            continue
        total += i
    return total


def early_return(x):
    if x > 10:
        return x * 2
    if x < 0:
        return -x
    return x + 100


def test_break(graph):
    g = convert(first_at_least)
    data = np.array([3, 8, 1, 12, 20], np.int32)
    x = tf.constant(data)
    outs = [g(x, tf.constant(k)) for k in (0, 5, 12, 21)]
    assert [int(v) for v in run(outs)] == [first_at_least(list(data), k) for k in (0, 5, 12, 21)]


def test_continue(graph):
    g = convert(skip_odd_sum)
    n = tf.placeholder(tf.int32, [])
    out = g(n)
    with tf.Session() as sess:
        for v in (0, 1, 6, 9):
            assert sess.run(out, {n: v}) == skip_odd_sum(v)


def test_early_return(graph):
    g = convert(early_return)
    x = tf.placeholder(tf.int32, [])
    out = g(x)
    with tf.Session() as sess:
        for v in (-4, 0, 7, 11, 30):
            assert sess.run(out, {x: v}) == early_return(v)
    assert [g(v) for v in (-4, 0, 30)] == [early_return(v) for v in (-4, 0, 30)]


def return_in_loop(n):
    i = 0
    while i < 100:
        if i * i >= n:
            return i
        i += 1
    return -1


def test_return_inside_a_tensor_loop(graph):
    g = convert(return_in_loop)
    n = tf.placeholder(tf.int32, [])
    out = g(n)
    with tf.Session() as sess:
        for v in (0, 5, 49, 50, 20000):
            assert sess.run(out, {n: v}) == return_in_loop(v)


def logic(x, y):
    if x > 0 and y > 0:
        r = 1
    elif x > 0 or not y > 0:
        r = 2
    else:
        r = 3
    return r


def test_and_or_not(graph):
    g = convert(logic)
    x, y = tf.placeholder(tf.float32, []), tf.placeholder(tf.float32, [])
    out = g(x, y)
    types = op_types(graph)
    assert {"LogicalAnd", "LogicalOr", "LogicalNot"} <= set(types)
    with tf.Session() as sess:
        for a in (-1.0, 2.0):
            for b in (-3.0, 4.0):
                assert sess.run(out, {x: a, y: b}) == logic(a, b)


def test_and_or_are_lazy_on_python_values():
    calls = []

    def right():
        calls.append(1)
        return True

    def f(a):
        return (a and right()) or (not a and right())
    g = convert(f)
    assert g(False) is True and len(calls) == 1       # `a and right()` skipped right()
    calls.clear()
    assert g(0) == f(0) and g(5) == f(5)


def test_elif_chain_and_nested_loops(graph):
    def f(n):
        total = 0
        for i in tf.range(n):
            j = 0
            while j < i:
                if j % 3 < 1:
                    total += 1
                elif j % 3 < 2:
                    total += 10
                else:
                    total += 100
                j += 1
        return total
    g = convert(f)
    out = g(tf.constant(6))
    py = 0
    for i in range(6):
        for j in range(i):
            py += (1, 10, 100)[j % 3]
    assert run(out) == py
    outer = [op.type for op in graph.get_operations() if getattr(op, "_subgraph", None) is None]
    assert [outer.count(t) for t in ("While", "If")] == [1, 0]   # the inner ones live in the body


def test_conditional_expression(graph):
    def f(x):
        return x * 2 if x > 0 else x - 1
    g = convert(f)
    x = tf.placeholder(tf.int32, [])
    out = g(x)
    with tf.Session() as sess:
        assert [sess.run(out, {x: v}) for v in (-2, 3)] == [f(-2), f(3)]


def break_in_python_loop(x):
    for step in [1.0, 2.0, 4.0]:
        if x > 10.0:
            break
        x = x * step + 3.0
    return x


def loops_with_else(n, items):
    i = 0
    while i < n:
        i += 1
    else:
        i = i * 10
    for v in items:
        if v < 0:
            break
        i += v
    else:
        i = -i
    return i


def test_break_under_a_tensor_if_in_a_python_loop(graph):
    g = convert(break_in_python_loop)
    x = tf.placeholder(tf.float32, [])
    out = g(x)
    with tf.Session() as sess:
        for v in (0.0, 4.0, 11.0):
            assert np.isclose(sess.run(out, {x: v}), break_in_python_loop(v))


def test_loop_else_clauses(graph):
    g = convert(loops_with_else)
    for n, items in ((3, [1, 2]), (2, [1, -1, 5]), (0, [])):
        assert g(n, items) == loops_with_else(n, items)
    n = tf.placeholder(tf.int32, [])
    out = g(n, [1, 2])
    with tf.Session() as sess:
        assert sess.run(out, {n: 4}) == loops_with_else(4, [1, 2])


def test_python_loop_whose_test_turns_into_a_tensor(graph):
    def f(x):
        n = 0
        while n < 100:          # Python first; once `n` is a tensor, a tf.while_loop for the rest
            n = n + x
        return n
    g = convert(f)
    x = tf.placeholder(tf.int32, [])
    out = g(x)
    assert "While" in op_types(graph)
    with tf.Session() as sess:
        assert [sess.run(out, {x: v}) for v in (7, 100, 33)] == [f(7), f(100), f(33)]


def test_nested_function_definitions_are_converted(graph):
    def outer(x, n):
        def clip(v):
            if v > n:
                return n
            return v
        total = 0
        for i in tf.range(5):
            total += clip(x * i)
        return total
    g = convert(outer)
    x = tf.placeholder(tf.int32, [])
    out = g(x, tf.constant(6))
    with tf.Session() as sess:
        assert [sess.run(out, {x: v}) for v in (1, 2, 5)] == [sum(min(v * i, 6) for i in range(5)) for v in (1, 2, 5)]


def test_an_if_with_only_effects_runs_them_in_a_cond(graph):
    def bump(v, x):
        if x > 0:
            v.assign_add(x)
    v = tf.Variable(1)
    x = tf.placeholder(tf.int32, [])
    g = convert(bump)
    g(v, x)
    (cond_op,) = [op for op in graph.get_operations() if op.type == "If"]
    with tf.Session() as sess:
        sess.run(v.initializer)
        sess.run(cond_op, {x: 5})
        sess.run(cond_op, {x: -3})
        assert sess.run(v) == 6


def returns_on_some_paths(x):
    if x > 0:
        return x


def test_a_return_on_some_tensor_paths_only_is_an_error(graph):
    g = convert(returns_on_some_paths)
    assert g(1) == 1 and g(-1) is None                  # Python: None when it falls off the end
    with pytest.raises(ValueError, match="reach its end without `return`"):
        g(tf.constant(1))


def test_len_and_range_of_a_tensor_of_unknown_length(graph):
    def f(values):
        total = 0.0
        for i in range(len(values)):
            total += values[i] * tf.cast(i, tf.float32)
        return total
    g = convert(f)
    x = tf.placeholder(tf.float32, [None])
    out = g(x)
    data = np.random.RandomState(2).randn(7).astype(np.float32)
    with tf.Session() as sess:
        np.testing.assert_allclose(sess.run(out, {x: data}), (data * np.arange(7)).sum(), rtol=1e-5)
        assert sess.run(out, {x: data[:1]}) == 0.0


def test_enumerate_int_and_float_of_tensors(graph):
    def f(values):
        total = 0.0
        for i, v in enumerate(values, 1):
            total += v * float(i)
        return total, int(total)
    g = convert(f)
    data = np.random.RandomState(3).uniform(0, 3, 5).astype(np.float32)
    total, whole = g(tf.constant(data))
    assert "While" in op_types(graph)
    expected = float((data * np.arange(1, 6)).sum())
    got_total, got_whole = run([total, whole])
    assert np.isclose(got_total, expected, rtol=1e-5) and got_whole == int(got_total)
    assert g([1.0, 2.0]) == f([1.0, 2.0]) == (5.0, 5)


def return_from_tensor_for(x):
    for _ in tf.range(5):
        if x > 100:
            return x
        x = x * 2
        if x > 50:
            break
    return x - 1


def return_from_tensor_for_reference(x):
    for _ in range(5):
        if x > 100:
            return x
        x = x * 2
        if x > 50:
            break
    return x - 1


def test_return_and_break_inside_a_loop_over_tf_range(graph):
    g = convert(return_from_tensor_for)
    x = tf.placeholder(tf.int32, [])
    out = g(x)
    with tf.Session() as sess:
        for v in (1, 7, 30, 101):
            assert sess.run(out, {x: v}) == return_from_tensor_for_reference(v)


def grad_through_converted(x):
    if tf.reduce_sum(x) > 0:
        y = x * x
    else:
        y = tf.sin(x)
    for _ in tf.range(3):
        y = y * 1.5
    return tf.reduce_sum(y)


def test_gradients_through_a_converted_cond_and_tf_range_loop(graph):
    x = tf.placeholder(tf.float32, [4])
    out = convert(grad_through_converted)(x)
    (dx,) = tf.gradients(out, [x])
    positive = np.array([0.5, -1.0, 2.0, 0.25], np.float32)
    negative = -positive
    with tf.Session() as sess:
        v, d = sess.run([out, dx], {x: positive})
        np.testing.assert_allclose(v, (positive ** 2).sum() * 1.5 ** 3, rtol=1e-5)
        np.testing.assert_allclose(d, 2 * positive * 1.5 ** 3, rtol=1e-5)
        v, d = sess.run([out, dx], {x: negative})
        np.testing.assert_allclose(v, np.sin(negative).sum() * 1.5 ** 3, rtol=1e-5)
        np.testing.assert_allclose(d, np.cos(negative) * 1.5 ** 3, rtol=1e-5)
