"""tf.variable_scope and tf.get_variable: names, reuse rules and errors as TF1 has them.

Expected names and messages were checked against TensorFlow 2.21's `tf.compat.v1`
in graph mode (with tf_keras for tf.layers).
"""
import numpy as np
import pytest

import xlite as tf


def test_get_variable_names_follow_variable_scopes():
    with tf.variable_scope("outer"):
        with tf.variable_scope("inner"):
            v = tf.get_variable("v", [2, 3])
    w = tf.get_variable("w", [1])
    assert v.name == "outer/inner/v:0" and w.name == "w:0"
    assert v.shape.as_list() == [2, 3] and v.dtype == tf.float32
    assert v in tf.trainable_variables() and v in tf.global_variables()


def test_variable_scope_opens_a_name_scope_like_tf():
    with tf.variable_scope("vs") as scope:
        v = tf.get_variable("v", [2])
        assert tf.identity(v).name == "vs/Identity:0"
    assert scope.name == "vs" and scope.original_name_scope == "vs/"
    with tf.variable_scope("vs"):                     # same variable scope, a new name scope
        assert tf.identity(v).name == "vs_1/Identity:0"
        assert tf.get_variable_scope().original_name_scope == "vs_1/"
    with tf.variable_scope(scope):                    # re-entering the object keeps its original name scope
        assert tf.identity(v).name == "vs_2/Identity:0"
        assert tf.get_variable_scope().original_name_scope == "vs/"


def test_variables_ignore_enclosing_name_scopes():
    with tf.name_scope("ns"):
        with tf.variable_scope("vv"):
            w = tf.get_variable("w", [1])
            assert tf.identity(w).name == "ns/vv/Identity:0"
    assert w.name == "vv/w:0" and w.initializer.name == "vv/w/Assign"


def test_creating_twice_without_reuse_is_an_error():
    with tf.variable_scope("vs"):
        tf.get_variable("v", [2])
    with pytest.raises(ValueError, match=r"Variable vs/v already exists, disallowed\. Did you mean to set "
                                         r"reuse=True or reuse=tf\.AUTO_REUSE in VarScope\?"):
        with tf.variable_scope("vs"):
            tf.get_variable("v", [2])


def test_reusing_a_missing_variable_is_an_error():
    with pytest.raises(ValueError, match=r"Variable zz/q does not exist, or was not created with "
                                         r"tf\.get_variable\(\)\. Did you mean to set reuse=tf\.AUTO_REUSE"):
        with tf.variable_scope("zz", reuse=True):
            tf.get_variable("q", [2])


def test_tf_variable_is_not_in_the_get_variable_store():
    tf.Variable(1.0, name="plain")
    with pytest.raises(ValueError, match="does not exist"):
        with tf.variable_scope(tf.get_variable_scope(), reuse=True):
            tf.get_variable("plain", [])


def test_reuse_returns_the_same_variable_and_checks_shape_and_dtype():
    with tf.variable_scope("vs"):
        v = tf.get_variable("v", [2])
    with tf.variable_scope("vs", reuse=True):
        assert tf.get_variable("v", [2]) is v
        assert tf.get_variable("v") is v               # shape may be left out when reusing
    with pytest.raises(ValueError, match=r"Trying to share variable vs/v, but specified shape \(3,\) and "
                                         r"found shape \(2,\)\."):
        with tf.variable_scope("vs", reuse=True):
            tf.get_variable("v", [3])
    with pytest.raises(ValueError, match="specified dtype float64 and found dtype float32"):
        with tf.variable_scope("vs", reuse=True):
            tf.get_variable("v", [2], dtype=tf.float64)


def test_auto_reuse_creates_then_shares():
    def make():
        with tf.variable_scope("model", reuse=tf.AUTO_REUSE):
            return tf.get_variable("w", [3])
    assert make() is make()
    assert len(tf.global_variables()) == 1
    assert repr(tf.AUTO_REUSE) == "<_ReuseMode.AUTO_REUSE: 1>" and str(tf.AUTO_REUSE) == "_ReuseMode.AUTO_REUSE"


def test_reuse_is_inherited_and_cannot_be_switched_off():
    with tf.variable_scope("a"):
        v = tf.get_variable("v", [1])
    with tf.variable_scope("a", reuse=True):
        with tf.variable_scope("b", reuse=False):
            assert tf.get_variable_scope().reuse is True
        assert tf.get_variable("v") is v


def test_reuse_variables_switches_the_current_scope():
    with tf.variable_scope("s") as scope:
        v = tf.get_variable("v", [1])
        scope.reuse_variables()
        assert tf.get_variable("v") is v
    assert tf.get_variable_scope().reuse is False


def test_default_names_are_made_unique_per_variable_scope():
    names = []
    for _ in range(3):
        with tf.variable_scope(None, default_name="dd"):
            names.append(tf.get_variable_scope().name)
    assert names == ["dd", "dd_1", "dd_2"]
    with tf.variable_scope("outer"):
        with tf.variable_scope(None, default_name="dd"):
            assert tf.get_variable_scope().name == "outer/dd"


def test_closing_a_scope_resets_the_counts_of_its_subscopes():
    for _ in range(2):
        with tf.variable_scope("a"):
            with tf.variable_scope(None, default_name="x"):
                assert tf.get_variable_scope().name == "a/x"


def test_scope_arguments_are_checked():
    with pytest.raises(TypeError, match="If default_name is None then name_or_scope is required"):
        tf.variable_scope(None)
    with pytest.raises(ValueError, match="reuse=True cannot be used without a name_or_scope"):
        with tf.variable_scope(None, default_name="d", reuse=True):
            pass
    with pytest.raises(ValueError, match="The reuse parameter must be True or False or None"):
        tf.variable_scope("x", reuse="yes")
    with pytest.raises(tf.errors.UnimplementedError, match="partitioner"):
        tf.variable_scope("x", partitioner=lambda *a: None)


def test_scope_initializer_and_dtype_are_inherited():
    with tf.variable_scope("s", initializer=tf.constant_initializer(3.0), dtype=tf.float64):
        with tf.variable_scope("t"):
            v = tf.get_variable("v", [2])
        w = tf.get_variable("w", [2], initializer=tf.ones_initializer())
    assert v.dtype == tf.float64
    with tf.Session() as s:
        s.run(tf.global_variables_initializer())
        np.testing.assert_array_equal(s.run(v), [3.0, 3.0])
        np.testing.assert_array_equal(s.run(w), [1.0, 1.0])


def test_default_initializers_glorot_uniform_for_floats_zeros_for_ints():
    v = tf.get_variable("v", [40, 60])
    i = tf.get_variable("i", [3], dtype=tf.int32)
    assert i.dtype == tf.int32
    with tf.Session() as s:
        s.run(tf.global_variables_initializer())
        values = s.run(v)
        limit = np.sqrt(6.0 / (40 + 60))
        assert np.all(np.abs(values) <= limit) and values.max() > 0.9 * limit and values.min() < -0.9 * limit
        np.testing.assert_array_equal(s.run(i), [0, 0, 0])
    names = [op.name for op in tf.get_default_graph().get_operations()]
    assert any(n.startswith("v/Initializer/") for n in names)


def test_initializer_may_be_a_value_without_shape():
    v = tf.get_variable("v", initializer=tf.constant([1.0, 2.0]))
    w = tf.get_variable("w", initializer=np.arange(4, dtype=np.float64).reshape(2, 2))
    assert v.shape.as_list() == [2] and w.dtype == tf.float64
    with pytest.raises(ValueError, match="If initializer is a constant, do not specify shape."):
        tf.get_variable("u", [2], initializer=tf.constant([1.0, 2.0]))
    with tf.Session() as s:
        s.run(tf.global_variables_initializer())
        np.testing.assert_array_equal(s.run(w), [[0, 1], [2, 3]])


def test_a_new_variable_needs_a_full_shape():
    with pytest.raises(ValueError, match="must be fully defined"):
        tf.get_variable("v", [None, 3])


def test_initializer_class_is_instantiated():
    v = tf.get_variable("v", [2], initializer=tf.ones_initializer)
    with tf.Session() as s:
        s.run(v.initializer)
        np.testing.assert_array_equal(s.run(v), [1.0, 1.0])


def test_trainable_and_collections():
    v = tf.get_variable("v", [1], trainable=False)
    w = tf.get_variable("w", [1], collections=["mine"])
    assert v not in tf.trainable_variables() and v in tf.global_variables()
    assert w in tf.get_collection("mine") and w not in tf.global_variables() and w in tf.trainable_variables()


def test_regularizer_adds_a_regularization_loss():
    with tf.variable_scope("s", regularizer=lambda v: tf.reduce_sum(v) * 2.0):
        v = tf.get_variable("v", [3], initializer=tf.ones_initializer())
    (loss,) = tf.get_collection(tf.GraphKeys.REGULARIZATION_LOSSES)
    assert loss.name.startswith("s/v/Regularizer/")
    with tf.Session() as s:
        s.run(v.initializer)
        assert s.run(loss) == 6.0


def test_custom_getters_compose_outer_first():
    calls = []

    def outer(getter, name, *args, **kwargs):
        calls.append(("outer", name))
        return getter(name, *args, **kwargs)

    def inner(getter, name, *args, **kwargs):
        calls.append(("inner", name))
        return getter(name, *args, **kwargs)

    with tf.variable_scope("a", custom_getter=outer):
        with tf.variable_scope("b", custom_getter=inner):
            v = tf.get_variable("v", [1])
    assert v.name == "a/b/v:0"
    assert calls == [("inner", "a/b/v"), ("outer", "a/b/v")]


def test_scopes_are_per_graph():
    with tf.variable_scope("s"):
        tf.get_variable("v", [1])
    with tf.Graph().as_default():
        assert tf.get_variable_scope().name == ""
        with tf.variable_scope("s"):
            assert tf.get_variable("v", [1]).name == "s/v:0"
