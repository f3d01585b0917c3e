"""Placeholders, Variables and assignments, checked against what TF1's ref Variables do.

Names follow TensorFlow 2.21's `tf.compat.v1` with resource variables disabled (TF1's VariableV2).
"""
import numpy as np
import pytest

import xlite as tf


@pytest.fixture
def sess(graph):
    with tf.Session(graph=graph) as s:
        yield s


# placeholders -------------------------------------------------------------------------
def test_placeholder_shapes_and_dtypes():
    p = tf.placeholder(np.float32, name="p")
    assert (p.name, p.dtype, p.shape.ndims, p.op.type) == ("p:0", tf.float32, None, "Placeholder")
    q = tf.placeholder(tf.float32, [None, 3])
    assert q.name == "Placeholder:0" and q.shape.as_list() == [None, 3]
    assert tf.placeholder("int64", []).shape.as_list() == []
    assert tf.placeholder(np.dtype("float64"), (2,)).dtype == tf.float64
    assert tf.placeholder(float).dtype == tf.float32 and tf.placeholder(int).dtype == tf.int32


def test_placeholder_unknown_rank_flows_through_ops(sess):
    p = tf.placeholder(tf.float32)
    y = p * 2.0
    assert y.shape.ndims is None
    np.testing.assert_array_equal(sess.run(y, {p: np.ones((2, 3, 1))}), np.full((2, 3, 1), 2.0))
    assert sess.run(y, {p: 4.0}) == 8.0


def test_placeholder_with_default(sess):
    d = tf.placeholder_with_default(tf.constant([1.0, 2.0]), [None])
    assert (d.name, d.op.type, d.shape.as_list()) == ("PlaceholderWithDefault:0", "PlaceholderWithDefault", [None])
    np.testing.assert_array_equal(sess.run(d), [1.0, 2.0])
    np.testing.assert_array_equal(sess.run(d, {d: [3.0, 4.0, 5.0]}), [3.0, 4.0, 5.0])
    e = tf.placeholder_with_default([1, 2], [2])
    assert e.dtype == tf.int32
    with pytest.raises(ValueError):
        tf.placeholder_with_default([1, 2], [3])


def test_gradient_passes_through_placeholder_with_default_and_not_through_assign(sess):
    """As in TF: PlaceholderWithDefault's gradient is the identity's; Assign is not differentiable."""
    x = tf.constant([1.0, -2.0, 3.0])
    d = tf.placeholder_with_default(x, [3])
    g, = tf.gradients(tf.reduce_sum(d * d), x)
    np.testing.assert_allclose(sess.run(g), [2.0, -4.0, 6.0])
    v = tf.Variable([1.0, 2.0, 0.0])
    assert tf.gradients(tf.assign(v, x * 3.0), x) == [None]


# Variable construction ----------------------------------------------------------------
def test_variable_names_and_ops():
    v = tf.Variable(0, name="counter")
    assert (v.name, v.op.name, v.op.type) == ("counter:0", "counter", "VariableV2")
    assert (v.initializer.name, v.initializer.type) == ("counter/Assign", "Assign")
    assert v.initializer.inputs == [v.op.outputs[0], v.initial_value]
    assert v.initial_value.name == "counter/initial_value:0"
    assert v.value().name == "counter/read:0"
    r = v.read_value()
    assert (r.name, r.op.type) == ("read:0", "Identity")
    assert tf.Variable(1.0, name="counter").name == "counter_1:0"
    with tf.name_scope("sc"):
        w = tf.Variable(1.0, name="w")
    assert (w.name, w.initializer.name, w.initial_value.name) == ("sc/w:0", "sc/w/Assign", "sc/w/initial_value:0")
    assert repr(v) == "<tf.Variable 'counter:0' shape=() dtype=int32>"


def test_variable_initial_values(sess):
    a = tf.Variable(np.zeros((2, 3), np.float32))
    assert (a.name, a.shape.as_list(), a.dtype) == ("Variable:0", [2, 3], tf.float32)
    assert a.initial_value.name == "Variable/initial_value:0"
    b = tf.Variable(lambda: tf.constant(1.5))
    assert b.initial_value.name == "Variable_1/Initializer/Const:0"
    t = tf.constant([1.0, 2.0])
    c = tf.Variable(t * 2, name="fromt")
    assert c.initial_value.name == "mul:0"
    d = tf.Variable([[1, 2]], dtype=tf.float32)
    assert d.dtype == tf.float32
    e = tf.Variable(7)
    sess.run(tf.global_variables_initializer())
    np.testing.assert_array_equal(sess.run(a), np.zeros((2, 3)))
    assert sess.run(b) == 1.5
    np.testing.assert_array_equal(sess.run(c), [2.0, 4.0])
    np.testing.assert_array_equal(sess.run(d), [[1.0, 2.0]])
    assert sess.run(e) == 7 and sess.run(e.value()) == 7 and sess.run(e.initial_value) == 7
    with pytest.raises(ValueError, match="initial_value must be specified"):
        tf.Variable()
    with pytest.raises(ValueError, match="initial_value must have a shape specified"):
        tf.Variable(tf.placeholder(tf.float32))


def test_variable_ignores_enclosing_control_dependencies():
    c = tf.constant(2)
    with tf.control_dependencies([c]):
        v = tf.Variable(3, name="cd")
        x = tf.constant(1)
    assert v.op.control_inputs == [] and v.initializer.control_inputs == []
    assert x.op.control_inputs == [c.op]


def test_trainable_and_collections():
    a = tf.Variable(1.0, name="a")
    b = tf.Variable(1.0, trainable=False, name="b")
    c = tf.Variable(1.0, trainable=None, name="c")
    d = tf.Variable([[1.0]], collections=["mine"], name="d")
    assert (a.trainable, b.trainable, c.trainable) == (True, False, True)
    assert tf.global_variables() == [a, b, c] == tf.all_variables()
    assert tf.trainable_variables() == [a, c, d]
    assert tf.get_collection("mine") == [d]
    with tf.name_scope("s"):
        e = tf.Variable(1.0)
    assert tf.global_variables(scope="s") == [e]


def test_initializer_ops_names():
    v = tf.Variable(1, name="v")
    assert tf.global_variables_initializer().name == "init"
    assert tf.initialize_all_variables().name == "init_1"
    init = tf.variables_initializer([v])
    assert (init.name, init.type, init.control_inputs) == ("init_2", "NoOp", [v.initializer])
    assert tf.variables_initializer([]).type == "NoOp"


# running Variables -------------------------------------------------------------------------
def test_counter_with_assign(sess):
    cnt = tf.Variable(0, name="counter")
    step = tf.assign(cnt, tf.add(cnt, tf.constant(1)))
    assert (step.name, step.op.type, step.shape.as_list()) == ("Assign:0", "Assign", [])
    sess.run(tf.global_variables_initializer())
    assert [sess.run(step) for _ in range(3)] == [1, 2, 3]
    assert sess.run(cnt) == 3 and cnt.eval(session=sess) == 3


def test_assign_methods_and_functions(sess):
    v = tf.Variable([1.0, 2.0], name="v")
    sess.run(v.initializer)
    np.testing.assert_array_equal(sess.run(v.assign([5.0, 6.0])), [5.0, 6.0])
    np.testing.assert_array_equal(sess.run(v.assign_add([1.0, 1.0])), [6.0, 7.0])
    np.testing.assert_array_equal(sess.run(v.assign_sub([2.0, 3.0])), [4.0, 4.0])
    np.testing.assert_array_equal(sess.run(tf.assign_add(v, [1.0, 0.0])), [5.0, 4.0])
    np.testing.assert_array_equal(sess.run(tf.assign_sub(v, [1.0, 0.0])), [4.0, 4.0])
    op = v.assign([0.0, 0.0], read_value=False)
    assert op.type == "Assign" and sess.run(op) is None
    np.testing.assert_array_equal(sess.run(v), [0.0, 0.0])
    assert [v.assign([1.0, 1.0]).name, v.assign_add([1.0, 1.0]).name] == ["Assign_2:0", "AssignAdd_2:0"]
    with pytest.raises(ValueError, match="incompatible"):
        v.assign([1.0, 2.0, 3.0])
    with pytest.raises(TypeError, match="Input 'value' of 'AssignAdd' Op has type int32 that does not match"):
        tf.assign_add(v, tf.constant([1, 2]))
    with pytest.raises(TypeError, match="Expected float32"):
        v.assign(["a", "b"])
    with pytest.raises(TypeError, match="Variable"):
        tf.assign(tf.constant(1), 2)


def test_read_value_sees_assign_under_control_dependencies(sess):
    v = tf.Variable(3, name="v")
    sess.run(v.initializer)
    inc = v.assign_add(10)
    with tf.control_dependencies([inc]):
        r = v.read_value()
        i = tf.identity(v)
        p = v + 0
    assert sess.run(r) == 13
    assert sess.run(i) == 23
    assert sess.run(p) == 33
    assert sess.run(v) == 33


def test_fetching_a_variable_with_its_update_gives_the_new_value(sess):
    v = tf.Variable(3, name="v")
    sess.run(v.initializer)
    assert sess.run([v.assign(v + 1), v]) == [4, 4]
    assert sess.run([v, v.assign_add(1)]) == [5, 5]
    loss = v * 10
    up = v.assign_add(1)
    assert sess.run([up, loss]) == [6, 50]      # reads made before the update see the old value
    assert sess.run([v.initializer, v]) == [None, 3]   # an initializer with its own read needs no value


def test_variable_value_is_per_session_and_load(graph):
    v = tf.Variable([1, 2], name="v")
    s1, s2 = tf.Session(), tf.Session()
    s1.run(v.initializer)
    v.load([7, 8], s1)
    np.testing.assert_array_equal(s1.run(v), [7, 8])
    with pytest.raises(tf.errors.FailedPreconditionError):
        s2.run(v)
    with s2.as_default():
        v.load([3, 4])
        np.testing.assert_array_equal(v.eval(), [3, 4])
    with pytest.raises(ValueError, match="Cannot load value of shape"):
        v.load([1, 2, 3], s1)
    with pytest.raises(ValueError, match="session argument should be provided"):
        v.load([1, 2])


def test_variable_without_validate_shape_takes_its_run_time_shape(sess):
    p = tf.placeholder(tf.float32)
    v = tf.Variable(p, validate_shape=False, name="dyn")
    assert v.shape.ndims is None
    sess.run(v.initializer, {p: np.ones((2, 3))})
    np.testing.assert_array_equal(sess.run(v * 2), np.full((2, 3), 2.0))
    sess.run(v.initializer, {p: np.ones((1,))})
    np.testing.assert_array_equal(sess.run(v), [1.0])
    w = tf.Variable(tf.constant([0.0, 0.0]), validate_shape=False)
    assert w.shape.ndims is None
    sess.run(w.initializer)
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"lhs shape= \[2\] rhs shape= \[3\]"):
        sess.run(tf.assign(w, [1.0, 2.0, 3.0]))
    np.testing.assert_array_equal(sess.run(tf.assign(w, [1.0, 2.0, 3.0], validate_shape=False)), [1, 2, 3])
    np.testing.assert_array_equal(sess.run(w), [1.0, 2.0, 3.0])
    u = tf.Variable(p, validate_shape=False, name="u")
    with pytest.raises(tf.errors.FailedPreconditionError, match="uninitialized value u"):
        sess.run(u + 1)


def test_group_and_no_op(sess):
    a = tf.Variable(0, name="a")
    b = tf.Variable(0, name="b")
    sess.run(tf.variables_initializer([a, b]))
    g = tf.group(a.assign_add(1), [b.assign_add(2)])
    assert g.type == "NoOp" and g.name == "group_deps" and len(g.control_inputs) == 2
    assert sess.run(g) is None
    assert sess.run([a, b]) == [1, 2]
    assert sess.run(tf.no_op()) is None
