"""The default-session stack the frontend keeps (xlite/frontend/default_session.py): Tensor.eval,
Operation.run and Variable.load find the Session there, and InteractiveSessions closed out of order
leave the right one on top."""
import numpy as np
import pytest

import xlite as tf
from xlite.frontend import default_session


class _Recorder:
    """Stands in for a Session: the frontend needs only `graph`, `run` and `_load_variable` of it."""

    def __init__(self, graph):
        self.graph = graph
        self.calls = []

    def run(self, fetch, feed_dict=None):
        self.calls.append(("run", fetch, feed_dict))
        return 42

    def _load_variable(self, op, value):
        self.calls.append(("load", op, value))


@pytest.fixture
def graph():
    with tf.Graph().as_default() as g:
        yield g


@pytest.fixture
def pushed(graph):
    fake = _Recorder(graph)
    default_session.push(fake)
    try:
        yield fake
    finally:
        default_session.remove(fake)


def test_eval_run_and_load_use_the_pushed_session(pushed):
    t = tf.constant(1.0)
    v = tf.Variable(np.zeros(3, np.float32))
    assert tf.get_default_session() is pushed
    assert t.eval(feed_dict={}) == 42
    v.initializer.run()
    v.load([1, 2, 3])
    kinds = [c[0] for c in pushed.calls]
    assert kinds == ["run", "run", "load"]
    assert pushed.calls[0][1] is t and pushed.calls[1][1] is v.initializer
    assert pushed.calls[2][1] is v.op and pushed.calls[2][2].dtype == np.float32


def test_no_default_session_is_an_error(graph):
    assert tf.get_default_session() is None
    with pytest.raises(ValueError, match="No default session is registered"):
        tf.constant(1.0).eval()
    with pytest.raises(ValueError, match="default session should be established"):
        tf.Variable(1.0).load(2.0)


def test_a_session_of_another_graph_is_refused(pushed):
    with tf.Graph().as_default():
        t = tf.constant(1.0)
    with pytest.raises(ValueError, match="graph is different"):
        t.eval()
    assert pushed.calls == []


def test_remove_takes_the_innermost_entry_of_that_session_only(graph):
    a, b = _Recorder(graph), _Recorder(graph)
    for s in (a, b, a):
        default_session.push(s)
    default_session.remove(b)                 # closed out of order: a stays on top
    assert tf.get_default_session() is a
    default_session.remove(a)
    assert tf.get_default_session() is a      # its outer entry is still there
    default_session.remove(a)
    default_session.remove(a)                 # not on the stack any more: nothing happens
    assert tf.get_default_session() is None


def test_interactive_sessions_closed_out_of_order(graph):
    first, second = tf.InteractiveSession(), tf.InteractiveSession()
    first.close()
    assert tf.get_default_session() is second
    second.close()
    assert tf.get_default_session() is None
