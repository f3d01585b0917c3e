"""AutoGraph: Python control flow on tensors becomes tf.cond / tf.while_loop, by rewriting the source.

`convert(f)` (what tf.function calls when it traces) and `tf.autograph.to_graph(f)` return f
with its `if`, `while`, `for`, `break`/`continue`/`return` and `and`/`or`/`not` turned into
operator calls that build graph control flow when a condition or iterable is a graph tensor
and run as plain Python otherwise. See conversion.py for the pipeline and operators.py for the
run-time half. `tf.autograph.experimental.do_not_convert` keeps a function as it is.
"""
from __future__ import annotations

from xlite.function.autograph import experimental
from xlite.function.autograph.conversion import convert, converted_call, converted_source, to_graph
from xlite.function.autograph.experimental import do_not_convert

__all__ = ["convert", "converted_call", "converted_source", "do_not_convert", "experimental", "to_graph"]
