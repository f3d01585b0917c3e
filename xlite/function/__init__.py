"""tf.function: tracing Python functions into graphs compiled through the compile driver (#15).

`def_function.py` (the Function object and its trace cache), `signature.py` (TF's retracing rules),
`tracing.py` and `func_graph.py` (the trace and what it captures), `lift.py` (Variables made by a
trace), `concrete.py` (one trace, callable), `runner.py` (an eager call: one executable per shapes),
`inline.py` (a call from graph code copies the trace into the caller's graph), and `autograph/`
(Python control flow on tensors to tf.cond / tf.while_loop)."""
from xlite.function.def_function import Function, function
from xlite.function.concrete import ConcreteFunction
from xlite.function.tensor_spec import TensorSpec

__all__ = ["function", "Function", "ConcreteFunction", "TensorSpec"]
