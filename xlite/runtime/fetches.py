"""Session.run's fetch structures: flatten nested lists, tuples, dicts and namedtuples, then rebuild them."""
from __future__ import annotations

import collections
import functools
from typing import Callable

import numpy as np

from xlite.frontend.graph import Graph, Operation, Tensor


_HOST_RULES: dict[str, tuple[Callable, bool]] = {}


def host_rule(op_type: str, from_inputs: bool = False):
    """Registers fn(op, *values) -> the fetched value of an op type whose value the compiled
    executable cannot hold (TF's strings: serialized Summary protos).

    By default the op is compiled like any other (its lowering rule computes the numbers it
    needs) and `fn(op, value)` turns its computed value into the fetched one after the run.
    With `from_inputs`, a fetch never compiles the op: `fn(op, *input_values)` makes its
    value from the fetched values of its inputs (MergeSummary joins its inputs' protos)."""
    def register(fn):
        _HOST_RULES[op_type] = (fn, from_inputs)
        return fn
    return register


def input_rule(op_type: str) -> Callable | None:
    """fn(op, *input_values) of an op type whose value is made from its inputs' on the host, or None
    (eager execution makes such a value the same way: xlite/eager/dispatch.py)."""
    rule = _HOST_RULES.get(op_type)
    return rule[0] if rule is not None and rule[1] else None


class FetchMapper:
    """Resolves every leaf to a Tensor (its value comes back) or an Operation (None comes back).

    `tensors` lists what the executable computes: a fetched tensor of an op type with a host
    rule stands for the tensors its rule needs, and its value is made after the run."""

    def __init__(self, graph: Graph, fetches):
        self.graph = graph
        self.structure = fetches
        self.tensors: list[Tensor] = []
        self.target_ops: list[Operation] = []
        self._template = self._flatten(fetches)

    def _resolve(self, leaf):
        if leaf is None:
            raise TypeError(f"Fetch argument None has invalid type {type(None)}")
        try:
            return self.graph.as_graph_element(leaf)
        except TypeError as e:
            raise TypeError(f"Fetch argument {leaf!r} has invalid type {type(leaf)}, must be a string "
                            f"or Tensor. ({e})") from None
        except (KeyError, ValueError) as e:
            reason = e.args[0] if e.args else e
            raise ValueError(f"Fetch argument {leaf!r} cannot be interpreted as a Tensor. ({reason})") from None

    def _flatten(self, fetches):
        if isinstance(fetches, dict):
            make = type(fetches)
            if isinstance(fetches, collections.defaultdict):
                make = functools.partial(collections.defaultdict, fetches.default_factory)
            return ("dict", make, [(k, self._flatten(v)) for k, v in fetches.items()])
        if isinstance(fetches, tuple) and hasattr(fetches, "_fields"):
            return ("namedtuple", type(fetches), [self._flatten(v) for v in fetches])
        if isinstance(fetches, (list, tuple)):
            return ("seq", type(fetches), [self._flatten(v) for v in fetches])
        if hasattr(fetches, "_fetch_parts"):         # IndexedSlices, SparseTensor: a value of their parts
            make, parts = fetches._fetch_parts()
            return ("namedtuple", make, [self._flatten(v) for v in parts])
        element = self._resolve(fetches)
        if isinstance(element, Operation):
            if element not in self.target_ops:
                self.target_ops.append(element)
            return ("op", None, None)
        if element.op.type in _HOST_RULES:
            self._add_host_sources(element)
            return ("host", element, None)
        self.tensors.append(element)
        return ("tensor", element, None)

    def _add_host_sources(self, t: Tensor) -> None:
        rule = _HOST_RULES.get(t.op.type)
        if rule is not None and rule[1]:
            for source in t.op.inputs:
                self._add_host_sources(source)
        else:
            self.tensors.append(t)

    def unique_tensors(self) -> list[Tensor]:
        return list({id(t): t for t in self.tensors}.values())

    def build(self, values: dict):
        """The fetch structure with each leaf's value: a fresh array per leaf, even for repeats."""
        return self._build(self._template, values, set(), {})

    def _build(self, node, values, handed_out: set, host_values: dict):
        kind, payload, children = node
        if kind == "host":
            return _host_value(payload, values, host_values)
        if kind == "tensor":
            value = _as_fetch_value(values[payload], copy=id(values[payload]) in handed_out)
            handed_out.add(id(values[payload]))
            return value
        if kind == "op":
            return None
        if kind == "dict":
            return payload([(k, self._build(v, values, handed_out, host_values)) for k, v in children])
        if kind == "namedtuple":
            return payload(*[self._build(c, values, handed_out, host_values) for c in children])
        return payload(self._build(c, values, handed_out, host_values) for c in children)


def _host_value(t: Tensor, values: dict, memo: dict):
    """The value of a host-rule tensor, from the executable's values (each made once per run)."""
    if t not in memo:
        rule = _HOST_RULES.get(t.op.type)
        if rule is None:
            memo[t] = _as_fetch_value(values[t], copy=True)
        elif rule[1]:
            memo[t] = rule[0](t.op, *[_host_value(s, values, memo) for s in t.op.inputs])
        else:
            memo[t] = rule[0](t.op, values[t])
    return memo[t]


def _as_fetch_value(value, copy: bool = False):
    """A fresh array the caller may modify; 0-d results are NumPy scalars, as in TF."""
    value = np.asarray(value)
    if value.ndim == 0:
        return value[()]
    if copy or not value.flags.writeable or not value.flags.owndata:
        value = np.array(value, copy=True)
    return value


@host_rule("TrimToCount", from_inputs=True)
def _trimmed_to_count(op, padded, count):
    """A data-dependent result (xlite/frontend/bounded_ops.py): the bounded buffer cut to its run's count."""
    axis = op.attrs["axis"]
    return np.array(np.asarray(padded).take(np.arange(int(count)), axis=axis))
