"""Session.run: fetch structures, feeds and their validation, Variables per Session, the signature cache.

Fetch structures, error classes and messages were checked against TensorFlow 2.21's `tf.compat.v1`.
"""
import collections
import inspect

import numpy as np
import pytest

import xlite as tf
from xlite.runtime import session as session_module
from xlite.runtime.session import FeedShapeError

Pair = collections.namedtuple("Pair", "x y")


@pytest.fixture(autouse=True)
def graph():
    with tf.Graph().as_default() as g:
        yield g


@pytest.fixture
def sess(graph):
    with tf.Session(graph=graph) as s:
        yield s


# fetches ------------------------------------------------------------------------------
def test_fetch_kinds(sess):
    a = tf.constant(1.0)
    b = tf.constant([1, 2], name="b")
    r = sess.run(a)
    assert type(r) is np.float32 and r == 1.0                    # 0-d results are NumPy scalars
    np.testing.assert_array_equal(sess.run(b), [1, 2])
    assert isinstance(sess.run(b), np.ndarray) and sess.run(b).dtype == np.int32
    assert sess.run(tf.no_op()) is None                           # an op fetches None
    assert sess.run("b:0").tolist() == [1, 2] and sess.run("b") is None
    assert type(sess.run(tf.constant(True))) is np.bool_
    assert type(sess.run(tf.constant(2.0, tf.float64))) is np.float64


def test_nested_fetch_structures_come_back_the_same(sess):
    a, b = tf.constant(1.0), tf.constant([1, 2])
    out = sess.run([a, (b, {"k": a}), Pair(a, b), [tf.no_op()]])
    assert isinstance(out, list) and isinstance(out[1], tuple) and isinstance(out[2], Pair)
    assert out[0] == 1.0 and out[1][1] == {"k": 1.0} and out[2].x == 1.0 and out[3] == [None]
    np.testing.assert_array_equal(out[2].y, [1, 2])
    ordered = sess.run(collections.OrderedDict([("z", a), ("a", b)]))
    assert isinstance(ordered, collections.OrderedDict) and list(ordered) == ["z", "a"]
    dd = sess.run(collections.defaultdict(list, {"a": a}))
    assert isinstance(dd, collections.defaultdict) and dd["a"] == 1.0 and dd["missing"] == []
    assert sess.run([]) == [] and sess.run({}) == {} and sess.run(()) == ()


def test_same_tensor_fetched_twice_gives_independent_arrays(sess):
    b = tf.constant([1, 2]) + 0
    first, second = sess.run([b, b])
    first[0] = 100
    assert second.tolist() == [1, 2]


def test_fetched_arrays_never_alias_session_state(sess):
    v = tf.Variable([1, 2], name="v")
    sess.run(v.initializer)
    for fetch in (v, v.value(), v.read_value(), v.assign_add([0, 0])):
        out = sess.run(fetch)
        out += 10
        assert sess.run(v).tolist() == [1, 2]
    c = tf.constant([1, 2])
    for fetch in (c, tf.identity(c)):
        out = sess.run(fetch)
        out[0] = 9
        assert sess.run(c).tolist() == [1, 2]
    p = tf.placeholder(tf.int32, [2])
    fed = np.array([5, 6], np.int32)
    out = sess.run(p, {p: fed})
    assert out is not fed
    fed[0] = 0                               # the caller may reuse their buffer after run
    out[1] = 0
    assert fed.tolist() == [0, 6]


@pytest.mark.parametrize("fetch,error,message", [
    (None, TypeError, "Fetch argument None has invalid type"),
    (3, TypeError, "Fetch argument 3 has invalid type <class 'int'>, must be a string or Tensor. "
                   "(Can not convert a int into a Tensor or Operation.)"),
    ("nope:0", ValueError, "Fetch argument 'nope:0' cannot be interpreted as a Tensor. (The name "
                           "'nope:0' refers to a Tensor which does not exist."),
    ("nope", ValueError, "The name 'nope' refers to an Operation not in the graph."),
])
def test_bad_fetches(sess, fetch, error, message):
    with pytest.raises(error) as info:
        sess.run(fetch)
    assert message in str(info.value)


def test_fetch_from_another_graph(sess):
    with tf.Graph().as_default():
        c = tf.constant(7)
    with pytest.raises(ValueError, match="is not an element of this graph"):
        sess.run(c)
    assert tf.Session(graph=c.graph).run(c) == 7


# feeds --------------------------------------------------------------------------------
def test_feed_keys_and_values(sess):
    p = tf.placeholder(tf.float32, [None, 2], name="p")
    y = p * 2.0
    np.testing.assert_array_equal(sess.run(y, {p: [[1, 2]]}), [[2.0, 4.0]])
    np.testing.assert_array_equal(sess.run(y, {"p:0": np.ones((3, 2))}), np.full((3, 2), 2.0))
    assert sess.run(y, {p: np.zeros((0, 2))}).shape == (0, 2)
    q = tf.placeholder(tf.int32, name="q")
    assert sess.run(q + 1, {q: 4}) == 5
    assert sess.run(q, {q: 1.7}) == 1                            # cast like TF's np.asarray
    assert sess.run(q, {q: np.int64(2)}) == 2
    np.testing.assert_array_equal(sess.run(q, {q: [[1, 2]]}), [[1, 2]])


def test_feeding_a_non_placeholder_overrides_its_value(sess):
    a = tf.constant(1.0)
    b = a + 1.0
    assert sess.run(b) == 2.0
    assert sess.run(b, {a: 5.0}) == 6.0
    assert sess.run(a, {"Const:0": 6}) == 6.0
    v = tf.Variable(3, name="v")
    assert sess.run(v * 2, {v: 10}) == 20                       # a fed Variable needs no value
    d = tf.placeholder_with_default(4.0, [])
    assert sess.run(b, {b: 0.5}) == 0.5 and sess.run(d * 2, {d: 1.0}) == 2.0


def test_feed_shape_is_validated_before_running(sess):
    p = tf.placeholder(tf.float32, [2, None], name="pp")
    v = tf.Variable(0, name="v")
    sess.run(v.initializer)
    step = tf.assign_add(v, 1)
    with tf.control_dependencies([step]):
        out = tf.identity(p)
    for bad in (np.zeros((3, 1)), np.zeros((2,)), 1.0):
        with pytest.raises(FeedShapeError) as info:
            sess.run(out, {p: bad})
        assert isinstance(info.value, tf.errors.InvalidArgumentError)
        assert isinstance(info.value, ValueError)                  # what TF1 raised
        assert f"Cannot feed value of shape {np.shape(bad)} for Tensor pp:0, which has shape (2, None)" \
            in str(info.value)
    assert sess.run(v) == 0                                        # nothing ran
    sess.run(out, {p: np.zeros((2, 5))})
    assert sess.run(v) == 1


def test_feed_dtype_and_key_errors(sess):
    p = tf.placeholder(tf.float32, [None], name="p")
    a = tf.constant(1.0)
    with pytest.raises(ValueError, match="could not convert string to float"):
        sess.run(p, {p: ["a", "b"]})
    with pytest.raises(ValueError):
        sess.run(p, {p: [[1], [2, 3]]})
    with pytest.raises(TypeError, match="Cannot interpret feed_dict key as Tensor: The name 'nope:0' "
                                        "refers to a Tensor which does not exist"):
        sess.run(a, {"nope:0": 1})
    with pytest.raises(TypeError, match="Cannot interpret feed_dict key as Tensor: Can not convert a int"):
        sess.run(a, {3: 1})
    with pytest.raises(TypeError, match="The value of a feed cannot be a tf.Tensor object"):
        sess.run(a, {a: a})
    with tf.Graph().as_default():
        c = tf.constant(1)
    with pytest.raises(TypeError, match="is not an element of this graph"):
        sess.run(a, {c: 1})


def test_unfed_placeholder_names_it_and_the_users_line(sess):
    p = tf.placeholder(tf.float32, [None, 2], name="p"); line = inspect.currentframe().f_lineno  # noqa: E702
    with pytest.raises(tf.errors.InvalidArgumentError) as info:
        sess.run(p * 2.0)
    message = str(info.value)
    assert "You must feed a value for placeholder tensor 'p' with dtype float and shape [?,2]" in message
    assert f"test_session.py:{line}" in message
    assert info.value.op is p.op
    q = tf.placeholder(tf.int32, name="q")
    with pytest.raises(tf.errors.InvalidArgumentError) as info:
        sess.run(q)
    assert info.value.message == "You must feed a value for placeholder tensor 'q' with dtype int32"


def test_a_fed_placeholder_may_be_a_control_dependency(sess):
    """As in TF, a fed tensor's op does not run, so waiting on it asks for nothing more."""
    x = tf.placeholder(tf.float32, [2], name="x")
    with tf.control_dependencies([x]):
        y = tf.identity(x) * 2.0
    np.testing.assert_array_equal(sess.run(y, {x: np.ones(2, np.float32)}), [2.0, 2.0])
    with pytest.raises(tf.errors.InvalidArgumentError, match="You must feed a value for placeholder tensor 'x'"):
        sess.run(y)


def test_uninitialized_variable_is_a_failed_precondition(sess):
    v = tf.Variable(3, name="v"); line = inspect.currentframe().f_lineno  # noqa: E702
    for fetch in (v, v + 1, v.assign_add(1)):
        with pytest.raises(tf.errors.FailedPreconditionError) as info:
            sess.run(fetch)
        assert "Attempting to use uninitialized value v" in str(info.value)
        assert f"test_session.py:{line}" in str(info.value)


# Sessions -------------------------------------------------------------------------------
def test_two_sessions_are_independent(graph):
    cnt = tf.Variable(0, name="counter")
    step = tf.assign(cnt, tf.add(cnt, tf.constant(1)))
    s1, s2 = tf.Session(), tf.Session()
    s1.run(cnt.initializer)
    s2.run(cnt.initializer)
    s1.run(step)
    s1.run(step)
    s2.run(step)
    assert (s1.run(cnt), s2.run(cnt)) == (2, 1)


def test_close_context_manager_and_defaults(graph):
    a = tf.constant(1.0)
    assert tf.get_default_session() is None
    with tf.Session() as s:
        assert tf.get_default_session() is s and s.graph is graph
        assert a.eval() == 1.0
        inner = tf.Session()
        with inner.as_default():
            assert tf.get_default_session() is inner
        assert tf.get_default_session() is s
    assert tf.get_default_session() is None
    with pytest.raises(RuntimeError, match="Attempted to use a closed Session."):
        s.run(a)
    s3 = tf.Session()
    s3.close()
    with pytest.raises(RuntimeError, match="closed Session"):
        s3.run(a)


def test_session_enters_its_graph():
    other = tf.Graph()
    with tf.Session(graph=other) as s:
        assert tf.get_default_graph() is other
        c = tf.constant(3)
        assert s.run(c) == 3


def test_interactive_session_installs_itself(graph):
    a = tf.constant(2.0)
    i = tf.InteractiveSession()
    try:
        assert tf.get_default_session() is i
        assert a.eval() == 2.0
        v = tf.Variable(1.0)
        v.initializer.run()
        assert v.eval() == 1.0
    finally:
        i.close()
    assert tf.get_default_session() is None


def test_make_callable(sess):
    p = tf.placeholder(tf.float32, [None])
    f = sess.make_callable(p * 2.0, [p])
    np.testing.assert_array_equal(f([1.0, 2.0]), [2.0, 4.0])
    with pytest.raises(TypeError):
        f()


# the run-signature cache ----------------------------------------------------------------
@pytest.fixture
def lowerings(monkeypatch):
    calls = []
    real = session_module.lower_run

    def counting(*args, **kwargs):
        calls.append(args)
        return real(*args, **kwargs)
    monkeypatch.setattr(session_module, "lower_run", counting)
    return calls


def test_same_signature_is_lowered_once(sess, lowerings):
    p = tf.placeholder(tf.float32, [None])
    y = p + 1.0
    sess.run(y, {p: [1.0, 2.0]})
    sess.run(y, {p: [3.0, 4.0]})
    sess.run(y, {"Placeholder:0": np.array([5.0, 6.0])})
    assert len(lowerings) == 1
    np.testing.assert_array_equal(sess.run(y, {p: [1.0, 2.0, 3.0]}), [2.0, 3.0, 4.0])   # another size of
    assert len(lowerings) == 1                                    # the None dim: the same symbolic signature
    sess.run(y, {p: np.zeros(0, np.float32)})                     # size 0: specialized
    assert len(lowerings) == 2
    sess.run([y, y], {p: [1.0]})                                  # new fetch list, the same tensors
    assert len(lowerings) == 2
    sess.run([y, y + 1.0], {p: [1.0]})                            # new fetches
    assert len(lowerings) == 3
    tf.constant(1.0) * 3.0                                        # the graph grows
    sess.run(y, {p: [1.0, 2.0]})
    assert len(lowerings) == 3


def test_feed_order_does_not_change_the_signature(sess, lowerings):
    p = tf.placeholder(tf.float32, [None])
    q = tf.placeholder(tf.float32, [None])
    y = p - q
    assert sess.run(y, {p: [3.0], q: [1.0]}).tolist() == [2.0]
    assert sess.run(y, {q: [1.0], p: [5.0]}).tolist() == [4.0]
    assert len(lowerings) == 1


def test_sessions_cache_separately(graph, lowerings):
    y = tf.constant(1.0) + 1.0
    s1, s2 = tf.Session(), tf.Session()
    s1.run(y)
    s1.run(y)
    s2.run(y)
    assert len(lowerings) == 2
