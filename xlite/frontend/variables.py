"""Placeholders, Variables and assignments: the graph's inputs and its state."""
from __future__ import annotations

from operator import attrgetter

import numpy as np

from xlite.frontend.convert import convert_to_tensor
from xlite.frontend.default_session import get_default_session
from xlite.frontend.gradients import grad_rule, no_gradient
from xlite.frontend import execution_hook
from xlite.frontend.graph import GraphKeys, Operation, Tensor, executing_eagerly, get_default_graph
from xlite.frontend.op_registry import lowering, make_op
from xlite.frontend.string_ops import HOST_OPS
from xlite.frontend.tensor_shape import TensorShape
from xlite.ir import dtypes


# placeholders ----------------------------------------------------------------------
@lowering("Placeholder")
def _lower_placeholder(ctx, op):
    return ctx.placeholder(op)


@lowering("PlaceholderWithDefault")
def _lower_placeholder_with_default(ctx, op, default):
    return default


def placeholder(dtype, shape=None, name=None) -> Tensor:
    dtype = dtypes.as_dtype(dtype)
    shape = TensorShape(shape)
    op = make_op("Placeholder", [], {"dtype": dtype, "shape": shape}, name=name or "Placeholder",
                 output_shapes=[shape])
    if dtype is dtypes.string:      # fed on the host: Session.run keeps its value from the executable
        op.graph.add_to_collection(HOST_OPS, op)
    return op.outputs[0]


def placeholder_with_default(input, shape, name=None) -> Tensor:  # noqa: A002
    value = convert_to_tensor(input)
    shape = TensorShape(shape)
    if not shape.is_compatible_with(value.shape):
        raise ValueError(f"placeholder_with_default: shape {shape} is incompatible with {value.shape}")
    op = make_op("PlaceholderWithDefault", [value], {"dtype": value.dtype, "shape": shape},
                 name=name or "PlaceholderWithDefault", output_shapes=[shape])
    return op.outputs[0]


# variables ----------------------------------------------------------------------------
@lowering("VariableV2", stateful=True)
def _lower_variable(ctx, op):
    return ctx.read_variable(op)


@lowering("ReadVariableOp", stateful=True, ref_input=True)
def _lower_read(ctx, op, _var):
    return ctx.read_variable(op.inputs[0].op)


def _check_assign_shape(ctx, op, var_op, value):
    """With `validate_shape`, the new value must have the Variable's shape: its static shape, or at
    run time its current shape when the static one is not fully defined."""
    if not op.attrs.get("validate_shape", True):
        return
    want = var_op.attrs["shape"]
    if not ctx.static and not want.is_fully_defined():
        want = TensorShape(ctx.variable_shape(var_op))
    if not want.is_compatible_with(value.shape.dims):
        raise ValueError(f"Assign requires shapes of both tensors to match. lhs shape= {want.dims} "
                         f"rhs shape= {list(value.shape.dims)}")


@lowering("Assign", stateful=True, ref_input=True)
def _lower_assign(ctx, op, _var, value):
    var_op = op.inputs[0].op
    _check_assign_shape(ctx, op, var_op, value)
    return ctx.assign_variable(var_op, value)


@lowering("AssignAdd", "AssignSub", stateful=True, ref_input=True)
def _lower_assign_update(ctx, op, _var, delta):
    var_op = op.inputs[0].op
    _check_assign_shape(ctx, op, var_op, delta)
    current = ctx.read_variable(var_op)
    new = ctx.b.emit("add" if op.type == "AssignAdd" else "sub", (current, delta))
    return ctx.assign_variable(var_op, new)


@lowering("NoOp")
def _lower_noop(ctx, op):
    return []


@grad_rule("PlaceholderWithDefault", "ReadVariableOp")
def _pass_through_grad(op, g):
    return [g]


# TF's state_grad: an assignment passes no gradient to the Variable or to the value it stores
no_gradient("Placeholder", "VariableV2", "Assign", "AssignAdd", "AssignSub", "NoOp")


def _variable_tensor(ref) -> Tensor:
    if isinstance(ref, Variable):
        return ref._variable
    if isinstance(ref, Tensor) and ref.op.type == "VariableV2":
        return ref
    raise TypeError(f"assign expects a Variable as its first argument, got {ref!r}")


def _assign_op(op_type, ref, value, name, validate_shape=True):
    var = _variable_tensor(ref)
    if hasattr(value, "_as_tensor") or isinstance(value, Tensor):
        value = convert_to_tensor(value)
        if value.dtype != var.dtype:
            raise TypeError(f"Input 'value' of '{op_type}' Op has type {value.dtype.name} that does not "
                            f"match type {var.dtype.name} of argument 'ref'.")
    value = convert_to_tensor(value, dtype=var.dtype)
    if validate_shape and not var.shape.is_compatible_with(value.shape):
        raise ValueError(f"Shapes {var.shape} and {value.shape} are incompatible for {op_type} to "
                         f"'{var.op.name}'")
    op = make_op(op_type, [var, value], {"validate_shape": validate_shape}, name=name or op_type)
    op.outputs[0]._shape = var.shape
    return op.outputs[0]


def assign(ref, value, validate_shape=None, use_locking=None, name=None) -> Tensor:
    return _assign_op("Assign", ref, value, name, validate_shape is not False)


def assign_add(ref, value, use_locking=None, name=None) -> Tensor:
    return _assign_op("AssignAdd", ref, value, name)


def assign_sub(ref, value, use_locking=None, name=None) -> Tensor:
    return _assign_op("AssignSub", ref, value, name)


def no_op(name=None) -> Operation:
    return make_op("NoOp", [], name=name or "NoOp", n_outputs=0)


def group(*inputs, name=None) -> Operation:
    ops = []
    for item in inputs:
        for i in (item if isinstance(item, (list, tuple)) else [item]):
            if isinstance(i, Variable):
                i = i._variable
            ops.append(i.op if isinstance(i, Tensor) else i)
    graph = ops[0].graph if ops else get_default_graph()
    with graph.control_dependencies(ops):
        return no_op(name=name or "group_deps")


def _static_shape(initial_value: Tensor, shape, validate_shape: bool) -> TensorShape:
    """TF's rule: the initial value's shape, unknown without `validate_shape`, or `shape` if given."""
    if shape is not None:
        static = TensorShape(shape)
        if validate_shape and not static.is_compatible_with(initial_value.shape):
            raise ValueError(f"The initial value's shape ({initial_value.shape}) is not compatible with "
                             f"the explicitly supplied `shape` argument ({static}).")
        return static
    if not validate_shape:
        return TensorShape(None)
    if not initial_value.shape.is_fully_defined():
        raise ValueError(f"initial_value must have a shape specified: {initial_value}")
    return initial_value.shape


class Variable:
    """A TF1 Variable: a VariableV2 op whose value lives in each Session, with its initializer."""

    def __new__(cls, *args, **kwargs):
        """While executing eagerly, tf.Variable(...) makes xlite.eager's Variable (execution_hook.py)."""
        eager = execution_hook.eager_variable_class
        if cls is Variable and eager is not None and executing_eagerly():
            return super().__new__(eager)
        return super().__new__(cls)

    def __init__(self, initial_value=None, trainable=None, collections=None, validate_shape=True,
                 caching_device=None, name=None, variable_def=None, dtype=None, expected_shape=None,
                 import_scope=None, constraint=None, use_resource=None, synchronization=None,
                 aggregation=None, shape=None):
        if initial_value is None:
            raise ValueError("initial_value must be specified.")
        graph = get_default_graph()
        # TF's init_scope: a Variable and its initializer never wait on the enclosing control deps.
        with graph.control_dependencies(None), graph.name_scope(name or "Variable") as scope:
            if callable(initial_value):
                with graph.name_scope("Initializer"):
                    initial_value = initial_value()
            self._initial_value = convert_to_tensor(initial_value, dtype=dtype, name="initial_value")
            static = _static_shape(self._initial_value, shape, validate_shape)
            self._variable = make_op("VariableV2", [], {"shape": static, "dtype": self._initial_value.dtype},
                                     name=scope, output_shapes=[static]).outputs[0]
            self._initializer_op = assign(self._variable, self._initial_value,
                                          validate_shape=validate_shape, name="Assign").op
            self._snapshot = make_op("Identity", [self._variable], name="read").outputs[0]
        self._trainable = True if trainable is None else bool(trainable)
        self._variable.op._py_variable = self
        if collections is None:
            collections = [GraphKeys.GLOBAL_VARIABLES]
        if self._trainable and GraphKeys.TRAINABLE_VARIABLES not in collections:
            collections = list(collections) + [GraphKeys.TRAINABLE_VARIABLES]
        graph.add_to_collections(collections, self)

    # identity: the VariableV2 op's output's ----------------------------------------------
    name = property(attrgetter("_variable.name"))
    op = property(attrgetter("_variable.op"))
    graph = property(attrgetter("_variable.graph"))
    dtype = property(attrgetter("_variable.dtype"))
    shape = property(attrgetter("_variable.shape"))

    def get_shape(self) -> TensorShape:
        return self.shape

    trainable = property(attrgetter("_trainable"))
    initializer = property(attrgetter("_initializer_op"))
    initial_value = property(attrgetter("_initial_value"))

    @property
    def device(self) -> str:
        return ""

    def _as_tensor(self) -> Tensor:
        return self._variable

    def _as_graph_element(self) -> Tensor:
        return self._variable

    def value(self) -> Tensor:
        return self._snapshot

    def read_value(self) -> Tensor:
        """A fresh read: under `control_dependencies` it sees the value after those ops ran."""
        return make_op("Identity", [self._variable], name="read").outputs[0]

    def initialized_value(self) -> Tensor:
        """The value right after initialization, for initializing other Variables from this one."""
        return self._initial_value

    # updates ------------------------------------------------------------------------
    def assign(self, value, use_locking=False, name=None, read_value=True):
        return _result(assign(self, value, name=name), read_value)

    def assign_add(self, delta, use_locking=False, name=None, read_value=True):
        return _result(assign_add(self, delta, name=name), read_value)

    def assign_sub(self, delta, use_locking=False, name=None, read_value=True):
        return _result(assign_sub(self, delta, name=name), read_value)

    def eval(self, session=None):
        return self._variable.eval(session=session)

    def load(self, value, session=None) -> None:
        """Writes `value` into this Variable in `session` (or the default Session) without a run."""
        session = session or get_default_session()
        if session is None:
            raise ValueError("Either session argument should be provided or default session should be "
                             "established")
        session._load_variable(self.op, np.asarray(value, dtype=self.dtype.np))

    def __repr__(self) -> str:
        return f"<tf.Variable '{self.name}' shape={self.shape} dtype={self.dtype.name}>"

    __hash__ = object.__hash__

    def __eq__(self, other):
        return self is other

    def __iter__(self):
        raise TypeError("'Variable' object is not iterable.")


def _result(update: Tensor, read_value: bool):
    """Variable.assign* hand back the updated value, or the op when `read_value=False`."""
    return update if read_value else update.op


def global_variables(scope=None) -> list:
    return get_default_graph().get_collection(GraphKeys.GLOBAL_VARIABLES, scope)


all_variables = global_variables


def trainable_variables(scope=None) -> list:
    return get_default_graph().get_collection(GraphKeys.TRAINABLE_VARIABLES, scope)


def local_variables(scope=None) -> list:
    return get_default_graph().get_collection(GraphKeys.LOCAL_VARIABLES, scope)


def variables_initializer(var_list, name="init") -> Operation:
    return group(*[v.initializer for v in var_list], name=name)


def global_variables_initializer() -> Operation:
    return variables_initializer(global_variables(), name="init")


def initialize_all_variables() -> Operation:
    return global_variables_initializer()


def local_variables_initializer() -> Operation:
    return variables_initializer(local_variables(), name="init_1")
