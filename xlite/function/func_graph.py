"""FuncGraph: the graph a tf.function traces its Python function into.

It is a frontend Graph with one thing more: `capture(value)`, the seam between the values a traced
function reads from outside and the trace. What it reads from outside becomes an input of the trace:

- an eager tensor (or a NumPy value standing for one): a Placeholder fed with that value at every call;
- an eager Variable: a VariableV2 op of the trace bound to it, memoized, which a call reads from the
  Variable and whose update the call writes back (in place when the executable donates the buffer);
- a tensor of an enclosing graph (a tf.function called from TF1 graph code, or from another trace):
  a Placeholder (a VariableV2 for a Variable's own tensor) that inlining maps back to that tensor.

`make_op` calls `capture` for an input from another graph whenever the graph it builds in has one, and
the eager package calls it for eager values converted to tensors while a trace is the default graph.
"""
from __future__ import annotations

from xlite.frontend.graph import Graph, Operation, Tensor
from xlite.frontend.op_registry import make_op
from xlite.frontend.tensor_shape import TensorShape
from xlite.function import eager_bridge
from xlite.ir import dtypes


class FuncGraph(Graph):
    """A trace: its argument placeholders, captured values, outputs and the Variables it created."""

    def __init__(self, name: str, outer_graph: Graph | None = None):
        super().__init__()
        self.name = name
        self.outer_graph = outer_graph           # the graph the trace was made from (None: eager)
        self.arg_inputs: list[Tensor] = []       # one Placeholder per tensor argument, in flat order
        self.variable_args: list[Tensor] = []    # one VariableV2 per Variable argument, in flat order
        self.outputs: list[Tensor] = []          # the flat tensors the function returns
        self.structured_outputs = None           # what the function returned, tensors as graph tensors
        self.control_output = None               # a NoOp after every assignment the trace makes
        self.created_variables = 0               # how many Variables the trace made (and lifted)
        self._captures: dict[int, tuple[object, Tensor]] = {}   # id(value) -> (value, its tensor here)

    # capturing -------------------------------------------------------------------------------------
    def capture(self, value) -> Tensor:
        """The tensor of this graph that stands for `value` (an eager tensor or Variable, or a tensor
        of another graph), made on first use and the same one afterwards."""
        known = self._captures.get(id(value))
        if known is not None:
            return known[1]
        owner = getattr(getattr(value, "op", None), "_py_variable", None)
        if owner is not None and owner is not value and eager_bridge.is_eager_variable(owner):
            return self.capture(owner)          # an eager Variable's handle stands for the Variable
        if eager_bridge.is_eager_variable(value):
            internal = self._variable_proxy(_op_name(value), dtypes.as_dtype(value.dtype), TensorShape(value.shape))
        elif eager_bridge.is_eager_tensor(value) or not isinstance(value, Tensor):
            array = eager_bridge.eager_array(value)
            internal = self._placeholder("captured", dtypes.as_dtype(array.dtype), TensorShape(array.shape))
        else:
            if value.graph is self:
                return value
            make = self._variable_proxy if value.op.type == "VariableV2" else self._placeholder
            internal = make(value.op.name, value.dtype, value.shape)
        self._captures[id(value)] = (value, internal)
        return internal

    @property
    def captures(self) -> list[tuple[object, Tensor]]:
        """(outer value, the tensor standing for it here) per captured value, in order of capture."""
        return list(self._captures.values())

    @property
    def inputs(self) -> list[Tensor]:
        """The argument placeholders, then the captured values' tensors (TF's order)."""
        return self.arg_inputs + [t for _, t in self._captures.values()]

    @property
    def variables(self) -> list:
        """The Variables (eager or of an outer graph) whose values the trace reads or updates."""
        return [v for v, t in self._captures.values() if t.op.type == "VariableV2"]

    def _placeholder(self, name: str, dtype, shape: TensorShape) -> Tensor:
        with self.as_default(), self.control_dependencies(None), self.name_scope(None):
            return make_op("Placeholder", [], {"dtype": dtype, "shape": shape}, name=_clean(name),
                           output_shapes=[shape], graph=self).outputs[0]

    def _variable_proxy(self, name: str, dtype, shape: TensorShape) -> Tensor:
        with self.as_default(), self.control_dependencies(None), self.name_scope(None):
            return make_op("VariableV2", [], {"shape": shape, "dtype": dtype}, name=_clean(name),
                           output_shapes=[shape], graph=self).outputs[0]

    def add_argument(self, name: str, dtype, shape: TensorShape) -> Tensor:
        """A placeholder for one tensor argument of the traced function."""
        t = self._placeholder(name, dtypes.as_dtype(dtype), TensorShape(shape))
        self.arg_inputs.append(t)
        return t

    def add_variable_argument(self, variable) -> Tensor:
        """A VariableV2 standing for a Variable argument: each call binds it to the Variable it passes
        (the trace was made with `variable`, whose reads and assignments in it go to this op)."""
        t = self._variable_proxy(_op_name(variable), dtypes.as_dtype(variable.dtype), TensorShape(variable.shape))
        # what reads of it capture: an eager Variable itself, a graph Variable's VariableV2 tensor
        key = variable if eager_bridge.is_eager_variable(variable) else variable._variable
        self._captures[id(key)] = (key, t)
        self.variable_args.append(t)
        return t

    def stateful_ops(self) -> list[Operation]:
        """Ops every call runs though no output needs them (TF2's automatic control dependencies):
        assignments to Variables, in creation order, except the initializers of lifted Variables, and
        stateful host calls (tf.print, tf.Assert, py_func)."""
        from xlite.frontend.host_ops import STATEFUL_HOST_OPS
        from xlite.frontend.subgraph import assigns_variables, owner
        skip = {id(op) for op in self._lifted_initializers}
        return [op for op in self.get_operations()
                if owner(op) is None and id(op) not in skip and (assigns_variables(op) or op.type in STATEFUL_HOST_OPS)]

    _lifted_initializers: tuple = ()


def _clean(name: str) -> str:
    """A name usable as an op name of this graph (an outer tensor's op name, a Variable's name)."""
    name = name.split(":")[0].replace("/", "_")
    return name if name and (name[0].isalnum() or name[0] == ".") else "captured"


def _op_name(variable) -> str:
    return getattr(variable, "name", "Variable") or "Variable"


