"""One run plan per signature (xlite/runtime/run_plan.py): Session.run's steady state (a RunPlan's `fast`)
and its careful path give the same values and the same errors, a plan is built once per signature, fetch
structures come back the same either way, and feeds are validated by one function.

A run given `options=tf.RunOptions()` takes the careful path; the same run without options takes the
steady state once one is installed, and falls back to the careful path for feeds that do not fit it.
"""
import ast
import collections
from pathlib import Path

import numpy as np
import pytest

import xlite as tf
from xlite import errors
from xlite.runtime import session as session_module
from xlite.runtime.run_plan import MISFIT, RunPlan

TARGETS = ["interpreter", "cpu", pytest.param("cuda", marks=pytest.mark.slow)]      # cuda (emulated): slow tier
XLITE = Path(__file__).resolve().parents[2] / "xlite"


@pytest.fixture(autouse=True)
def graph():
    with tf.Graph().as_default() as g:
        yield g


@pytest.fixture(params=TARGETS)
def target(request):
    if request.param == "cuda":         # the cuda target on the CPU emulator
        request.getfixturevalue("emulated")
    return request.param


@pytest.fixture
def builds(monkeypatch):
    """The signatures of the RunPlans Sessions build while the test runs, in order."""
    built = []

    class CountingRunPlan(RunPlan):
        def __init__(self, session, request, signature, *rest):
            built.append(signature)
            super().__init__(session, request, signature, *rest)
    monkeypatch.setattr(session_module, "RunPlan", CountingRunPlan)
    return built


def outcome(run):
    """("ok", value) or ("error", exception type, message): what a run gives, to compare two runs by."""
    try:
        return ("ok", run())
    except Exception as e:      # noqa: BLE001 -- any error, compared below
        return ("error", type(e), str(e))


def same(a, b) -> bool:
    """Equal values of the same types, all the way down (arrays: dtype, shape and elements)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, (np.ndarray, np.generic)):
        return a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b)
    return a == b


def both_paths(sess, fetches, feed_dict):
    """The steady state's outcome and the careful path's, for one fetch structure and feed_dict."""
    return (outcome(lambda: sess.run(fetches, feed_dict)),
            outcome(lambda: sess.run(fetches, feed_dict, options=tf.RunOptions())))


def steady_state(sess, fetches, feed_dict):
    """The RunPlan.fast Session.run calls first for this fetch structure and these feed keys."""
    return sess._fast[session_module._steady_key((session_module._hashable_fetches(fetches), tuple(feed_dict)))]


def test_feeds_fast_and_careful_give_the_same_values_and_errors(target):
    x = tf.placeholder(tf.float32, [2, 3], name="x")
    k = tf.placeholder(tf.int32, [], name="k")
    y = x * 2.0 + tf.cast(k, tf.float32)
    good = np.arange(6, dtype=np.float32).reshape(2, 3)
    with tf.Session(target=target) as sess:
        fast, careful = both_paths(sess, [y], {x: good, k: np.array(1, np.int32)})
        assert fast[0] == "ok" and same(fast, careful)
        plan_fast = steady_state(sess, [y], {x: good, k: 1})
        assert same(plan_fast({x: good, k: np.array(1, np.int32)}), fast[1])    # it fits: the plan runs it
        wide = np.arange(12, dtype=np.float32).reshape(2, 6)
        feeds = {
            "float64 array": {x: good.astype(np.float64), k: np.array(1, np.int32)},
            "Python scalar": {x: good, k: 1},
            "NumPy scalar": {x: good, k: np.int32(1)},
            "lists": {x: good.tolist(), k: np.array(1, np.int32)},
            "non-contiguous": {x: wide[:, ::2], k: np.array(1, np.int32)},
            "Fortran order": {x: np.asfortranarray(good), k: np.array(1, np.int32)},
            "another shape": {x: np.ones((3, 2), np.float32), k: np.array(1, np.int32)},
            "a string": {x: good, k: "seven"},
            "a Tensor": {x: good, k: tf.constant(1)},
            "ragged list": {x: [[1.0, 2.0], [3.0]], k: np.array(1, np.int32)},
        }
        for name, feed_dict in feeds.items():
            assert plan_fast(feed_dict) is MISFIT, name
            fast, careful = both_paths(sess, [y], feed_dict)
            assert same(fast, careful), (name, fast, careful)
        assert both_paths(sess, [y], feeds["float64 array"])[0][0] == "ok"
        assert both_paths(sess, [y], feeds["another shape"])[0][1] is session_module.FeedShapeError
        assert both_paths(sess, [y], feeds["a Tensor"])[0][1] is TypeError
        # the steady state is still the first signature's
        assert same(sess.run([y], {x: good, k: np.array(1, np.int32)}), [good * 2 + 1])


def test_uninitialized_variable_raises_the_same_error_on_both_paths(target):
    v = tf.Variable(np.ones(3, np.float32), name="v")
    x = tf.placeholder(tf.float32, [3], name="x")
    out = v * x
    feed = {x: np.arange(3, dtype=np.float32)}
    with tf.Session(target=target) as fresh:
        fast, careful = both_paths(fresh, out, feed)
        assert fast == careful and fast[1] is errors.FailedPreconditionError and "uninitialized" in fast[2]
    with tf.Session(target=target) as sess:
        sess.run(v.initializer)
        assert same(sess.run(out, feed), np.arange(3, dtype=np.float32))
        plan_fast = steady_state(sess, out, feed)
        del sess._variables[v.op]       # as if never initialized: the plan raises what the careful path does
        assert outcome(lambda: plan_fast(feed)) == careful


def test_a_timed_out_run_then_normal_runs(target):
    n = tf.placeholder(tf.int64, [], name="n")
    loop = tf.while_loop(lambda i: i < n, lambda i: i + 1, [tf.constant(0, tf.int64)])
    with tf.Session(target=target) as sess:
        assert sess.run(loop, {n: np.array(5, np.int64)}) == 5
        with pytest.raises(errors.DeadlineExceededError):
            sess.run(loop, {n: np.array(2**62, np.int64)}, options=tf.RunOptions(timeout_in_ms=200))
        fast, careful = both_paths(sess, loop, {n: np.array(7, np.int64)})
        assert same(fast, careful) and fast == ("ok", 7)


def test_training_steps_fast_and_careful_agree(target):
    x = tf.placeholder(tf.float32, [4, 3], name="x")
    w = tf.Variable(np.linspace(-1, 1, 6, dtype=np.float32).reshape(3, 2), name="w")
    loss = tf.reduce_sum(tf.square(tf.matmul(x, w) + tf.random_uniform([2])))
    step = tf.train.GradientDescentOptimizer(0.01).minimize(loss)
    feed = {x: np.linspace(0, 1, 12, dtype=np.float32).reshape(4, 3)}
    runs = []
    for options in (None, tf.RunOptions()):
        with tf.Session(target=target) as sess:
            sess.run(w.initializer)
            losses = [sess.run({"loss": loss, "step": step}, feed, options=options) for _ in range(3)]
            runs.append((losses, sess.run(w)))
    assert same(runs[0], runs[1]) and len({r["loss"] for r in runs[0][0]}) == 3 and runs[0][0][0]["step"] is None


Pair = collections.namedtuple("Pair", "value op")


def test_fetch_structures_come_back_the_same(target):
    a = tf.placeholder(tf.float32, [], name="a")
    b = tf.placeholder(tf.float32, [2], name="b")
    c, d = a + 1.0, b * a
    op = tf.group(c, d)
    structures = [
        c, op, [c], (c,), [c, d], (op, d), [c, c], [d, d, op],
        {"c": c, "rest": [d, {"op": op, "pair": Pair(c, op)}]},
        Pair(d, op), collections.OrderedDict([("d", d), ("c", c)]),
    ]
    feeds = {a: np.array(2.0, np.float32), b: np.array([1.0, 3.0], np.float32)}
    with tf.Session(target=target) as sess:
        for fetches in structures:
            first = sess.run(fetches, feeds)
            fast, careful = both_paths(sess, fetches, feeds)
            assert fast[0] == "ok" and same(fast, careful) and same(first, fast[1]), fetches
        values = sess.run([d, d], feeds)       # a repeated tensor: each leaf its own array
        assert values[0] is not values[1] and not np.shares_memory(values[0], values[1])
        assert type(sess.run(c, feeds)) is np.float32 and sess.run(op, feeds) is None


def test_a_plan_is_built_once_per_signature(target, builds, monkeypatch):
    from xlite.runtime import driver
    compiles = []
    real_compile = driver.compile
    monkeypatch.setattr(driver, "compile", lambda *a, **k: compiles.append(a) or real_compile(*a, **k))
    x = tf.placeholder(tf.float32, [None], name="x")
    s = tf.placeholder(tf.float32, [], name="s")
    y = x * s
    three, four = np.ones(3, np.float32), np.ones(4, np.float32)
    with tf.Session(target=target) as sess:
        for _ in range(4):
            sess.run(y, {x: three, s: np.float32(2)})
        assert len(builds) == 1
        # another size of x's None dim: on cpu and cuda the same symbolic signature (one plan, one
        # executable for every size: runtime/symbolic_runs.py); on the interpreter another signature
        shapes = 1 if target in ("cpu", "cuda") else 2
        for _ in range(3):
            sess.run(y, {x: four, s: np.array(2, np.float32)})
            sess.run(y, {x: three, s: np.array(2, np.float32)})
        assert len(builds) == shapes and len(compiles) == shapes
        sess.run([y], {x: three, s: np.array(2, np.float32)})      # another fetch structure, same tensors:
        sess.run(y, {s: np.array(2, np.float32), x: three})        # another plan, and feed keys in another
        assert len(builds) == shapes + 2 and len(compiles) == shapes   # order: another plan, no compile
        for _ in range(3):
            sess.run([y], {x: three, s: np.array(2, np.float32)}, options=tf.RunOptions())
        assert len(builds) == shapes + 2


def test_one_feed_validation_and_one_fit_check():
    """TF's feed errors are raised by one function, and no function in xlite/runtime or xlite/codegen
    compares a value's dtype and its shape but `xlite.arguments.fits`: every run's cheap check is that
    one (cuda's binding of a DeviceArray, device memory the Session holds, checks its own)."""
    files = [XLITE / "arguments.py", *sorted((XLITE / "runtime").rglob("*.py")),
             *sorted((XLITE / "codegen").rglob("*.py"))]
    compare_both, feed_errors = [], []
    for path in files:
        tree = ast.parse(path.read_text(), str(path))
        for fn in ast.walk(tree):
            if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            name = f"{path.relative_to(XLITE.parent)}:{fn.name}"
            if _compared_attributes(fn) >= {"dtype", "shape"}:
                compare_both.append(name)
            if any(isinstance(node, ast.Constant) and isinstance(node.value, str)
                   and node.value.startswith(("Cannot feed value", "The value of a feed cannot"))
                   for node in ast.walk(fn)):
                feed_errors.append(name)
    assert compare_both == ["xlite/arguments.py:fits", "xlite/codegen/cuda/executable.py:_bind"]
    assert sorted(set(feed_errors)) == ["xlite/runtime/feeds.py:validate_feed"]


def _compared_attributes(fn) -> set:
    """The names among `dtype` and `shape` of attributes compared (==, !=, is, is not) in fn's body."""
    found = set()
    for node in ast.walk(fn):
        if isinstance(node, ast.Compare) and all(isinstance(op, (ast.Eq, ast.NotEq, ast.Is, ast.IsNot))
                                                 for op in node.ops):
            found |= {side.attr for side in (node.left, *node.comparators)
                      if isinstance(side, ast.Attribute) and side.attr in ("dtype", "shape")}
    return found
