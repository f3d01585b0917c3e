"""tf.keras.backend: the Session Keras runs in, layer-name uniquification, the learning phase, value access.

In graph mode (TF1's default) Keras builds into the default graph and runs in
`get_session()`: the default Session if one is active, else a Session Keras
keeps per graph. Before handing it out, Keras initializes the Variables it made
that this Session has not initialized yet (TF1 tf.keras does the same), so a
model trains without `global_variables_initializer()` but values a user set or
initialized stay as they are.
"""
from __future__ import annotations

import collections
import contextlib
import weakref

import numpy as np

from xlite.frontend import array_ops, math_ops, reduction_ops
from xlite.frontend.convert import convert_to_tensor
from xlite.frontend.default_session import get_default_session
from xlite.frontend.graph import Graph, Tensor, executing_eagerly, get_default_graph, reset_default_graph
from xlite.frontend.variables import Variable
from xlite.runtime.session import Session

_FLOATX = "float32"
_EPSILON = 1e-7
_IMAGE_DATA_FORMAT = "channels_last"

_sessions: "weakref.WeakKeyDictionary[Graph, Session]" = weakref.WeakKeyDictionary()
_uids: "weakref.WeakKeyDictionary[Graph, collections.Counter]" = weakref.WeakKeyDictionary()
_keras_variables: "weakref.WeakKeyDictionary[Graph, list]" = weakref.WeakKeyDictionary()
_learning_phase: dict = {}          # graph id -> 0/1 set by set_learning_phase


# --- configuration ----------------------------------------------------------------------
def floatx() -> str:
    return _FLOATX


def set_floatx(value: str) -> None:
    global _FLOATX
    if value not in ("float16", "float32", "float64"):
        raise ValueError(f"Unknown floatx type: {value}")
    _FLOATX = value


def epsilon() -> float:
    return _EPSILON


def set_epsilon(value: float) -> None:
    global _EPSILON
    _EPSILON = float(value)


def image_data_format() -> str:
    return _IMAGE_DATA_FORMAT


# --- names --------------------------------------------------------------------------------
def _graph_key():
    """Eager mode has no graph to key on; one process-wide key stands for it."""
    return _EAGER_KEY if executing_eagerly() else get_default_graph()


class _EagerKey:
    pass


_EAGER_KEY = _EagerKey()


def get_uid(prefix: str = "") -> int:
    """1, 2, ... per prefix and graph, as Keras counts layer names (dense, dense_1, dense_2)."""
    counter = _uids.setdefault(_graph_key(), collections.Counter())
    counter[prefix] += 1
    return counter[prefix]


def unique_object_name(base: str) -> str:
    n = get_uid(base)
    return base if n == 1 else f"{base}_{n - 1}"


def reset_uids() -> None:
    _uids.pop(_graph_key(), None)


# --- the graph of symbolic tensors while executing eagerly ---------------------------------
_keras_graph = None


def keras_graph():
    """Where `tf.keras.Input` puts its placeholders while executing eagerly: a FuncGraph (it captures the
    layers' eager Variables), used only to record the Functional API's layer calls and their shapes; the
    model's own calls run eagerly or in a tf.function."""
    global _keras_graph
    if _keras_graph is None:
        from xlite.function.func_graph import FuncGraph
        _keras_graph = FuncGraph("keras_graph")
    return _keras_graph


def in_keras_graph(tensors) -> bool:
    return _keras_graph is not None and any(isinstance(t, Tensor) and t.graph is _keras_graph for t in tensors)


# --- sessions -----------------------------------------------------------------------------
def track_variable(var) -> None:
    """Keras made `var`: get_session() initializes it in each Session that has not."""
    if not executing_eagerly():
        _keras_variables.setdefault(var.graph, []).append(var)


def _initialized(session: Session, var) -> bool:
    return var.op in session._variables        # the Session's own store of Variable values


def _initialize_variables(session: Session) -> None:
    pending = [v for v in _keras_variables.get(session.graph, ()) if not _initialized(session, v)]
    if pending:
        session.run([v.initializer for v in pending])


def get_session(op_input_list=()) -> Session:
    """The Session Keras runs in (the default Session, else Keras' own for the default graph), with every
    Variable Keras made initialized."""
    if executing_eagerly():
        raise RuntimeError("`get_session` is not available when executing eagerly.")
    session = get_default_session()
    if session is None or session.graph is not get_default_graph():
        graph = get_default_graph()
        session = _sessions.get(graph)
        if session is None or session._closed:
            session = _sessions[graph] = Session(graph=graph)
    _initialize_variables(session)
    return session


def set_session(session: Session) -> None:
    """Makes `session` the one Keras runs its graph's models in."""
    _sessions[session.graph] = session


def clear_session() -> None:
    """A fresh default graph (graph mode): drops Keras' Session, layer-name counters and learning phase; while
    executing eagerly, the graph of symbolic tensors."""
    global _keras_graph
    if executing_eagerly():
        _keras_graph = None
    else:
        graph = get_default_graph()
        session = _sessions.pop(graph, None)
        if session is not None:
            session.close()
        _keras_variables.pop(graph, None)
        _learning_phase.pop(id(graph), None)
        reset_default_graph()
    reset_uids()


# --- learning phase -----------------------------------------------------------------------
def learning_phase() -> int:
    """0 (inference) unless set_learning_phase(1): what layers called with training=None use."""
    return _learning_phase.get(id(_graph_key()), 0)


def set_learning_phase(value: int) -> None:
    if value not in (0, 1):
        raise ValueError("Expected learning phase to be 0 or 1.")
    _learning_phase[id(_graph_key())] = value


@contextlib.contextmanager
def learning_phase_scope(value: int):
    previous = _learning_phase.get(id(_graph_key()))
    set_learning_phase(value)
    try:
        yield
    finally:
        if previous is None:
            _learning_phase.pop(id(_graph_key()), None)
        else:
            _learning_phase[id(_graph_key())] = previous


# --- values -------------------------------------------------------------------------------
def _is_eager_variable(x) -> bool:
    """An EagerVariable or EagerTensor: its value is at hand, no Session involved."""
    from xlite.eager.tensor import EagerTensor
    from xlite.eager.variables import EagerVariable
    return isinstance(x, (EagerVariable, EagerTensor))


def get_value(x) -> np.ndarray:
    """A Variable's (or tensor's) value as NumPy."""
    if _is_eager_variable(x):
        return x.numpy()
    return get_session().run(x)


def batch_get_value(tensors) -> list:
    if not tensors:
        return []
    if all(_is_eager_variable(t) for t in tensors):
        return [t.numpy() for t in tensors]
    return get_session().run(list(tensors))


def set_value(x, value) -> None:
    """Writes `value` into Variable `x` without compiling anything (Variable.load)."""
    value = np.asarray(value, dtype=x.dtype.np)
    if _is_eager_variable(x):
        x.assign(value)
    else:
        x.load(value, get_session())


def batch_set_value(tuples) -> None:
    for x, value in tuples:
        set_value(x, value)


def variable(value, dtype=None, name=None) -> Variable:
    v = Variable(np.asarray(value, dtype=dtype or floatx()), name=name)
    track_variable(v)
    return v


def constant(value, dtype=None, shape=None, name=None) -> Tensor:
    from xlite.frontend.convert import constant as tf_constant
    return tf_constant(value, dtype=dtype or floatx(), shape=shape, name=name)


def int_shape(x) -> tuple | None:
    dims = x.shape.dims if hasattr(x.shape, "dims") else tuple(x.shape)
    return None if dims is None else tuple(dims)


def eval(x):  # noqa: A001  (Keras' name)
    return get_value(x)


def cast_to_floatx(x) -> np.ndarray:
    return np.asarray(x, dtype=floatx())


# --- a few of Keras' tensor helpers, as frontend ops -------------------------------------
def mean(x, axis=None, keepdims=False):
    return reduction_ops.reduce_mean(x, axis=axis, keepdims=keepdims)


def sum(x, axis=None, keepdims=False):  # noqa: A001
    return reduction_ops.reduce_sum(x, axis=axis, keepdims=keepdims)


def square(x):
    return math_ops.square(x)


def cast(x, dtype):
    return math_ops.cast(x, dtype)


def reshape(x, shape):
    return array_ops.reshape(x, shape)


def shape(x):
    from xlite.frontend.shape_ops import shape as tf_shape
    return tf_shape(x)


def ndim(x) -> int | None:
    return convert_to_tensor(x).shape.ndims


def placeholder(shape=None, ndim=None, dtype=None, name=None) -> Tensor:
    from xlite.frontend.variables import placeholder as tf_placeholder
    if shape is None and ndim is not None:
        shape = [None] * ndim
    return tf_placeholder(dtype or floatx(), shape, name=name)
