"""TF1's Graph, Operation and Tensor: a record of op types, inputs and attributes with static shapes."""
from __future__ import annotations

import contextlib
import os
import re
import sys
import threading

from xlite.frontend import deferred, execution_hook
from xlite.frontend.default_session import get_default_session
from xlite.frontend.tensor_shape import TensorShape
from xlite.ir import dtypes
from xlite.ir.module import Metadata

_XLITE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


_inside_xlite: dict[str, bool] = {}      # code file name -> whether it is xlite's own (or frozen)


def user_source_location() -> tuple[str, int]:
    """The first stack frame outside the xlite package: the user's line that made the op."""
    frame = sys._getframe(1)
    while frame is not None:
        name = frame.f_code.co_filename
        inside = _inside_xlite.get(name)
        if inside is None:
            filename = os.path.abspath(name)
            inside = _inside_xlite[name] = filename.startswith(_XLITE_DIR + os.sep) or filename.startswith("<frozen")
        if not inside:
            return name, frame.f_lineno
        frame = frame.f_back
    return "<unknown>", 0


class Tensor:
    """The `value_index`-th output of an op, named `op_name:index` like TF."""

    def __init__(self, op: "Operation", value_index: int, dtype: dtypes.DType, shape: TensorShape):
        self.op = op
        self.value_index = value_index
        self.dtype = dtype
        self._shape = shape
        self._static_value = None   # the value, when shape inference already knows it

    @property
    def name(self) -> str:
        return f"{self.op.name}:{self.value_index}"

    @property
    def graph(self) -> "Graph":
        return self.op.graph

    @property
    def shape(self) -> TensorShape:
        return self._shape

    def get_shape(self) -> TensorShape:
        return self._shape

    def set_shape(self, shape) -> None:
        self._shape = self._shape.merge_with(TensorShape(shape))

    @property
    def device(self) -> str:
        return ""

    def consumers(self) -> list["Operation"]:
        return [op for op in self.graph.get_operations() if self in op.inputs]

    def eval(self, feed_dict=None, session=None):
        """This tensor's value in `session` or the default Session."""
        return _default_session_for(self.graph, session, "evaluate tensor", "eval").run(
            self, feed_dict=feed_dict)

    def __repr__(self) -> str:
        shape = "" if self._shape.ndims is None else f", shape={self._shape}"
        return f'Tensor("{self.name}"{shape}, dtype={self.dtype.name})'

    __hash__ = object.__hash__   # identity (in C: Tensors key every per-run dict)

    def __eq__(self, other):   # identity, as in TF1 graphs (tf.equal is the elementwise one)
        return self is other

    def __bool__(self):
        raise TypeError("Using a `tf.Tensor` as a Python `bool` is not allowed. Use tf.cond to "
                        "execute subgraphs conditioned on the value of a tensor.")

    def __iter__(self):
        if self._shape.ndims is None or self._shape.ndims == 0 or self._shape[0] is None:
            raise TypeError("Tensor objects are only iterable when the first dimension is known.")
        from xlite.frontend import array_ops
        return iter(array_ops.unstack(self))

    def __len__(self):
        if self._shape.ndims is None or self._shape.ndims == 0 or self._shape[0] is None:
            raise TypeError(f"len is not well defined for tensor {self.name} with shape {self._shape}")
        return self._shape[0]

    def __array__(self, dtype=None, copy=None):
        raise NotImplementedError(f"Cannot convert a symbolic tf.Tensor ({self.name}) to a numpy array. This "
                                  "error may indicate that you're trying to pass a Tensor to a NumPy call, "
                                  "which is not supported.")

    __array_priority__ = 100   # ndarray <op> Tensor defers to the Tensor's reflected operator
    _is_eager = False          # xlite.eager's EagerTensor: a value, which a graph must capture to use


class Operation:
    """A node of the graph: its `type` names the lowering rule that turns it into IR."""

    def __init__(self, graph: "Graph", op_type: str, name: str, inputs, attrs, control_inputs,
                 metadata: Metadata):
        self.graph = graph
        self.type = op_type
        self.name = name
        self.inputs = list(inputs)
        self.attrs = dict(attrs)
        self.control_inputs = list(control_inputs)
        self.metadata = metadata
        self.outputs: list[Tensor] = []
        self._id = graph._next_id()

    @property
    def node_def(self):
        """TF's NodeDef fields as a dict; control inputs are listed as "^name" like TF."""
        inputs = [t.op.name if t.value_index == 0 else t.name for t in self.inputs]
        inputs += ["^" + c.name for c in self.control_inputs]
        return {"name": self.name, "op": self.type, "input": inputs}

    def get_attr(self, name: str):
        return self.attrs[name]

    @property
    def device(self) -> str:
        return ""

    def where(self) -> str:
        return self.metadata.where()

    def values(self) -> tuple:
        return tuple(self.outputs)

    def run(self, feed_dict=None, session=None) -> None:
        """Runs this op in `session` or the default Session."""
        _default_session_for(self.graph, session, "execute operation", "run").run(self, feed_dict=feed_dict)

    def __repr__(self) -> str:
        return f"<tf.Operation '{self.name}' type={self.type}>"


def _default_session_for(graph: "Graph", session, what: str, method: str):
    """The Session that `Tensor.eval`/`Operation.run` use, checked against the element's graph."""
    session = session or get_default_session()
    if session is None:
        raise ValueError(f"Cannot {what} using `{method}()`: No default session is registered. Use "
                         f"`with sess.as_default()` or pass an explicit session to `{method}(session=sess)`")
    if session.graph is not graph:
        raise ValueError(f"Cannot use the given session to {what}: the {what.split()[-1]}'s graph is "
                         "different from the session's graph.")
    return session


class GraphKeys:
    GLOBAL_VARIABLES = "variables"
    TRAINABLE_VARIABLES = "trainable_variables"
    LOCAL_VARIABLES = "local_variables"
    METRIC_VARIABLES = "metric_variables"
    MODEL_VARIABLES = "model_variables"
    SUMMARIES = "summaries"
    UPDATE_OPS = "update_ops"
    GLOBAL_STEP = "global_step"
    LOSSES = "losses"
    REGULARIZATION_LOSSES = "regularization_losses"
    TRAIN_OP = "train_op"
    INIT_OP = "init_op"
    SAVERS = "savers"
    VARIABLES = "variables"
    MOVING_AVERAGE_VARIABLES = "moving_average_variables"


_VALID_OP_NAME = re.compile(r"^[A-Za-z0-9.][A-Za-z0-9_.\\/>-]*$")
_VALID_SCOPE_NAME = re.compile(r"^[A-Za-z0-9_.\\/>-]*$")


class Graph:
    """Operations in creation order, a name-scope stack, control dependencies and collections."""

    def __init__(self):
        self._operations: list[Operation] = []
        self._by_name: dict[str, Operation] = {}
        self._names_in_use: dict[str, int] = {}
        self._name_stack = ""
        self._control_stack: list[list[Operation]] = []
        self._collections: dict[str, list] = {}
        self._op_counter = 0
        self.seed = None
        self._finalized = False
        self._lock = threading.RLock()
        self._version = 0
        self.session_resets: list = []      # state a new Session starts afresh (tf.Print's first_n counts)

    def _next_id(self) -> int:
        self._op_counter += 1
        return self._op_counter

    @property
    def version(self) -> int:
        return self._version

    # naming -----------------------------------------------------------------
    def unique_name(self, name: str, mark_as_used: bool = True) -> str:
        if self._name_stack:
            name = self._name_stack + "/" + name
        key = name.lower()
        count = self._names_in_use.get(key, 0)
        if mark_as_used:
            self._names_in_use[key] = count + 1
        if count > 0:
            base = name
            while True:
                name = f"{base}_{count}"
                if name.lower() not in self._names_in_use:
                    break
                count += 1
            if mark_as_used:
                self._names_in_use[name.lower()] = 1
        return name

    def get_name_scope(self) -> str:
        return self._name_stack

    @contextlib.contextmanager
    def name_scope(self, name):
        """TF's rules: None or "" resets to the root, a trailing "/" re-enters a scope as is,
        any other name opens a new uniquified scope under the current one."""
        old = self._name_stack
        if not name:
            self._name_stack = ""
        elif name.endswith("/"):
            self._name_stack = name[:-1]
        else:
            pattern, kind = (_VALID_SCOPE_NAME, "scope") if old else (_VALID_OP_NAME, "root scope")
            if not pattern.match(name):
                raise ValueError(f"'{name}' is not a valid {kind} name. A {kind} name has to match the "
                                 f"following pattern: {pattern.pattern}")
            if self is _global_default_graph and executing_eagerly():   # eager scopes are never uniquified
                self._name_stack = f"{old}/{name}" if old else name
            else:
                self._name_stack = self.unique_name(name)
        try:
            yield (self._name_stack + "/") if self._name_stack else ""
        finally:
            self._name_stack = old

    # building ---------------------------------------------------------------
    @contextlib.contextmanager
    def control_dependencies(self, control_inputs):
        """Ops created inside wait for `control_inputs` (Tensors, Operations, Variables or names);
        None clears the enclosing ones, as for a Variable's initializer."""
        if self is _global_default_graph and executing_eagerly():    # eager ops run in program order
            yield
            return
        if control_inputs is None:
            saved, self._control_stack = self._control_stack, []
            try:
                yield
            finally:
                self._control_stack = saved
            return
        ops = []
        for c in control_inputs:
            if not isinstance(c, (Tensor, Operation, str)) and isinstance(getattr(c, "op", None), Operation) \
                    and not hasattr(c, "_as_graph_element"):
                c = c.op                               # objects that wrap an op, like TF's IndexedSlices
            c = self.as_graph_element(c)
            ops.append(c.op if isinstance(c, Tensor) else c)
        self._control_stack.append(ops)
        try:
            yield
        finally:
            self._control_stack.pop()

    def current_control_inputs(self) -> list[Operation]:
        seen, result = set(), []
        for frame in self._control_stack:
            for op in frame:
                if id(op) not in seen:
                    seen.add(id(op))
                    result.append(op)
        return result

    def add_op(self, op_type: str, name: str, inputs, attrs, output_specs, metadata: Metadata,
               control_inputs=()) -> Operation:
        if self._finalized:
            raise RuntimeError("Graph is finalized and cannot be modified.")
        if not _VALID_OP_NAME.match(name):
            raise ValueError(f"`{name}` is not a valid node name. Accepted names conform to Regex "
                             f"/{_VALID_OP_NAME.pattern}/")
        if name in self._by_name:
            raise ValueError(f"Duplicate node name in graph: '{name}'")
        deps = self.current_control_inputs() + [c for c in control_inputs]
        input_ops = {id(t.op) for t in inputs}
        deps = [d for d in deps if id(d) not in input_ops]
        op = Operation(self, op_type, name, inputs, attrs, deps, metadata)
        op.outputs = [Tensor(op, i, dtype, shape) for i, (dtype, shape) in enumerate(output_specs)]
        self._operations.append(op)
        self._by_name[name] = op
        self._version += 1
        return op

    # lookups ----------------------------------------------------------------
    def get_operations(self) -> list[Operation]:
        return list(self._operations)

    def get_operation_by_name(self, name: str) -> Operation:
        if not isinstance(name, str):
            raise TypeError(f"Operation names are strings (or similar), not {type(name).__name__}.")
        return self.as_graph_element(name, allow_tensor=False, allow_operation=True)

    def get_tensor_by_name(self, name: str) -> Tensor:
        if not isinstance(name, str):
            raise TypeError(f"Tensor names are strings (or similar), not {type(name).__name__}.")
        return self.as_graph_element(name, allow_tensor=True, allow_operation=False)

    def as_graph_element(self, obj, allow_tensor: bool = True, allow_operation: bool = True):
        """The Tensor or Operation that `obj` (a name, a Tensor, an Operation, a Variable) denotes."""
        if isinstance(obj, str):
            return self._element_by_name(obj, allow_tensor, allow_operation)
        if hasattr(obj, "_as_graph_element"):
            obj = obj._as_graph_element()
        wanted = " or ".join(k for k, ok in (("Tensor", allow_tensor), ("Operation", allow_operation)) if ok)
        if isinstance(obj, Tensor) and allow_tensor or isinstance(obj, Operation) and allow_operation:
            if obj.graph is not self:
                raise ValueError(f"{type(obj).__name__} {obj} is not an element of this graph.")
            return obj
        raise TypeError(f"Can not convert a {type(obj).__name__} into a {wanted}.")

    def _element_by_name(self, name: str, allow_tensor: bool, allow_operation: bool):
        form = 'Tensor names must be of the form "<op_name>:<output_index>".'
        if ":" not in name:
            if not allow_operation:
                kind = "refers to an Operation" if name in self._by_name else "looks like an (invalid) Operation name"
                raise ValueError(f"The name {name!r} {kind}, not a Tensor. {form}")
            if name not in self._by_name:
                raise KeyError(f"The name {name!r} refers to an Operation not in the graph.")
            return self._by_name[name]
        if not allow_tensor:
            raise ValueError(f"Name {name!r} appears to refer to a Tensor, not a Operation.")
        op_name, index = name.split(":", 1)
        if not index.isdigit():
            raise ValueError(f"The name {name!r} looks a like a Tensor name, but is not a valid one. {form}")
        if op_name not in self._by_name:
            raise KeyError(f"The name {name!r} refers to a Tensor which does not exist. The operation, "
                           f"{op_name!r}, does not exist in the graph.")
        op = self._by_name[op_name]
        if int(index) >= len(op.outputs):
            raise KeyError(f"The name {name!r} refers to a Tensor which does not exist. The operation, "
                           f"{op_name!r}, exists but only has {len(op.outputs)} outputs.")
        return op.outputs[int(index)]

    # collections --------------------------------------------------------------
    def add_to_collection(self, name: str, value) -> None:
        self._collections.setdefault(name, []).append(value)

    def add_to_collections(self, names, value) -> None:
        for name in ([names] if isinstance(names, str) else dict.fromkeys(names)):
            self.add_to_collection(name, value)

    def get_collection(self, name: str, scope: str | None = None) -> list:
        items = list(self._collections.get(name, []))
        if scope is None:
            return items
        pattern = re.compile(scope)
        return [i for i in items if hasattr(i, "name") and pattern.match(i.name)]

    def get_collection_ref(self, name: str) -> list:
        return self._collections.setdefault(name, [])

    def get_all_collection_keys(self) -> list[str]:
        return list(self._collections)

    def clear_collection(self, name: str) -> None:
        self._collections.pop(name, None)

    @contextlib.contextmanager
    def device(self, device_name):
        """Accepted for TF1 programs; a run executes wholly on its Session's target."""
        yield

    def is_feedable(self, tensor: Tensor) -> bool:
        return tensor.graph is self

    def is_fetchable(self, tensor_or_op) -> bool:
        return tensor_or_op.graph is self

    def as_graph_def(self, from_version=None, add_shapes: bool = False):
        """TF's GraphDef proto of this graph (xlite/io/graph_def.py builds it; it registers itself in
        `graph_def_builder` when it loads, since the frontend imports nothing above it)."""
        if graph_def_builder is None:
            deferred.load_all()
        if graph_def_builder is None:
            raise RuntimeError("as_graph_def needs xlite.io (import xlite)")
        return graph_def_builder(self, add_shapes=add_shapes, from_version=from_version)

    def finalize(self) -> None:
        self._finalized = True

    @property
    def finalized(self) -> bool:
        return self._finalized

    @contextlib.contextmanager
    def as_default(self):
        stack = _graph_stacks.graphs
        stack.append(self)
        try:
            yield self
        finally:
            stack.pop()


_global_default_graph = Graph()


class _GraphStacks(threading.local):
    """Each thread's stack of entered graphs, as TF keeps it: a graph entered in one thread is not the
    default of another, so one thread building a graph does not turn another's eager ops into graph ops."""

    def __init__(self):
        self.graphs: list[Graph] = []


_graph_stacks = _GraphStacks()
graph_def_builder = None   # fn(graph, add_shapes, from_version) -> GraphDef, set by xlite/io/graph_def.py


def get_default_graph() -> Graph:
    stack = _graph_stacks.graphs
    return stack[-1] if stack else _global_default_graph


def executing_eagerly() -> bool:
    """Whether ops run as they are made (xlite/eager): eager execution is on and no graph but the
    global default one is the default (an entered tf.Graph or a tf.function trace builds a graph)."""
    stack = _graph_stacks.graphs
    return execution_hook.eager_executor is not None and (not stack or stack[-1] is _global_default_graph)


def reset_default_graph() -> None:
    global _global_default_graph
    if _graph_stacks.graphs:
        raise AssertionError("Do not use tf.reset_default_graph() to clear nested graphs.")
    _global_default_graph = Graph()
