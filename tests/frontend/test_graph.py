"""Graph, Tensor and Operation, name scopes, control dependencies and collections, as TF1 names them.

Expected names and messages were taken from TensorFlow 2.21's `tf.compat.v1` in graph mode.
"""
import numpy as np
import pytest

import xlite as tf


# default graph ----------------------------------------------------------------------
def test_as_default_nests_and_restores(graph):
    assert tf.get_default_graph() is graph
    other = tf.Graph()
    with other.as_default() as g:
        assert g is other and tf.get_default_graph() is other
        c = tf.constant(1)
    assert tf.get_default_graph() is graph
    assert c.graph is other and c.op.graph is other
    assert graph.get_operations() == []


def test_reset_default_graph_refuses_inside_a_nested_graph():
    with pytest.raises(AssertionError, match="nested graphs"):
        tf.reset_default_graph()


def test_reset_default_graph_gives_a_fresh_global_graph():
    import xlite.frontend.graph as graph_module
    saved = list(graph_module._graph_stacks.graphs)
    graph_module._graph_stacks.graphs.clear()
    try:
        before = tf.get_default_graph()
        tf.constant(1)
        tf.reset_default_graph()
        after = tf.get_default_graph()
        assert after is not before
        assert tf.constant(1).name == "Const:0"
    finally:
        graph_module._graph_stacks.graphs[:] = saved


# names ------------------------------------------------------------------------------
def test_op_names_are_uniquified():
    assert [tf.constant(1).name, tf.constant(2).name, tf.constant(3).name] == \
        ["Const:0", "Const_1:0", "Const_2:0"]
    assert tf.constant(3, name="Const_5").name == "Const_5:0"
    assert tf.constant(3, name="Const_5").name == "Const_5_1:0"
    assert tf.constant(3, name="foo_1").name == "foo_1:0"
    assert tf.constant(3, name="foo").name == "foo:0"
    assert tf.constant(3, name="foo").name == "foo_2:0"       # foo_1 is taken
    assert tf.constant(3, name="Foo").name == "Foo_3:0"       # names are unique ignoring case


def test_add_is_named_add_with_type_addv2():
    a, b = tf.constant(1), tf.constant(2)
    s = tf.add(a, b)
    assert (s.name, s.op.name, s.op.type) == ("Add:0", "Add", "AddV2")
    assert (a + b).name == "add_1:0"
    assert tf.add(a, b, name="add").name == "add_2:0"


def test_name_scopes_nest_uniquify_and_reenter():
    with tf.name_scope("a") as scope:
        assert scope == "a/"
        assert tf.constant(1).name == "a/Const:0"
        with tf.name_scope("b"):
            assert tf.constant(1).name == "a/b/Const:0"
    with tf.name_scope("a") as scope:
        assert scope == "a_1/"
        assert tf.constant(1).name == "a_1/Const:0"
    with tf.name_scope("a/"):                              # re-entered as is
        assert tf.constant(1).name == "a/Const_1:0"
    with tf.name_scope("a/b/") as scope:
        assert scope == "a/b/"
        assert tf.constant(1).name == "a/b/Const_1:0"
    with tf.name_scope("x"):
        assert tf.constant(1, name="same").name == "x/same:0"
    with tf.name_scope("y"):
        assert tf.constant(1, name="same").name == "y/same:0"


def test_name_scope_default_name_values_none_and_empty(graph):
    c = tf.constant(1)
    with tf.name_scope(None, "def", [c]) as scope:
        assert scope == "def/"
    with tf.name_scope(None, "def") as scope:
        assert scope == "def_1/"
    with tf.name_scope("def_1") as scope:
        assert scope == "def_1_1/"
    with tf.name_scope("a"):
        with tf.name_scope(None) as scope:                 # None resets to the root
            assert scope == ""
            assert tf.constant(0).name == "Const_1:0"
        with tf.name_scope("") as scope:
            assert scope == ""
    assert graph.get_name_scope() == ""


def test_name_scope_values_pick_their_graph():
    other = tf.Graph()
    with other.as_default():
        c = tf.constant(1)
    with tf.name_scope("s", values=[c]) as scope:
        assert scope == "s/"
        assert tf.get_default_graph() is other
        assert tf.constant(2).graph is other


def test_invalid_names_are_rejected():
    with pytest.raises(ValueError, match="not a valid root scope name"):
        with tf.name_scope("_x"):
            pass
    with tf.name_scope("outer"):
        with tf.name_scope("_x") as scope:                 # fine below the root, as in TF
            assert scope == "outer/_x/"
    with pytest.raises(ValueError, match="not a valid node name"):
        tf.constant(1, name="a b")


def test_duplicate_absolute_name_is_an_error():
    tf.constant(1, name="a/b")
    with pytest.raises(ValueError, match="Duplicate node name in graph: 'a/b'"):
        tf.constant(1, name="a/b/")


# lookups ----------------------------------------------------------------------------
def test_get_operations_and_lookups(graph):
    with tf.name_scope("a"):
        c = tf.constant(1)
    d = tf.constant(2)
    assert graph.get_operations() == [c.op, d.op]
    assert graph.get_tensor_by_name("a/Const:0") is c
    assert graph.get_operation_by_name("a/Const") is c.op
    assert graph.as_graph_element("a/Const:0") is c
    assert graph.as_graph_element("a/Const") is c.op
    assert graph.as_graph_element(c) is c
    assert graph.as_graph_element(c.op) is c.op
    v = tf.Variable(1.0, name="v")
    assert graph.as_graph_element(v) is graph.get_tensor_by_name("v:0")


@pytest.mark.parametrize("name,error,message", [
    ("nope", ValueError, "looks like an (invalid) Operation name, not a Tensor"),
    ("nope:0", KeyError, "The operation, 'nope', does not exist in the graph."),
    ("a/Const:3", KeyError, "exists but only has 1 outputs"),
    ("a/Const", ValueError, "refers to an Operation, not a Tensor"),
    ("a/Const:x", ValueError, "looks a like a Tensor name, but is not a valid one"),
])
def test_get_tensor_by_name_errors(graph, name, error, message):
    with tf.name_scope("a"):
        tf.constant(1)
    with pytest.raises(error) as info:
        graph.get_tensor_by_name(name)
    assert message in str(info.value)


def test_get_operation_by_name_errors(graph):
    tf.constant(1)
    with pytest.raises(KeyError, match="refers to an Operation not in the graph"):
        graph.get_operation_by_name("nope")
    with pytest.raises(ValueError, match="appears to refer to a Tensor, not a Operation"):
        graph.get_operation_by_name("Const:0")
    with pytest.raises(TypeError, match="Operation names are strings"):
        graph.get_operation_by_name(3)


def test_as_graph_element_kinds_and_graphs(graph):
    c = tf.constant(1)
    with pytest.raises(TypeError, match="Can not convert a int into a Tensor or Operation"):
        graph.as_graph_element(3)
    with pytest.raises(TypeError, match="into a Operation"):
        graph.as_graph_element(c, allow_tensor=False)
    with pytest.raises(TypeError, match="into a Tensor"):
        graph.as_graph_element(c.op, allow_operation=False)
    with pytest.raises(ValueError, match="is not an element of this graph"):
        tf.Graph().as_graph_element(c)


# Tensor and Operation ----------------------------------------------------------------
def test_tensor_and_operation_attributes(graph):
    a = tf.constant([[1.0, 2.0]])
    b = tf.constant([[3.0, 4.0]])
    s = a + b
    assert s.op.type == "AddV2" and s.op.name == "add"
    assert s.dtype == tf.float32
    assert s.shape == tf.TensorShape([1, 2]) and s.get_shape().as_list() == [1, 2]
    assert s.graph is graph and s.value_index == 0
    assert s.op.inputs == [a, b] and s.op.outputs == [s] and s.op.values() == (s,)
    assert s.op.control_inputs == []
    assert s.op.node_def == {"name": "add", "op": "AddV2", "input": ["Const", "Const_1"]}
    with tf.control_dependencies([s]):
        n = tf.no_op(name="after")
    assert n.node_def == {"name": "after", "op": "NoOp", "input": ["^add"]}
    assert repr(s) == 'Tensor("add:0", shape=(1, 2), dtype=float32)'
    assert repr(s.op) == "<tf.Operation 'add' type=AddV2>"
    assert repr(tf.placeholder(tf.float32)) == 'Tensor("Placeholder:0", dtype=float32)'
    assert s.consumers() == []
    assert a.consumers() == [s.op]
    with pytest.raises(TypeError, match="as a Python `bool`"):
        bool(s)


def test_numpy_operands_defer_to_tensors_and_never_convert_them():
    t = tf.constant([1.0, 2.0])
    assert (np.float32(2) * t).op.type == "Mul"
    assert (np.array([1.0, 2.0], np.float32) + t).op.type == "AddV2"
    with pytest.raises(NotImplementedError, match=r"Cannot convert a symbolic tf.Tensor \(Const:0\)"):
        np.asarray(t)


def test_eval_and_run_use_the_default_session(graph):
    v = tf.Variable(5, name="v")
    with tf.Session() as sess:
        v.initializer.run()
        assert (v + 1).eval() == 6
        assert tf.constant(7).eval(session=sess) == 7
    with pytest.raises(ValueError, match="No default session is registered"):
        tf.constant(1).eval()
    with pytest.raises(ValueError, match="No default session is registered"):
        tf.no_op().run()
    other = tf.Graph()
    with other.as_default():
        c = tf.constant(1)
    with tf.Session() as sess:
        with pytest.raises(ValueError, match="graph is different from the session's graph"):
            c.eval()


def test_finalized_graph_rejects_new_ops(graph):
    graph.finalize()
    assert graph.finalized
    with pytest.raises(RuntimeError, match="finalized"):
        tf.constant(1)


# control dependencies ------------------------------------------------------------------
def test_control_dependencies_nest_and_clear():
    a = tf.constant(1) + tf.constant(2)
    c = tf.constant(3)
    with tf.control_dependencies([a]):
        d = tf.constant(1)
        assert d.op.control_inputs == [a.op]
        with tf.control_dependencies(None):
            assert tf.constant(1).op.control_inputs == []
        with tf.control_dependencies([c]):
            assert tf.constant(1).op.control_inputs == [a.op, c.op]
        e = a * 2                                 # a data input needs no control edge
        assert e.op.control_inputs == []
    assert tf.constant(1).op.control_inputs == []


def test_control_dependencies_accept_tensors_ops_and_variables():
    v = tf.Variable(1, name="v")
    n = tf.no_op()
    with tf.control_dependencies([v, n, tf.constant(1)]):
        x = tf.constant(2)
    assert [o.name for o in x.op.control_inputs] == ["v", "NoOp", "Const"]
    with tf.control_dependencies(["Const"]):
        assert tf.constant(3).op.control_inputs == [x.op.control_inputs[2]]
    with pytest.raises(TypeError, match="Can not convert a int into a Tensor or Operation"):
        with tf.control_dependencies([3]):
            pass
    with tf.Graph().as_default():
        foreign = tf.constant(1)
    with pytest.raises(ValueError, match="is not an element of this graph"):
        with tf.control_dependencies([foreign]):
            pass


def test_assign_under_control_dependency_runs_when_dependent_op_is_fetched():
    w = tf.Variable(0, name="w")
    up = tf.assign_add(w, 1)
    with tf.control_dependencies([up]):
        out = tf.constant(5)
        marker = tf.no_op()
    with tf.Session() as sess:
        sess.run(w.initializer)
        assert sess.run(out) == 5
        sess.run(out)
        assert sess.run(w) == 2
        sess.run(marker)
        assert sess.run(w) == 3
        sess.run(tf.group(up, name="grp"))
        assert sess.run(w) == 4


# collections --------------------------------------------------------------------------
def test_collections(graph):
    tf.add_to_collection("mine", 1)
    tf.add_to_collections(["mine", "mine", "theirs"], 2)   # a repeated name adds once
    assert tf.get_collection("mine") == [1, 2]
    assert tf.get_collection("theirs") == [2]
    ref = tf.get_collection_ref("mine")
    ref.append(3)
    assert graph.get_collection("mine") == [1, 2, 3]
    copy = tf.get_collection("mine")
    copy.append(4)
    assert graph.get_collection("mine") == [1, 2, 3]
    assert tf.get_collection("none") == []
    with tf.name_scope("sc"):
        w = tf.Variable(1.0, name="w")
    tf.Variable(2.0, name="u")
    assert tf.get_collection(tf.GraphKeys.GLOBAL_VARIABLES, scope="sc") == [w]
    assert set(graph.get_all_collection_keys()) >= {"mine", "theirs", "variables", "trainable_variables"}
    graph.clear_collection("mine")
    assert tf.get_collection("mine") == []


# static shapes ----------------------------------------------------------------------------
def test_tensor_shape_basics():
    s = tf.TensorShape([None, 3])
    assert (s.ndims, s.rank, s.as_list(), str(s), repr(s)) == (2, 2, [None, 3], "(None, 3)",
                                                                "TensorShape([None, 3])")
    assert str(tf.TensorShape(None)) == "<unknown>" and str(tf.TensorShape([])) == "()"
    assert str(tf.TensorShape([4])) == "(4,)"
    assert tf.TensorShape([np.int64(3), None]).as_list() == [3, None]
    assert tf.TensorShape(np.int64(3)).as_list() == [3]
    assert tf.TensorShape([-1, 2]).as_list() == [None, 2]
    with pytest.raises(ValueError, match="must be >= 0"):
        tf.TensorShape([-2])
    assert not s.is_fully_defined() and s.num_elements() is None
    assert tf.TensorShape([2, 3]).num_elements() == 6
    assert s.is_compatible_with([7, 3]) and not s.is_compatible_with([7, 4])
    assert s.merge_with([7, None]).as_list() == [7, 3]
    with pytest.raises(ValueError, match="not compatible"):
        s.merge_with([1, 2])
    assert s.concatenate([5]).as_list() == [None, 3, 5] and (s + [5]) == [None, 3, 5]
    assert tf.TensorShape(None).with_rank(2).as_list() == [None, None]
    with pytest.raises(ValueError, match="must have rank 3"):
        s.with_rank(3)
    assert s.most_specific_compatible_shape([4, 3]).as_list() == [None, 3]
    assert bool(tf.TensorShape([])) and not bool(tf.TensorShape(None))
    with pytest.raises(ValueError, match="unknown TensorShape"):
        tf.TensorShape(None).as_list()
    assert tf.TensorShape(None)[0] is None and s[1:].as_list() == [3]


def test_compat_v1_is_xlite():
    import xlite.compat.v1 as v1
    assert v1 is tf
    assert tf.compat.v1.placeholder is tf.placeholder
    v1.disable_eager_execution()
    v1.disable_v2_behavior()
    assert v1.executing_eagerly() is False
    with tf.device("/cpu:0"):
        assert tf.constant(1).name == "Const:0"


def test_an_entered_graph_is_the_default_of_its_own_thread_only():
    import threading
    seen = {}
    g = tf.Graph()
    entered, checked = threading.Event(), threading.Event()

    def other():
        entered.wait()
        seen["other"] = tf.get_default_graph()
        checked.set()

    worker = threading.Thread(target=other)
    worker.start()
    with g.as_default():
        entered.set()
        checked.wait()
        seen["this"] = tf.get_default_graph()
    worker.join()
    assert seen["this"] is g
    assert seen["other"] is not g          # as in TF: another thread still sees the global default graph
