"""tf.cond and tf.while_loop: values, structures, Variables, only-taken-branch semantics, gradients, errors.

References are computed here with NumPy, closed forms or central finite differences;
every lowered module also passes the IR verifier.
"""
import collections

import numpy as np
import pytest

import xlite as tf
from xlite.frontend.lower import lower_run
from xlite.ir.verifier import verify_module

RNG = np.random.default_rng(7)


def run(fetches, feed=None, init=False):
    with tf.Session() as s:
        if init:
            s.run(tf.global_variables_initializer())
        return s.run(fetches, feed)


def verified(fetches, feed_shapes=None):
    """Lowers the run and checks the IR (sub-computations included) against the verifier."""
    fetches = fetches if isinstance(fetches, list) else [fetches]
    lowered = lower_run(tf.get_default_graph(), fetches, [], feed_shapes or {})
    verify_module(lowered.module)
    return lowered.module


def numeric_grad(f, x, eps=1e-6):
    x = np.array(x, dtype=np.float64)
    g = np.zeros_like(x)
    for i in np.ndindex(*x.shape):
        up, down = x.copy(), x.copy()
        up[i] += eps
        down[i] -= eps
        g[i] = (f(up) - f(down)) / (2 * eps)
    return g


# tf.cond -------------------------------------------------------------------------------------
def test_users_cond_example():
    x = tf.constant(3); y = tf.constant(4)
    r = tf.cond(x > y, lambda: tf.add(x, y), lambda: tf.subtract(x, y))
    assert r.dtype == tf.int32 and r.shape.as_list() == []
    assert run(r) == -1
    module = verified(r)
    assert any(i.opcode == "conditional" for i in module.entry.instructions)


def test_placeholder_predicate_fed_both_ways():
    p = tf.placeholder(tf.bool, [])
    x = tf.placeholder(tf.float32, [None])
    r = tf.cond(p, lambda: x * 2.0, lambda: x - 1.0)
    assert r.shape.as_list() == [None]
    data = RNG.normal(size=5).astype(np.float32)
    with tf.Session() as s:
        np.testing.assert_allclose(s.run(r, {p: True, x: data}), data * 2)
        np.testing.assert_allclose(s.run(r, {p: False, x: data}), data - 1)
    verified(r, {p: (), x: (5,)})


def test_python_bool_predicate_and_python_outputs():
    r = tf.cond(True, lambda: 1.5, lambda: 2.5)
    assert r.dtype == tf.float32 and run(r) == 1.5


def test_nested_structures_and_none_leaves():
    Pair = collections.namedtuple("Pair", "a b")
    x = tf.constant(2.0); y = tf.constant(5.0)
    p = tf.placeholder(tf.bool, [])
    r = tf.cond(p, lambda: {"s": Pair(x + y, x * y), "n": None, "l": [x]},
                lambda: {"s": Pair(x - y, x / y), "n": None, "l": [y]})
    assert isinstance(r["s"], Pair) and r["n"] is None and isinstance(r["l"], list)
    r = {"s": r["s"], "l": r["l"]}
    out = run(r, {p: True})
    assert out["s"] == Pair(7.0, 10.0) and out["l"] == [2.0]
    out = run(r, {p: False})
    assert out["s"] == Pair(-3.0, 0.4000000059604645) and out["l"] == [5.0]


def test_strict_mode_keeps_singletons():
    x = tf.constant(1)
    assert isinstance(tf.cond(True, lambda: [x], lambda: [x]), tf.Tensor)
    assert isinstance(tf.cond(True, lambda: [x], lambda: [x], strict=True), list)


def test_nested_conds():
    a = tf.placeholder(tf.int32, [])
    b = tf.placeholder(tf.int32, [])
    r = tf.cond(a > 0,
                lambda: tf.cond(b > 0, lambda: a + b, lambda: a - b),
                lambda: tf.cond(b > 0, lambda: b - a, lambda: -a - b))
    for va in (-3, 4):
        for vb in (-2, 5):
            want = (va + vb if vb > 0 else va - vb) if va > 0 else (vb - va if vb > 0 else -va - vb)
            assert run(r, {a: va, b: vb}) == want
    verified(r, {a: (), b: ()})


def test_only_the_taken_branch_runs():
    v = tf.Variable(0.0)
    p = tf.placeholder(tf.bool, [])
    r = tf.cond(p, lambda: tf.assign_add(v, 1.0), lambda: tf.assign_sub(v, 10.0))
    with tf.Session() as s:
        s.run(v.initializer)
        assert s.run(r, {p: True}) == 1.0
        assert s.run(r, {p: True}) == 2.0
        assert s.run(r, {p: False}) == -8.0
        assert s.run(v) == -8.0


def test_untaken_branch_division_by_zero_does_not_matter():
    n = tf.placeholder(tf.float32, [])
    d = tf.placeholder(tf.float32, [])
    safe = tf.cond(tf.not_equal(d, 0.0), lambda: n / d, lambda: tf.constant(0.0))
    assert run(safe, {n: 3.0, d: 0.0}) == 0.0
    assert run(safe, {n: 3.0, d: 2.0}) == 1.5


def test_assignment_not_returned_still_runs_in_taken_branch():
    v = tf.Variable(1.0)
    p = tf.placeholder(tf.bool, [])

    def bump():
        tf.assign(v, 42.0)
        return tf.constant(1)

    r = tf.cond(p, bump, lambda: tf.constant(0))
    with tf.Session() as s:
        s.run(v.initializer)
        assert s.run(r, {p: False}) == 0 and s.run(v) == 1.0
        assert s.run(r, {p: True}) == 1 and s.run(v) == 42.0


def test_captured_variable_and_outer_tensors():
    v = tf.Variable([1.0, 2.0])
    x = tf.placeholder(tf.float32, [2])
    scale = tf.constant(3.0)
    r = tf.cond(tf.reduce_sum(x) > 0, lambda: v * scale + x, lambda: v.read_value() - x)
    with tf.Session() as s:
        s.run(v.initializer)
        np.testing.assert_allclose(s.run(r, {x: [1.0, 1.0]}), [4.0, 7.0])
        np.testing.assert_allclose(s.run(r, {x: [-1.0, -1.0]}), [2.0, 3.0])


def test_branch_returning_an_operation_gives_a_bool():
    v = tf.Variable(0)
    p = tf.placeholder(tf.bool, [])
    r = tf.cond(p, lambda: tf.group(tf.assign(v, 1)), lambda: tf.assign(v, 2).op)
    assert r.dtype == tf.bool
    with tf.Session() as s:
        s.run(v.initializer)
        assert s.run(r, {p: True}) and s.run(v) == 1
        assert not s.run(r, {p: False}) and s.run(v) == 2


def test_static_shapes_merge():
    x = tf.placeholder(tf.float32, [None, 3])
    y = tf.placeholder(tf.float32, [2, 3])
    p = tf.placeholder(tf.bool)
    assert tf.cond(p, lambda: x, lambda: y).shape.as_list() == [None, 3]
    assert tf.cond(p, lambda: y, lambda: y * 2.0).shape.as_list() == [2, 3]


def test_cond_branch_shapes_must_agree_at_run_time():
    x = tf.placeholder(tf.float32, [None])
    y = tf.placeholder(tf.float32, [None])
    r = tf.cond(tf.constant(True), lambda: x, lambda: y)
    assert run(r, {x: [1.0, 2.0], y: [3.0, 4.0]}).tolist() == [1.0, 2.0]
    with pytest.raises(tf.errors.InvalidArgumentError, match="static shapes"):
        run(r, {x: [1.0, 2.0], y: [3.0]})


def test_cond_errors():
    x = tf.constant(1); y = tf.constant(2.0)
    with pytest.raises(ValueError, match="same structure"):
        tf.cond(x > 0, lambda: (x, x), lambda: x)
    with pytest.raises(ValueError, match="same type"):
        tf.cond(x > 0, lambda: x, lambda: y)
    with pytest.raises(TypeError, match="bool"):
        tf.cond(x, lambda: x, lambda: x)
    with pytest.raises(ValueError, match="rank 0"):
        tf.cond(tf.placeholder(tf.bool, [3]), lambda: x, lambda: x)
    with pytest.raises(TypeError, match="false_fn"):
        tf.cond(x > 0, lambda: x)
    with pytest.raises(TypeError, match="callable"):
        tf.cond(x > 0, x, x)


def test_branch_tensor_used_outside_is_rejected():
    x = tf.constant(2.0)
    leaked = []

    def branch():
        leaked.append(x * 3.0)
        return leaked[-1]

    tf.cond(x > 0, branch, lambda: x)
    outside = leaked[0] + 1.0
    with pytest.raises(ValueError, match="inside"):
        run(outside)
    with pytest.raises(ValueError, match="inside"):
        tf.cond(x > 0, lambda: leaked[0] + 1.0, lambda: x)


def test_variables_created_inside_are_lifted_out():
    made = []

    def body(i, y):
        if not made:   # the body is traced once; its Variable exists once, outside the loop
            made.append(tf.Variable(tf.random_normal([2], seed=1) * 0.0 + 2.0, name="w"))
        return i + 1, y * made[0]

    _, y = tf.while_loop(lambda i, y: i < 3, body, [0, tf.constant([1.0, 3.0])])
    assert made[0] in tf.global_variables()
    np.testing.assert_allclose(run(y, init=True), [8.0, 24.0])
    with pytest.raises(ValueError, match="initial value"):
        tf.while_loop(lambda i: i < 3, lambda i: i + tf.Variable(i).value(), [0])


# tf.while_loop ---------------------------------------------------------------------------------
def test_users_while_example():
    i = tf.constant(0); s = tf.constant(0)
    _, total = tf.while_loop(lambda i, s: i < 10, lambda i, s: (i + 1, s + i + 1), [i, s])
    assert run(total) == 55
    module = verified(total)
    assert any(i.opcode == "while" for i in module.entry.instructions)


def test_single_loop_variable_forms():
    i = tf.constant(0)
    assert isinstance(tf.while_loop(lambda i: i < 5, lambda i: i + 1, [i]), tf.Tensor)
    assert run(tf.while_loop(lambda i: i < 5, lambda i: i + 1, i)) == 5
    assert run(tf.while_loop(lambda i: i < 5, lambda i: (i + 1,), (i,))) == 5
    same = tf.while_loop(lambda i: i < 5, lambda i: [i + 1], [i], return_same_structure=True)
    assert isinstance(same, list) and run(same) == [5]


def test_loop_vars_of_different_dtypes_and_nested_structures():
    State = collections.namedtuple("State", "count total")
    x = tf.placeholder(tf.float64, [3])
    start = (State(tf.constant(0), tf.zeros_like(x)), {"flag": tf.constant(False), "x": x})

    def body(state, d):
        return (State(state.count + 1, state.total + d["x"]),
                {"flag": tf.logical_not(d["flag"]), "x": d["x"] * 2.0})

    (state, d) = tf.while_loop(lambda state, d: state.count < 4, body, start)
    assert isinstance(state, State) and state.total.dtype == tf.float64
    data = np.array([1.0, -2.0, 0.5])
    out_state, out_d = run((state, d), {x: data})
    assert out_state.count == 4 and out_d["flag"] == False  # noqa: E712
    np.testing.assert_allclose(out_state.total, data * 15)
    np.testing.assert_allclose(out_d["x"], data * 16)
    verified([state.total], {x: (3,)})


def test_maximum_iterations():
    i = tf.constant(0)
    assert run(tf.while_loop(lambda i: i < 100, lambda i: i + 1, [i], maximum_iterations=7)) == 7
    assert run(tf.while_loop(lambda i: i < 3, lambda i: i + 1, [i], maximum_iterations=7)) == 3
    limit = tf.placeholder(tf.int64, [])
    r = tf.while_loop(lambda i: True, lambda i: i + 2, [i], maximum_iterations=limit)
    assert run(r, {limit: 0}) == 0 and run(r, {limit: 5}) == 10


@pytest.mark.parametrize("target", ["interpreter", "cpu", pytest.param("cuda", marks=pytest.mark.slow)])
def test_maximum_iterations_beyond_int32(target, request):
    """A limit that does not fit int32 is int64 (as tf.convert_to_tensor makes it), and so is the counter:
    2**32 + 5 must not wrap to 5."""
    if target == "cuda":
        request.getfixturevalue("emulated")
    i = tf.constant(0)
    r = tf.while_loop(lambda i: i < 10, lambda i: i + 1, [i], maximum_iterations=2**32 + 5)
    limit = tf.placeholder(tf.int64, [])
    fed = tf.while_loop(lambda i: i < 10, lambda i: i + 1, [i], maximum_iterations=limit)
    small = tf.while_loop(lambda i: i < 10, lambda i: i + 1, [i], maximum_iterations=tf.constant(4, tf.int64))
    with tf.Session(target) as s:
        assert s.run([r, small]) == [10, 4]
        assert s.run(fed, {limit: 2**33 + 3}) == 10 and s.run(fed, {limit: 7}) == 7


def test_unknown_dims_and_captured_tensors():
    x = tf.placeholder(tf.float32, [None])
    w = tf.placeholder(tf.float32, [None])
    _, y = tf.while_loop(lambda k, y: k < 3, lambda k, y: (k + 1, y * w + 1.0), [0, x])
    assert y.shape.as_list() == [None]
    xs, ws = RNG.normal(size=4).astype(np.float32), RNG.normal(size=4).astype(np.float32)
    want = xs
    for _ in range(3):
        want = want * ws + 1
    np.testing.assert_allclose(run(y, {x: xs, w: ws}), want, rtol=1e-6)


def test_variables_read_and_assigned_in_body():
    v = tf.Variable(0)
    step = tf.Variable(3)
    i = tf.while_loop(lambda i: i < 4, lambda i: tf.identity(i + 1 + 0 * tf.assign_add(v, step)), [0])
    with tf.Session() as s:
        s.run(tf.global_variables_initializer())
        assert s.run(i) == 4
        assert s.run(v) == 12
        assert s.run(i) == 4 and s.run(v) == 24


@pytest.mark.slow
def test_conditional_assignment_inside_loop_body():
    evens = tf.Variable(0)

    def body(i):
        bump = tf.cond(tf.equal(i % 2, 0), lambda: tf.assign_add(evens, 1), lambda: tf.identity(evens))
        return i + 1 + 0 * bump

    n = tf.while_loop(lambda i: i < 7, body, [0])
    with tf.Session() as s:
        s.run(evens.initializer)
        assert s.run(n) == 7 and s.run(evens) == 4


def test_variable_read_in_condition_sees_body_assignments():
    v = tf.Variable(0.0)
    n = tf.while_loop(lambda n: v < 2.5, lambda n: n + tf.cast(tf.assign_add(v, 1.0) > -1.0, tf.int32), [0])
    with tf.Session() as s:
        s.run(v.initializer)
        assert s.run(n) == 3 and s.run(v) == 3.0


def test_cond_inside_while_and_while_inside_cond():
    # collatz steps of n
    n = tf.placeholder(tf.int32, [])
    steps, _ = tf.while_loop(lambda k, m: m > 1,
                             lambda k, m: (k + 1, tf.cond(tf.equal(m % 2, 0), lambda: m // 2,
                                                          lambda: 3 * m + 1)),
                             [0, n])
    assert run(steps, {n: 27}) == 111 and run(steps, {n: 1}) == 0
    p = tf.placeholder(tf.bool, [])
    r = tf.cond(p, lambda: tf.while_loop(lambda i: i < n, lambda i: i + 3, [0]), lambda: -n)
    assert run(r, {p: True, n: 10}) == 12 and run(r, {p: False, n: 10}) == -10
    verified([steps, r], {n: (), p: ()})


def test_nested_while_loops():
    n = tf.placeholder(tf.int32, [])

    def outer_body(i, total):
        inner = tf.while_loop(lambda j, t: j < i, lambda j, t: (j + 1, t + j), [0, total])
        return i + 1, inner[1]

    _, total = tf.while_loop(lambda i, t: i < n, outer_body, [0, 0])
    assert run(total, {n: 6}) == sum(j for i in range(6) for j in range(i))


def test_random_ops_draw_new_numbers_each_iteration():
    def body(i, a, b):
        r = tf.random_uniform([])
        return i + 1, tf.where(tf.equal(i, 0), r, a), tf.where(tf.equal(i, 1), r, b)

    _, a, b = tf.while_loop(lambda i, a, b: i < 2, body, [0, 0.0, 0.0])
    va, vb = run([a, b])
    assert va != vb and 0 <= va < 1 and 0 <= vb < 1


def test_while_errors():
    i = tf.constant(0)
    with pytest.raises(ValueError, match="enters the loop with shape"):
        tf.while_loop(lambda i: i < 10, lambda i: i + tf.constant([1, 2]), [i])
    with pytest.raises(TypeError, match="type"):
        tf.while_loop(lambda i: i < 10, lambda i: tf.cast(i, tf.float32), [i])
    with pytest.raises(TypeError, match="bool"):
        tf.while_loop(lambda i: i + 1, lambda i: i + 1, [i])
    with pytest.raises(ValueError, match="structure"):
        tf.while_loop(lambda i, j: i < 10, lambda i, j: (i + 1,), [i, i])
    with pytest.raises(ValueError, match="No loop variables"):
        tf.while_loop(lambda: True, lambda: (), [])


def test_shape_invariants_may_restate_shapes():
    x = tf.placeholder(tf.float32, [None, 2])
    y = tf.while_loop(lambda y: tf.reduce_sum(y) < 100.0, lambda y: y * 2.0, [x],
                      shape_invariants=[tf.TensorShape([None, 2])])
    assert y.shape.as_list() == [None, 2]
    assert run(tf.reduce_sum(y), {x: np.ones((3, 2))}) == 192.0


def test_relaxed_shape_invariants():
    """As in TF the loop sees the invariant's shape; a variable that then changes shape runs on the host."""
    x = tf.placeholder(tf.float32, [3, 2])
    y = tf.while_loop(lambda y: tf.reduce_sum(y) < 100.0, lambda y: y * 2.0, [x],
                      shape_invariants=[tf.TensorShape([None, 2])])
    r = tf.while_loop(lambda i: i < 10, lambda i: i + 1, [tf.constant(0)], shape_invariants=[tf.TensorShape(None)])
    assert y.shape.as_list() == [None, 2] and r.shape.ndims is None
    (g,) = tf.gradients(tf.reduce_sum(y), x)
    total, grad, count = run([tf.reduce_sum(y), g, r], {x: np.ones((3, 2))})
    assert total == 192.0 and count == 10 and (grad == 32.0).all()
    z = tf.while_loop(lambda z: tf.size(z) < 10, lambda z: tf.concat([z, z], 0), [tf.constant([1.0])],
                      shape_invariants=[tf.TensorShape([None])])
    assert z.shape.as_list() == [None]
    assert run(z).tolist() == [1.0] * 16       # (tests/runtime/test_host_loops.py)


def test_loop_variable_entering_with_unknown_dims_may_change_shape():
    """As in TF, a static shape [None] is the variable's invariant: a run whose body changes its shape
    runs on the host (tests/runtime/test_host_loops.py), one that keeps it stays a compiled loop."""
    x = tf.placeholder(tf.float32, [None])
    y = tf.placeholder(tf.float32, [None])
    r = tf.while_loop(lambda a: tf.reduce_sum(a) < 10.0, lambda a: a + y, [x])
    assert r.shape.as_list() == [None]
    with tf.Session() as s:
        assert s.run(r, {x: [1.0], y: [4.0]}).tolist() == [13.0]
        assert s.run(r, {x: [1.0], y: [4.0, 5.0]}).tolist() == [5.0, 6.0]
        assert s.run(r, {x: [2.0, 3.0], y: [1.0]}).tolist() == [5.0, 6.0]


# gradients ----------------------------------------------------------------------------------
def test_cond_gradient_matches_finite_differences():
    x = tf.placeholder(tf.float64, [3])
    w = tf.placeholder(tf.float64, [3])
    p = tf.placeholder(tf.bool, [])
    y = tf.cond(p, lambda: tf.reduce_sum(tf.sin(x) * w), lambda: tf.reduce_sum(x * x) + 2.0)
    gx, gw = tf.gradients(y, [x, w])
    xs, ws = RNG.normal(size=3), RNG.normal(size=3)
    with tf.Session() as s:
        for taken in (True, False):
            feed = {x: xs, w: ws, p: taken}
            ax, aw = s.run([gx, gw], feed)
            np.testing.assert_allclose(ax, numeric_grad(lambda v: s.run(y, {**feed, x: v}), xs), rtol=1e-6)
            np.testing.assert_allclose(aw, numeric_grad(lambda v: s.run(y, {**feed, w: v}), ws), atol=1e-9)
    verified([gx, gw], {x: (3,), w: (3,), p: ()})


def test_users_style_cond_gradient_closed_form():
    x = tf.placeholder(tf.float32, [])
    y = tf.placeholder(tf.float32, [])
    c = tf.cond(x < y, lambda: x * x * y, lambda: y * y)
    g = tf.gradients(c, [x, y])
    assert run(g, {x: 3.0, y: 4.0}) == [24.0, 9.0]
    assert run(g, {x: 5.0, y: 4.0}) == [0.0, 8.0]


def test_nested_cond_gradient_and_outputs_that_are_captures():
    x = tf.placeholder(tf.float64, [])
    a = tf.placeholder(tf.bool, [])
    b = tf.placeholder(tf.bool, [])
    y = tf.cond(a, lambda: tf.cond(b, lambda: tf.exp(x) * x, lambda: x), lambda: 3.0 * x * x)
    (g,) = tf.gradients(y, [x])
    with tf.Session() as s:
        for va in (True, False):
            for vb in (True, False):
                feed = {x: 0.7, a: va, b: vb}
                want = numeric_grad(lambda v: s.run(y, {**feed, x: v}), np.array(0.7))
                np.testing.assert_allclose(s.run(g, feed), want, rtol=1e-6)


def test_cond_gradient_reaches_variables_and_trains():
    v = tf.Variable(3.0)
    p = tf.placeholder(tf.bool, [])
    loss = tf.cond(p, lambda: v * v, lambda: 2.0 * v)
    train = tf.train.GradientDescentOptimizer(0.1).minimize(loss)
    with tf.Session() as s:
        s.run(v.initializer)
        s.run(train, {p: True})
        np.testing.assert_allclose(s.run(v), 3.0 - 0.1 * 6.0)
        s.run(train, {p: False})
        np.testing.assert_allclose(s.run(v), 2.4 - 0.2)


def test_while_gradient_power_by_repeated_multiplication():
    x = tf.placeholder(tf.float64, [])
    n = tf.placeholder(tf.int32, [])
    _, p = tf.while_loop(lambda i, p: i < n, lambda i, p: (i + 1, p * x), [0, tf.constant(1.0, tf.float64)],
                         maximum_iterations=10)
    (g,) = tf.gradients(p, x)
    with tf.Session() as s:
        for k in (0, 1, 4, 7, 12):
            value, grad = s.run([p, g], {x: 1.3, n: k})
            k = min(k, 10)
            np.testing.assert_allclose(value, 1.3 ** k)
            np.testing.assert_allclose(grad, k * 1.3 ** (k - 1) if k else 0.0)
    verified([g], {x: (), n: ()})


@pytest.mark.slow
def test_while_gradient_of_a_recurrence_matches_finite_differences():
    h0 = tf.placeholder(tf.float64, [2, 3])
    w = tf.placeholder(tf.float64, [3, 3])
    scale = tf.placeholder(tf.float64, [])

    def body(i, h, acc):
        h = tf.tanh(tf.matmul(h, w)) * scale
        return i + 1, h, acc + tf.reduce_sum(h * h)

    _, h, acc = tf.while_loop(lambda i, h, acc: i < 3, body, [0, h0, tf.constant(0.0, tf.float64)],
                              maximum_iterations=5)
    loss = tf.reduce_sum(h) + acc
    gh, gw, gs = tf.gradients(loss, [h0, w, scale])
    feed = {h0: RNG.normal(size=(2, 3)), w: RNG.normal(size=(3, 3)) * 0.5, scale: 0.9}
    with tf.Session() as s:
        ah, aw, as_ = s.run([gh, gw, gs], feed)
        for t, analytic in ((h0, ah), (w, aw), (scale, as_)):
            numeric = numeric_grad(lambda v: s.run(loss, {**feed, t: v}), feed[t])
            np.testing.assert_allclose(analytic, numeric, rtol=1e-5, atol=1e-8)


def test_gradient_of_cond_inside_while():
    x = tf.placeholder(tf.float64, [])

    def body(i, y):
        return i + 1, tf.cond(tf.equal(i % 2, 0), lambda: y * x, lambda: y + x)

    _, y = tf.while_loop(lambda i, y: i < 4, body, [0, tf.constant(1.0, tf.float64)], maximum_iterations=4)
    (g,) = tf.gradients(y, x)
    with tf.Session() as s:
        want = numeric_grad(lambda v: s.run(y, {x: v}), np.array(1.7))
        np.testing.assert_allclose(s.run(g, {x: 1.7}), want, rtol=1e-6)


def test_gradient_of_while_inside_cond():
    x = tf.placeholder(tf.float64, [])
    p = tf.placeholder(tf.bool, [])
    y = tf.cond(p, lambda: tf.while_loop(lambda i, y: i < 3, lambda i, y: (i + 1, tf.sin(y) + x),
                                         [0, x], maximum_iterations=3)[1],
                lambda: x * x)
    (g,) = tf.gradients(y, x)
    with tf.Session() as s:
        for taken in (True, False):
            want = numeric_grad(lambda v: s.run(y, {x: v, p: taken}), np.array(0.4))
            np.testing.assert_allclose(s.run(g, {x: 0.4, p: taken}), want, rtol=1e-6)


def test_no_gradient_when_back_prop_is_false():
    x = tf.constant(2.0)
    _, p = tf.while_loop(lambda i, p: i < 3, lambda i, p: (i + 1, p * x), [0, 1.0], back_prop=False)
    assert tf.gradients(p, x) == [None]


def test_second_derivative_through_cond():
    x = tf.placeholder(tf.float64, [])
    p = tf.placeholder(tf.bool, [])
    y = tf.cond(p, lambda: x * x * x, lambda: 5.0 * x * x)
    (g,) = tf.gradients(y, x)
    (h,) = tf.gradients(g, x)
    assert run([g, h], {x: 2.0, p: True}) == [12.0, 12.0]
    assert run([g, h], {x: 2.0, p: False}) == [20.0, 10.0]


@pytest.mark.slow
def test_gradient_of_nested_while_loops():
    x = tf.placeholder(tf.float64, [])

    def outer_body(i, y):
        _, z = tf.while_loop(lambda j, z: j < 2, lambda j, z: (j + 1, tf.sin(z) * x), [0, y],
                             maximum_iterations=2)
        return i + 1, z + x

    _, y = tf.while_loop(lambda i, y: i < 3, outer_body, [0, x], maximum_iterations=3)
    (g,) = tf.gradients(y, x)
    with tf.Session() as s:
        want = numeric_grad(lambda v: s.run(y, {x: v}), np.array(0.8))
        np.testing.assert_allclose(s.run(g, {x: 0.8}), want, rtol=1e-6)
    verified([g], {x: ()})


@pytest.mark.slow
def test_recomputed_random_numbers_match_the_forward_pass():
    x = tf.placeholder(tf.float64, [5])
    p = tf.placeholder(tf.bool, [])
    y = tf.cond(p, lambda: x * tf.random_uniform([5], dtype=tf.float64), lambda: x)
    (g,) = tf.gradients(tf.reduce_sum(y), x)
    _, z = tf.while_loop(lambda i, z: i < 2,
                         lambda i, z: (i + 1, z * x * tf.random_uniform([5], 0.5, 1.0, dtype=tf.float64)),
                         [0, tf.ones_like(x)], maximum_iterations=2)
    (gz,) = tf.gradients(tf.reduce_sum(z), x)
    xs = RNG.uniform(1.0, 2.0, size=5)
    with tf.Session() as s:
        vy, vg, vz, vgz = s.run([y, g, z, gz], {x: xs, p: True})
    np.testing.assert_allclose(vy, xs * vg)          # y = x * r, dy/dx = r: the same r both times
    np.testing.assert_allclose(vgz, 2 * vz / xs)     # z = x^2 r0 r1


def test_gradients_through_assignments_are_not_implemented():
    v = tf.Variable(0.0)
    x = tf.constant(2.0)
    p = tf.placeholder(tf.bool, [])
    y = tf.cond(p, lambda: tf.assign(v, 3.0) * x, lambda: x)
    with pytest.raises(tf.errors.UnimplementedError, match="assign"):   # the gradient would recompute the Assign
        tf.gradients(y, x)

    def body(i, z):
        return i + 1, tf.cond(z > 0.0, lambda: z * tf.assign_add(v, 1.0), lambda: z)

    _, z = tf.while_loop(lambda i, z: i < 2, body, [0, x], maximum_iterations=2)
    with pytest.raises(tf.errors.UnimplementedError, match="assigns"):
        tf.gradients(z, x)
