"""Gradients of tf.while_loop whatever decides the trip count: a fed bound, the data, a constant.

References: closed forms and central finite differences computed here; TensorFlow's own gradients
where a Python with TF is at hand (tests/io/tf_subprocess.py). The strided history (checkpoints
every few iterations, replayed in the reverse loop) is forced by shrinking its row budget.
"""
import json
import os
import sys

import numpy as np
import pytest

import xlite as tf
from xlite.frontend import control_flow_grad
from xlite.frontend.lower import lower_run
from xlite.frontend.while_trip_count import static_trip_count
from xlite.ir.verifier import verify_module

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "io"))
from tf_subprocess import TF_PYTHON, run_tf  # noqa: E402
from test_control_flow import numeric_grad  # noqa: E402  (central differences, same folder)

TARGETS = ["interpreter", "cpu", pytest.param("cuda", marks=pytest.mark.slow)]


@pytest.fixture
def session(request):
    target = request.param
    if target == "cuda":
        request.getfixturevalue("emulated")
    with tf.Session(target) as s:
        yield s


def strided_rows(monkeypatch, rows: int) -> None:
    """Histories of unknown trip counts get `rows` rows: small loops then replay from checkpoints."""
    monkeypatch.setattr(control_flow_grad, "MAX_STRIDED_ROWS", rows)
    monkeypatch.setattr(control_flow_grad, "MIN_STRIDED_ROWS", rows)


def whiles(module) -> int:
    return sum(i.opcode == "while" for c in module.computations for i in c.instructions)


def power_loop():
    """p = x ** n by a loop whose trip count is the fed n (no maximum_iterations)."""
    x = tf.placeholder(tf.float64, [])
    n = tf.placeholder(tf.int32, [])
    _, p = tf.while_loop(lambda i, p: i < n, lambda i, p: (i + 1, p * x), [0, tf.constant(1.0, tf.float64)])
    return x, n, p, tf.gradients(p, x)[0]


@pytest.mark.parametrize("session", TARGETS, indirect=True)
@pytest.mark.parametrize("rows", [None, 2])
def test_fed_trip_count(session, rows, monkeypatch):
    """Trip counts 0, 1 and more, with a history of every iteration and with one of 2 strided rows."""
    if rows is not None:
        strided_rows(monkeypatch, rows)
    x, n, p, g = power_loop()
    for k in (0, 1, 2, 7):
        value, grad = session.run([p, g], {x: 1.1, n: k})
        np.testing.assert_allclose(value, 1.1 ** k)
        np.testing.assert_allclose(grad, k * 1.1 ** (k - 1) if k else 0.0, rtol=1e-12)


@pytest.mark.parametrize("target", ["interpreter", "cpu"])
def test_feeding_the_constants_a_trip_count_came_from(target):
    """TF lets a run feed a constant: then the trip count inferred from it no longer holds."""
    start, limit = tf.constant(0), tf.constant(4)
    x = tf.placeholder(tf.float64, [])
    _, y = tf.while_loop(lambda i, y: i < 3, lambda i, y: (i + 1, y * x), [start, x], maximum_iterations=limit)
    (g,) = tf.gradients(y, x)
    with tf.Session(target) as s:
        for feed, k in (({}, 3), ({start: -2}, 4), ({start: -2, limit: 9}, 5), ({start: 2}, 1)):
            np.testing.assert_allclose(s.run([y, g], {x: 1.5, **feed}), [1.5 ** (k + 1), (k + 1) * 1.5 ** k])


def test_strided_history_counts_with_the_forward_loop(monkeypatch):
    """Lowered after the forward loop, the gradient takes its count from it: no third forward pass; the
    reverse loop replays from its checkpoints (a fourth loop, inside the reverse body)."""
    strided_rows(monkeypatch, 2)
    x, n, p, g = power_loop()
    lowered = lower_run(tf.get_default_graph(), [p, g], [], {x: (), n: ()})
    verify_module(lowered.module)
    assert sum(i.opcode == "while" for i in lowered.module.entry.instructions) == 3
    assert whiles(lowered.module) == 4


def test_gradient_that_reads_no_loop_variable_keeps_no_history():
    """y = 2 y + x: the gradient body never reads y, so a fed trip count needs no rows: the reverse loop
    takes its count from the forward loop; y's gradient is 2^n, x's 2^n - 1."""
    x = tf.placeholder(tf.float64, [3])
    n = tf.placeholder(tf.int32, [])
    _, y = tf.while_loop(lambda i, y: i < n, lambda i, y: (i + 1, 2.0 * y + x), [0, x])
    (g,) = tf.gradients(tf.reduce_sum(y), x)
    lowered = lower_run(tf.get_default_graph(), [y, g], [], {x: (3,), n: ()})
    verify_module(lowered.module)
    assert sum(i.opcode == "while" for i in lowered.module.entry.instructions) == 2
    with tf.Session() as s:
        for k in (0, 1, 6):
            np.testing.assert_array_equal(s.run(g, {x: np.ones(3), n: k}), [2.0 ** (k + 1) - 1] * 3)


def test_data_dependent_trip_count():
    """while y < 10: y = y * y * x; gradients w.r.t. the initial value and the captured x."""
    y0 = tf.placeholder(tf.float64, [])
    x = tf.placeholder(tf.float64, [])
    y = tf.while_loop(lambda y: y < 10.0, lambda y: y * y * x, [y0])
    gy, gx = tf.gradients(y, [y0, x])
    with tf.Session() as s:
        for start in (12.0, 5.0, 1.5):       # 0, 1 and 2 iterations at x = 1.3
            feed = {y0: start, x: 1.3}
            ay, ax = s.run([gy, gx], feed)
            np.testing.assert_allclose(ay, numeric_grad(lambda v: s.run(y, {**feed, y0: v}), start), rtol=1e-6)
            np.testing.assert_allclose(ax, numeric_grad(lambda v: s.run(y, {**feed, x: v}), 1.3), rtol=1e-6,
                                       atol=1e-9)


def test_strided_history_keeps_only_what_the_replay_reads(monkeypatch):
    """a' = sin(a) + d, d' = d + x, c' = c + a: the gradient reads only a, a's replay also reads d, and the
    big c is kept in no checkpoint (it replays from zeros); gradients by finite differences."""
    strided_rows(monkeypatch, 2)
    x = tf.placeholder(tf.float64, [])
    n = tf.placeholder(tf.int32, [])
    _, a, d, c = tf.while_loop(lambda i, a, d, c: i < n, lambda i, a, d, c: (i + 1, tf.sin(a) + d, d + x, c + a),
                               [0, x, x, tf.zeros([16, 16], tf.float64)])
    loss = a + tf.reduce_sum(c)
    (g,) = tf.gradients(loss, x)
    lowered = lower_run(tf.get_default_graph(), [g], [], {x: (), n: ()})
    kept = [s.dims for m in lowered.module.computations for i in m.instructions if i.opcode == "while"
            for s in i.shape.elements]
    assert (2,) in kept and (2, 16, 16) not in kept
    with tf.Session() as s:
        for k in (0, 1, 5):
            feed = {x: 0.7, n: k}
            np.testing.assert_allclose(s.run(g, feed), numeric_grad(lambda v: s.run(loss, {**feed, x: v}), 0.7),
                                       rtol=1e-6)


def test_constant_bound_sizes_the_history_statically():
    """i < 3 from 0 by 1: three iterations, known without maximum_iterations, so one forward pass keeps
    every row: the forward loop, the one keeping history and the reverse loop, no counting pass."""
    x = tf.placeholder(tf.float64, [2])
    _, y = tf.while_loop(lambda i, y: i < 3, lambda i, y: (i + 1, tf.sin(y) * x), [0, x])
    (g,) = tf.gradients(tf.reduce_sum(y), x)
    assert static_trip_count(y.op) == 3
    lowered = lower_run(tf.get_default_graph(), [g], [], {x: (2,)})
    verify_module(lowered.module)
    assert sum(i.opcode == "while" for i in lowered.module.entry.instructions) == 3
    xs = np.array([0.4, -1.2])
    with tf.Session() as s:
        np.testing.assert_allclose(s.run(g, {x: xs}),
                                   numeric_grad(lambda v: s.run(tf.reduce_sum(y), {x: v}), xs), rtol=1e-6)


@pytest.mark.parametrize("target", ["interpreter", pytest.param("cpu", marks=pytest.mark.slow),
                                    pytest.param("cuda", marks=pytest.mark.slow)])
def test_nested_loops_bool_variables_and_replayed_random_numbers(target, monkeypatch, request):
    """Fed trip counts inside and out, a bool loop variable, captures: finite differences; with random
    factors, the replayed iterations must draw the forward's numbers (z = x^n r_0 ... r_n-1)."""
    if target == "cuda":
        request.getfixturevalue("emulated")
    strided_rows(monkeypatch, 2)
    x = tf.placeholder(tf.float64, [3])
    n = tf.placeholder(tf.int32, [])
    m = tf.placeholder(tf.int32, [])

    def outer(i, y, flag):
        _, z = tf.while_loop(lambda j, z: j < m, lambda j, z: (j + 1, tf.sin(z) * x), [0, y])
        return i + 1, tf.where(flag, z + x, z - x), tf.logical_not(flag)

    _, y, _ = tf.while_loop(lambda i, y, f: i < n, outer, [0, x, tf.constant(True)])
    loss = tf.reduce_sum(y * y)
    (g,) = tf.gradients(loss, x)
    _, z = tf.while_loop(lambda i, z: i < n,
                         lambda i, z: (i + 1, z * x * tf.random_uniform([3], 0.5, 1.0, dtype=tf.float64)),
                         [0, tf.ones_like(x)])
    (gz,) = tf.gradients(tf.reduce_sum(z), x)
    xs = np.array([0.3, -0.5, 0.9])
    with tf.Session(target) as s:
        for outer_count, inner_count in ((0, 2), (1, 1), (4, 3)):
            feed = {n: outer_count, m: inner_count}
            np.testing.assert_allclose(s.run(g, {**feed, x: xs}),
                                       numeric_grad(lambda v: s.run(loss, {**feed, x: v}), xs), rtol=1e-6)
            vz, vg = s.run([z, gz], {**feed, x: xs})
            np.testing.assert_allclose(vg, outer_count * vz / xs)


def test_loop_options_are_accepted():
    x = tf.constant(2.0)
    _, p = tf.while_loop(lambda i, p: i < 3, lambda i, p: (i + 1, p * x), [0, 1.0], parallel_iterations=1,
                         swap_memory=True)
    assert tf.Session().run(tf.gradients(p, x)[0]) == 12.0
    _, q = tf.while_loop(lambda i, q: i < 3, lambda i, q: (i + 1, q * x), [0, 1.0], back_prop=False)
    assert tf.gradients(q, x) == [None]
    with pytest.raises(TypeError, match="parallel_iterations must be a positive integer"):
        tf.while_loop(lambda i: i < 3, lambda i: i + 1, [0], parallel_iterations=0)


def test_history_plan():
    """Every row when a known bound fits the budget (one row when nothing is kept); else as many strided
    rows as fit, but about sqrt(bound) of them (MIN_STRIDED_ROWS unbounded) where memory allows, >= 2."""
    cfg = control_flow_grad
    budget = cfg.HISTORY_BYTES
    assert cfg.history_plan(3, 8) == (3, False)
    assert cfg.history_plan(0, 8) == (1, False)
    assert cfg.history_plan(None, 0) == (1, False)
    assert cfg.history_plan(None, 8) == (cfg.MAX_STRIDED_ROWS, True)
    assert cfg.history_plan(None, budget // 20) == (20, True)
    assert cfg.history_plan(None, budget // 5) == (cfg.MIN_STRIDED_ROWS, True)
    assert cfg.history_plan(1000, budget // 10) == (32, True)
    assert cfg.history_plan(None, cfg.HISTORY_MAX_BYTES) == (2, True)


TF_PROGRAM = """
h0 = tf1.placeholder(tf.float64, [2, 3]); w = tf1.placeholder(tf.float64, [3, 3])
n = tf1.placeholder(tf.int32, [])
_, h = tf1.while_loop(lambda i, h: i < n, lambda i, h: (i + 1, tf.tanh(tf.matmul(h, w))), [0, h0])
y = tf1.while_loop(lambda y: tf.reduce_sum(y) < 4.0, lambda y: y * 1.5 + tf.reduce_sum(w * w) + 0.1,
                   [h0 * h0])
grads = tf1.gradients(tf.reduce_sum(h * h) + tf.reduce_sum(y), [h0, w])
"""


@pytest.fixture(scope="module")
def tf_gradients(tmp_path_factory):
    """Feeds with trip counts 0, 1 and 5 (the data-dependent loop runs 0 to several times), and TF's grads."""
    rng = np.random.default_rng(3)
    feeds = [dict(h0=(rng.normal(size=(2, 3)) * 0.3).tolist(), w=(rng.normal(size=(3, 3)) * 0.1).tolist(), n=k)
             for k in (0, 1, 5)]
    feeds[0]["h0"][0][0] = 2.5        # sum(h0 * h0) >= 4: the data-dependent loop runs no iteration
    directory = tmp_path_factory.mktemp("while_grad_tf")
    (directory / "feeds.json").write_text(json.dumps(feeds))
    run_tf(TF_PROGRAM + """
import json
feeds = json.load(open(os.path.join(d, "feeds.json")))
with tf1.Session() as s:
    out = [[g.tolist() for g in s.run(grads, {h0: f["h0"], w: f["w"], n: f["n"]})] for f in feeds]
json.dump(out, open(os.path.join(d, "tf.json"), "w"))
""", directory)
    return feeds, json.loads((directory / "tf.json").read_text())


@pytest.mark.slow
@pytest.mark.skipif(not os.path.exists(TF_PYTHON), reason="no Python with TensorFlow at hand")
@pytest.mark.parametrize("rows", [None, 3])
def test_gradients_equal_tensorflows(tf_gradients, rows, monkeypatch):
    """A fed trip count and a data-dependent one, against TF 1's gradients of the same program."""
    if rows is not None:
        strided_rows(monkeypatch, rows)
    scope = {"tf": tf, "tf1": tf}
    exec(TF_PROGRAM, scope)
    with tf.Session() as s:
        for f, want in zip(*tf_gradients):
            got = s.run(scope["grads"], {scope["h0"]: f["h0"], scope["w"]: f["w"], scope["n"]: f["n"]})
            for a, b in zip(got, want):
                np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
