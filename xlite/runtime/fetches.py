"""Session.run's fetch structures: flatten nested lists, tuples, dicts and namedtuples, then rebuild them."""
from __future__ import annotations

import collections
import functools

import numpy as np

from xlite.frontend.graph import Graph, Operation, Tensor


class FetchMapper:
    """Resolves every leaf to a Tensor (its value comes back) or an Operation (None comes back)."""

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
        element = self._resolve(fetches)
        if isinstance(element, Operation):
            if element not in self.target_ops:
                self.target_ops.append(element)
            return ("op", None, None)
        self.tensors.append(element)
        return ("tensor", element, None)

    def unique_tensors(self) -> list[Tensor]:
        seen, result = set(), []
        for t in self.tensors:
            if id(t) not in seen:
                seen.add(id(t))
                result.append(t)
        return result

    def build(self, values: dict):
        """The fetch structure with each leaf's value: a fresh array per leaf, even for repeats."""
        return self._build(self._template, values, set())

    def _build(self, node, values, handed_out: set):
        kind, payload, children = node
        if kind == "tensor":
            value = _as_fetch_value(values[payload], copy=id(values[payload]) in handed_out)
            handed_out.add(id(values[payload]))
            return value
        if kind == "op":
            return None
        if kind == "dict":
            return payload([(k, self._build(v, values, handed_out)) for k, v in children])
        if kind == "namedtuple":
            return payload(*[self._build(c, values, handed_out) for c in children])
        return payload(self._build(c, values, handed_out) for c in children)


def _as_fetch_value(value, copy: bool = False):
    """A fresh array the caller may modify; 0-d results are NumPy scalars, as in TF."""
    value = np.asarray(value)
    if value.ndim == 0:
        return value[()]
    if copy or not value.flags.writeable or not value.flags.owndata:
        value = np.array(value, copy=True)
    return value
